package devproxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"

	"github.com/portcullis/portcullis/extproc/envoyemu"
	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/kafka"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/server"
	"github.com/portcullis/portcullis/extproc/internal/spool"
)

// BenchmarkToolsCallRoundTrip measures one tools/call POST through the Envoy
// emulation (config from envoy/envoy.yaml) to a trivial upstream, with the
// Portcullis filter as the ext_proc server and, as the baseline, a no-op
// ext_proc server that answers every message with an empty CONTINUE. The
// ratio filter/noop is the filter's own cost on the request path.
func BenchmarkToolsCallRoundTrip(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"T-100: Cannot log in"}],"isError":false}}`)
	}))
	defer upstream.Close()
	pol, err := policy.Parse([]byte(`
upstreams: [{name: helpdesk, credential: {value: "Bearer backend"}}]
personas: [{name: support-agent, upstream: helpdesk, tools: [get_ticket]}]
agents: [{id: bot, persona: support-agent, key_sha256: ` + policy.HashKey(agentKey) + `}]
`))
	if err != nil {
		b.Fatal(err)
	}
	sp, err := spool.Open(b.TempDir(), spool.Options{MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	// The emitter's Run loop is not started: Emit's cost on the request path
	// is the spool append, which is what is measured.
	emitter, err := kafka.NewEmitter(sp, nil, kafka.EmitterOptions{Instance: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"T-100"}}}`
	for _, tc := range []struct {
		name string
		srv  extprocv3.ExternalProcessorServer
	}{
		{"noop", envoyemu.NewNoopServer()},
		{"filter", server.New(filter.NewEngine(pol, filter.Options{}), discard{})},
		{"filter+spool", server.New(filter.NewEngine(pol, filter.Options{Admit: emitter.Admit}), emitter)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			gs := grpc.NewServer()
			extprocv3.RegisterExternalProcessorServer(gs, tc.srv)
			go func() { _ = gs.Serve(lis) }()
			defer gs.Stop()
			h, err := New(Options{Bootstrap: "../../envoy/envoy.yaml", ExtProc: lis.Addr().String(), Upstream: upstream.URL})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			gw := httptest.NewServer(h)
			defer gw.Close()
			url := gw.URL + "/p/support-agent/mcp"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+agentKey)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(out), "T-100") {
					b.Fatalf("status %d body %s", resp.StatusCode, out)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Emit(filter.Decision) {}
