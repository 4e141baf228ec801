package devproxy

import (
	"context"
	"fmt"
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

	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/server"
)

// The SSE tests run a raw event-stream upstream through the Envoy emulation
// (envoy/envoy.yaml) and the real filter, once per -sse-mode. The upstream
// flushes the stream in pieces cut at arbitrary bytes, so events reach the
// filter split across body chunks; a recorder on the ext_proc stream checks
// that they did and that the replies had the mode's shape.

// awsKeyID is a well-formed AWS access key id the data policy redacts.
const awsKeyID = "AKIAQYLPMN5HFIQR7BWX"

// sseScript is what the upstream sends: the stream, the sizes of the pieces
// it is flushed in (cycled), and trailers to send after it.
type sseScript struct {
	stream   string
	pieces   []int
	trailers map[string]string
}

func (sc sseScript) handler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k := range sc.trailers {
			w.Header().Add("Trailer", k)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		rest := sc.stream
		for i := 0; len(rest) > 0; i++ {
			n := min(sc.pieces[i%len(sc.pieces)], len(rest))
			_, _ = io.WriteString(w, rest[:n])
			_ = rc.Flush()
			rest = rest[n:]
			// A pause lets the proxy read each piece on its own.
			time.Sleep(time.Millisecond)
		}
		for k, v := range sc.trailers {
			w.Header().Set(k, v)
		}
	}
}

// wireRecorder records, per ext_proc stream direction, what the filter
// received and sent for response bodies.
type wireRecorder struct {
	mu sync.Mutex
	// chunks are the response body messages' payloads.
	chunks []string
	// plain and streamed count body replies by mutation kind;
	// streamedEOS those streamed replies that ended the body.
	plain, streamed, streamedEOS, trailerReplies int
}

func (r *wireRecorder) interceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, recordingStream{ss, r})
}

type recordingStream struct {
	grpc.ServerStream
	r *wireRecorder
}

func (s recordingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if req, ok := m.(*extprocv3.ProcessingRequest); ok && err == nil {
		if b := req.GetResponseBody(); b != nil {
			s.r.mu.Lock()
			s.r.chunks = append(s.r.chunks, string(b.GetBody()))
			s.r.mu.Unlock()
		}
	}
	return err
}

func (s recordingStream) SendMsg(m any) error {
	if resp, ok := m.(*extprocv3.ProcessingResponse); ok {
		s.r.mu.Lock()
		if br := resp.GetResponseBody(); br != nil {
			if sr := br.GetResponse().GetBodyMutation().GetStreamedResponse(); sr != nil {
				s.r.streamed++
				if sr.GetEndOfStream() {
					s.r.streamedEOS++
				}
			} else {
				s.r.plain++
			}
		}
		if resp.GetResponseTrailers() != nil {
			s.r.trailerReplies++
		}
		s.r.mu.Unlock()
	}
	return s.ServerStream.SendMsg(m)
}

// midEventChunks counts body chunks that ended inside an event.
func (r *wireRecorder) midEventChunks() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.chunks {
		if c != "" && !strings.HasSuffix(c, "\n\n") {
			n++
		}
	}
	return n
}

type sseStack struct {
	gateway string
	rec     *wireRecorder
}

func newSSEStack(t *testing.T, mode server.SSEMode, upstream http.Handler) *sseStack {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	pol, err := policy.Parse([]byte(fmt.Sprintf(`
environment: test
upstreams:
  - name: helpdesk
    credential: {value: "Bearer %s"}
personas:
  - name: support-agent
    upstream: helpdesk
    tools: [get_ticket, add_comment]
    data_policy: strict
agents:
  - {id: support-bot, subject: alice, persona: support-agent, key_sha256: %s}
data_protection:
  policies:
    - name: strict
      default: allow
      categories: {secret: redact}
`, backendSecret, policy.HashKey(agentKey))))
	if err != nil {
		t.Fatal(err)
	}
	rec := &wireRecorder{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.StreamInterceptor(rec.interceptor))
	extprocv3.RegisterExternalProcessorServer(gs, server.New(filter.NewEngine(pol, filter.Options{}), &decisionLog{}, server.Options{SSEMode: mode}))
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	gw := startLocalGateway(t, lis.Addr().String(), up.URL)
	return &sseStack{gateway: gw.URL + "/p/support-agent/mcp", rec: rec}
}

