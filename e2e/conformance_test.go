//go:build conformance

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The official MCP conformance suite (npm @modelcontextprotocol/conformance)
// against the go-sdk's conformance everything-server, once directly and once
// through Portcullis (the Envoy emulation running envoy/envoy.yaml with one
// persona route + the filter, persona granting every tool of the server). The
// two runs must agree check by check. scripts/conformance.sh installs the
// tools into tools/.cache/conformance and runs this test (`make conformance`).

// conformanceAgentKey is the conformance agent's API key (a test value).
const conformanceAgentKey = "pk_conformance_5b9e0c7a1d2f4863"

// everythingTools are the tools of go-sdk v1.8.0's conformance
// everything-server; the persona grants exactly these.
var everythingTools = []string{
	"json_schema_2020_12_tool", "test_audio_content", "test_elicitation", "test_elicitation_sep1034_defaults",
	"test_elicitation_sep1330_enums", "test_embedded_resource", "test_error_handling", "test_image_content",
	"test_input_required_result_capabilities", "test_input_required_result_elicitation",
	"test_input_required_result_list_roots", "test_input_required_result_multi_round",
	"test_input_required_result_multiple_inputs", "test_input_required_result_request_state",
	"test_input_required_result_sampling", "test_input_required_result_tampered_state", "test_logging_tool",
	"test_missing_capability", "test_multiple_content_types", "test_reconnection", "test_sampling",
	"test_simple_text", "test_streaming_elicitation", "test_tool_with_logging", "test_tool_with_progress",
	"test_trigger_prompt_change", "test_trigger_tool_change", "test_x_mcp_header",
}

func TestConformanceThroughGateway(t *testing.T) {
	dir := os.Getenv("PORTCULLIS_CONFORMANCE_DIR")
	if dir == "" {
		dir = "../tools/.cache/conformance"
	}
	dir, _ = filepath.Abs(dir)
	server := filepath.Join(dir, "bin", "everything-server")
	suite := filepath.Join(dir, "node_modules", ".bin", "conformance")
	for _, p := range []string{server, suite, filepath.Join(dir, "node_modules", ".bin", "node")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: run scripts/conformance.sh (make conformance), which installs the suite: %v", p, err)
		}
	}

	// Up to 2025-11-25 the protocol is stateful (sessions, server→client
	// requests on a POST's stream); 2026-07-28 is stateless: the server runs
	// in the mode each version is specified for (the go-sdk server fails the
	// other). 2024-11-05 has no scenarios in the suite (see
	// TestPeersProtocolVersions).
	for _, tc := range []struct {
		version   string
		stateless bool
	}{
		{"2025-03-26", false},
		{"2025-06-18", false},
		{"2025-11-25", false},
		{"2026-07-28", true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			upstream := startEverythingServer(t, server, tc.stateless)
			tmp := t.TempDir()
			direct := runConformance(t, dir, suite, upstream+"/mcp", tc.version, filepath.Join(tmp, "direct"))
			dp, df := direct.counts()
			if dp+df == 0 {
				t.Fatalf("the direct run reported no checks")
			}
			// Through the gateway with each way the filter can take SSE
			// responses from Envoy (-sse-mode).
			for _, mode := range []string{"streamed", "full-duplex"} {
				gwDir := filepath.Join(tmp, mode)
				cfg := writeConformancePolicy(t, t.TempDir())
				gw := startGatewayBootstrap(t, personaBootstrap(t, t.TempDir(), "conformance", "everything", "mcp"),
					[]string{"-config", cfg, "-sse-mode", mode}, upstream, t.TempDir(), "conformance-"+tc.version+"-"+mode)
				agent, stopAgent := startAgentKeyProxy(t, "http://"+gw.Addr, conformanceAgentKey)
				through := runConformance(t, dir, suite, agent+"/p/conformance/mcp", tc.version, gwDir)
				stopAgent() // its streams end before the gateway's
				gw.stop(t)
				gp, gf := through.counts()
				t.Logf("PROVED conformance %s: direct %d passed, %d failed; through Portcullis (SSE %s) %d passed, %d failed", tc.version, dp, df, mode, gp, gf)
				fmt.Printf("conformance %s: direct %d passed %d failed | through Portcullis, SSE %s: %d passed %d failed\n", tc.version, dp, df, mode, gp, gf)
				for _, k := range unionKeys(direct, through) {
					if direct[k] != through[k] {
						t.Errorf("SSE %s: check %s: direct %q, through the gateway %q", mode, k, direct[k], through[k])
					}
				}
				if dp != gp || df != gf {
					t.Errorf("SSE %s: counts differ: direct %d/%d, gateway %d/%d (passed/failed)", mode, dp, df, gp, gf)
				}
			}
		})
	}
}

