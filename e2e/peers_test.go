//go:build conformance

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
)

// The npm reference server @modelcontextprotocol/server-everything, over
// Streamable HTTP and over the legacy HTTP+SSE transport, reached through
// Portcullis by the official TypeScript client and the official Go client:
// the persona grants three of its tools, get-env's output (the server's
// environment, with an AWS key in it) passes through the data policy, and a
// session id only works for the agent it was issued to.

const (
	peerAliceKey = "pk_peer_alice_8e21f0c4b7d94a35"
	peerBobKey   = "pk_peer_bob_3c5a9e7d1f0b2468"
	// peerAWSKey is a well-formed, made-up AWS access key id in the
	// upstream's environment: get-env must never show it to the agent.
	peerAWSKey = "AKIAZ7Q4M2XW5R3T6YPL"
	// peerCanary is a harmless value in the same environment: get-env's
	// output must reach the agent with it.
	peerCanary = "portcullis-peer-canary-41d7"
)

var peerGranted = []string{"echo", "get-env", "get-sum"}

func peersDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PORTCULLIS_CONFORMANCE_DIR")
	if dir == "" {
		dir = "../tools/conformance"
	}
	dir, _ = filepath.Abs(dir)
	for _, p := range []string{"node_modules/.bin/node", "node_modules/@modelcontextprotocol/server-everything/dist/index.js", "node_modules/@modelcontextprotocol/sdk/package.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Fatalf("%s missing: run scripts/install-peers.sh (make conformance installs it): %v", p, err)
		}
	}
	return dir
}

