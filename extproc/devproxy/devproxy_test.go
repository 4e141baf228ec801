package devproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"

	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/server"
	"github.com/portcullis/portcullis/extproc/internal/verdict"
)

const (
	agentKey      = "pk_test_support_0123456789"
	backendSecret = "backend-secret-xyz"
)

// upstreamRecorder remembers what the upstream MCP server received.
type upstreamRecorder struct {
	mu      sync.Mutex
	auth    []string
	methods []string
	tools   []string
}

func (u *upstreamRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		_ = json.Unmarshal(body, &msg)
		u.mu.Lock()
		u.auth = append(u.auth, r.Header.Get("Authorization"))
		u.methods = append(u.methods, msg.Method)
		if msg.Method == "tools/call" {
			u.tools = append(u.tools, msg.Params.Name)
		}
		u.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+backendSecret {
			http.Error(w, "backend credential missing", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func newUpstream(t *testing.T, jsonResponse bool) (*httptest.Server, *upstreamRecorder) {
	s := mcp.NewServer(&mcp.Implementation{Name: "upstream", Version: "1"}, nil)
	type in struct {
		Text string `json:"text"`
	}
	type out struct {
		Echo string `json:"echo"`
	}
	for _, name := range []string{"get_ticket", "add_comment", "send_email", "delete_ticket"} {
		mcp.AddTool(s, &mcp.Tool{Name: name, Description: name}, func(_ context.Context, _ *mcp.CallToolRequest, i in) (*mcp.CallToolResult, out, error) {
			return nil, out{Echo: name + ":" + i.Text}, nil
		})
	}
	rec := &upstreamRecorder{}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{JSONResponse: jsonResponse})
	srv := httptest.NewServer(rec.wrap(h))
	t.Cleanup(srv.Close)
	return srv, rec
}

// decisionLog is an in-memory server.Emitter.
type decisionLog struct {
	mu sync.Mutex
	d  []filter.Decision
}

func (l *decisionLog) Emit(d filter.Decision) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *decisionLog) all() []filter.Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.d)
}

type stack struct {
	gateway  string // persona endpoint URL
	root     string
	upstream *upstreamRecorder
	engine   *filter.Engine
	log      *decisionLog
}

func newStack(t *testing.T, jsonResponse bool) *stack {
	t.Helper()
	return newStackWithBootstrap(t, jsonResponse, "../../envoy/envoy.yaml")
}

