package envoyemu

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	durationpb "google.golang.org/protobuf/types/known/durationpb"
	structpb "google.golang.org/protobuf/types/known/structpb"
	wrapperspb "google.golang.org/protobuf/types/known/wrapperspb"
)

// conformanceCase mirrors one Envoy ext_proc integration test (section 2 of
// shared/docs/ENVOY_EXTPROC.md); the name is the Envoy test's.
type conformanceCase struct {
	name        string
	filter      func(f *filterv3.ExternalProcessor) // tweaks baseFilter
	bufferLimit int
	routeName   string
	upstream    http.HandlerFunc
	script      func(s *procStream) error
	// routes, when set, routes requests by a RouteConfig (see
	// harnessOptions.routes); script1 then plays ext_proc_server_1.
	routes  func() *routev3.RouteConfiguration
	script1 func(s *procStream) error
	// build, when set, makes script and upstream sharing per-run state.
	build   func() (script func(s *procStream) error, upstream http.HandlerFunc)
	request func(h *harness) response // nil: GET /
	check   func(t *testing.T, h *harness, res response)
}

func mode(f *filterv3.ExternalProcessor) *filterv3.ProcessingMode {
	if f.ProcessingMode == nil {
		f.ProcessingMode = &filterv3.ProcessingMode{}
	}
	return f.ProcessingMode
}

func post(body string) func(h *harness) response {
	return func(h *harness) response { return h.do(h.newRequest(http.MethodPost, "/", body)) }
}

// expectMessages checks the exact sequence of messages the server received.
func expectMessages(t *testing.T, s *procStream, want ...string) {
	t.Helper()
	if got := describeAll(s.messages()); !slices.Equal(got, want) {
		t.Errorf("messages received by the processor:\n got %q\nwant %q", got, want)
	}
}

func expectStatus(t *testing.T, res response, want int) {
	t.Helper()
	if res.status != want {
		t.Errorf("downstream status = %d, want %d (body %q)", res.status, want, res.body)
	}
}

func expectNoUpstream(t *testing.T, h *harness) {
	t.Helper()
	if n := len(h.upstreamRequests()); n != 0 {
		t.Errorf("upstream received %d requests, want none", n)
	}
}

func oneUpstream(t *testing.T, h *harness) seenRequest {
	t.Helper()
	seen := h.upstreamRequests()
	if len(seen) != 1 {
		t.Fatalf("upstream received %d requests, want 1", len(seen))
	}
	return seen[0]
}

func expectCanceled(t *testing.T, s *procStream) {
	t.Helper()
	if code := status.Code(s.endErr()); code != codes.Canceled {
		t.Errorf("processor saw the stream end with %v, want CANCELLED (Envoy's reset)", s.endErr())
	}
}