func TestPeersServerEverythingThroughGateway(t *testing.T) {
	dir := peersDir(t)
	for _, tc := range []struct{ transport, tsMode, path, sseMode string }{
		{"streamableHttp", "streamable", "mcp", "streamed"},
		{"sse", "sse", "sse", "streamed"},
		{"streamableHttp", "streamable", "mcp", "full-duplex"},
		{"sse", "sse", "sse", "full-duplex"},
	} {
		t.Run(tc.transport+"/"+tc.sseMode, func(t *testing.T) {
			upstream := startServerEverything(t, dir, tc.transport)
			tmp := t.TempDir()
			policy := writePeersPolicy(t, tmp)
			gw := startGatewayBootstrap(t, personaBootstrap(t, tmp, "everything-agent", "everything", "mcp", "sse", "message"),
				[]string{"-config", policy, "-sse-mode", tc.sseMode}, upstream, tmp, "peers-"+tc.transport+"-"+tc.sseMode)
			defer gw.stop(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			decisions := readDecisions(ctx, t, gw.Brokers)
			endpoint := "http://" + gw.Addr + "/p/everything-agent/" + tc.path

			ts := runTSClient(t, dir, tc.tsMode, endpoint, peerAliceKey,
				`echo:{"message":"hello through portcullis"}`, `get-sum:{"a":2,"b":3}`, `get-env:{}`, `get-tiny-image:{}`)
			checkPeerView(t, "TypeScript client", ts)

			goView := runGoClient(t, tc.path, endpoint, peerAliceKey)
			checkPeerView(t, "Go client", goView)

			if tc.transport == "streamableHttp" {
				checkSessionBinding(t, endpoint, decisions)
				checkOlderVersions(t, endpoint)
			}
			decisions.awaitMatch(t, "tools/call get-tiny-image denied", func(d *decisionv1.Decision) bool {
				return d.GetTool() == "get-tiny-image" && d.GetOutcome() == decisionv1.Outcome_OUTCOME_DENIED &&
					d.GetReason() == decisionv1.ReasonCode_REASON_CODE_TOOL_NOT_GRANTED
			})
			decisions.awaitMatch(t, "get-env response with a redacted AWS key", func(d *decisionv1.Decision) bool {
				// Legacy transport: results travel on the GET /sse stream,
				// whose decision carries the findings.
				onStream := tc.transport == "sse" && d.GetHttpMethod() == http.MethodGet
				if d.GetTool() != "get-env" && !onStream {
					return false
				}
				for _, f := range d.GetFindings() {
					if f.GetType() == "aws-access-key-id" && f.GetDirection() == decisionv1.Direction_DIRECTION_RESPONSE {
						return true
					}
				}
				return false
			})
			t.Logf("PROVED server-everything over %s through Portcullis (SSE %s): TypeScript and Go clients saw tools %v of the server's, echo/get-sum answered, get-env passed with the AWS key redacted, get-tiny-image refused",
				tc.transport, tc.sseMode, peerGranted)
		})
	}
}

// peerView is what one client saw.
type peerView struct {
	SessionID string                     `json:"sessionId"`
	Tools     []string                   `json:"tools"`
	Calls     map[string]peerCallOutcome `json:"calls"`
}

type peerCallOutcome struct {
	IsError bool   `json:"isError"`
	Text    string `json:"text"`
	Error   *struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func checkPeerView(t *testing.T, who string, v peerView) {
	t.Helper()
	if !slices.Equal(v.Tools, peerGranted) {
		t.Errorf("%s: tools/list shows %v, want exactly %v (narrowed to the persona)", who, v.Tools, peerGranted)
	}
	if c := v.Calls["echo"]; c.Error != nil || !strings.Contains(c.Text, "hello through portcullis") {
		t.Errorf("%s: echo = %+v", who, c)
	}
	if c := v.Calls["get-sum"]; c.Error != nil || !strings.Contains(c.Text, "5") {
		t.Errorf("%s: get-sum = %+v", who, c)
	}
	env := v.Calls["get-env"]
	switch {
	case env.Error != nil:
		t.Errorf("%s: get-env failed: %+v", who, env.Error)
	case strings.Contains(env.Text, peerAWSKey):
		t.Errorf("%s: get-env showed the upstream's AWS key", who)
	case !strings.Contains(env.Text, "[REDACTED:aws-access-key-id]"):
		t.Errorf("%s: get-env has no redaction marker: %.300s", who, env.Text)
	case !strings.Contains(env.Text, peerCanary):
		t.Errorf("%s: get-env lost the rest of the environment: %.300s", who, env.Text)
	}
	if c := v.Calls["get-tiny-image"]; c.Error == nil || (!strings.Contains(c.Error.Message, "not permitted") && !strings.Contains(c.Error.Message, "403")) {
		msg := ""
		if c.Error != nil {
			msg = c.Error.Message
		}
		t.Errorf("%s: get-tiny-image (not granted) = %+v %q, want a JSON-RPC error saying it is not permitted (legacy transport: the POST refused with 403)", who, c, msg)
	}
}

func startServerEverything(t *testing.T, dir, transport string) string {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	preload, _ := filepath.Abs("testdata/peers/loopback.cjs")
	cmd := exec.Command(filepath.Join(dir, "node_modules/.bin/node"), "-r", preload,
		filepath.Join(dir, "node_modules/@modelcontextprotocol/server-everything/dist/index.js"), transport)
	cmd.Env = append(os.Environ(), "PORT="+port, "AWS_ACCESS_KEY_ID="+peerAWSKey, "PEER_CANARY="+peerCanary)
	startServerProcess(t, "server-everything", cmd, addr)
	return "http://" + addr
}

func writePeersPolicy(t *testing.T, dir string) string {
	t.Helper()
	tools, _ := json.Marshal(peerGranted)
	cfg := fmt.Sprintf(`environment: dev
upstreams:
  - name: everything
    environment: dev
personas:
  - name: everything-agent
    description: Echoes, adds and reads the environment; nothing else of the everything-server.
    upstream: everything
    tools: %s
agents:
  - id: alice-bot
    subject: alice@example.com
    persona: everything-agent
    key_sha256: %s
  - id: bob-bot
    subject: bob@example.com
    persona: everything-agent
    key_sha256: %s
data_protection:
  policies:
    - name: default
      default: allow
      categories: {secret: redact}
`, tools, hashKey(peerAliceKey), hashKey(peerBobKey))
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runTSClient(t *testing.T, dir, mode, url, key string, calls ...string) peerView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script, _ := filepath.Abs("testdata/peers/ts-client.cjs")
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "node_modules/.bin/node"), append([]string{script, mode, url, key}, calls...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TypeScript client (%s %s): %v\n%s", mode, url, err, stderr.String())
	}
	var v peerView
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("TypeScript client output %q: %v", out, err)
	}
	return v
}