func newStackWithBootstrap(t *testing.T, jsonResponse bool, bootstrap string) *stack {
	t.Helper()
	up, rec := newUpstream(t, jsonResponse)
	pol, err := policy.Parse([]byte(fmt.Sprintf(`
environment: test
upstreams:
  - name: helpdesk
    credential: {value: "Bearer %s"}
personas:
  - name: support-agent
    upstream: helpdesk
    tools: [get_ticket, add_comment]
  - name: reporting-agent
    upstream: helpdesk
    tools: []
agents:
  - {id: support-bot, subject: alice, persona: support-agent, key_sha256: %s}
`, backendSecret, policy.HashKey(agentKey))))
	if err != nil {
		t.Fatal(err)
	}
	log := &decisionLog{}
	engine := filter.NewEngine(pol, filter.Options{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, server.New(engine, log, server.Options{}))
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	h, err := New(Options{Bootstrap: bootstrap, ExtProc: lis.Addr().String(), Upstream: up.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	gw := httptest.NewServer(h)
	t.Cleanup(gw.Close)
	return &stack{gateway: gw.URL + "/p/support-agent/mcp", root: gw.URL, upstream: rec, engine: engine, log: log}
}

type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

func connect(t *testing.T, endpoint, key string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{key, http.DefaultTransport}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestThroughEnvoyEmulation(t *testing.T) {
	for _, mode := range []struct {
		name string
		json bool
	}{{"SSE responses", false}, {"JSON responses", true}} {
		t.Run(mode.name, func(t *testing.T) {
			st := newStack(t, mode.json)
			cs := connect(t, st.gateway, agentKey)
			ctx := context.Background()

			// tools/list is narrowed to the persona's tools.
			lt, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("list tools: %v", err)
			}
			var names []string
			for _, tl := range lt.Tools {
				names = append(names, tl.Name)
			}
			sort.Strings(names)
			if strings.Join(names, ",") != "add_comment,get_ticket" {
				t.Fatalf("tools/list not narrowed: %v", names)
			}

			// Allowed call reaches the upstream and returns its result.
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_ticket", Arguments: map[string]any{"text": "T-1"}})
			if err != nil || res.IsError {
				t.Fatalf("allowed call failed: %v %+v", err, res)
			}
			if b, _ := json.Marshal(res.StructuredContent); !strings.Contains(string(b), "get_ticket:T-1") {
				t.Fatalf("result %s", b)
			}

			// Denied call: a JSON-RPC error, and the upstream never sees it.
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "send_email", Arguments: map[string]any{"text": "x"}})
			if err == nil || !strings.Contains(err.Error(), `tool "send_email" is not permitted for persona "support-agent"`) {
				t.Fatalf("denied call: got %v", err)
			}

			// A block verdict refuses the next (otherwise allowed) call, naming the verdict.
			st.engine.Verdicts().Apply(verdict.Verdict{ID: "v-test-1", Subject: verdict.Key{Kind: verdict.KindAgent, ID: "support-bot"},
				Action: verdict.ActionBlock, Rule: "deny-burst", Reason: "5 denied calls within 1m0s", IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)})
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_ticket", Arguments: map[string]any{"text": "T-2"}})
			if err == nil || !strings.Contains(err.Error(), "blocked by verdict v-test-1") {
				t.Fatalf("blocked call: got %v", err)
			}

			// Decisions are emitted when each exchange's stream ends; the
			// allowed call's SSE stream can end after the client has its result.
			var decisions []filter.Decision
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				decisions = st.log.all()
				n := 0
				for _, d := range decisions {
					if d.Method == "tools/call" {
						n++
					}
				}
				if n >= 3 || time.Now().After(deadline) {
					break
				}
			}
			st.upstream.mu.Lock()
			defer st.upstream.mu.Unlock()
			if len(st.upstream.auth) == 0 {
				t.Fatal("upstream saw no request")
			}
			for i, a := range st.upstream.auth {
				if a != "Bearer "+backendSecret {
					t.Fatalf("upstream request %d (%s) carried Authorization %q", i, st.upstream.methods[i], a)
				}
			}
			if strings.Join(st.upstream.tools, ",") != "get_ticket" {
				t.Fatalf("upstream executed tools %v, want only get_ticket", st.upstream.tools)
			}
			var outcomes []string
			for _, d := range decisions {
				if d.Method == "tools/call" {
					outcomes = append(outcomes, fmt.Sprintf("%s:%d", d.Tool, d.Outcome))
				}
				if d.Agent != "support-bot" || d.Persona != "support-agent" || d.Upstream != "helpdesk" {
					t.Errorf("decision %+v", d)
				}
			}
			// Decisions are emitted when each exchange ends (a streamed
			// response can end after a later call was refused), so compare
			// them as a set.
			sort.Strings(outcomes)
			want := []string{fmt.Sprintf("get_ticket:%d", filter.OutcomeAllowed), fmt.Sprintf("get_ticket:%d", filter.OutcomeBlocked), fmt.Sprintf("send_email:%d", filter.OutcomeDenied)}
			sort.Strings(want)
			if !slices.Equal(outcomes, want) {
				t.Fatalf("decisions %v, want %s", outcomes, want)
			}
		})
	}
}

func post(t *testing.T, url, key, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestBadInputThroughEnvoyEmulation(t *testing.T) {
	st := newStack(t, true)
	t.Run("missing key", func(t *testing.T) {
		resp := post(t, st.gateway, "", `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		resp := post(t, st.gateway, "not-a-key", `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		resp := post(t, st.gateway, agentKey, `{"jsonrpc":"2.0","id":1,`)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"code":-32700`) {
			t.Fatalf("status %d body %s", resp.StatusCode, b)
		}
	})
	t.Run("body over Envoy's buffer limit", func(t *testing.T) {
		resp := post(t, st.gateway, agentKey, `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"`+strings.Repeat("a", 2<<20)+`"}}`)
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("other persona's endpoint", func(t *testing.T) {
		resp := post(t, st.root+"/p/reporting-agent/mcp", agentKey, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		if resp.StatusCode != 403 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	st.upstream.mu.Lock()
	defer st.upstream.mu.Unlock()
	if len(st.upstream.methods) != 0 {
		t.Fatalf("upstream saw refused requests: %v", st.upstream.methods)
	}
}

// TestMisconfiguredBodyModeFailsClosed: if a route delivered request bodies
// unbuffered (here: request_body_mode NONE), the filter never sees the
// tools/call, but the upstream then gets no backend credential and refuses
// it — nothing runs on the gateway's authority.
func TestMisconfiguredBodyModeFailsClosed(t *testing.T) {
	raw, err := os.ReadFile("../../envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(raw), "request_body_mode: BUFFERED        # one JSON-RPC", "request_body_mode: NONE        # one JSON-RPC", 1)
	if cfg == string(raw) {
		t.Fatal("bootstrap layout changed: request_body_mode line not found")
	}
	path := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	st := newStackWithBootstrap(t, true, path)
	resp := post(t, st.gateway, agentKey, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_ticket","arguments":{"text":"x"}}}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want the upstream's 401", resp.StatusCode)
	}
	st.upstream.mu.Lock()
	defer st.upstream.mu.Unlock()
	if len(st.upstream.auth) != 1 || st.upstream.auth[0] != "" {
		t.Fatalf("upstream saw Authorization %q, want none (agent key stripped, no credential)", st.upstream.auth)
	}
}
