package devproxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/portcullis/portcullis/extproc/envoyemu"
)

// TestBootstrapRouteTable runs envoy/envoy.yaml's route table with a no-op
// processor: /healthz is a direct response without ext_proc, the persona
// routes are rewritten by the router after ext_proc and carry their
// persona as gRPC initial metadata, everything else is the default-deny 404.
func TestBootstrapRouteTable(t *testing.T) {
	var mu sync.Mutex
	var streams []metadata.MD
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		md, _ := metadata.FromIncomingContext(ss.Context())
		mu.Lock()
		streams = append(streams, md)
		mu.Unlock()
		return handler(srv, ss)
	}))
	extprocv3.RegisterExternalProcessorServer(gs, envoyemu.NewNoopServer())
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	type seen struct{ path, host, originalPath string }
	var upstream []seen
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstream = append(upstream, seen{r.URL.RequestURI(), r.Host, r.Header.Get("X-Envoy-Original-Path")})
		mu.Unlock()
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(up.Close)
	gw := startLocalGateway(t, lis.Addr().String(), up.URL)
	gwHost := strings.TrimPrefix(gw.URL, "http://")

	do := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, gw.URL+path, strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	reset := func() {
		mu.Lock()
		defer mu.Unlock()
		streams, upstream = nil, nil
	}
	check := func(name string, wantStreams int, wantUpstream []seen) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(streams) != wantStreams {
			t.Errorf("%s: %d ext_proc streams, want %d", name, len(streams), wantStreams)
		}
		if len(upstream) != len(wantUpstream) {
			t.Errorf("%s: upstream saw %+v, want %+v", name, upstream, wantUpstream)
			return
		}
		for i := range upstream {
			if upstream[i] != wantUpstream[i] {
				t.Errorf("%s: upstream saw %+v, want %+v", name, upstream[i], wantUpstream[i])
			}
		}
	}

	if code, body := do(http.MethodGet, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	check("healthz", 0, nil)

	reset()
	if code, _ := do(http.MethodPost, "/p/support-agent/mcp?x=1"); code != 200 {
		t.Errorf("persona route: %d", code)
	}
	check("persona route", 1, []seen{{"/mcp?x=1", gwHost, "/p/support-agent/mcp?x=1"}})
	mu.Lock()
	if len(streams) == 1 {
		md := streams[0]
		if p, u := md.Get("x-portcullis-persona"), md.Get("x-portcullis-upstream"); len(p) != 1 || p[0] != "support-agent" || len(u) != 1 || u[0] != "helpdesk" {
			t.Errorf("initial metadata %v", md)
		}
	}
	mu.Unlock()

	reset()
	if code, _ := do(http.MethodPost, "/p/reporting-agent/mcp/sub"); code != 200 {
		t.Errorf("persona sub path: %d", code)
	}
	check("persona sub path", 1, []seen{{"/mcp/sub", gwHost, "/p/reporting-agent/mcp/sub"}})

	// path_separated_prefix: /p/support-agent/mcpx is not the persona's.
	for _, p := range []string{"/p/support-agent/mcpx", "/nope", "/"} {
		reset()
		if code, body := do(http.MethodPost, p); code != 404 || body != "" {
			t.Errorf("%s: %d %q, want the default-deny 404", p, code, body)
		}
		// ext_proc stays enabled on the default-deny route.
		check(p, 1, nil)
	}
}

// startLocalGateway serves the dev proxy on envoy/envoy.yaml in front of
// upstream, with the processor at extproc; both end with the test.
func startLocalGateway(t *testing.T, extproc, upstream string) *httptest.Server {
	t.Helper()
	h, err := New(Options{Bootstrap: "../../envoy/envoy.yaml", ExtProc: extproc, Upstream: upstream})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	gw := httptest.NewServer(h)
	t.Cleanup(gw.Close)
	return gw
}