func runGoClient(t *testing.T, path, url, key string) peerView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	httpClient := &http.Client{Transport: agentAuth{key: key}}
	var transport mcp.Transport = &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: httpClient}
	if path == "sse" {
		transport = &mcp.SSEClientTransport{Endpoint: url, HTTPClient: httpClient}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "portcullis-go-peer", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("Go client connect %s: %v", url, err)
	}
	defer cs.Close()
	v := peerView{SessionID: cs.ID(), Calls: map[string]peerCallOutcome{}}
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("Go client tools/list: %v", err)
	}
	for _, tool := range lt.Tools {
		v.Tools = append(v.Tools, tool.Name)
	}
	slices.Sort(v.Tools)
	for _, c := range []struct {
		name string
		args map[string]any
	}{
		{"echo", map[string]any{"message": "hello through portcullis"}},
		{"get-sum", map[string]any{"a": 2, "b": 3}},
		{"get-env", map[string]any{}},
		{"get-tiny-image", map[string]any{}},
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.name, Arguments: c.args})
		var o peerCallOutcome
		if err != nil {
			o.Error = &struct {
				Code    *int   `json:"code"`
				Message string `json:"message"`
			}{Message: err.Error()}
		} else {
			o.IsError = res.IsError
			var texts []string
			for _, content := range res.Content {
				if tc, ok := content.(*mcp.TextContent); ok {
					texts = append(texts, tc.Text)
				}
			}
			o.Text = strings.Join(texts, "\n")
		}
		v.Calls[c.name] = o
	}
	return v
}

