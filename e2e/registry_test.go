package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/portcullis/portcullis/extproc/devproxy"
	extproc "github.com/portcullis/portcullis/extproc/mainlib"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
	"github.com/portcullis/portcullis/registry/examplemcp"
	"github.com/portcullis/portcullis/registry/server"
)

const (
	regAdminToken  = "admin-token-e2e-0123456789abcdef"
	regFilterToken = "filter-token-e2e-0123456789abcdef"
	regAgentKey    = "pk_test_registry_5d2c8e41a7"
	regBackend     = "backend-token-e2e-7f0a"
	decisionsTopic = "portcullis.decisions.v1"
)

// testRegistry is the registry over real HTTP on a fixed address, so that it
// can be stopped and started again where the filter expects it.
type testRegistry struct {
	t      *testing.T
	dir    string
	addr   string
	srv    *http.Server
	cancel context.CancelFunc
}

func (r *testRegistry) start() {
	r.t.Helper()
	store, err := server.OpenStore(r.dir, server.StoreOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	tokens, err := server.ParseTokens(strings.NewReader("root admin " + server.HashToken(regAdminToken) + "\nfilter-1 filter " + server.HashToken(regFilterToken)))
	if err != nil {
		r.t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(server.NewHandler(store, tokens))
	var lis net.Listener
	for i := 0; ; i++ {
		if lis, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		if i == 50 {
			r.t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	r.cancel = cancel
	go func() { _ = r.srv.Serve(lis) }()
}

// stop ends every call (watches included) and closes the listener.
func (r *testRegistry) stop() {
	if r.srv == nil {
		return
	}
	r.cancel()
	_ = r.srv.Close()
	r.srv = nil
}

func (r *testRegistry) client() registryv1connect.RegistryServiceClient {
	auth := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+regAdminToken)
			return next(ctx, req)
		}
	})
	return registryv1connect.NewRegistryServiceClient(http.DefaultClient, "http://"+r.addr, connect.WithInterceptors(auth))
}

// decisionLog reads every decision the filters emit.
type decisionLog struct {
	mu  sync.Mutex
	all []*decisionv1.Decision
}

func readDecisions(ctx context.Context, t *testing.T, brokers []string) *decisionLog {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(decisionsTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	l := &decisionLog{}
	go func() {
		defer cl.Close()
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				var d decisionv1.Decision
				if proto.Unmarshal(r.Value, &d) == nil {
					l.mu.Lock()
					l.all = append(l.all, &d)
					l.mu.Unlock()
				}
			})
		}
	}()
	return l
}

// await waits for a decision on tool with outcome and returns its policy
// version.
func (l *decisionLog) await(t *testing.T, tool string, outcome decisionv1.Outcome, version string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l.mu.Lock()
		var seen []string
		for _, d := range l.all {
			if d.GetTool() == tool && d.GetOutcome() == outcome && d.GetPolicyVersion() == version {
				l.mu.Unlock()
				return
			}
			seen = append(seen, fmt.Sprintf("%s/%s/%s", d.GetTool(), d.GetOutcome(), d.GetPolicyVersion()))
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no decision %s %s under policy %s; seen %v", tool, outcome, version, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (l *decisionLog) count(tool string, outcome decisionv1.Outcome, version string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.all {
		if d.GetTool() == tool && d.GetOutcome() == outcome && d.GetPolicyVersion() == version {
			n++
		}
	}
	return n
}

