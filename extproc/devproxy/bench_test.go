package devproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"

	"github.com/portcullis/portcullis/extproc/envoyemu"
	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/kafka"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/server"
	"github.com/portcullis/portcullis/extproc/internal/spool"
)

// The benchmarks run the Envoy emulation (config from envoy/envoy.yaml) in
// front of an upstream on loopback, with the Portcullis filter as the
// ext_proc server and, as the baseline, a no-op ext_proc server. Everything
// runs in one process, so the figures are the filter's cost relative to the
// same path without it, not absolute gateway throughput. scripts/bench.sh
// (`make bench`) prints them.

const benchToolsCall = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"T-100"}}}`

func benchPolicy(b *testing.B) *policy.Policy {
	b.Helper()
	pol, err := policy.Parse([]byte(`
upstreams: [{name: helpdesk, credential: {value: "Bearer backend"}}]
personas: [{name: support-agent, upstream: helpdesk, tools: [get_ticket]}]
agents: [{id: bot, persona: support-agent, key_sha256: ` + policy.HashKey(agentKey) + `}]
`))
	if err != nil {
		b.Fatal(err)
	}
	return pol
}

// benchGateway serves srv over gRPC on loopback and returns the persona
// endpoint of a dev proxy running bootstrap in front of upstream. transport,
// when not nil, carries the proxy's upstream requests.
func benchGateway(b *testing.B, srv extprocv3.ExternalProcessorServer, bootstrap, upstream string, transport http.RoundTripper) string {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	b.Cleanup(gs.Stop)
	h, err := New(Options{Bootstrap: bootstrap, ExtProc: lis.Addr().String(), Upstream: upstream, Transport: transport})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	gw := httptest.NewServer(h)
	b.Cleanup(gw.Close)
	return gw.URL + "/p/support-agent/mcp"
}

func toolsCallUpstream(b *testing.B) *httptest.Server {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"T-100: Cannot log in"}],"isError":false}}`)
	}))
	b.Cleanup(upstream.Close)
	return upstream
}

// toolsCall sends one tools/call through the gateway and checks the answer.
func toolsCall(client *http.Client, url string) error {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(benchToolsCall))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+agentKey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !strings.Contains(string(out), "T-100") {
		return fmt.Errorf("status %d body %s", resp.StatusCode, out)
	}
	return nil
}

