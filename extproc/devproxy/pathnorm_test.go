package devproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/portcullis/portcullis/extproc/envoyemu"
)

// processorView is what the ext_proc server learnt of one request: the
// stream's initial metadata (the route's persona) and the :path of the
// request_headers message.
type processorView struct {
	persona, path string
}

// pathRecordingStream records the :path of the request_headers messages the
// no-op processor receives.
type pathRecordingStream struct {
	grpc.ServerStream
	record func(path string)
}

func (s *pathRecordingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if req, ok := m.(*extprocv3.ProcessingRequest); ok && err == nil && req.GetRequestHeaders() != nil {
		for _, h := range req.GetRequestHeaders().GetHeaders().GetHeaders() {
			if h.GetKey() == ":path" {
				s.record(string(h.GetRawValue()))
			}
		}
	}
	return err
}

// TestBootstrapPathNormalization runs envoy/envoy.yaml's connection manager
// (normalize_path, merge_slashes, path_with_escaped_slashes_action
// REJECT_REQUEST) and route table with a no-op processor: the persona is the
// one the normalised path names, for the route, the processor and the
// upstream alike, and an escaped slash is refused before any of them.
func TestBootstrapPathNormalization(t *testing.T) {
	var mu sync.Mutex
	var views []processorView
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		md, _ := metadata.FromIncomingContext(ss.Context())
		mu.Lock()
		i := len(views)
		views = append(views, processorView{persona: strings.Join(md.Get("x-portcullis-persona"), ",")})
		mu.Unlock()
		return handler(srv, &pathRecordingStream{ServerStream: ss, record: func(path string) {
			mu.Lock()
			views[i].path = path
			mu.Unlock()
		}})
	}))
	extprocv3.RegisterExternalProcessorServer(gs, envoyemu.NewNoopServer())
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	type seen struct{ path, originalPath string }
	var upstream []seen
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstream = append(upstream, seen{r.URL.RequestURI(), r.Header.Get("X-Envoy-Original-Path")})
		mu.Unlock()
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(up.Close)
	gw := startLocalGateway(t, lis.Addr().String(), up.URL)

	// post sends the request line exactly as written (a Go client would
	// leave these paths alone too, but this leaves no doubt).
	post := func(target string) (int, string) {
		t.Helper()
		conn, err := net.Dial("tcp", gw.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(conn, "POST "+target+" HTTP/1.1\r\nHost: mcp.test\r\nContent-Type: application/json\r\n"+
			"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	for _, c := range []struct {
		target string
		status int
		// processor is what the processor saw (nil: no stream), upstream
		// what reached the MCP server (nil: nothing).
		processor *processorView
		upstream  *seen
	}{
		// Envoy resolves the dot-dot segment before routing: the request
		// is the reporting agent's, with that persona's metadata, and the
		// processor and the upstream see the normalised path.
		{"/p/support-agent/../reporting-agent/mcp", 200,
			&processorView{"reporting-agent", "/p/reporting-agent/mcp"}, &seen{"/mcp", "/p/reporting-agent/mcp"}},
		// An escaped slash is refused by the connection manager
		// (REJECT_REQUEST): 400, no ext_proc stream, no route.
		{"/p/support-agent%2Fmcp", 400, nil, nil},
		{"/p/reporting-agent/mcp/..%2F..%2Fsupport-agent/mcp", 400, nil, nil},
		// Adjacent slashes are merged after normalisation (which turns
		// backslashes into slashes).
		{"//p//support-agent///mcp", 200,
			&processorView{"support-agent", "/p/support-agent/mcp"}, &seen{"/mcp", "/p/support-agent/mcp"}},
		{`/p\\support-agent\/mcp`, 200,
			&processorView{"support-agent", "/p/support-agent/mcp"}, &seen{"/mcp", "/p/support-agent/mcp"}},
		// Escaped dots and unreserved characters are decoded, the query is
		// left alone.
		{"/p/support-agent/%2E%2e/reporting-agent/%6Dcp?x=/../%2F", 200,
			&processorView{"reporting-agent", "/p/reporting-agent/mcp?x=/../%2F"}, &seen{"/mcp?x=/../%2F", "/p/reporting-agent/mcp?x=/../%2F"}},
		// Leaving the persona's prefix by dot-dot ends on the default deny,
		// which ext_proc still sees.
		{"/p/support-agent/mcp/../../x", 404, &processorView{"", "/p/x"}, nil},
	} {
		mu.Lock()
		views, upstream = nil, nil
		mu.Unlock()
		status, body := post(c.target)
		mu.Lock()
		gotViews, gotUpstream := views, upstream
		mu.Unlock()
		if status != c.status {
			t.Errorf("%s: status %d (%q), want %d", c.target, status, body, c.status)
		}
		switch {
		case c.processor == nil && len(gotViews) != 0:
			t.Errorf("%s: the processor saw %+v, want no stream", c.target, gotViews)
		case c.processor != nil && (len(gotViews) != 1 || gotViews[0] != *c.processor):
			t.Errorf("%s: the processor saw %+v, want %+v", c.target, gotViews, *c.processor)
		}
		switch {
		case c.upstream == nil && len(gotUpstream) != 0:
			t.Errorf("%s: upstream saw %+v, want nothing", c.target, gotUpstream)
		case c.upstream != nil && (len(gotUpstream) != 1 || gotUpstream[0] != *c.upstream):
			t.Errorf("%s: upstream saw %+v, want %+v", c.target, gotUpstream, *c.upstream)
		}
	}
}