// call POSTs a JSON-RPC request and returns the whole response body and the
// response (trailers read).
func (s *sseStack) call(t *testing.T, body string) (string, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.gateway, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+agentKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the stream: %v (got %q)", err, out)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %v: %s", resp.StatusCode, resp.Header, out)
	}
	return string(out), resp
}

// checkWire asserts that events were split across chunks and that the
// filter answered in the mode's shape.
func (s *sseStack) checkWire(t *testing.T, mode server.SSEMode) {
	t.Helper()
	if n := s.rec.midEventChunks(); n == 0 {
		t.Errorf("no body chunk ended inside an event (chunks %q): reassembly not exercised", s.rec.chunks)
	}
	r := s.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	switch mode {
	case server.SSEFullDuplex:
		if r.plain != 0 || r.streamed == 0 {
			t.Errorf("full duplex: %d plain body replies, %d streamed_response", r.plain, r.streamed)
		}
	default:
		if r.streamed != 0 || r.plain != len(r.chunks) {
			t.Errorf("streamed: %d plain body replies for %d chunks, %d streamed_response", r.plain, len(r.chunks), r.streamed)
		}
	}
}

func sseEvent(lines ...string) string { return strings.Join(lines, "\n") + "\n\n" }

func progress(i int) string {
	return sseEvent("event: message", fmt.Sprintf(`data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t-%d","progress":%d,"total":20,"message":"step %d of 20"}}`, i, i, i))
}

const callGetTicket = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"T-100"}}}`

var sseModes = []server.SSEMode{server.SSEStreamed, server.SSEFullDuplex}

func TestSSEEventsSplitAcrossChunks(t *testing.T) {
	var b strings.Builder
	b.WriteString(": priming\n\nid: 0\nretry: 1000\n\n")
	for i := 1; i <= 12; i++ {
		b.WriteString(progress(i))
	}
	// CRLF line ends and a data value spread over two lines.
	b.WriteString("id: 13\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\r\ndata: \"result\":{\"content\":[{\"type\":\"text\",\"text\":\"T-100: cannot log in\"}],\"isError\":false}}\r\n\r\n")
	stream := b.String()
	for _, mode := range sseModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			st := newSSEStack(t, mode, sseScript{stream: stream, pieces: []int{7, 1, 61, 13, 2, 97, 5}}.handler())
			out, _ := st.call(t, callGetTicket)
			if out != stream {
				t.Fatalf("stream changed:\n got %q\nwant %q", out, stream)
			}
			st.checkWire(t, mode)
		})
	}
}

func TestSSEToolsListNarrowed(t *testing.T) {
	var tools []string
	for _, name := range []string{"get_ticket", "send_email", "add_comment", "delete_ticket"} {
		tools = append(tools, fmt.Sprintf(`{"name":%q,"description":"%s: a tool with a long enough description to span several chunks","inputSchema":{"type":"object","properties":{"id":{"type":"string"}}}}`, name, name))
	}
	stream := progress(1) + sseEvent(`data: {"jsonrpc":"2.0","id":3,"result":{"tools":[`+strings.Join(tools, ",")+`]}}`)
	for _, mode := range sseModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			st := newSSEStack(t, mode, sseScript{stream: stream, pieces: []int{31, 3, 17}}.handler())
			out, _ := st.call(t, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
			if !strings.HasPrefix(out, progress(1)) {
				t.Fatalf("notification changed: %q", out)
			}
			for _, name := range []string{`"get_ticket"`, `"add_comment"`} {
				if !strings.Contains(out, name) {
					t.Errorf("granted tool %s missing: %q", name, out)
				}
			}
			for _, name := range []string{"send_email", "delete_ticket"} {
				if strings.Contains(out, name) {
					t.Errorf("tool %s not narrowed away: %q", name, out)
				}
			}
			if !strings.HasSuffix(out, "\n\n") {
				t.Errorf("result event not terminated: %q", out)
			}
			st.checkWire(t, mode)
		})
	}
}

func TestSSESecretRedacted(t *testing.T) {
	secretEvent := sseEvent(`data: {"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"deploy key ` + awsKeyID + ` for T-100"}]}}`)
	stream := progress(1) + secretEvent + progress(2)
	// Cut the stream in the middle of the key.
	cut := len(progress(1)) + strings.Index(secretEvent, awsKeyID) + 9
	for _, mode := range sseModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			st := newSSEStack(t, mode, sseScript{stream: stream, pieces: []int{cut, 11}}.handler())
			out, _ := st.call(t, callGetTicket)
			if strings.Contains(out, awsKeyID[4:]) {
				t.Fatalf("secret leaked: %q", out)
			}
			if !strings.Contains(out, "[REDACTED:aws-access-key-id]") || !strings.Contains(out, "for T-100") {
				t.Fatalf("no redaction in %q", out)
			}
			if !strings.HasPrefix(out, progress(1)) || !strings.HasSuffix(out, progress(2)) {
				t.Fatalf("surrounding events changed: %q", out)
			}
			st.checkWire(t, mode)
		})
	}
}

