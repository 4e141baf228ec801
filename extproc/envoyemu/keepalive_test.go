package envoyemu

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// These tests drive the proxy over real HTTP/1 keep-alive connections with
// request bodies it leaves partly or wholly unread. Go's server must never
// log a panic (the "invalid concurrent Body.Read call" of golang/go#68560
// when a full-duplex handler returns with the body unread), and every
// response must either keep its connection for the next request or say
// Connection: close and have it closed.

// syncBuffer collects the server's error log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// keepAliveFront serves the harness's proxy over HTTP/1 with the server's
// error log captured, and a client that reuses one connection at a time.
type keepAliveFront struct {
	t      *testing.T
	h      *harness
	srv    *httptest.Server
	errLog syncBuffer
	client *http.Client

	mu    sync.Mutex
	conns int // connections the server accepted
}

func newKeepAliveFront(t *testing.T, h *harness) *keepAliveFront {
	f := &keepAliveFront{t: t, h: h}
	f.srv = httptest.NewUnstartedServer(h.proxy)
	f.srv.Config.ErrorLog = log.New(&f.errLog, "", 0)
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	f.srv.Start()
	f.client = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxConnsPerHost: 1}}
	t.Cleanup(f.srv.Close)
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

// upload is one request body.
type upload struct {
	name string
	body string
	// stall, when set, sends body chunked and keeps the upload open until
	// the response has arrived.
	stall bool
	// keep and close, when set, require the response to keep or to close
	// the connection; otherwise either will do.
	keep, close bool
}

// reply is what one exchange produced, as the client saw it.
type reply struct {
	status int
	body   string
	close  bool // the response said Connection: close
	reused bool // the request went over a connection an earlier one used
}

func (f *keepAliveFront) post(u upload) reply {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var reused bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	})
	var body io.Reader = strings.NewReader(u.body)
	var pw *io.PipeWriter
	if u.stall {
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		body = pr
		go func() { _, _ = io.WriteString(pw, u.body) }()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/", body)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "")
	resp, err := f.client.Do(req)
	if pw != nil {
		defer func() { _ = pw.Close() }() // the upload ends once the response is in
	}
	if err != nil {
		f.t.Fatalf("%s: %v", u.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s: reading the response: %v", u.name, err)
	}
	return reply{status: resp.StatusCode, body: string(b), close: resp.Close, reused: reused}
}

// run sends the uploads in order and checks each reply with want, the
// connection handling, and the server's error log.
func (f *keepAliveFront) run(uploads []upload, want func(u upload, r reply)) {
	f.t.Helper()
	closes := 0
	prevClosed := true // the first request needs a new connection
	for _, u := range uploads {
		r := f.post(u)
		want(u, r)
		f.h.result()
		if r.reused == prevClosed {
			f.t.Errorf("%s: connection reused=%t after a response with close=%t", u.name, r.reused, prevClosed)
		}
		if u.keep && r.close {
			f.t.Errorf("%s: response closed the connection, want keep-alive", u.name)
		}
		if u.close && !r.close {
			f.t.Errorf("%s: response kept the connection, want Connection: close", u.name)
		}
		if r.close {
			closes++
		}
		prevClosed = r.close
	}
	f.client.CloseIdleConnections()
	f.srv.Close() // waits for the connections' goroutines
	if s := f.errLog.String(); s != "" {
		f.t.Errorf("server error log:\n%s", s)
	}
	f.mu.Lock()
	conns := f.conns
	f.mu.Unlock()
	wantConns := 1 + closes
	if prevClosed {
		wantConns-- // no request followed the last response
	}
	if conns != wantConns {
		f.t.Errorf("server saw %d connections, want %d (%d responses closed theirs)", conns, wantConns, closes)
	}
}

// keepAliveUploads mixes bodies that have fully arrived by the time the
// proxy answers (the connection stays) with one far over what the proxy
// drains and one the client is still sending (both close it).
func keepAliveUploads() []upload {
	small := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	return []upload{
		{name: "empty", body: "", keep: true},
		{name: "small", body: small, keep: true},
		{name: "small again", body: small, keep: true},
		{name: "4KiB", body: strings.Repeat("a", 4<<10)},
		{name: "64KiB", body: strings.Repeat("b", 64<<10)},
		{name: "small after 64KiB", body: small, keep: true},
		{name: "8MiB still uploading", body: strings.Repeat("c", 8<<20), close: true},
		{name: "small after 8MiB", body: small, keep: true},
		{name: "stalled chunked upload", body: strings.Repeat("d", 1<<10), stall: true, close: true},
		{name: "small after stalled", body: small, keep: true},
		{name: "small last", body: small, keep: true},
	}
}

// The devproxy's 401/403 case: the processor answers the request headers
// with an ImmediateResponse, so the proxy never reads the body.
func TestImmediateResponseToRequestHeadersKeepAlive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(immediateResponse(typev3.StatusCode_Forbidden, "denied", "policy"))
			s.drain()
			return nil
		},
	})
	f := newKeepAliveFront(t, h)
	uploads := keepAliveUploads()
	f.run(uploads, func(u upload, r reply) {
		if r.status != http.StatusForbidden || r.body != "denied" {
			t.Errorf("%s: got %d %q, want 403 \"denied\"", u.name, r.status, r.body)
		}
	})
	if n := h.proc.streamCount(); n != len(uploads) {
		t.Errorf("%d ext_proc streams, want %d", n, len(uploads))
	}
	if st := h.proxy.Stats(); st.LocalReplies != uint64(len(uploads)) {
		t.Errorf("stats %+v", st)
	}
	if n := len(h.upstreamRequests()); n != 0 {
		t.Errorf("upstream saw %d requests", n)
	}
}

