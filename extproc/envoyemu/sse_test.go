package envoyemu

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	durationpb "google.golang.org/protobuf/types/known/durationpb"
)

var sseEvents = []string{"id: 1\ndata: first\n\n", "id: 2\ndata: second\n\n", "id: 3\ndata: third\n\n"}

// sseUpstream writes sseEvents with a flush after each; after the first it
// blocks until release is closed, so the test can prove the first event went
// downstream while the upstream was still busy.
func sseUpstream(release <-chan struct{}, finished *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		defer finished.Store(true)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i, ev := range sseEvents {
			_, _ = io.WriteString(w, ev)
			_ = rc.Flush()
			if i == 0 {
				select {
				case <-release:
				case <-time.After(waitTimeout):
				}
			} else {
				time.Sleep(30 * time.Millisecond)
			}
		}
	}
}

// readEvent reads one SSE event, up to and including its blank line.
func readEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var ev strings.Builder
	for {
		line, err := br.ReadString('\n')
		ev.WriteString(line)
		if err != nil {
			t.Fatalf("reading event %q: %v", ev.String(), err)
		}
		if line == "\n" {
			return ev.String()
		}
	}
}

// openStream sends a GET and returns the response with its body unread.
func (h *harness) openStream(t *testing.T) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	resp, err := h.client.Do(h.newRequest(http.MethodGet, "/sse", "").WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestSSEStreamsThroughStreamedResponse(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var finished atomic.Bool
	var mu sync.Mutex
	var chunks []string // non-final chunks as the processor saw them

	f := baseFilter()
	mode(f).ResponseBodyMode = filterv3.ProcessingMode_STREAMED
	h := newHarness(t, harnessOptions{
		filter:   f,
		upstream: sseUpstream(release, &finished),
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			for n := 1; ; n++ {
				m := s.expect("response_body")
				if m == nil {
					return nil
				}
				b := m.GetResponseBody()
				if b.GetEndOfStream() {
					// The end-of-stream chunk is the last chance to emit bytes.
					s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody(": end\n\n")}))
					s.drain()
					return nil
				}
				mu.Lock()
				chunks = append(chunks, string(b.GetBody()))
				mu.Unlock()
				tagged := strings.ReplaceAll(string(b.GetBody()), "data: ", fmt.Sprintf("data: [%d] ", n))
				s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody(tagged)}))
			}
		},
	})

	resp := h.openStream(t)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.ContentLength != -1 {
		t.Fatalf("response %d %v content-length %d", resp.StatusCode, resp.Header, resp.ContentLength)
	}
	br := bufio.NewReader(resp.Body)
	first := readEvent(t, br)
	if finished.Load() {
		t.Fatal("the upstream finished before the first event arrived: the body was not streamed")
	}
	if first != "id: 1\ndata: [1] first\n\n" {
		t.Fatalf("first event %q: the processor's mutation was not applied", first)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if strings.Join(chunks, "") != strings.Join(sseEvents, "") || len(chunks) < 2 {
		t.Fatalf("processor saw chunks %q", chunks)
	}
	var want strings.Builder
	for i, c := range chunks {
		want.WriteString(strings.ReplaceAll(c, "data: ", fmt.Sprintf("data: [%d] ", i+1)))
	}
	want.WriteString(": end\n\n")
	if got := first + string(rest); got != want.String() {
		t.Errorf("downstream got\n%q\nwant (mutations applied in order)\n%q", got, want.String())
	}
}

// With a NONE response body the processor is done after the response headers:
// the stream is closed then (not when the event stream ends) and the events
// pass through unbuffered.
func TestSSEPassesThroughWithoutBodyProcessing(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var finished atomic.Bool
	h := newHarness(t, harnessOptions{upstream: sseUpstream(release, &finished), script: continueAll})

	resp := h.openStream(t)
	br := bufio.NewReader(resp.Body)
	if first := readEvent(t, br); first != sseEvents[0] {
		t.Fatalf("first event %q", first)
	}
	s := h.proc.stream(t, 0) // ends only once the proxy closed the stream
	expectCanceled(t, s)
	if finished.Load() {
		t.Fatal("the upstream finished before the first event arrived")
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if got := sseEvents[0] + string(rest); got != strings.Join(sseEvents, "") {
		t.Errorf("downstream got %q", got)
	}
	expectMessages(t, s, "request_headers(eos=true)", "response_headers(eos=false)")
}

// Envoy sends each STREAMED chunk as it arrives, without waiting for the
// previous chunk's reply, so a processor may hold a reply until it has seen
// the rest of an event. A lock-step client would deadlock here.
func TestStreamedChunksArePipelined(t *testing.T) {
	t.Parallel()
	gotFirst := make(chan struct{})
	f := baseFilter()
	f.MessageTimeout = durationpb.New(2 * time.Second)
	mode(f).ResponseBodyMode = filterv3.ProcessingMode_STREAMED
	h := newHarness(t, harnessOptions{
		filter: f,
		upstream: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			rc := http.NewResponseController(w)
			_, _ = io.WriteString(w, "data: a")
			_ = rc.Flush()
			select {
			case <-gotFirst:
			case <-time.After(waitTimeout):
			}
			_, _ = io.WriteString(w, "bc\n\n")
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			first := s.expect("response_body")
			close(gotFirst)
			second := s.expect("response_body") // before answering the first
			held := string(first.GetResponseBody().GetBody())
			s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{
				Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}}))
			s.send(responseBodyReply(&extprocv3.CommonResponse{
				BodyMutation: replaceBody(strings.ToUpper(held + string(second.GetResponseBody().GetBody())))}))
			return continueAll(s)
		},
	})
	res := h.do(h.newRequest(http.MethodGet, "/", ""))
	if res.status != 200 || res.body != "DATA: ABC\n\n" {
		t.Fatalf("downstream got %d %q", res.status, res.body)
	}
	expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
		`response_body("data: a",eos=false)`, `response_body("bc\n\n",eos=false)`, `response_body("",eos=true)`)
}
