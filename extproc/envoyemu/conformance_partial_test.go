package envoyemu

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// bufferedPartialCases mirror Envoy's BUFFERED_PARTIAL tests: one message
// with what was queued (end_of_stream only if the body ended there), headers
// held until its reply, the rest unprocessed.
var bufferedPartialCases = []conformanceCase{
	{
		name: "GetAndSetBodyAndHeadersOnResponsePartialBuffered",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED_PARTIAL
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			m := s.expect("response_headers")
			if _, ok := headerOf(m.GetResponseHeaders().GetHeaders(), "content-length"); !ok {
				s.t.Errorf("the processor should still see the upstream's content-length")
			}
			// Skipped: BUFFERED_PARTIAL removes content-length.
			s.send(responseHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("content-length", "13")}),
			}))
			s.expect("response_body")
			s.send(responseBodyReply(&extprocv3.CommonResponse{
				BodyMutation:   replaceBody("Hello, World!"),
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-testing-response-header", "Yes")}),
			}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			// The headers were held until the body reply: its header
			// mutation applies.
			if res.body != "Hello, World!" || res.header.Get("X-Testing-Response-Header") != "Yes" ||
				res.contentLength != -1 || !slices.Equal(res.transferEncoding, []string{"chunked"}) {
				t.Errorf("downstream got %q content-length %d transfer-encoding %v headers %v",
					res.body, res.contentLength, res.transferEncoding, res.header)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_body("hello from upstream",eos=true)`)
		},
	},
	{
		name: "GetAndRespondImmediatelyOnResponseBodyBufferedPartial",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED_PARTIAL
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.expect("response_body")
			s.send(immediateResponse(typev3.StatusCode_Unauthorized, `{"reason": "Not authorized"}`, ""))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			// Headers are held in BUFFERED_PARTIAL: a real local reply, no reset.
			expectStatus(t, res, 401)
			if res.body != `{"reason": "Not authorized"}` || res.bodyErr != nil {
				t.Errorf("downstream got %q (%v)", res.body, res.bodyErr)
			}
			if r := h.result(); r.Reset || !r.LocalReply {
				t.Errorf("result %+v", r)
			}
		},
	},
	{
		// Over the buffer limit: one message with what was queued and
		// end_of_stream false; its reply may still mutate the held headers
		// and replaces those bytes; the rest goes upstream unprocessed.
		name: "PostAndProcessBufferedPartialBigRequestBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED_PARTIAL
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		bufferLimit: 1024,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			m := s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{
				BodyMutation:   replaceBody("PARTIAL;"),
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-partial", "yes")}),
			}))
			if m != nil && m.GetRequestBody().GetEndOfStream() {
				s.t.Errorf("partial body message has end_of_stream")
			}
			s.drain()
			return nil
		},
		request: postPieces(30*time.Millisecond, nil, strings.Repeat("a", 2048), strings.Repeat("b", 2048), strings.Repeat("c", 2048)),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			full := strings.Repeat("a", 2048) + strings.Repeat("b", 2048) + strings.Repeat("c", 2048)
			msgs := h.proc.stream(t, 0).messages()
			if len(msgs) != 2 {
				t.Fatalf("messages %q, want request_headers then one request_body", describeAll(msgs))
			}
			sent, eos := bodyOf(msgs[1])
			if eos || len(sent) <= 1024 || len(sent) >= len(full) || !strings.HasPrefix(full, sent) {
				t.Fatalf("partial message: %d bytes eos=%t; want a prefix over the 1024-byte limit", len(sent), eos)
			}
			up := oneUpstream(t, h)
			if up.Body != "PARTIAL;"+full[len(sent):] {
				t.Errorf("upstream body: %d bytes, want the replacement then the %d unprocessed bytes", len(up.Body), len(full)-len(sent))
			}
			if up.Header.Get("X-Partial") != "yes" || up.ContentLength != -1 {
				t.Errorf("upstream headers %v content-length %d", up.Header, up.ContentLength)
			}
		},
	},
}

// behaviourCases use the conformance harness for behaviour the spec states
// but no Envoy integration test of section 2 covers; they are not counted as
// conformance scenarios.
var behaviourCases = slices.Concat(partialBehaviourCases, trailerBehaviourCases, duplexBehaviourCases, routeBehaviourCases)

var partialBehaviourCases = []conformanceCase{
	{
		// Within the limit BUFFERED_PARTIAL behaves like BUFFERED, minus
		// content-length.
		name: "BufferedPartialWithinLimitBothDirections",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED_PARTIAL
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED_PARTIAL
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("Hello, World!")}))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.expect("response_body")
			s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("123")}))
			s.drain()
			return nil
		},
		request: post("Replace this!"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != "123" || res.contentLength != -1 {
				t.Errorf("downstream body %q content-length %d", res.body, res.contentLength)
			}
			if up := oneUpstream(t, h); up.Body != "Hello, World!" || up.ContentLength != -1 {
				t.Errorf("upstream saw %q content-length %d", up.Body, up.ContentLength)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=false)", `request_body("Replace this!",eos=true)`,
				"response_headers(eos=false)", `response_body("hello from upstream",eos=true)`)
		},
	},
}
