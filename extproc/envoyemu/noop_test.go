package envoyemu

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// noopProxy serves an echo upstream through a Proxy talking to NewNoopServer.
func noopProxy(tb testing.TB, pm *filterv3.ProcessingMode) *httptest.Server {
	tb.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // HTTP/1 handlers cannot read after writing
		w.Header().Set("X-Method", r.Method)
		_, _ = w.Write(body)
	}))
	tb.Cleanup(upstream.Close)
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(srv, NewNoopServer())
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	u, _ := url.Parse(upstream.URL)
	p, err := New(Config{
		Filter:   &filterv3.ExternalProcessor{ProcessingMode: pm},
		Client:   extprocv3.NewExternalProcessorClient(conn),
		Upstream: u,
	})
	if err != nil {
		tb.Fatal(err)
	}
	front := httptest.NewServer(p)
	tb.Cleanup(front.Close)
	return front
}

func TestNoopServerPassesEverythingThrough(t *testing.T) {
	modes := map[string]*filterv3.ProcessingMode{
		"default":  nil,
		"buffered": {RequestBodyMode: filterv3.ProcessingMode_BUFFERED, ResponseBodyMode: filterv3.ProcessingMode_BUFFERED},
		"streamed": {RequestBodyMode: filterv3.ProcessingMode_STREAMED, ResponseBodyMode: filterv3.ProcessingMode_STREAMED,
			RequestTrailerMode: filterv3.ProcessingMode_SEND, ResponseTrailerMode: filterv3.ProcessingMode_SEND},
	}
	body := strings.Repeat("0123456789", 10_000) // several reads
	for name, pm := range modes {
		t.Run(name, func(t *testing.T) {
			front := noopProxy(t, pm)
			resp, err := http.Post(front.URL+"/echo", "text/plain", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || string(got) != body || resp.Header.Get("X-Method") != "POST" {
				t.Fatalf("status %d, %d bytes, err %v, headers %v", resp.StatusCode, len(got), err, resp.Header)
			}
		})
	}
}

func TestContinueReplyMatchesOneof(t *testing.T) {
	cases := map[string]*extprocv3.ProcessingRequest{
		"request_headers":   {Request: &extprocv3.ProcessingRequest_RequestHeaders{}},
		"response_headers":  {Request: &extprocv3.ProcessingRequest_ResponseHeaders{}},
		"request_body":      {Request: &extprocv3.ProcessingRequest_RequestBody{}},
		"response_body":     {Request: &extprocv3.ProcessingRequest_ResponseBody{}},
		"request_trailers":  {Request: &extprocv3.ProcessingRequest_RequestTrailers{}},
		"response_trailers": {Request: &extprocv3.ProcessingRequest_ResponseTrailers{}},
	}
	for kind, req := range cases {
		resp := continueReply(req)
		if resp == nil {
			t.Errorf("%s: no reply", kind)
			continue
		}
		var got string
		switch resp.GetResponse().(type) {
		case *extprocv3.ProcessingResponse_RequestHeaders:
			got = "request_headers"
		case *extprocv3.ProcessingResponse_ResponseHeaders:
			got = "response_headers"
		case *extprocv3.ProcessingResponse_RequestBody:
			got = "request_body"
		case *extprocv3.ProcessingResponse_ResponseBody:
			got = "response_body"
		case *extprocv3.ProcessingResponse_RequestTrailers:
			got = "request_trailers"
		case *extprocv3.ProcessingResponse_ResponseTrailers:
			got = "response_trailers"
		}
		if got != kind {
			t.Errorf("%s answered with %s", kind, got)
		}
	}
	if continueReply(&extprocv3.ProcessingRequest{ObservabilityMode: true,
		Request: &extprocv3.ProcessingRequest_RequestHeaders{}}) != nil {
		t.Error("observability-mode message answered")
	}
}

// BenchmarkProxyNoop measures one GET through the emulated filter with the
// no-op processor: the baseline for processor benchmarks.
func BenchmarkProxyNoop(b *testing.B) {
	front := noopProxy(b, nil)
	client := front.Client()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get(front.URL + "/")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}
