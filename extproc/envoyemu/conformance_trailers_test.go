package envoyemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	wrapperspb "google.golang.org/protobuf/types/known/wrapperspb"
)

// trailerCases mirror Envoy's trailer tests: trailers SEND/SKIP, trailer
// mutations, and where the trailers message sits relative to body messages.
var trailerCases = []conformanceCase{
	{
		// BUFFERED with trailers: the body goes with end_of_stream false when
		// the trailers arrive; trailer mode SKIP sends no trailers message
		// and the trailers reach the upstream unprocessed.
		name: "SkipHeaderTrailerSendBodyClientSendAll",
		filter: func(f *filterv3.ExternalProcessor) {
			m := mode(f)
			m.RequestHeaderMode = filterv3.ProcessingMode_SKIP
			m.RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script:  continueAll,
		request: postPieces(0, http.Header{"X-Trailer-Foo": {"yes"}}, "Hello"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), `request_body("Hello",eos=false)`)
			up := oneUpstream(t, h)
			if up.Body != "Hello" || up.Trailer.Get("X-Trailer-Foo") != "yes" {
				t.Errorf("upstream saw body %q trailers %v", up.Body, up.Trailer)
			}
		},
	},
	{
		// Response trailers SEND: the trailers message follows the body and
		// its header_mutation is applied to the downstream trailers.
		name: "GetAndSetHeadersAndTrailersOnResponse",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
		},
		upstream: upstreamWithTrailers,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			m := s.expect("response_trailers")
			if got := headerValue(m.GetResponseTrailers().GetTrailers(), "x-test-trailers"); got != "Yes" {
				s.t.Errorf("x-test-trailers = %q", got)
			}
			s.send(responseTrailersReply(headerMutation([]*corev3.HeaderValueOption{setHeader("x-modified-trailers", "xxx")})))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != upstreamText || res.trailer.Get("X-Test-Trailers") != "Yes" ||
				res.trailer.Get("X-Modified-Trailers") != "xxx" || res.trailer.Get("X-Other-Trailer") != "2" {
				t.Errorf("downstream got %q trailers %v", res.body, res.trailer)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_trailers[["x-other-trailer" "2"] ["x-test-trailers" "Yes"]]`)
			expectCanceled(t, h.proc.stream(t, 0))
		},
	},
	{
		// Only the trailers message is sent.
		name: "GetAndSetOnlyTrailersOnResponse",
		filter: func(f *filterv3.ExternalProcessor) {
			m := mode(f)
			m.RequestHeaderMode = filterv3.ProcessingMode_SKIP
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
			m.ResponseTrailerMode = filterv3.ProcessingMode_SEND
		},
		upstream: upstreamWithTrailers,
		script: func(s *procStream) error {
			s.expect("response_trailers")
			s.send(responseTrailersReply(headerMutation([]*corev3.HeaderValueOption{setHeader("x-modified-trailers", "xxx")})))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.trailer.Get("X-Test-Trailers") != "Yes" || res.trailer.Get("X-Modified-Trailers") != "xxx" {
				t.Errorf("downstream trailers %v", res.trailer)
			}
			expectMessages(t, h.proc.stream(t, 0), `response_trailers[["x-other-trailer" "2"] ["x-test-trailers" "Yes"]]`)
		},
	},
	{
		// BUFFERED with trailers: the body message has end_of_stream false,
		// the trailers message follows its reply.
		name: "GetAndSetBodyAndHeadersAndTrailersOnResponse",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
			mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
		},
		upstream: upstreamWithTrailers,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.expect("response_body")
			s.send(responseBodyReply(nil))
			s.expect("response_trailers")
			s.send(responseTrailersReply(headerMutation([]*corev3.HeaderValueOption{setHeader("x-modified-trailers", "xxx")})))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != upstreamText || res.trailer.Get("X-Test-Trailers") != "Yes" || res.trailer.Get("X-Modified-Trailers") != "xxx" {
				t.Errorf("downstream got %q trailers %v", res.body, res.trailer)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_body("hello from upstream",eos=false)`, `response_trailers[["x-other-trailer" "2"] ["x-test-trailers" "Yes"]]`)
		},
	},
	{
		name: "NoTrailersOnResponseWithModeSendHeaderTrailer",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
		},
		script: continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)")
		},
	},
	{
		// A refused trailer mutation with disallow_is_error: response headers
		// are already out, so the stream is reset.
		name: "GetAndSetTrailersIncorrectlyOnResponse",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
			f.MutationRules = &mutationrulesv3.HeaderMutationRules{
				DisallowAll: wrapperspb.Bool(true), DisallowIsError: wrapperspb.Bool(true),
			}
		},
		upstream: upstreamWithTrailers,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.expect("response_trailers")
			s.send(responseTrailersReply(headerMutation([]*corev3.HeaderValueOption{setHeader("x-modified-trailers", "xxx")})))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.bodyErr == nil {
				t.Errorf("body %q read without error; want a reset stream", res.body)
			}
			if r := h.result(); !r.Reset {
				t.Errorf("result %+v, want Reset", r)
			}
		},
	},
	{
		// A trailer mutation whose result exceeds the connection manager's
		// header size limit: an error after response headers went out.
		name: "HeaderMutationResultSizeFailWithResponseTrailer",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
		},
		upstream: upstreamWithTrailers,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.expect("response_trailers")
			s.send(responseTrailersReply(headerMutation([]*corev3.HeaderValueOption{
				setHeader("x-big-trailer", strings.Repeat("a", maxHeadersBytes)),
			})))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			if res.bodyErr == nil {
				t.Errorf("body %q read without error; want a reset stream", res.body)
			}
			if r := h.result(); !r.Reset {
				t.Errorf("result %+v, want Reset", r)
			}
			if n := h.proxy.Stats().RejectedHeaderMutations; n != 1 {
				t.Errorf("RejectedHeaderMutations = %d", n)
			}
		},
	},
	{
		// forward_rules filter the trailers message like the headers.
		name: "GetAndSetHeadersAndTrailersWithAllowedHeader",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
			f.ForwardRules = &filterv3.HeaderForwardingRules{AllowedHeaders: exactList("x-test-trailers", ":path")}
		},
		upstream: upstreamWithTrailers,
		script:   continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_trailers[["x-test-trailers" "Yes"]]`)
			if res.trailer.Get("X-Other-Trailer") != "2" {
				t.Errorf("downstream trailers %v: forward_rules only filter what the processor sees", res.trailer)
			}
		},
	},
	{
		name: "GetAndSetHeadersAndTrailersWithDisallowedHeader",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseTrailerMode = filterv3.ProcessingMode_SEND
			f.ForwardRules = &filterv3.HeaderForwardingRules{DisallowedHeaders: exactList("x-test-trailers")}
		},
		upstream: upstreamWithTrailers,
		script:   continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_trailers[["x-other-trailer" "2"]]`)
			if res.trailer.Get("X-Test-Trailers") != "Yes" {
				t.Errorf("downstream trailers %v", res.trailer)
			}
		},
	},
}

