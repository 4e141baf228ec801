package envoyemu

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// An ImmediateResponse to the first STREAMED chunk of an upload that never
// ends must reach the client at once, and every goroutine the exchange started
// must end.
func TestLocalReplyWhileClientStillSending(t *testing.T) {
	f := baseFilter()
	mode(f).RequestBodyMode = filterv3.ProcessingMode_STREAMED
	h := newHarness(t, harnessOptions{
		filter: f,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("request_body")
			s.send(immediateResponse(typev3.StatusCode_Forbidden, "denied", "policy"))
			s.drain()
			return nil
		},
	})
	exchange := func() {
		pr, pw := io.Pipe()
		defer func() { _ = pw.Close() }()
		go func() { _, _ = io.WriteString(pw, "first chunk of an endless upload") }()
		req := h.newRequest(http.MethodPost, "/", "")
		req.Body = pr
		start := time.Now()
		res := h.do(req)
		if res.status != http.StatusForbidden || res.body != "denied" {
			t.Fatalf("got %d %q", res.status, res.body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("local reply took %v", d)
		}
		h.result()
	}

	exchange() // warm up connections and pools
	h.client.CloseIdleConnections()
	baseline := runtime.NumGoroutine()
	for range 20 {
		exchange()
	}
	h.client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	// A leak would leave at least one goroutine per exchange (20); the slack
	// absorbs pooled connections and runtime helpers on a loaded machine.
	for runtime.NumGoroutine() > baseline+6 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := h.proxy.Stats(); st.StreamsStarted != 21 || st.LocalReplies != 21 {
		t.Errorf("stats %+v", st)
	}
}

// Over HTTP/2 an empty POST is HEADERS then an empty DATA frame with
// END_STREAM, the framing of Envoy's BufferBodyOverridePostWithEmptyBody.
func TestHTTP2Downstream(t *testing.T) {
	t.Parallel()
	f := baseFilter()
	mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
	h := newHarness(t, harnessOptions{filter: f, http2: true, script: continueAll})
	req := h.newRequest(http.MethodPost, "/", "")
	req.Body = io.NopCloser(strings.NewReader("")) // a body stream that turns out empty
	res := h.do(req)
	if res.status != 200 || res.body != upstreamText {
		t.Fatalf("got %d %q", res.status, res.body)
	}
	s := h.proc.stream(t, 0)
	expectMessages(t, s, "request_headers(eos=false)", `request_body("",eos=true)`, "response_headers(eos=false)")
	hm := s.messages()[0].GetRequestHeaders().GetHeaders()
	if v, _ := headerOf(hm, ":scheme"); v != "https" {
		t.Errorf(":scheme = %q", v)
	}
	if v, _ := headerOf(hm, "x-forwarded-proto"); v != "https" {
		t.Errorf("x-forwarded-proto = %q", v)
	}
}

// Envoy streams both directions at once: here the upstream answers before
// reading the request body, and the client sends the rest of its body only
// after it has the response headers.
func TestFullDuplexRequestAndResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{
		script: continueAll,
		rawUpstream: func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			_ = rc.EnableFullDuplex()
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "started;")
			_ = rc.Flush()
			n, _ := io.Copy(io.Discard, r.Body)
			_, _ = fmt.Fprintf(w, "received=%d", n)
		},
	})
	headersSeen := make(chan struct{})
	pr, pw := io.Pipe()
	go func() {
		chunk := strings.Repeat("x", 64<<10)
		_, _ = io.WriteString(pw, chunk)
		select {
		case <-headersSeen:
		case <-time.After(waitTimeout):
		}
		_, _ = io.WriteString(pw, chunk)
		_ = pw.Close()
	}()
	req := h.newRequest(http.MethodPost, "/", "")
	req.Body = pr
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	resp, err := h.client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	close(headersSeen)
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != fmt.Sprintf("started;received=%d", 128<<10) {
		t.Fatalf("got %q, %v", body, err)
	}
}
