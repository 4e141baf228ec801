package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/types/known/structpb"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/registry/openapi"
	"github.com/portcullis/portcullis/registry/openapi/mcpserver"
)

const rateAgentKey = "pk_test_ratelimit_3e9d1c0b"

// petREST implements the expanded Petstore's list and delete and counts the
// deletes that reach it.
type petREST struct {
	mu      sync.Mutex
	deletes int
}

func (p *petREST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/pets":
		_, _ = io.WriteString(w, `[{"id":1,"name":"Rex"}]`)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/pets/"):
		p.mu.Lock()
		p.deletes++
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"code":404,"message":"not found"}`)
	}
}

func (p *petREST) deleted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deletes
}

// TestGeneratedToolRateLimit: an OpenAPI-generated server's DELETE tool gets
// the default 10 calls per hour; the operator lowers it to 2 in the
// registry; the filter following the registry lets two deletes through and
// refuses the third within the hour with JSON-RPC -32003 and Retry-After,
// while the server's read tool stays available.
func TestGeneratedToolRateLimit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()

	rest := &petREST{}
	restSrv := httptest.NewServer(rest)
	defer restSrv.Close()
	res, err := openapi.Import(ctx, []string{"../third_party/corpora/openapi/oai__v3.0_petstore-expanded.json"}, openapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tools := res.Documents[0].Tools
	gen, err := mcpserver.NewHandler(mcpserver.Config{Name: "petstore", Tools: tools, BaseURL: restSrv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	genSrv := httptest.NewServer(gen)
	defer genSrv.Close()

	// Register the generated tools; envoy.yaml's persona routes name their
	// upstream "helpdesk".
	server := &registryv1.Server{Name: "helpdesk", Description: "generated petstore", Url: genSrv.URL + "/mcp", Owner: "pets@example.com", Environment: "prod"}
	var deleteTool, readTool string
	for _, tl := range tools {
		op := "write"
		switch tl.Request.Method {
		case http.MethodGet:
			op = "read"
			if readTool == "" || tl.Name == "findPets" {
				readTool = tl.Name
			}
		case http.MethodDelete:
			op = "delete"
			deleteTool = tl.Name
			if tl.RateLimitPerHour != 10 {
				t.Fatalf("generated DELETE default %d/h, want 10", tl.RateLimitPerHour)
			}
		}
		limit := int32(tl.RateLimitPerHour)
		if op == "delete" {
			limit = 2 // the operator's change
		}
		raw, err := json.Marshal(tl.InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		schema := &structpb.Struct{}
		if err := schema.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		server.Tools = append(server.Tools, &registryv1.Tool{Name: tl.Name, Description: tl.Description, InputSchema: schema, Operation: op, RateLimitPerHour: limit})
	}
	if deleteTool == "" || readTool != "findPets" {
		t.Fatalf("generated tools: delete %q read %q", deleteTool, readTool)
	}

	tokenFile := filepath.Join(dir, "registry-token")
	if err := os.WriteFile(tokenFile, []byte(regFilterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := &testRegistry{t: t, dir: filepath.Join(dir, "registry"), addr: freeAddr(t)}
	reg.start()
	defer reg.stop()
	rc := reg.client()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rc.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: "prod", Server: server})))
	must(rc.PutSkill(ctx, connect.NewRequest(&registryv1.PutSkillRequest{Environment: "prod", Skill: &registryv1.Skill{Name: "pet-care",
		Description: "Find and remove pets.", Owner: "pets@example.com", Tools: []string{"helpdesk/" + readTool, "helpdesk/" + deleteTool}}})))
	must(rc.PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: "prod", Persona: &registryv1.Persona{Name: "support-agent",
		Description: "Removes pets.", Skills: []string{"pet-care"}}})))
	pr, err := rc.PutAgent(ctx, connect.NewRequest(&registryv1.PutAgentRequest{Environment: "prod", Agent: &registryv1.Agent{Id: "pet-bot", Subject: "dave",
		Persona: "support-agent", KeySha256: hashKey(rateAgentKey)}}))
	if err != nil {
		t.Fatal(err)
	}
	version := pr.Msg.GetVersion()
	got, err := rc.GetServer(ctx, connect.NewRequest(&registryv1.GetServerRequest{Environment: "prod", Name: "helpdesk"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range got.Msg.GetServer().GetTools() {
		if tl.GetName() == deleteTool && tl.GetRateLimitPerHour() != 2 {
			t.Fatalf("registry holds %s at %d/h, want 2", deleteTool, tl.GetRateLimitPerHour())
		}
	}

	gw := startGateway(t, []string{"-registry-url", "http://" + reg.addr, "-registry-token-file", tokenFile,
		"-registry-initial-timeout", "10s"}, genSrv.URL, dir, "rate-1")
	defer gw.stop(t)
	gwAddr := gw.Addr
	decisions := readDecisions(ctx, t, gw.Brokers)

	endpoint := "http://" + gwAddr + "/p/support-agent/mcp"
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "pet-bot", Version: "1"}, nil).Connect(cctx,
		&mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: agentAuth{rateAgentKey}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for i := range 2 {
		r, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: deleteTool, Arguments: map[string]any{"id": i + 1}})
		if err != nil || r.IsError {
			b, _ := json.Marshal(r)
			t.Fatalf("delete %d: %v %s", i+1, err, b)
		}
	}

	// The third delete within the hour: refused by the filter, never sent.
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"`+deleteTool+`","arguments":{"id":3}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+rateAgentKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rpc struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				Limit      int `json:"limit"`
				RetryAfter int `json:"retry_after"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &rpc); err != nil {
		t.Fatalf("third delete: %d %s", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || rpc.Error.Code != -32003 || rpc.Error.Data.Limit != 2 ||
		!strings.Contains(rpc.Error.Message, "rate limit of 2 calls per hour for tool") || resp.Header.Get("Retry-After") == "" ||
		rpc.Error.Data.RetryAfter < 1000 || rpc.Error.Data.RetryAfter > 1800 {
		t.Fatalf("third delete: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// The MCP client sees the same refusal; the read tool is unaffected.
	if _, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: deleteTool, Arguments: map[string]any{"id": 4}}); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Fatalf("fourth delete through the MCP client: %v", err)
	}
	if r, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: readTool, Arguments: map[string]any{}}); err != nil || r.IsError {
		t.Fatalf("%s after the delete limit: %v %+v", readTool, err, r)
	}
	if n := rest.deleted(); n != 2 {
		t.Fatalf("%d deletes reached the REST server, want 2", n)
	}
	decisions.await(t, deleteTool, decisionv1.Outcome_OUTCOME_THROTTLED, version)
	decisions.mu.Lock()
	var reasons []decisionv1.ReasonCode
	for _, d := range decisions.all {
		if d.GetOutcome() == decisionv1.Outcome_OUTCOME_THROTTLED {
			reasons = append(reasons, d.GetReason())
		}
	}
	decisions.mu.Unlock()
	for _, r := range reasons {
		if r != decisionv1.ReasonCode_REASON_CODE_RATE_LIMITED {
			t.Fatalf("throttled decision with reason %v", r)
		}
	}
	t.Logf("PROVED: generated %s defaults to 10/h, set to 2/h in the registry (snapshot %s); the filter let 2 deletes through and refused the 3rd with -32003, Retry-After %s s, decision THROTTLED/RATE_LIMITED", deleteTool, version, resp.Header.Get("Retry-After"))
}