func (l *decisionLog) countVersion(version string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.all {
		if d.GetPolicyVersion() == version {
			n++
		}
	}
	return n
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func objSchema(t *testing.T, props map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(map[string]any{"type": "object", "properties": props})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRegistryDrivesFilter: the filter follows the registry's watch
// stream. A promotion and a prod write reach it (the decisions' policy
// version changes), a snapshot it cannot compile is ignored, it keeps
// enforcing while the registry is down and catches up when it is back, a
// restarted filter with the registry down starts from its cached snapshot,
// and a route naming an unregistered upstream is refused.
func TestRegistryDrivesFilter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()

	upstream := httptest.NewServer(examplemcp.Handler(examplemcp.HandlerOptions{BackendToken: regBackend}))
	defer upstream.Close()

	secrets := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(filepath.Join(secrets, "helpdesk"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "helpdesk", "token"), []byte("Bearer "+regBackend+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "registry-token")
	if err := os.WriteFile(tokenFile, []byte(regFilterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	reg := &testRegistry{t: t, dir: filepath.Join(dir, "registry"), addr: freeAddr(t)}
	reg.start()
	defer reg.stop()
	rc := reg.client()
	helpdesk := &registryv1.Server{Name: "helpdesk", Description: "help desk", Url: upstream.URL + "/mcp", Owner: "support@example.com", Environment: "prod",
		Auth: &registryv1.Auth{Kind: "bearer", CredentialRef: "secret://helpdesk/token"},
		Tools: []*registryv1.Tool{
			{Name: "get_ticket", Description: "Read one support ticket.", Operation: "read", InputSchema: objSchema(t, map[string]any{"id": map[string]any{"type": "string"}})},
			{Name: "add_comment", Description: "Add a comment to a support ticket.", Operation: "write", InputSchema: objSchema(t, map[string]any{"id": map[string]any{"type": "string"}, "comment": map[string]any{"type": "string"}})},
		}}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rc.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: "preprod", Server: helpdesk})))
	must(rc.PutSkill(ctx, connect.NewRequest(&registryv1.PutSkillRequest{Environment: "preprod", Skill: &registryv1.Skill{Name: "ticket-reading", Description: "Read tickets.", Owner: "support@example.com", Tools: []string{"helpdesk/get_ticket"}}})))
	persona := &registryv1.Persona{Name: "support-agent", Description: "Reads support tickets.", Skills: []string{"ticket-reading"}}
	must(rc.PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: "preprod", Persona: persona})))
	must(rc.PutAgent(ctx, connect.NewRequest(&registryv1.PutAgentRequest{Environment: "preprod", Agent: &registryv1.Agent{Id: "support-bot", Subject: "alice", Persona: "support-agent", KeySha256: hashKey(regAgentKey)}})))
	promote := func() string {
		t.Helper()
		res, err := rc.Promote(ctx, connect.NewRequest(&registryv1.PromoteRequest{From: "preprod", To: "prod"}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetVersion()
	}
	v1 := promote()

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	decisions := readDecisions(ctx, t, cluster.ListenAddrs())

	extAddr, gwAddr, shadowAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	spoolDir := filepath.Join(dir, "spool")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	filterLog := &syncBuffer{}
	startFilter := func(fctx context.Context, wait string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- extproc.Main(fctx, []string{"-registry-url", "http://" + reg.addr, "-registry-token-file", tokenFile, "-secrets-dir", secrets,
				"-registry-initial-timeout", wait, "-listen", extAddr, "-kafka-brokers", brokers, "-spool-dir", spoolDir,
				"-instance", "reg-1", "-shutdown-grace", "1s"}, strings.NewReader(""), io.Discard, filterLog)
		}()
		waitTCP(t, extAddr)
	}
	fctx, fcancel := context.WithCancel(ctx)
	startFilter(fctx, "10s")
	// A second gateway whose routes name an upstream the registry does not
	// know: a shadow MCP server.
	shadowBootstrap := filepath.Join(dir, "envoy-shadow.yaml")
	raw, err := os.ReadFile("../envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shadowBootstrap, []byte(strings.ReplaceAll(string(raw), "{key: x-portcullis-upstream, value: helpdesk}", "{key: x-portcullis-upstream, value: shadow-mcp}")), 0o600); err != nil {
		t.Fatal(err)
	}
	for addr, boot := range map[string]string{gwAddr: "../envoy/envoy.yaml", shadowAddr: shadowBootstrap} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- devproxy.Main(ctx, []string{"-bootstrap", boot, "-listen", addr, "-extproc", extAddr, "-upstream", upstream.URL}, io.Discard)
		}()
		waitTCP(t, addr)
	}
	defer func() {
		cancel()
		reg.stop()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("service: %v", err)
			}
		}
	}()

	// call makes one tool call in a fresh session and reports whether the
	// filter let it through.
	call := func(gw, tool string) (allowed bool) {
		t.Helper()
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		defer ccancel()
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "reg-agent", Version: "1"}, nil).Connect(cctx,
			&mcp.StreamableClientTransport{Endpoint: "http://" + gw + "/p/support-agent/mcp", HTTPClient: &http.Client{Transport: agentAuth{regAgentKey}}}, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer cs.Close()
		args := map[string]any{"id": "T-100"}
		if tool == "add_comment" {
			args["comment"] = "on it"
		}
		res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			if strings.Contains(err.Error(), "not permitted") {
				return false
			}
			t.Fatalf("%s: %v", tool, err)
		}
		if res.IsError {
			b, _ := json.Marshal(res)
			t.Fatalf("%s: tool error %s", tool, b)
		}
		return true
	}
	eventually := func(tool string, want bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for call(gwAddr, tool) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: still allowed=%v", tool, !want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// 1. The first snapshot is enforced.
	if !call(gwAddr, "get_ticket") || call(gwAddr, "add_comment") {
		t.Fatal("first snapshot: want get_ticket allowed, add_comment refused")
	}
	decisions.await(t, "get_ticket", decisionv1.Outcome_OUTCOME_ALLOWED, v1)
	decisions.await(t, "add_comment", decisionv1.Outcome_OUTCOME_DENIED, v1)

	// 2. A change in preprod, promoted, reaches the filter.
	persona.AddTools = []string{"helpdesk/add_comment"}
	must(rc.PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: "preprod", Persona: persona})))
	v2 := promote()
	eventually("add_comment", true)
	decisions.await(t, "add_comment", decisionv1.Outcome_OUTCOME_ALLOWED, v2)

	// 3. A prod snapshot the filter cannot compile (its credential file is
	// missing) is ignored: v2 stays in force.
	broken := proto.Clone(helpdesk).(*registryv1.Server)
	broken.Auth.CredentialRef = "secret://missing/token"
	res, err := rc.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: "prod", Server: broken}))
	if err != nil {
		t.Fatal(err)
	}
	v3 := res.Msg.GetVersion()
	rejectDeadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(filterLog.String(), `"snapshot_version":"`+v3+`"`) {
		if time.Now().After(rejectDeadline) {
			t.Fatal("the watch never delivered the non-compiling snapshot")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(filterLog.String(), "registry snapshot rejected; keeping the policy in force") {
		t.Fatalf("filter log lacks the rejection:\n%s", filterLog.String())
	}
	before := decisions.count("add_comment", decisionv1.Outcome_OUTCOME_ALLOWED, v2)
	if !call(gwAddr, "add_comment") {
		t.Fatal("after a non-compiling snapshot: add_comment refused")
	}
	for decisions.count("add_comment", decisionv1.Outcome_OUTCOME_ALLOWED, v2) == before {
		time.Sleep(50 * time.Millisecond)
	}
	if n := decisions.countVersion(v3); n != 0 {
		t.Fatalf("%d decisions under the non-compiling snapshot %s", n, v3)
	}
	must(rc.PutServer(ctx, connect.NewRequest(&registryv1.PutServerRequest{Environment: "prod", Server: helpdesk})))

	// 4. Registry down: the filter keeps enforcing; back up: a prod write
	// arrives.
	reg.stop()
	if !call(gwAddr, "get_ticket") || !call(gwAddr, "add_comment") {
		t.Fatal("registry down: the last snapshot must stay in force")
	}
	reg.start()
	persona.AddTools = nil
	persona.Description = "Reads support tickets only."
	res2, err := reg.client().PutPersona(ctx, connect.NewRequest(&registryv1.PutPersonaRequest{Environment: "prod", Persona: persona}))
	if err != nil {
		t.Fatal(err)
	}
	v4 := res2.Msg.GetVersion()
	eventually("add_comment", false)
	decisions.await(t, "add_comment", decisionv1.Outcome_OUTCOME_DENIED, v4)

	// 5. Shadow MCP: a route naming an upstream the policy does not register.
	resp := postJSON(t, "http://"+shadowAddr+"/p/support-agent/mcp", regAgentKey)
	if resp.status != 403 || !strings.Contains(resp.body, `"code":-32001`) || !strings.Contains(resp.body, `upstream \"shadow-mcp\" is not registered`) {
		t.Fatalf("shadow upstream: %d %s", resp.status, resp.body)
	}

	// 6. Filter restarted while the registry is down: it starts from the
	// cached snapshot (v4).
	reg.stop()
	fcancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", extAddr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("filter did not stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
	startFilter(ctx, "1s")
	if !call(gwAddr, "get_ticket") || call(gwAddr, "add_comment") {
		t.Fatal("restarted from the cache: want get_ticket allowed, add_comment refused")
	}
	decisions.await(t, "get_ticket", decisionv1.Outcome_OUTCOME_ALLOWED, v4)
	if !strings.Contains(filterLog.String(), "serving the cached snapshot") {
		t.Fatal("the restarted filter did not report starting from the cache")
	}
	if v4 == v1 || v4 == v2 {
		t.Fatalf("v4 %s must differ from v1 and v2", v4)
	}
	t.Logf("PROVED: registry snapshots %s → %s (promotion) → %s ignored (does not compile) → %s (prod write after a registry restart) enforced by the filter, reported in every decision's policy_version; cache restart served %s; shadow upstream refused", v1, v2, v3, v4, v4)
}

type httpResult struct {
	status int
	body   string
}

func postJSON(t *testing.T, url, key string) httpResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"T-100"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, string(b)}
}

// awaitMatch waits for a decision match accepts.
func (l *decisionLog) awaitMatch(t *testing.T, what string, match func(*decisionv1.Decision) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l.mu.Lock()
		for _, d := range l.all {
			if match(d) {
				l.mu.Unlock()
				return
			}
		}
		n := len(l.all)
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no decision: %s (%d decisions seen)", what, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