// BenchmarkToolsCallRoundTrip measures one tools/call POST at a time, with
// the filter, the filter appending decisions to the spool, and the no-op
// baseline. The ratio filter/noop is the filter's own cost on the request
// path.
func BenchmarkToolsCallRoundTrip(b *testing.B) {
	upstream := toolsCallUpstream(b)
	pol := benchPolicy(b)
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
	for _, tc := range []struct {
		name string
		srv  extprocv3.ExternalProcessorServer
	}{
		{"noop", envoyemu.NewNoopServer()},
		{"filter", server.New(filter.NewEngine(pol, filter.Options{}), discard{}, server.Options{})},
		{"filter+spool", server.New(filter.NewEngine(pol, filter.Options{Admit: emitter.Admit}), emitter, server.Options{})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			url := benchGateway(b, tc.srv, "../../envoy/envoy.yaml", upstream.URL, nil)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := toolsCall(client, url); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkToolsCallSustained measures tools/call throughput with a fixed
// number of concurrent clients, each sending its next call as soon as the
// last one is answered, reported as calls/s. GOMAXPROCS is left as the
// machine gives it. The proxy pools upstream connections as Envoy's cluster
// does, so the figure is not bounded by connection churn.
func BenchmarkToolsCallSustained(b *testing.B) {
	upstream := toolsCallUpstream(b)
	pol := benchPolicy(b)
	for _, clients := range []int{16, 64} {
		for _, tc := range []struct {
			name string
			srv  extprocv3.ExternalProcessorServer
		}{
			{"noop", envoyemu.NewNoopServer()},
			{"filter", server.New(filter.NewEngine(pol, filter.Options{}), discard{}, server.Options{})},
		} {
			b.Run(fmt.Sprintf("clients=%d/%s", clients, tc.name), func(b *testing.B) {
				pool := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
				b.Cleanup(pool.CloseIdleConnections)
				url := benchGateway(b, tc.srv, "../../envoy/envoy.yaml", upstream.URL, pool)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
				b.Cleanup(client.CloseIdleConnections)
				var next atomic.Int64
				var failed atomic.Pointer[error]
				var wg sync.WaitGroup
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for next.Add(1) <= int64(b.N) {
							if err := toolsCall(client, url); err != nil {
								failed.CompareAndSwap(nil, &err)
								return
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				if err := failed.Load(); err != nil {
					b.Fatal(*err)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
			})
		}
	}
}

// sseEventBytes is the size of every event of the SSE stream benchmark.
const sseEventBytes = 1 << 10

// sseBenchEvents returns a cycle of distinct events of exactly size bytes
// each (JSON-RPC progress and log notifications about a ticket export) and
// the tools/call result that ends the stream, also size bytes. The upstream
// writes the cycle over and over, so it holds no copy of the whole stream.
func sseBenchEvents(cycle, size, total int) (notifications [][]byte, result []byte) {
	const filler = "Customer reports that the export stalls after the second page; logs attached, retry scheduled for the next window. "
	event := func(i int, data string) []byte {
		head := fmt.Sprintf("id: %d\nevent: message\ndata: ", i)
		pad := size - len(head) - (len(data) - 2) - 2
		text := strings.Repeat(filler, pad/len(filler)+1)[:pad]
		ev := head + fmt.Sprintf(data, text) + "\n\n"
		if len(ev) != size {
			panic(fmt.Sprintf("event %d is %d bytes", i, len(ev)))
		}
		return []byte(ev)
	}
	for i := range cycle {
		if i%2 == 0 {
			notifications = append(notifications, event(i, fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"export-42","progress":%d,"total":%d,"message":"exported ticket T-%05d: %%s"}}`, i, total, i)))
		} else {
			notifications = append(notifications, event(i, fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"helpdesk.export","data":{"ticket":"T-%05d","status":"open","priority":"p2","assignee":"support-team-3","updated_at":"2026-03-14T09:26:53Z","summary":"%%s"}}}`, i)))
		}
	}
	result = event(total-1, fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"exported %d tickets: %%s"}],"isError":false}}`, total))
	return notifications, result
}

// duplexEchoServer is the no-op ext_proc server for FULL_DUPLEX_STREAMED:
// it switches event-stream responses to that mode (with response trailers
// SEND, as the bootstrap allows) and sends every chunk back unchanged.
type duplexEchoServer struct {
	extprocv3.UnimplementedExternalProcessorServer
}

func (duplexEchoServer) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil // EOF or cancelled: the exchange is over
		}
		resp := &extprocv3.ProcessingResponse{}
		switch r := req.GetRequest().(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			resp.Response = &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{}}
		case *extprocv3.ProcessingRequest_RequestBody:
			resp.Response = &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{}}
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			resp.Response = &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{}}
			resp.ModeOverride = &filterv3.ProcessingMode{
				ResponseBodyMode:    filterv3.ProcessingMode_FULL_DUPLEX_STREAMED,
				ResponseTrailerMode: filterv3.ProcessingMode_SEND,
			}
		case *extprocv3.ProcessingRequest_ResponseBody:
			resp.Response = &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{
				BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{StreamedResponse: &extprocv3.StreamedBodyResponse{
					Body: r.ResponseBody.GetBody(), EndOfStream: r.ResponseBody.GetEndOfStream(),
				}}},
			}}}
		case *extprocv3.ProcessingRequest_ResponseTrailers:
			resp.Response = &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}
		default:
			return fmt.Errorf("unexpected %T", r)
		}
		if err := stream.Send(resp); err != nil {
			return nil
		}
	}
}

// heapPeak samples the heap every millisecond until stopped (runtime/metrics,
// no stop-the-world), keeping two peaks: the bytes of heap objects, live or
// not yet collected (MemStats.HeapAlloc), and the live heap as the last GC
// marked it.
type heapPeak struct {
	stop        chan struct{}
	done        chan struct{}
	alloc, live uint64
	base        uint64 // live heap when sampling started, after a GC
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	runtime.GC()
	base := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(base)
	h.base = base[0].Value.Uint64()
	go func() {
		defer close(h.done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			h.alloc = max(h.alloc, s[0].Value.Uint64())
			h.live = max(h.live, s[1].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// report stops sampling and reports both peaks in MiB.
func (h *heapPeak) report(b *testing.B) {
	close(h.stop)
	<-h.done
	b.ReportMetric(float64(h.alloc)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(h.live)/(1<<20), "peak-live-MiB")
	b.ReportMetric(float64(h.base)/(1<<20), "base-live-MiB")
}

// BenchmarkSSEStream measures an event stream of 1 KiB events (the upstream
// flushes each event) answering a tools/call, through the filter in STREAMED
// and in FULL_DUPLEX_STREAMED, and through the no-op baseline of each mode.
// The bootstrap is envoy/envoy.yaml with response bodies STREAMED by default
// (as in envoy-production.yaml), so the STREAMED no-op server gets every
// chunk and answers each with an empty CONTINUE; the full-duplex no-op
// server sends every chunk back. Streams of 10 MiB and 40 MiB run. Reported:
// MB/s of stream delivered to the client, and the heap of the whole process
// (upstream, proxy, ext_proc server, client): peak-heap-MiB (live and not
// yet collected objects, as MemStats.HeapAlloc), peak-live-MiB (live heap
// as each GC marked it) and base-live-MiB (live heap before the run). When
// memory per stream is O(event), the peaks do not grow with the stream.
func BenchmarkSSEStream(b *testing.B) {
	raw, err := os.ReadFile("../../envoy/envoy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg := strings.Replace(string(raw), "response_body_mode: NONE ", "response_body_mode: STREAMED ", 1)
	if cfg == string(raw) {
		b.Fatal("bootstrap layout changed: response_body_mode NONE not found")
	}
	bootstrap := filepath.Join(b.TempDir(), "envoy.yaml")
	if err := os.WriteFile(bootstrap, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	pol := benchPolicy(b)
	for _, mib := range []int{10, 40} {
		size := mib << 20
		upstream := sseBenchUpstream(size)
		for _, tc := range []struct {
			name string
			srv  extprocv3.ExternalProcessorServer
		}{
			{"noop-streamed", envoyemu.NewNoopServer()},
			{"filter-streamed", server.New(filter.NewEngine(pol, filter.Options{}), discard{}, server.Options{SSEMode: server.SSEStreamed})},
			{"noop-full-duplex", duplexEchoServer{}},
			{"filter-full-duplex", server.New(filter.NewEngine(pol, filter.Options{}), discard{}, server.Options{SSEMode: server.SSEFullDuplex})},
		} {
			b.Run(fmt.Sprintf("size=%dMiB/%s", mib, tc.name), func(b *testing.B) {
				url := benchGateway(b, tc.srv, bootstrap, upstream.URL, nil)
				client := &http.Client{Transport: &http.Transport{}}
				b.Cleanup(client.CloseIdleConnections)
				b.SetBytes(int64(size))
				peak := startHeapPeak()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := sseCall(client, url, size); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				peak.report(b)
			})
		}
		upstream.Close()
	}
}

// sseBenchUpstream answers every request with an event stream of size
// bytes in sseEventBytes events, flushing each.
func sseBenchUpstream(size int) *httptest.Server {
	total := size / sseEventBytes
	cycle, result := sseBenchEvents(128, sseEventBytes, total)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := range total {
			ev := cycle[i%len(cycle)]
			if i == total-1 {
				ev = result
			}
			if _, err := w.Write(ev); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}))
}

// sseCall sends the tools/call and reads its event stream, which must come
// back whole.
func sseCall(client *http.Client, url string, size int) error {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(benchToolsCall))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+agentKey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && (resp.StatusCode != 200 || n != int64(size)) {
		err = errors.New("stream changed")
	}
	if err != nil {
		return fmt.Errorf("status %d, %d of %d bytes: %w", resp.StatusCode, n, size, err)
	}
	return nil
}

type discard struct{}

func (discard) Emit(filter.Decision) {}