func exactList(names ...string) *matcherv3.ListStringMatcher {
	l := &matcherv3.ListStringMatcher{}
	for _, n := range names {
		l.Patterns = append(l.Patterns, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}})
	}
	return l
}

// trailerBehaviourCases: trailers relative to STREAMED chunks, and request
// trailer mutations reaching the upstream.
var trailerBehaviourCases = []conformanceCase{
	{
		// STREAMED with trailers: no end_of_stream chunk; the trailers
		// message comes after every chunk was answered; its mutation reaches
		// the upstream's trailers.
		name: "StreamedRequestTrailersAfterChunks",
		filter: func(f *filterv3.ExternalProcessor) {
			m := mode(f)
			m.RequestBodyMode = filterv3.ProcessingMode_STREAMED
			m.RequestTrailerMode = filterv3.ProcessingMode_SEND
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			for {
				m := s.recv()
				if m == nil {
					return nil
				}
				switch msgKind(m) {
				case "request_body":
					data, _ := bodyOf(m)
					s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody(strings.ToUpper(data))}))
				case "request_trailers":
					s.send(requestTrailersReply(headerMutation(
						[]*corev3.HeaderValueOption{setHeader("x-added-trailer", "1")}, "x-trailer-foo")))
					s.drain()
					return nil
				}
			}
		},
		request: postPieces(20*time.Millisecond, http.Header{"X-Trailer-Foo": {"yes"}, "X-Keep": {"k"}}, "abc;", "def;"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			last := msgs[len(msgs)-1]
			if msgKind(last) != "request_trailers" {
				t.Fatalf("messages %q: want the trailers message last", describeAll(msgs))
			}
			var body strings.Builder
			for _, m := range msgs[1 : len(msgs)-1] {
				data, eos := bodyOf(m)
				if eos || msgKind(m) != "request_body" {
					t.Errorf("%s: no end_of_stream when trailers follow", describe(m))
				}
				body.WriteString(data)
			}
			if body.String() != "abc;def;" {
				t.Errorf("processor saw %q", body.String())
			}
			up := oneUpstream(t, h)
			if up.Body != "ABC;DEF;" || up.Trailer.Get("X-Added-Trailer") != "1" ||
				up.Trailer.Get("X-Trailer-Foo") != "" || up.Trailer.Get("X-Keep") != "k" {
				t.Errorf("upstream saw %q trailers %v", up.Body, up.Trailer)
			}
		},
	},
}
