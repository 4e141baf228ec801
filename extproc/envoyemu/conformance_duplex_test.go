package envoyemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	durationpb "google.golang.org/protobuf/types/known/durationpb"
)

// duplexRequestMode sets the request body to FULL_DUPLEX_STREAMED (with the
// trailers SEND Envoy requires); the response keeps headers SEND, body NONE.
func duplexRequestMode(f *filterv3.ExternalProcessor) {
	mode(f).RequestBodyMode = filterv3.ProcessingMode_FULL_DUPLEX_STREAMED
	mode(f).RequestTrailerMode = filterv3.ProcessingMode_SEND
}

func duplexBothModes(f *filterv3.ExternalProcessor) {
	duplexRequestMode(f)
	mode(f).ResponseBodyMode = filterv3.ProcessingMode_FULL_DUPLEX_STREAMED
	mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
}

func newHeaderReply() *extprocv3.ProcessingResponse {
	return requestHeadersReply(&extprocv3.CommonResponse{
		HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-new-header", "new")}),
	})
}

// sendStreamed sends n streamed body replies of body, the last with eos.
func sendStreamed(s *procStream, response bool, n int, body string, eos bool) {
	for i := 0; i < n; i++ {
		last := eos && i == n-1
		if response {
			s.send(responseStreamedReply(body, last))
		} else {
			s.send(requestStreamedReply(body, last))
		}
	}
}

// bodyMessages counts the body messages of kind and joins their bytes.
func bodyMessages(msgs []*extprocv3.ProcessingRequest, kind string) (n int, body string) {
	var b strings.Builder
	for _, m := range msgs {
		if msgKind(m) == kind {
			data, _ := bodyOf(m)
			b.WriteString(data)
			n++
		}
	}
	return n, b.String()
}

var duplexPieces = []string{strings.Repeat("s", 1000), strings.Repeat("s", 1000), strings.Repeat("s", 1000), strings.Repeat("s", 1000)}