// An ImmediateResponse to the first STREAMED chunk: a body that ended with
// that chunk keeps the connection, one still arriving closes it.
func TestImmediateResponseToStreamedChunkKeepAlive(t *testing.T) {
	t.Parallel()
	f0 := baseFilter()
	mode(f0).RequestBodyMode = filterv3.ProcessingMode_STREAMED
	h := newHarness(t, harnessOptions{
		filter: f0,
		script: func(s *procStream) error {
			m := s.expect("request_headers")
			if m.GetRequestHeaders().GetEndOfStream() {
				s.send(immediateResponse(typev3.StatusCode_Forbidden, "denied", "policy"))
				s.drain()
				return nil
			}
			s.send(requestHeadersReply(nil))
			s.expect("request_body")
			s.send(immediateResponse(typev3.StatusCode_Forbidden, "denied", "policy"))
			s.drain()
			return nil
		},
	})
	f := newKeepAliveFront(t, h)
	// Whether the first chunk is all of a 4 KiB or 64 KiB body depends on
	// how it arrives: either outcome will do.
	uploads := keepAliveUploads()
	f.run(uploads, func(u upload, r reply) {
		if r.status != http.StatusForbidden || r.body != "denied" {
			t.Errorf("%s: got %d %q, want 403 \"denied\"", u.name, r.status, r.body)
		}
	})
}

// Without body processing the body goes to the upstream, which here answers
// without reading it: the response closes the connection unless the body
// had arrived whole, and the next request on a kept connection works (a
// read cut short must not have cancelled the connection's context).
func TestUpstreamAnswersBeforeReadingBodyKeepAlive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{
		script: continueAll,
		rawUpstream: func(w http.ResponseWriter, _ *http.Request) {
			// Connection: close spares Go's server draining the body before
			// it answers (a stalled upload would hold the answer back).
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, upstreamText)
		},
	})
	f := newKeepAliveFront(t, h)
	uploads := keepAliveUploads()
	for i := range uploads {
		// The proxy reads the body only as fast as the upstream takes it:
		// whether a small one was all read by then is up to the scheduler.
		if uploads[i].body != "" {
			uploads[i].keep = false
		}
	}
	f.run(uploads, func(u upload, r reply) {
		if r.status != http.StatusOK || r.body != upstreamText {
			t.Errorf("%s: got %d %q, want 200 %q", u.name, r.status, r.body, upstreamText)
		}
	})
}