// checkSessionBinding: the session id alice's initialize gets works for
// alice only; bob presenting it, and alice presenting the upstream's raw id,
// get 404 (MCP's "session gone"), and the filter records bob's attempt.
func checkSessionBinding(t *testing.T, endpoint string, decisions *decisionLog) {
	t.Helper()
	post := func(key, session, body string) (*http.Response, string) {
		return rawPost(t, endpoint, key, session, "2025-11-25", body)
	}
	resp, body := post(peerAliceKey, "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	bound := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || bound == "" {
		t.Fatalf("initialize: %d session %q: %s", resp.StatusCode, bound, body)
	}
	raw, _, found := strings.Cut(bound, ".")
	if !found || raw == "" {
		t.Fatalf("session id %q is not bound (no tag)", bound)
	}
	if resp, _ := post(peerAliceKey, bound, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("alice's notifications/initialized: %d", resp.StatusCode)
	}
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	if resp, body := post(peerBobKey, bound, list); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob presenting alice's session: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := post(peerAliceKey, raw, list); resp.StatusCode != http.StatusNotFound {
		t.Errorf("alice presenting the upstream's raw session id: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := post(peerAliceKey, bound, list); resp.StatusCode != 200 || !strings.Contains(body, `"echo"`) {
		t.Errorf("alice's own session: %d %.200s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, endpoint, nil)
	req.Header.Set("Authorization", "Bearer "+peerAliceKey)
	req.Header.Set("Mcp-Session-Id", bound)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dresp.Body.Close()
	if dresp.StatusCode/100 != 2 {
		t.Errorf("alice's DELETE of her session: %d", dresp.StatusCode)
	}
	decisions.awaitMatch(t, "bob's use of alice's session refused", func(d *decisionv1.Decision) bool {
		return d.GetAgent() == "bob-bot" && d.GetReason() == decisionv1.ReasonCode_REASON_CODE_SESSION_NOT_BOUND &&
			d.GetOutcome() == decisionv1.Outcome_OUTCOME_DENIED
	})
	t.Logf("PROVED session binding: alice's session %s… works for alice, bob presenting it and the raw upstream id get 404, DELETE %d", bound[:8], dresp.StatusCode)
}

// rawPost sends one JSON-RPC message as an MCP client would (version ""
// sends no MCP-Protocol-Version header, as 2024-11-05 clients do) and
// returns the response with its body read.
func rawPost(t *testing.T, endpoint, key, session, version, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// checkOlderVersions: clients of 2024-11-05, 2025-03-26 and 2025-06-18
// (the versions the suite's scenarios do not cover through the TS server)
// initialise through the gateway, get the version they asked for, and see
// the narrowed tool list; a denied call is refused the same way.
func checkOlderVersions(t *testing.T, endpoint string) {
	t.Helper()
	for _, v := range []string{"2024-11-05", "2025-03-26", "2025-06-18"} {
		header := v
		if v == "2024-11-05" {
			header = "" // that version has no header
		}
		resp, body := rawPost(t, endpoint, peerAliceKey, "", header, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"`+v+`","capabilities":{},"clientInfo":{"name":"old","version":"1"}}}`)
		session := resp.Header.Get("Mcp-Session-Id")
		if resp.StatusCode != 200 || !strings.Contains(body, `"protocolVersion":"`+v+`"`) || session == "" {
			t.Errorf("%s initialize: %d session %q: %.300s", v, resp.StatusCode, session, body)
			continue
		}
		rawPost(t, endpoint, peerAliceKey, session, header, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		_, body = rawPost(t, endpoint, peerAliceKey, session, header, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		if !strings.Contains(body, `"name":"echo"`) || strings.Contains(body, `"name":"get-tiny-image"`) {
			t.Errorf("%s tools/list not narrowed: %.300s", v, body)
		}
		_, body = rawPost(t, endpoint, peerAliceKey, session, header, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get-tiny-image","arguments":{}}}`)
		if !strings.Contains(body, "not permitted") {
			t.Errorf("%s get-tiny-image not refused: %.300s", v, body)
		}
	}
	t.Logf("PROVED protocol versions 2024-11-05, 2025-03-26, 2025-06-18 through the gateway: negotiated, narrowed, refused alike")
}

// TestPeersSessionAcrossReplicas: a session opened through one filter
// replica goes on through another replica holding the same session key
// (nothing pins a session to a replica); a replica with another key does
// not accept it.
func TestPeersSessionAcrossReplicas(t *testing.T) {
	dir := peersDir(t)
	upstream := startServerEverything(t, dir, "streamableHttp")
	tmp := t.TempDir()
	policy := writePeersPolicy(t, tmp)
	bootstrap := personaBootstrap(t, tmp, "everything-agent", "everything", "mcp")
	keyFile := func(name, key string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	shared := keyFile("shared.key", "portcullis-test-session-key-7c1e5a9b3d0f2468ace")
	other := keyFile("other.key", "portcullis-test-session-key-0000000000000000000")
	var endpoints []string
	for i, key := range []string{shared, shared, other} {
		gw := startGatewayBootstrap(t, bootstrap, []string{"-config", policy, "-session-key-file", key}, upstream,
			filepath.Join(tmp, fmt.Sprint("replica", i)), fmt.Sprint("replica-", i))
		defer gw.stop(t)
		endpoints = append(endpoints, "http://"+gw.Addr+"/p/everything-agent/mcp")
	}
	resp, body := rawPost(t, endpoints[0], peerAliceKey, "", "2025-11-25", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || session == "" {
		t.Fatalf("initialize through replica 0: %d %q %.200s", resp.StatusCode, session, body)
	}
	if resp, _ := rawPost(t, endpoints[1], peerAliceKey, session, "2025-11-25", `{"jsonrpc":"2.0","method":"notifications/initialized"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized through replica 1: %d", resp.StatusCode)
	}
	for i, ep := range endpoints[:2] {
		if resp, body := rawPost(t, ep, peerAliceKey, session, "2025-11-25", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"replica"}}}`); resp.StatusCode != 200 || !strings.Contains(body, "replica") {
			t.Errorf("echo through replica %d: %d %.200s", i, resp.StatusCode, body)
		}
	}
	if resp, body := rawPost(t, endpoints[2], peerAliceKey, session, "2025-11-25", `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("replica with another key: %d %.200s, want 404", resp.StatusCode, body)
	}
	t.Logf("PROVED a session opened through replica 0 works through replica 1 (same -session-key-file), not through a replica with another key")
}