// fullDuplexCases mirror ext_proc_full_duplex_integration_test.cc.
var fullDuplexCases = []conformanceCase{
	{
		// Every chunk reaches the processor before it answered the headers;
		// it then sends twice as many body replies as it got: only those
		// bytes reach the upstream.
		name:   "ServerWaitForBodyBeforeSendsHeaderRespDuplexStreamed",
		filter: duplexRequestMode,
		script: func(s *procStream) error {
			s.expect("request_headers")
			_, n, last := recvBodyUntil(s, "request_body")
			if last == nil {
				return nil
			}
			s.send(newHeaderReply())
			sendStreamed(s, false, 2*n, "r", true)
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.drain()
			return nil
		},
		request: postPieces(10*time.Millisecond, nil, duplexPieces...),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			n, body := bodyMessages(msgs, "request_body")
			if body != strings.Join(duplexPieces, "") || n < 2 {
				t.Errorf("processor got %d body messages, %d bytes", n, len(body))
			}
			if d, eos := bodyOf(msgs[n]); !eos || (d == "" && n == 1) {
				t.Errorf("last body message %s: want end_of_stream", describe(msgs[n]))
			}
			if msgs[0].GetProtocolConfig().GetRequestBodyMode() != filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
				t.Errorf("protocol_config %v", msgs[0].GetProtocolConfig())
			}
			up := oneUpstream(t, h)
			if up.Header.Get("X-New-Header") != "new" || up.Body != strings.Repeat("r", 2*n) || up.ContentLength != -1 {
				t.Errorf("upstream saw headers %v body %q content-length %d", up.Header, up.Body, up.ContentLength)
			}
		},
	},
	{
		// The client sends trailers: the body ends with the trailers message,
		// not end_of_stream; the processor answers the headers, then sends
		// three body replies after every second chunk, then a last one and the
		// trailers reply, which ends the body.
		name:   "ServerSendBodyRespWithouRecvEntireBodyDuplexStreamed",
		filter: duplexRequestMode,
		script: func(s *procStream) error {
			m := s.expect("request_headers")
			if m.GetRequestHeaders().GetEndOfStream() {
				s.t.Errorf("request_headers has end_of_stream")
			}
			chunks, headerSent := 0, false
			for {
				m := s.recv()
				if m == nil {
					return nil
				}
				if msgKind(m) == "request_trailers" {
					if got := headerValue(m.GetRequestTrailers().GetTrailers(), "x-trailer-foo"); got != "yes" {
						s.t.Errorf("x-trailer-foo = %q", got)
					}
					break
				}
				if _, eos := bodyOf(m); eos {
					s.t.Errorf("%s: no end_of_stream when trailers follow", describe(m))
				}
				if chunks++; chunks%2 == 0 {
					if !headerSent {
						s.send(newHeaderReply())
						headerSent = true
					}
					for i := 0; i < 3; i++ {
						s.send(requestStreamedReply(string(rune('0'+i)), false))
					}
				}
			}
			if !headerSent {
				s.send(newHeaderReply())
			}
			s.send(requestStreamedReply("END", false))
			s.send(requestTrailersReply(headerMutation([]*corev3.HeaderValueOption{setHeader("x-trailer-added", "1")})))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.drain()
			return nil
		},
		request: postPieces(15*time.Millisecond, http.Header{"X-Trailer-Foo": {"yes"}}, duplexPieces...),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			n, body := bodyMessages(msgs, "request_body")
			if body != strings.Join(duplexPieces, "") {
				t.Errorf("processor got %d bytes", len(body))
			}
			want := strings.Repeat("012", n/2) + "END"
			up := oneUpstream(t, h)
			if up.Body != want || up.Header.Get("X-New-Header") != "new" {
				t.Errorf("upstream saw %q headers %v, want %q", up.Body, up.Header, want)
			}
			if up.Trailer.Get("X-Trailer-Foo") != "yes" || up.Trailer.Get("X-Trailer-Added") != "1" {
				t.Errorf("upstream trailers %v", up.Trailer)
			}
		},
	},
	{
		// The processor buffers everything including the trailers, then
		// answers with fewer body replies and the trailers reply.
		name:   "ServerWaitForBodyAndTrailerBeforeSendsHeaderRespDuplexStreamedSmallBody",
		filter: duplexRequestMode,
		script: func(s *procStream) error {
			s.expect("request_headers")
			_, n, last := recvBodyUntil(s, "request_body")
			if last == nil || msgKind(last) != "request_trailers" {
				s.t.Errorf("want the trailers message after the body, got %v", last)
				return nil
			}
			s.send(newHeaderReply())
			sendStreamed(s, false, n/2, "r", false)
			s.send(requestTrailersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.drain()
			return nil
		},
		request: postPieces(10*time.Millisecond, http.Header{"X-Trailer-Foo": {"yes"}}, duplexPieces...),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			n, _ := bodyMessages(h.proc.stream(t, 0).messages(), "request_body")
			up := oneUpstream(t, h)
			if up.Body != strings.Repeat("r", n/2) || up.Trailer.Get("X-Trailer-Foo") != "yes" {
				t.Errorf("upstream saw %q trailers %v (%d body messages)", up.Body, up.Trailer, n)
			}
		},
	},
	{
		// Both directions FULL_DUPLEX_STREAMED.
		name:   "DuplexStreamedInBothDirection",
		filter: duplexBothModes,
		script: func(s *procStream) error {
			s.expect("request_headers")
			_, n, _ := recvBodyUntil(s, "request_body")
			s.send(newHeaderReply())
			sendStreamed(s, false, 2*n, "r", true)
			s.expect("response_headers")
			_, m, _ := recvBodyUntil(s, "response_body")
			s.send(responseHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-new-header", "new")}),
			}))
			sendStreamed(s, true, 3*m, "n", true)
			s.drain()
			return nil
		},
		request: postPieces(10*time.Millisecond, nil, duplexPieces...),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			n, _ := bodyMessages(msgs, "request_body")
			m, respBody := bodyMessages(msgs, "response_body")
			if respBody != upstreamText {
				t.Errorf("processor got response body %q", respBody)
			}
			if up := oneUpstream(t, h); up.Body != strings.Repeat("r", 2*n) {
				t.Errorf("upstream body %q", up.Body)
			}
			if res.body != strings.Repeat("n", 3*m) || res.header.Get("X-New-Header") != "new" || res.contentLength != -1 {
				t.Errorf("downstream got %q headers %v content-length %d", res.body, res.header, res.contentLength)
			}
			expectCanceled(t, h.proc.stream(t, 0))
		},
	},
	{
		// A body reply before the headers reply is out of order: 500.
		name:   "ServerSendOutOfOrderResponseDuplexStreamed",
		filter: duplexBothModes,
		script: func(s *procStream) error {
			s.expect("request_headers")
			_, n, _ := recvBodyUntil(s, "request_body")
			sendStreamed(s, false, n, "r", true)
			s.drain()
			return nil
		},
		request: postPieces(5*time.Millisecond, nil, duplexPieces...),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			expectNoUpstream(t, h)
			if n := h.proxy.Stats().SpuriousMsgsReceived; n != 1 {
				t.Errorf("SpuriousMsgsReceived = %d", n)
			}
		},
	},
	{
		// mode_override from NONE: the body, complete by then, is one
		// end_of_stream message; trailers need not be SEND for an override.
		name: "ModeOverrideNoneToFullDuplex",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
			f.AllowModeOverride = true
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			r := requestHeadersReply(nil)
			r.ModeOverride = &filterv3.ProcessingMode{RequestBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED}
			s.send(r)
			s.expect("request_body")
			s.send(requestStreamedReply("bbbbb", true))
			s.drain()
			return nil
		},
		request: post(strings.Repeat("a", 10)),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=false)", `request_body("aaaaaaaaaa",eos=true)`)
			if up := oneUpstream(t, h); up.Body != "bbbbb" {
				t.Errorf("upstream body %q", up.Body)
			}
		},
	},
	{
		name: "NoneToFullDuplexMoreDataAfterModeOverride",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
			f.AllowModeOverride = true
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			r := requestHeadersReply(nil)
			r.ModeOverride = &filterv3.ProcessingMode{RequestBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED}
			s.send(r)
			m := s.expect("request_body")
			if data, eos := bodyOf(m); data != strings.Repeat("a", 10) || eos {
				s.t.Errorf("first body message %s", describe(m))
			}
			s.send(requestStreamedReply("bbbbb", false))
			rest, _, _ := recvBodyUntil(s, "request_body")
			if rest != strings.Repeat("c", 20) {
				s.t.Errorf("rest of the body %q", rest)
			}
			s.send(requestStreamedReply("0123456789", true))
			s.drain()
			return nil
		},
		request: postPieces(150*time.Millisecond, nil, strings.Repeat("a", 10), strings.Repeat("c", 20)),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if up := oneUpstream(t, h); up.Body != "bbbbb0123456789" {
				t.Errorf("upstream body %q", up.Body)
			}
		},
	},
}