var conformanceCases = []conformanceCase{
	{
		name: "GetAndCloseStream",
		script: func(s *procStream) error {
			s.expect("request_headers")
			return nil // OK close before any reply
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != upstreamText {
				t.Errorf("body = %q", res.body)
			}
			oneUpstream(t, h)
			s := h.proc.stream(t, 0)
			expectMessages(t, s, "request_headers(eos=true)")
			pc := s.messages()[0].GetProtocolConfig()
			if pc == nil || pc.GetRequestBodyMode() != filterv3.ProcessingMode_NONE || pc.GetResponseBodyMode() != filterv3.ProcessingMode_NONE {
				t.Errorf("protocol_config = %v", pc)
			}
		},
	},
	{
		name: "GetAndFailStream",
		script: func(s *procStream) error {
			s.expect("request_headers")
			return status.Error(codes.Internal, "boom")
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			expectNoUpstream(t, h)
			if r := h.result(); r.Details != "ext_proc_error_gRPC_error_13{boom}" || !r.LocalReply {
				t.Errorf("result = %+v", r)
			}
			if st := h.proxy.Stats(); st.StreamsFailed != 1 {
				t.Errorf("StreamsFailed = %d", st.StreamsFailed)
			}
		},
	},
	{
		name: "GetAndFailStreamOutOfLine",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			return status.Error(codes.Internal, "later")
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
		},
	},
	{
		name: "GetAndCloseStreamOnResponse",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != upstreamText {
				t.Errorf("body = %q", res.body)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)")
		},
	},
	{
		name: "GetAndFailStreamOnResponse",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			return status.Error(codes.Internal, "boom")
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			oneUpstream(t, h)
		},
	},
	{
		// Envoy closes the stream right after the last expected reply: here
		// the upstream only answers once the processor saw the cancellation.
		name: "OnlyRequestHeadersServerHalfClosesFirst",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		build: func() (func(s *procStream) error, http.HandlerFunc) {
			streamEnded := make(chan struct{})
			script := func(s *procStream) error {
				s.expect("request_headers")
				s.send(requestHeadersReply(nil))
				s.drain()
				close(streamEnded)
				return nil
			}
			upstream := func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-streamEnded:
					defaultUpstream(w, r)
				case <-time.After(waitTimeout / 2):
					http.Error(w, "stream still open", http.StatusTeapot)
				}
			}
			return script, upstream
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			s := h.proc.stream(t, 0)
			expectMessages(t, s, "request_headers(eos=true)")
			expectCanceled(t, s)
			if st := h.proxy.Stats(); st.StreamsClosed != 1 || st.StreamsStarted != 1 {
				t.Errorf("stats = %+v", st)
			}
		},
	},
	{
		name: "ServerHalfClosesAfterHeaders",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-new-header", "new")}),
			}))
			return nil
		},
		request: post("body that flows unprocessed"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			up := oneUpstream(t, h)
			if up.Body != "body that flows unprocessed" || up.Header.Get("X-New-Header") != "new" {
				t.Errorf("upstream saw %+v", up)
			}
		},
	},
	{
		name: "ServerHalfClosesDuringBodyStream",
		filter: func(f *filterv3.ExternalProcessor) {
			f.FailureModeAllow = true
			mode(f).RequestBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("request_body")
			return status.Error(codes.Internal, "mid-body failure")
		},
		request: post("the whole body"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if up := oneUpstream(t, h); up.Body != "the whole body" {
				t.Errorf("upstream body = %q", up.Body)
			}
			if st := h.proxy.Stats(); st.FailureModeAllowed != 1 {
				t.Errorf("FailureModeAllowed = %d", st.FailureModeAllowed)
			}
		},
	},
	{
		name: "GetAndSetHeaders",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-new-header", "new")}, "x-remove-this"),
			}))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.drain()
			return nil
		},
		request: func(h *harness) response {
			req := h.newRequest(http.MethodGet, "/", "")
			req.Header.Set("X-Remove-This", "yes")
			req.Header.Set("X-Request-Id", "req-1")
			return h.do(req)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			s := h.proc.stream(t, 0)
			expectMessages(t, s, "request_headers(eos=true)", "response_headers(eos=false)")
			got := headerPairs(s.messages()[0].GetRequestHeaders().GetHeaders())
			want := [][2]string{
				{":method", "GET"}, {":path", "/"}, {":scheme", "http"}, {":authority", h.front.Listener.Addr().String()},
				{"x-remove-this", "yes"}, {"x-request-id", "req-1"},
				{"x-forwarded-for", "127.0.0.1"}, {"x-forwarded-proto", "http"},
			}
			if !slices.Equal(got, want) {
				t.Errorf("request headers sent:\n got %q\nwant %q", got, want)
			}
			up := oneUpstream(t, h)
			if up.Header.Get("X-New-Header") != "new" || up.Header.Get("X-Remove-This") != "" {
				t.Errorf("upstream headers = %v", up.Header)
			}
			if up.Host != strings.TrimPrefix(h.upstream.URL, "http://") {
				t.Errorf("upstream Host = %q, want the upstream's host", up.Host)
			}
			if up.Header.Get("X-Forwarded-Proto") != "http" || up.Header.Get("X-Request-Id") != "req-1" {
				t.Errorf("upstream headers = %v", up.Header)
			}
			resp := headerPairs(s.messages()[1].GetResponseHeaders().GetHeaders())
			if len(resp) == 0 || resp[0] != [2]string{":status", "200"} {
				t.Errorf("response headers sent = %q", resp)
			}
			expectCanceled(t, s)
		},
	},
	{
		name: "GetAndSetPathHeader",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{
					setHeader(":path", "/mutated_path/bluh"),
					setHeader(":scheme", "https"),
					setHeader(":authority", "new_host"),
					setHeader(":method", "POST"),
				}),
			}))
			return continueAll(s)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			up := oneUpstream(t, h)
			if up.Path != "/mutated_path/bluh" || up.Method != http.MethodGet {
				t.Errorf("upstream saw %s %s", up.Method, up.Path)
			}
			if n := h.proxy.Stats().RejectedHeaderMutations; n != 3 {
				t.Errorf("RejectedHeaderMutations = %d, want 3 (:scheme, :authority, :method)", n)
			}
		},
	},
	{
		name: "GetAndSetHeadersNonUtf8WithValueInBytes",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script: func(s *procStream) error {
			m := s.expect("request_headers")
			if v, _ := headerOf(m.GetRequestHeaders().GetHeaders(), "x-bad-utf8"); v != "valid_prefix\xc3(valid_suffix" {
				s.t.Errorf("x-bad-utf8 raw_value = %q", v)
			}
			for _, hv := range m.GetRequestHeaders().GetHeaders().GetHeaders() {
				if hv.GetValue() != "" || len(hv.GetRawValue()) == 0 {
					s.t.Errorf("header %q not sent in raw_value only", hv.GetKey())
				}
			}
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-new-utf8", "valid_prefix\xc3(valid_suffix")}, "x-bad-utf8"),
			}))
			s.drain()
			return nil
		},
		request: func(h *harness) response {
			req := h.newRequest(http.MethodGet, "/", "")
			req.Header["X-Bad-Utf8"] = []string{"valid_prefix\xc3(valid_suffix"}
			return h.do(req)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			up := oneUpstream(t, h)
			if up.Header.Get("X-New-Utf8") != "valid_prefix\xc3(valid_suffix" || up.Header.Get("X-Bad-Utf8") != "" {
				t.Errorf("upstream headers = %q", up.Header)
			}
		},
	},
	{
		name: "GetBufferedButNoBodies",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		upstream: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(200)
		},
		script: continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=true)")
		},
	},
	{
		name: "BufferBodyOverridePostWithEmptyBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		script: continueAll,
		request: func(h *harness) response {
			// Headers, then an empty body: the framing Envoy's test sends.
			return h.doRaw("POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n")
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0),
				"request_headers(eos=false)", `request_body("",eos=true)`, "response_headers(eos=false)")
			if up := oneUpstream(t, h); up.Method != http.MethodPost || up.Body != "" {
				t.Errorf("upstream saw %+v", up)
			}
		},
	},
	{
		name: "BufferBodyOverrideGetRequestNoBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		script: continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)")
		},
	},
	{
		name: "RemoveRequestContentLengthInBufferedMode",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestHeaderMode = filterv3.ProcessingMode_SKIP
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script: func(s *procStream) error {
			s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("Hello, World!")}))
			s.drain()
			return nil
		},
		request: post("test!"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			s := h.proc.stream(t, 0)
			expectMessages(t, s, `request_body("test!",eos=true)`)
			if s.messages()[0].GetProtocolConfig().GetRequestBodyMode() != filterv3.ProcessingMode_BUFFERED {
				t.Errorf("protocol_config = %v", s.messages()[0].GetProtocolConfig())
			}
			up := oneUpstream(t, h)
			if up.Body != "Hello, World!" || up.ContentLength != -1 || !slices.Equal(up.TransferEncoding, []string{"chunked"}) {
				t.Errorf("upstream saw body %q content-length %d transfer-encoding %v", up.Body, up.ContentLength, up.TransferEncoding)
			}
		},
	},
	{
		name: "RemoveResponseContentLength",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			m := s.expect("response_headers")
			if _, ok := headerOf(m.GetResponseHeaders().GetHeaders(), "content-length"); !ok {
				s.t.Errorf("the processor should still see the upstream's content-length")
			}
			s.send(responseHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("content-length", "13")}),
			}))
			s.expect("response_body")
			s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("Hello, ")}))
			s.expect("response_body")
			s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("World!")}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != "Hello, World!" || res.contentLength != -1 || !slices.Equal(res.transferEncoding, []string{"chunked"}) {
				t.Errorf("downstream got %q content-length %d transfer-encoding %v", res.body, res.contentLength, res.transferEncoding)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_body("hello from upstream",eos=false)`, `response_body("",eos=true)`)
		},
	},
	{
		name: "MismatchedContentLengthAndBodyLength",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("content-length", "11")}),
			}))
			s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("Hello, World!")}))
			s.drain()
			return nil
		},
		request: post("Replace this!"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			expectNoUpstream(t, h)
			if r := h.result(); r.Details != "mismatch_between_content_length_and_the_length_of_the_mutated_body" {
				t.Errorf("details = %q", r.Details)
			}
		},
	},
	{
		name: "GetAndSetHeadersOnResponse",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(&extprocv3.CommonResponse{HeaderMutation: headerMutation([]*corev3.HeaderValueOption{
				setHeader("x-response-processed", "1"), setHeader(":status", "201"),
			})}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 201)
			if res.header.Get("X-Response-Processed") != "1" || res.body != upstreamText {
				t.Errorf("downstream got %v %q", res.header, res.body)
			}
		},
	},
	{
		name: "GetAndSetHeadersOnResponseBadStatus",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(&extprocv3.CommonResponse{HeaderMutation: headerMutation([]*corev3.HeaderValueOption{
				setHeader("x-response-processed", "1"), setHeader(":status", "100"),
			})}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.header.Get("X-Response-Processed") != "1" {
				t.Errorf("downstream headers %v", res.header)
			}
			if n := h.proxy.Stats().RejectedHeaderMutations; n != 1 {
				t.Errorf("RejectedHeaderMutations = %d", n)
			}
		},
	},
	{
		name: "GetAndSetHeadersOnResponseTwoStatuses",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(&extprocv3.CommonResponse{HeaderMutation: headerMutation([]*corev3.HeaderValueOption{
				setHeader("x-response-processed", "1"), setHeader(":status", "201"), appendHeader(":status", "202"),
			})}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 201)
		},
	},
	{
		name: "GetAndSetBodyAndHeadersOnResponse",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
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
			if res.body != "Hello, World!" || res.contentLength != 13 || res.header.Get("X-Testing-Response-Header") != "Yes" {
				t.Errorf("downstream got %q content-length %d headers %v", res.body, res.contentLength, res.header)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_body("hello from upstream",eos=true)`)
		},
	},
	{
		name: "GetAndSetBodyOnBoth",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("content-length", "13")}),
			}))
			s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("Hello, World!")}))
			s.expect("response_headers")
			s.send(responseHeadersReply(&extprocv3.CommonResponse{HeaderMutation: headerMutation(nil, "content-length")}))
			s.expect("response_body")
			s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("123")}))
			s.drain()
			return nil
		},
		request: post("Replace this!"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != "123" {
				t.Errorf("downstream body %q", res.body)
			}
			if up := oneUpstream(t, h); up.Body != "Hello, World!" || up.ContentLength != 13 {
				t.Errorf("upstream saw %q content-length %d", up.Body, up.ContentLength)
			}
		},
	},
	{
		name: "NoTrailersOnResponseWithModeSendBodyTrailer",
		filter: func(f *filterv3.ExternalProcessor) {
			m := mode(f)
			m.RequestHeaderMode = filterv3.ProcessingMode_SKIP
			m.ResponseHeaderMode = filterv3.ProcessingMode_SKIP
			m.ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
			m.ResponseTrailerMode = filterv3.ProcessingMode_SEND
		},
		script: continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != upstreamText {
				t.Errorf("body %q", res.body)
			}
			expectMessages(t, h.proc.stream(t, 0), `response_body("hello from upstream",eos=true)`)
		},
	},
	{
		name: "GetAndRespondImmediately",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(immediateResponse(typev3.StatusCode_Unauthorized, `{"reason": "Not authorized"}`,
				"Failed because you are not authorized",
				setHeader("x-failure-reason", "testing"), setHeader("content-type", "application/json")))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 401)
			if res.header.Get("X-Failure-Reason") != "testing" || res.header.Get("Content-Type") != "application/json" ||
				res.body != `{"reason": "Not authorized"}` {
				t.Errorf("downstream got %v %q", res.header, res.body)
			}
			expectNoUpstream(t, h)
			if r := h.result(); r.Details != "Failed_because_you_are_not_authorized" {
				t.Errorf("details = %q", r.Details)
			}
			expectCanceled(t, h.proc.stream(t, 0))
		},
	},
	{
		name: "GetAndRespondImmediatelyWithBadStatus",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(immediateResponse(typev3.StatusCode_Continue, `{"reason": "Because"}`, "Failed because we said so"))
			s.drain()
			return nil
		},
		request: post("Replace this!"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != `{"reason": "Because"}` || res.header.Get("Content-Type") != "text/plain" {
				t.Errorf("downstream got %v %q", res.header, res.body)
			}
			expectNoUpstream(t, h)
		},
	},
	{
		name: "GetAndRespondImmediatelyWithInvalidCharacter",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(immediateResponse(typev3.StatusCode_Unauthorized, "", "", setHeader("x-failure-reason\n", "testing")))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 401)
			for k := range res.header {
				if strings.HasPrefix(strings.ToLower(k), "x-failure-reason") {
					t.Errorf("invalid header %q was sent", k)
				}
			}
		},
	},
	{
		name: "GetAndRespondImmediatelyWithEnvoyHeaderMutation",
		filter: func(f *filterv3.ExternalProcessor) {
			f.MutationRules = &mutationrulesv3.HeaderMutationRules{
				DisallowIsError: wrapperspb.Bool(true), AllowEnvoy: wrapperspb.Bool(false),
			}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(immediateResponse(typev3.StatusCode_Unauthorized, "", "", setHeader("x-envoy-foo", "bar")))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 401)
			if v := res.header.Get("X-Envoy-Foo"); v != "" {
				t.Errorf("x-envoy-foo = %q was sent", v)
			}
		},
	},
	{
		name: "GetAndRespondImmediatelyOnStreamedRequestBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader("x-new-header", "new")}),
			}))
			s.expect("request_body")
			s.send(immediateResponse(typev3.StatusCode_BadRequest, `{"reason": "bad body"}`, "bad body"))
			s.drain()
			return nil
		},
		request: post("Replace this!"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 400)
			if res.body != `{"reason": "bad body"}` || res.header.Get("X-New-Header") != "" {
				t.Errorf("downstream got %v %q", res.header, res.body)
			}
		},
	},
	{
		name: "GetAndRespondImmediatelyOnResponseBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
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
			expectStatus(t, res, 401)
			if res.body != `{"reason": "Not authorized"}` {
				t.Errorf("body %q", res.body)
			}
		},
	},
	{
		name: "GetAndIncorrectlyModifyHeaderOnBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			f.MutationRules = &mutationrulesv3.HeaderMutationRules{DisallowIsError: wrapperspb.Bool(true)}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("request_body")
			s.send(requestBodyReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader(":scheme", "tcp")}),
			}))
			s.drain()
			return nil
		},
		request: post("Original body"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			expectNoUpstream(t, h)
		},
	},
	{
		name: "ConvertGetToPost",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				Status: extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{
					setHeader(":method", "POST"), setHeader("content-type", "text/plain"),
				}),
				BodyMutation: replaceBody("Hello, Server!"),
			}))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			up := oneUpstream(t, h)
			if up.Method != http.MethodPost || up.Header.Get("Content-Type") != "text/plain" || up.Body != "Hello, Server!" {
				t.Errorf("upstream saw %+v", up)
			}
		},
	},
	{
		name: "ReplaceCompleteRequestBuffered",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				Status:       extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
				BodyMutation: replaceBody("Hello, Server!"),
			}))
			return continueAll(s)
		},
		request: post("Replace this!"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=false)", "response_headers(eos=false)")
			if up := oneUpstream(t, h); up.Body != "Hello, Server!" {
				t.Errorf("upstream body %q", up.Body)
			}
		},
	},
	{
		name: "RequestMessageTimeout",
		filter: func(f *filterv3.ExternalProcessor) {
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.drain() // never answers
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 504)
			expectNoUpstream(t, h)
			if r := h.result(); r.Details != "ext_proc_error_per-message_timeout_exceeded" {
				t.Errorf("details = %q", r.Details)
			}
			if n := h.proxy.Stats().MessageTimeouts; n != 1 {
				t.Errorf("MessageTimeouts = %d", n)
			}
		},
	},
	{
		name: "ResponseMessageTimeout",
		filter: func(f *filterv3.ExternalProcessor) {
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 504)
		},
	},
	{
		name: "RequestMessageTimeoutIgnoreError",
		filter: func(f *filterv3.ExternalProcessor) {
			f.FailureModeAllow = true
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			// The response headers message is never sent: processing ended.
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)")
			if st := h.proxy.Stats(); st.FailureModeAllowed != 1 || st.MessageTimeouts != 1 {
				t.Errorf("stats %+v", st)
			}
		},
	},
	{
		name: "ResponseMessageTimeoutIgnoreError",
		filter: func(f *filterv3.ExternalProcessor) {
			f.FailureModeAllow = true
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != upstreamText {
				t.Errorf("body %q", res.body)
			}
		},
	},
	{
		name: "RequestMessageNewTimeoutNoMutation",
		filter: func(f *filterv3.ExternalProcessor) {
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
			f.MaxMessageTimeout = durationpb.New(waitTimeout)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(&extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(5 * time.Second)})
			time.Sleep(300 * time.Millisecond)
			s.send(requestHeadersReply(nil))
			return continueAll(s)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if n := h.proxy.Stats().OverrideMessageTimeoutReceived; n != 1 {
				t.Errorf("OverrideMessageTimeoutReceived = %d", n)
			}
		},
	},
	{
		name: "RequestMessageNoMutationMultipleNewTimeout",
		filter: func(f *filterv3.ExternalProcessor) {
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
			f.MaxMessageTimeout = durationpb.New(waitTimeout)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(&extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(5 * time.Second)})
			time.Sleep(50 * time.Millisecond)
			// Only the first new timeout per message counts: this one is ignored.
			s.send(&extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(10 * time.Millisecond)})
			time.Sleep(300 * time.Millisecond)
			s.send(requestHeadersReply(nil))
			return continueAll(s)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if st := h.proxy.Stats(); st.OverrideMessageTimeoutReceived != 1 || st.OverrideMessageTimeoutIgnored != 1 {
				t.Errorf("stats %+v", st)
			}
		},
	},
	{
		name: "RequestMessageNewTimeoutNegativeTestWithoutMaxMessageTimeout",
		filter: func(f *filterv3.ExternalProcessor) {
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(&extprocv3.ProcessingResponse{OverrideMessageTimeout: durationpb.New(5 * time.Second)})
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 504)
			if n := h.proxy.Stats().OverrideMessageTimeoutIgnored; n != 1 {
				t.Errorf("OverrideMessageTimeoutIgnored = %d", n)
			}
		},
	},
	{
		name: "ModeOverrideAllowed",
		filter: func(f *filterv3.ExternalProcessor) {
			f.AllowModeOverride = true
			f.AllowedOverrideModes = []*filterv3.ProcessingMode{
				{ResponseBodyMode: filterv3.ProcessingMode_STREAMED},
				{ResponseBodyMode: filterv3.ProcessingMode_BUFFERED},
			}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			r := requestHeadersReply(nil)
			r.ModeOverride = &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_BUFFERED}
			s.send(r)
			s.expect("response_headers")
			// BUFFERED+SEND keeps content-length: drop it before changing the body.
			s.send(responseHeadersReply(&extprocv3.CommonResponse{HeaderMutation: headerMutation(nil, "content-length")}))
			s.expect("response_body")
			s.send(responseBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody("overridden")}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if res.body != "overridden" {
				t.Errorf("body %q", res.body)
			}
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_body("hello from upstream",eos=true)`)
		},
	},
	{
		name: "ModeOverrideDisallowed",
		filter: func(f *filterv3.ExternalProcessor) {
			f.AllowModeOverride = true
			f.AllowedOverrideModes = []*filterv3.ProcessingMode{{ResponseBodyMode: filterv3.ProcessingMode_STREAMED}}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			r := requestHeadersReply(nil)
			r.ModeOverride = &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_BUFFERED}
			s.send(r)
			return continueAll(s)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)")
			if n := h.proxy.Stats().ModeOverridesIgnored; n != 1 {
				t.Errorf("ModeOverridesIgnored = %d", n)
			}
		},
	},
	{
		name: "RequestHeaderModeIgnoredInModeOverrideComparison",
		filter: func(f *filterv3.ExternalProcessor) {
			f.AllowModeOverride = true
			f.AllowedOverrideModes = []*filterv3.ProcessingMode{{
				RequestHeaderMode: filterv3.ProcessingMode_SKIP,
				ResponseBodyMode:  filterv3.ProcessingMode_STREAMED,
			}}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			r := requestHeadersReply(nil)
			r.ModeOverride = &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_STREAMED}
			s.send(r)
			return continueAll(s)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)", "response_headers(eos=false)",
				`response_body("hello from upstream",eos=false)`, `response_body("",eos=true)`)
		},
	},
	{
		name: "BufferedModeOverSizeRequestLocalReply",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		bufferLimit: 1024,
		script:      continueAll,
		request:     post(strings.Repeat("a", 4096)),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 413)
			expectNoUpstream(t, h)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=false)")
		},
	},
	{
		name: "PostAndProcessStreamedRequestBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_STREAMED
			mode(f).ResponseHeaderMode = filterv3.ProcessingMode_SKIP
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			for {
				m := s.expect("request_body")
				if m == nil {
					return nil
				}
				b := m.GetRequestBody()
				s.send(requestBodyReply(&extprocv3.CommonResponse{BodyMutation: replaceBody(strings.ToUpper(string(b.GetBody())))}))
				if b.GetEndOfStream() {
					s.drain()
					return nil
				}
			}
		},
		request: func(h *harness) response {
			pr, pw := io.Pipe()
			go func() {
				for _, c := range []string{"chunk-1;", "chunk-2;", "chunk-3;"} {
					_, _ = io.WriteString(pw, c)
					time.Sleep(30 * time.Millisecond)
				}
				_ = pw.Close()
			}()
			req := h.newRequest(http.MethodPost, "/", "")
			req.Body = pr
			return h.do(req)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()[1:]
			var total strings.Builder
			for i, m := range msgs {
				b := m.GetRequestBody()
				total.Write(b.GetBody())
				if b.GetEndOfStream() != (i == len(msgs)-1) {
					t.Errorf("message %d: %s; only the last may end the stream", i, describe(m))
				}
			}
			if len(msgs) < 2 || len(msgs[len(msgs)-1].GetRequestBody().GetBody()) != 0 {
				t.Errorf("body messages %q: want data chunks then an empty end_of_stream chunk", describeAll(msgs))
			}
			if total.String() != "chunk-1;chunk-2;chunk-3;" {
				t.Errorf("processor saw %q", total.String())
			}
			up := oneUpstream(t, h)
			if up.Body != "CHUNK-1;CHUNK-2;CHUNK-3;" || up.ContentLength != -1 {
				t.Errorf("upstream saw %q content-length %d", up.Body, up.ContentLength)
			}
		},
	},
	{
		name: "PostAndProcessStreamedRequestBodyAndClose",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("request_body")
			return nil // exits mid-body without answering
		},
		request: post("streamed body"),
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			if up := oneUpstream(t, h); up.Body != "streamed body" {
				t.Errorf("upstream body %q", up.Body)
			}
		},
	},
	{
		name: "GrpcStreamErrorCustomStatus",
		filter: func(f *filterv3.ExternalProcessor) {
			f.StatusOnError = &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			return status.Error(codes.Internal, "boom")
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 503)
		},
	},
	{
		name: "ProcessingErrorCustomStatus",
		filter: func(f *filterv3.ExternalProcessor) {
			f.StatusOnError = &typev3.HttpStatus{Code: typev3.StatusCode_UnprocessableEntity}
			f.MutationRules = &mutationrulesv3.HeaderMutationRules{
				DisallowIsError: wrapperspb.Bool(true), DisallowSystem: wrapperspb.Bool(true),
			}
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(&extprocv3.CommonResponse{
				HeaderMutation: headerMutation([]*corev3.HeaderValueOption{setHeader(":system-header", "invalid")}),
			}))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 422)
			expectNoUpstream(t, h)
		},
	},
	{
		name: "MessageTimeoutReturnsGatewayTimeout",
		filter: func(f *filterv3.ExternalProcessor) {
			f.StatusOnError = &typev3.HttpStatus{Code: typev3.StatusCode_BadGateway}
			f.MessageTimeout = durationpb.New(100 * time.Millisecond)
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 504)
		},
	},
	{
		name: "ProtocolConfigurationEncodingTest",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).RequestBodyMode = filterv3.ProcessingMode_BUFFERED
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: continueAll,
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			want := &extprocv3.ProtocolConfiguration{
				RequestBodyMode:  filterv3.ProcessingMode_BUFFERED,
				ResponseBodyMode: filterv3.ProcessingMode_STREAMED,
			}
			if len(msgs) != 4 || !proto.Equal(msgs[0].GetProtocolConfig(), want) {
				t.Fatalf("messages %q, first protocol_config %v", describeAll(msgs), msgs[0].GetProtocolConfig())
			}
			for _, m := range msgs[1:] {
				if m.GetProtocolConfig() != nil {
					t.Errorf("%s carries protocol_config", describe(m))
				}
			}
		},
	},
	{
		name: "SendAndReceiveDynamicMetadata",
		filter: func(f *filterv3.ExternalProcessor) {
			f.MetadataOptions = &filterv3.MetadataOptions{
				ReceivingNamespaces:  &filterv3.MetadataOptions_MetadataNamespaces{Untyped: []string{"mcp.inspector"}},
				ForwardingNamespaces: &filterv3.MetadataOptions_MetadataNamespaces{Untyped: []string{"mcp.inspector", "other"}},
			}
		},
		script: func(s *procStream) error {
			m := s.expect("request_headers")
			if md := m.GetMetadataContext(); md == nil || len(md.GetFilterMetadata()) != 0 {
				s.t.Errorf("first metadata_context = %v, want present and empty", md)
			}
			r := requestHeadersReply(nil)
			r.DynamicMetadata = mustStruct(map[string]any{
				"mcp.inspector": map[string]any{"verdict": "allow"},
				"not.received":  map[string]any{"x": "y"},
			})
			s.send(r)
			return continueAll(s)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			fm := msgs[1].GetMetadataContext().GetFilterMetadata()
			if len(fm) != 1 || fm["mcp.inspector"].GetFields()["verdict"].GetStringValue() != "allow" {
				t.Errorf("response_headers metadata_context = %v", msgs[1].GetMetadataContext())
			}
			if r := h.result(); r.DynamicMetadata["mcp.inspector"] == nil || r.DynamicMetadata["not.received"] != nil {
				t.Errorf("result metadata = %v", r.DynamicMetadata)
			}
		},
	},
	{
		name: "RequestResponseAttributes",
		filter: func(f *filterv3.ExternalProcessor) {
			f.RequestAttributes = []string{"request.path", "request.method", "request.id", "source.address", "xds.route_name", "request.unknown"}
			f.ResponseAttributes = []string{"response.code", "request.path"}
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
		},
		routeName: "persona-alice",
		script:    continueAll,
		request: func(h *harness) response {
			req := h.newRequest(http.MethodGet, "/a?b=1", "")
			req.Header.Set("X-Request-Id", "rid-7")
			return h.do(req)
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			msgs := h.proc.stream(t, 0).messages()
			if len(msgs) != 3 {
				t.Fatalf("messages %q", describeAll(msgs))
			}
			reqAttrs := msgs[0].GetAttributes()[attributesKey].GetFields()
			for k, want := range map[string]string{
				"request.path": "/a?b=1", "request.method": "GET", "request.id": "rid-7", "xds.route_name": "persona-alice",
			} {
				if got := reqAttrs[k].GetStringValue(); got != want {
					t.Errorf("request attribute %s = %q, want %q", k, got, want)
				}
			}
			if !strings.HasPrefix(reqAttrs["source.address"].GetStringValue(), "127.0.0.1:") {
				t.Errorf("source.address = %v", reqAttrs["source.address"])
			}
			if _, ok := reqAttrs["request.unknown"]; ok || len(reqAttrs) != 5 {
				t.Errorf("request attributes = %v", reqAttrs)
			}
			respAttrs := msgs[1].GetAttributes()[attributesKey].GetFields()
			if respAttrs["response.code"].GetNumberValue() != 200 || respAttrs["request.path"].GetStringValue() != "/a?b=1" {
				t.Errorf("response attributes = %v", respAttrs)
			}
			if msgs[2].GetAttributes() != nil {
				t.Errorf("attributes sent again on %s", describe(msgs[2]))
			}
		},
	},
	{
		name: "SpuriousResponseFailClose",
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(responseHeadersReply(nil)) // wrong oneof
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 500)
			expectNoUpstream(t, h)
			if n := h.proxy.Stats().SpuriousMsgsReceived; n != 1 {
				t.Errorf("SpuriousMsgsReceived = %d", n)
			}
		},
	},
	{
		name: "SpuriousResponseFailOpen",
		filter: func(f *filterv3.ExternalProcessor) {
			f.FailureModeAllow = true
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestBodyReply(nil)) // wrong oneof
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			expectStatus(t, res, 200)
			expectMessages(t, h.proc.stream(t, 0), "request_headers(eos=true)")
		},
	},
	{
		name: "GetAndRespondImmediatelyOnStreamedResponseBody",
		filter: func(f *filterv3.ExternalProcessor) {
			mode(f).ResponseBodyMode = filterv3.ProcessingMode_STREAMED
		},
		script: func(s *procStream) error {
			s.expect("request_headers")
			s.send(requestHeadersReply(nil))
			s.expect("response_headers")
			s.send(responseHeadersReply(nil))
			s.expect("response_body")
			s.send(immediateResponse(typev3.StatusCode_Forbidden, "too late", ""))
			s.drain()
			return nil
		},
		check: func(t *testing.T, h *harness, res response) {
			// Headers were already out: the downstream stream is reset.
			expectStatus(t, res, 200)
			if res.bodyErr == nil {
				t.Errorf("body %q read without error; want a reset stream", res.body)
			}
			if r := h.result(); !r.Reset {
				t.Errorf("result %+v, want Reset", r)
			}
		},
	},
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

// allConformanceCases is the whole conformance table: the cases above and
// those of the BUFFERED_PARTIAL, trailers, FULL_DUPLEX_STREAMED and
// observability-mode files.
func allConformanceCases() []conformanceCase {
	return slices.Concat(conformanceCases, bufferedPartialCases, trailerCases, fullDuplexCases, observabilityCases, routeCases)
}

func TestConformance(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range allConformanceCases() {
		if seen[c.name] {
			t.Fatalf("duplicate conformance case %s", c.name)
		}
		seen[c.name] = true
	}
	runCases(t, allConformanceCases())
}

// TestModeBehaviour runs behaviourCases on the conformance harness.
func TestModeBehaviour(t *testing.T) {
	runCases(t, behaviourCases)
}

func runCases(t *testing.T, cases []conformanceCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := baseFilter()
			if c.filter != nil {
				c.filter(f)
			}
			script, upstream := c.script, c.upstream
			if c.build != nil {
				script, upstream = c.build()
			}
			o := harnessOptions{
				filter: f, bufferLimit: c.bufferLimit, routeName: c.routeName,
				upstream: upstream, script: script, script1: c.script1,
			}
			if c.routes != nil {
				o.routes = c.routes()
			}
			h := newHarness(t, o)
			var res response
			if c.request != nil {
				res = c.request(h)
			} else {
				res = h.do(h.newRequest(http.MethodGet, "/", ""))
			}
			c.check(t, h, res)
			n := h.proc.streamCount()
			if h.proc1 != nil {
				n += h.proc1.streamCount()
			}
			if n > 1 {
				t.Errorf("%d Process streams opened for one request", n)
			}
		})
	}
}