// tailEvent is an event the stream ends with, its blank line missing: the
// filter holds it back until the body ends.
var tailEvent = `data: {"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"key ` + awsKeyID + `"}]}}`

func TestSSEStreamEndsWithIncompleteEvent(t *testing.T) {
	stream := progress(1) + progress(2) + tailEvent
	for _, mode := range sseModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			st := newSSEStack(t, mode, sseScript{stream: stream, pieces: []int{50, 9}}.handler())
			out, _ := st.call(t, callGetTicket)
			head, tail, ok := strings.Cut(out, progress(2))
			if !ok || head != progress(1) {
				t.Fatalf("complete events changed: %q", out)
			}
			// The held-back event goes out at the end of the body, inspected.
			if strings.Contains(tail, awsKeyID[4:]) || !strings.Contains(tail, `"text":"key [REDACTED:aws-access-key-id]"`) {
				t.Fatalf("tail %q", tail)
			}
			st.checkWire(t, mode)
			if mode == server.SSEFullDuplex {
				st.rec.mu.Lock()
				defer st.rec.mu.Unlock()
				if st.rec.streamedEOS != 1 {
					t.Fatalf("%d streamed_response with end_of_stream, want 1", st.rec.streamedEOS)
				}
			}
		})
	}
}

func TestSSEResponseWithTrailers(t *testing.T) {
	stream := progress(1) + progress(2) + tailEvent
	script := sseScript{stream: stream, pieces: []int{40, 3, 77}, trailers: map[string]string{"X-Stream-Checksum": "abc123"}}
	for _, mode := range sseModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			st := newSSEStack(t, mode, script.handler())
			out, resp := st.call(t, callGetTicket)
			if got := resp.Trailer.Get("X-Stream-Checksum"); got != "abc123" {
				t.Errorf("trailer %q, want abc123 (trailers %v)", got, resp.Trailer)
			}
			head, tail, ok := strings.Cut(out, progress(2))
			if !ok || head != progress(1) {
				t.Fatalf("complete events changed: %q", out)
			}
			if strings.Contains(tail, awsKeyID[4:]) {
				t.Fatalf("secret leaked: %q", tail)
			}
			st.checkWire(t, mode)
			st.rec.mu.Lock()
			defer st.rec.mu.Unlock()
			switch mode {
			case server.SSEFullDuplex:
				// The trailers end the body: the filter releases the
				// held-back event before answering them.
				if !strings.Contains(tail, `"text":"key [REDACTED:aws-access-key-id]"`) {
					t.Fatalf("held-back event not released at the trailers: tail %q", tail)
				}
				if st.rec.trailerReplies != 1 || st.rec.streamedEOS != 0 {
					t.Fatalf("%d trailers replies, %d streamed_response with end_of_stream; want 1 and 0", st.rec.trailerReplies, st.rec.streamedEOS)
				}
			default:
				// STREAMED with trailer mode SKIP: Envoy never says the body
				// ended, so the held-back event cannot be released (it is
				// dropped, never passed uninspected).
				if tail != "" {
					t.Fatalf("tail %q, want none", tail)
				}
			}
		})
	}
}