// duplexBehaviourCases: FULL_DUPLEX_STREAMED rules of the spec that no
// integration test of section 2 isolates.
var duplexBehaviourCases = []conformanceCase{
	{
		name: "FullDuplexPlainBodyMutationIsSpurious",
		filter: func(f *filterv3.ExternalProcessor) {
			duplexRequestMode(f)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			recvBodyUntil(s, "request_body")
			s.send(newHeaderReply())
			s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("plain")}))
			s.drain()
			return nil
		},
		request: post("body"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			expectNoUpstream(t, h)
			if n := h.proxy.Stats().SpuriousMsgsReceived; n != 1 {
				t.Errorf("SpuriousMsgsReceived = %d", n)
			}
		},
	},
	{
		// No message timer: a processor slower than message_timeout is fine.
		name: "FullDuplexHasNoMessageTimer",
		filter: func(f *filterv3.ExternalProcessor) {
			duplexRequestMode(f)
			f.MessageTimeout = durationpb.New(50 * time.Millisecond)
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			recvBodyUntil(s, "request_body")
			time.Sleep(200 * time.Millisecond)
			s.send(newHeaderReply())
			time.Sleep(200 * time.Millisecond)
			s.send(requestStreamedReply("late", true))
			s.drain()
			return nil
		},
		request: post("body"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if up := oneUpstream(t, h); up.Body != "late" {
				t.Errorf("upstream body %q", up.Body)
			}
			if n := h.proxy.Stats().MessageTimeouts; n != 0 {
				t.Errorf("MessageTimeouts = %d", n)
			}
		},
	},
	{
		// failure_mode_allow is forced off once a chunk was sent: the
		// processor drained it, so a failure cannot continue unprocessed.
		name: "FullDuplexForcesFailClosedAfterChunk",
		filter: func(f *filterv3.ExternalProcessor) {
			duplexRequestMode(f)
			f.FailureModeAllow = true
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			recvBodyUntil(s, "request_body")
			return status.Error(codes.Internal, "boom")
		},
		request: post("body"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			expectNoUpstream(t, h)
		},
	},
}
