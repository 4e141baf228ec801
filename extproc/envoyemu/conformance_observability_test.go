package envoyemu

import (
	"net/http"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	durationpb "google.golang.org/protobuf/types/known/durationpb"
)

// observe turns observability mode on with a short deferred close.
func observe(f *filterv3.ExternalProcessor) {
	f.ObservabilityMode = true
	f.DeferredCloseTimeout = durationpb.New(100 * time.Millisecond)
}

// expectObserved checks that every message is flagged and none carries
// protocol_config.
func expectObserved(t *testing.T, s *procStream) {
	t.Helper()
	for _, m := range s.messages() {
		if !m.GetObservabilityMode() || m.GetProtocolConfig() != nil {
			t.Errorf("%s: observability_mode %t protocol_config %v", describe(m), m.GetObservabilityMode(), m.GetProtocolConfig())
		}
	}
}

// observabilityCases mirror ext_proc_observability_integration_test.cc:
// nothing is waited on and every reply is ignored.
var observabilityCases = []conformanceCase{
	{
		name:   "ObservabilityModeWithHeader",
		filter: observe,
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-response-processed", "1")}),
			}))
			s.expect("response_headers")
			s.send(responseHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-response-processed", "1")}),
			}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.header.Get("X-Response-Processed") != "" || res.body != upstreamText {
				t.Errorf("downstream got %v %q", res.header, res.body)
			}
			if up := oneUpstream(t, h); up.Header.Get("X-Response-Processed") != "" {
				t.Errorf("upstream headers %v", up.Header)
			}
			s := h.proc.stream(t, 0)
			expectMessages(t, s, "request_headers(eos=true)", "response_headers(eos=false)")
			expectObserved(t, s)
			expectCanceled(t, s)
			if st := h.proxy.Stats(); st.StreamMsgsReceived != 0 || st.SpuriousMsgsReceived != 0 {
				t.Errorf("stats %+v: replies must be ignored", st)
			}
		},
	},
	{
		name: "ObservabilityModeWithBody",
		filter: func(f *filterv3.ExternalProcessor) {
			observe(f)
			m := mode(f)
			m.RequestHeaderMode = filterv3.ProcessingMode_SKIP
			m.RequestBodyMode = filterv3.ProcessingMode_STREAMED
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
			m.ResponseBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: func(s *procStream) error {
			s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("Hello, World!")}))
			s.drain()
			return nil
		},
		request: post("Hello"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if up := oneUpstream(t, h); up.Body != "Hello" {
				t.Errorf("upstream body %q: the body mutation must be ignored", up.Body)
			}
			if res.body != upstreamText {
				t.Errorf("downstream body %q", res.body)
			}
			s := h.proc.stream(t, 0)
			expectMessages(t, s, `request_body("Hello",eos=true)`, `response_body("hello from upstream",eos=true)`)
			expectObserved(t, s)
		},
	},
	{
		// Only STREAMED bodies are observed: BUFFERED sends nothing.
		name: "ObservabilityModeWithWrongBodyMode",
		filter: func(f *filterv3.ExternalProcessor) {
			observe(f)
			m := mode(f)
			m.RequestHeaderMode = filterv3.ProcessingMode_SKIP
			m.RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script:  continueAll,
		request: post("Hello"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if up := oneUpstream(t, h); up.Body != "Hello" {
				t.Errorf("upstream body %q", up.Body)
			}
			h.result()
			if n := h.proc.streamCount(); n != 0 {
				t.Errorf("%d streams opened, want none", n)
			}
		},
	},
	{
		name: "ObservabilityModeWithTrailer",
		filter: func(f *filterv3.ExternalProcessor) {
			observe(f)
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
			if res.trailer.Get("X-Modified-Trailers") != "" || res.trailer.Get("X-Test-Trailers") != "Yes" {
				t.Errorf("downstream trailers %v", res.trailer)
			}
			s := h.proc.stream(t, 0)
			expectMessages(t, s, `response_trailers[["x-other-trailer" "2"] ["x-test-trailers" "Yes"]]`)
			expectObserved(t, s)
		},
	},
	{
		name: "ObservabilityModeWithFullRequest",
		filter: func(f *filterv3.ExternalProcessor) {
			observe(f)
			m := mode(f)
			m.RequestBodyMode = filterv3.ProcessingMode_STREAMED
			m.RequestTrailerMode = filterv3.ProcessingMode_SEND
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script:  continueAll,
		request: postPieces(0, http.Header{"X-Trailer-Foo": {"yes"}}, "Hello"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			up := oneUpstream(t, h)
			if up.Body != "Hello" || up.Trailer.Get("X-Trailer-Foo") != "yes" {
				t.Errorf("upstream saw %q trailers %v", up.Body, up.Trailer)
			}
			s := h.proc.stream(t, 0)
			expectMessages(t, s, "request_headers(eos=false)", `request_body("Hello",eos=false)`,
				`request_trailers[["x-trailer-foo" "yes"]]`)
			expectObserved(t, s)
		},
	},
	{
		name: "ObservabilityModeWithFullResponse",
		filter: func(f *filterv3.ExternalProcessor) {
			observe(f)
			m := mode(f)
			m.RequestHeaderMode = filterv3.ProcessingMode_SKIP
			m.ResponseBodyMode = filterv3.ProcessingMode_STREAMED
			m.ResponseTrailerMode = filterv3.ProcessingMode_SEND
		},
		upstream: upstreamWithTrailers,
		script:   continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != upstreamText || res.trailer.Get("X-Test-Trailers") != "Yes" {
				t.Errorf("downstream got %q trailers %v", res.body, res.trailer)
			}
			s := h.proc.stream(t, 0)
			msgs := s.messages()
			if len(msgs) < 3 || msgKind(msgs[0]) != "response_headers" || msgKind(msgs[len(msgs)-1]) != "response_trailers" {
				t.Fatalf("messages %q", describeAll(msgs))
			}
			if n, body := bodyMessages(msgs, "response_body"); body != upstreamText || n == 0 {
				t.Errorf("observed body %q", body)
			}
			expectObserved(t, s)
		},
	},
	{
		// A processor slower than message_timeout changes nothing: no timer.
		name: "ObservabilityModeWithFullRequestAndTimeout",
		filter: func(f *filterv3.ExternalProcessor) {
			observe(f)
			f.DeferredCloseTimeout = durationpb.New(time.Second)
			f.MessageTimeout = durationpb.New(50 * time.Millisecond)
			m := mode(f)
			m.RequestBodyMode = filterv3.ProcessingMode_STREAMED
			m.RequestTrailerMode = filterv3.ProcessingMode_SEND
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script: func(s *procStream) error {
			for _, kind := range []string{"request_headers", "request_body", "request_trailers"} {
				s.expect(kind)
				time.Sleep(100 * time.Millisecond)
			}
			s.drain()
			return nil
		},
		request: postPieces(0, http.Header{"X-Trailer-Foo": {"yes"}}, "Hello"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if n := h.proxy.Stats().MessageTimeouts; n != 0 {
				t.Errorf("MessageTimeouts = %d", n)
			}
			h.proc.stream(t, 0)
		},
	},
	{
		name: "SendAndReceiveDynamicMetadataObservabilityMode",
		filter: func(f *filterv3.ExternalProcessor) {
			observe(f)
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
			f.MetadataOptions = &filterv3.MetadataOptions{
				ReceivingNamespaces: &filterv3.MetadataOptions_MetadataNamespaces{Untyped: []string{"receiving_ns_untyped"}},
			}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			r := requestHeadersReply(nil)
			r.DynamicMetadata = mustStruct(map[string]any{"receiving_ns_untyped": map[string]any{"foo": "bar"}})
			s.send(r)
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if r := h.result(); len(r.DynamicMetadata) != 0 {
				t.Errorf("dynamic metadata %v: replies are ignored", r.DynamicMetadata)
			}
		},
	},
}