func startEverythingServer(t *testing.T, bin string, stateless bool) string {
	t.Helper()
	addr := freeAddr(t)
	startServerProcess(t, "everything-server", exec.Command(bin, "-http", addr, fmt.Sprintf("-stateless=%t", stateless)), addr)
	return "http://" + addr
}

// startServerProcess starts a peer server and waits until it listens on
// addr; it is killed when the test ends, its output shown if the test
// failed.
func startServerProcess(t *testing.T, name string, cmd *exec.Cmd, addr string) {
	t.Helper()
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
	waitTCP(t, addr)
}

func writeConformancePolicy(t *testing.T, dir string) string {
	t.Helper()
	tools, _ := json.Marshal(everythingTools)
	cfg := fmt.Sprintf(`environment: dev
upstreams:
  - name: everything
    environment: dev
personas:
  - name: conformance
    description: Runs the official MCP conformance suite; may use every tool of the everything-server.
    upstream: everything
    tools: %s
agents:
  - id: conformance-bot
    subject: conformance@example.com
    persona: conformance
    key_sha256: %s
`, tools, hashKey(conformanceAgentKey))
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startAgentKeyProxy stands for the agent's own HTTP client: the suite
// cannot set headers, so this adds the agent's API key to every request and
// passes everything else (Host, Origin, bodies, streams) unchanged.
func startAgentKeyProxy(t *testing.T, target, key string) (endpoint string, stop func()) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
			r.Out.Header.Set("Authorization", "Bearer "+key)
		},
		FlushInterval: -1,
	}
	if os.Getenv("PORTCULLIS_CONFORMANCE_TRACE") != "" {
		rp.ModifyResponse = func(r *http.Response) error {
			r.Body = &traceBody{ReadCloser: r.Body, t: t, head: fmt.Sprintf("%s %s %v -> %d %v", r.Request.Method, r.Request.URL.Path, r.Request.Header, r.StatusCode, r.Header)}
			return nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	stop = func() { _ = srv.Close() }
	t.Cleanup(stop)
	return "http://" + l.Addr().String(), stop
}

// checkResults maps "scenario/check-id#n" to the check's status.
type checkResults map[string]string

func (c checkResults) counts() (passed, failed int) {
	for _, s := range c {
		switch s {
		case "SUCCESS":
			passed++
		case "FAILURE":
			failed++
		}
	}
	return passed, failed
}

var scenarioDir = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$`)

func runConformance(t *testing.T, dir, suite, target, version, out string) checkResults {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"server", "--url", target, "--suite", "active", "--spec-version", version, "-o", out}
	if sc := os.Getenv("PORTCULLIS_CONFORMANCE_SCENARIO"); sc != "" {
		args = append(args, "--scenario", sc) // one scenario, when debugging
	}
	cmd := exec.CommandContext(ctx, suite, args...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(dir, "node_modules", ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	output, err := cmd.CombinedOutput()
	// The suite exits 1 when a check fails; the per-check files decide.
	if ctx.Err() != nil {
		t.Fatalf("conformance %s against %s timed out:\n%s", version, target, output)
	}
	var total string
	sc := bufio.NewScanner(bytes.NewReader(output))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Total:") {
			total = sc.Text()
		}
	}
	single := os.Getenv("PORTCULLIS_CONFORMANCE_SCENARIO") != ""
	if total == "" && !single {
		t.Fatalf("conformance %s against %s printed no total (err %v):\n%s", version, target, err, output)
	}
	res := checkResults{}
	entries, rerr := os.ReadDir(out)
	if rerr != nil {
		t.Fatal(rerr)
	}
	for _, e := range entries {
		m := scenarioDir.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(out, e.Name(), "checks.json"))
		if err != nil {
			t.Fatal(err)
		}
		var checks []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Error  string `json:"errorMessage"`
		}
		if err := json.Unmarshal(raw, &checks); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		seen := map[string]int{}
		for _, c := range checks {
			seen[c.ID]++
			key := fmt.Sprintf("%s/%s#%d", m[1], c.ID, seen[c.ID])
			res[key] = c.Status
			if c.Status == "FAILURE" {
				t.Logf("%s %s: %s FAILURE: %s", version, target, key, c.Error)
			}
		}
	}
	p, f := res.counts()
	if want := fmt.Sprintf("Total: %d passed, %d failed", p, f); want != total && !single {
		t.Fatalf("conformance %s against %s: the suite printed %q, its check files say %q", version, target, total, want)
	}
	return res
}

func unionKeys(a, b checkResults) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// traceBody logs a response with its body when it is closed
// (PORTCULLIS_CONFORMANCE_TRACE).
type traceBody struct {
	io.ReadCloser
	t    *testing.T
	head string
	buf  bytes.Buffer
}

func (b *traceBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

func (b *traceBody) Close() error {
	b.t.Logf("trace: %s\n%s", b.head, b.buf.String())
	return b.ReadCloser.Close()
}
