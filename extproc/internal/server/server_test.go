package server

import (
	"context"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/policy"
)

func TestHeadersFromRawValue(t *testing.T) {
	h := fromHeaderMap(&corev3.HeaderMap{Headers: []*corev3.HeaderValue{
		{Key: ":path", RawValue: []byte("/mcp")},
		{Key: "x-old", Value: "v"},
		{Key: "x-bin", RawValue: []byte{0xff, 'a'}},
	}})
	if h.Get(":path") != "/mcp" || h.Get("x-old") != "v" || h.Get("x-bin") != "\xffa" {
		t.Fatalf("got %+v", h)
	}
}

func newTestStream(t *testing.T, sse SSEMode, pc *extprocv3.ProtocolConfiguration) *streamState {
	t.Helper()
	pol, err := policy.Parse([]byte(`
upstreams: [{name: helpdesk}]
personas: [{name: support, upstream: helpdesk, tools: [get_ticket]}]
agents: [{id: bot, persona: support, key_sha256: ` + policy.HashKey("k") + `}]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := New(filter.NewEngine(pol, filter.Options{}), nil, Options{SSEMode: sse})
	return s.newStreamState(context.Background(), &extprocv3.ProcessingRequest{ProtocolConfig: pc})
}

func responseHeadersMsg(contentType string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{
		Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: ":status", RawValue: []byte("200")},
			{Key: "content-type", RawValue: []byte(contentType)},
		}},
	}}}
}

func responseBodyMsg(body string, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte(body), EndOfStream: eos}}}
}

func mustHandle(t *testing.T, st *streamState, req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
	t.Helper()
	out, err := st.handle(req)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(out)
}

func TestResponseHeadersModeOverride(t *testing.T) {
	configured := &extprocv3.ProtocolConfiguration{RequestBodyMode: filterv3.ProcessingMode_BUFFERED}
	for _, tc := range []struct {
		name        string
		sse         SSEMode
		contentType string
		want        *filterv3.ProcessingMode // nil: no override
		removeCL    bool
	}{
		{"JSON buffered", SSEStreamed, "application/json", &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_BUFFERED}, false},
		{"JSON buffered in full-duplex mode", SSEFullDuplex, "application/json", &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_BUFFERED}, false},
		{"SSE streamed", SSEStreamed, "text/event-stream", &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_STREAMED}, true},
		{"SSE full duplex", SSEFullDuplex, "text/event-stream; charset=utf-8", &filterv3.ProcessingMode{
			ResponseBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED, ResponseTrailerMode: filterv3.ProcessingMode_SEND}, true},
		{"other unchanged", SSEFullDuplex, "text/plain", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newTestStream(t, tc.sse, configured)
			out := mustHandle(t, st, responseHeadersMsg(tc.contentType))
			if len(out) != 1 || out[0].GetResponseHeaders() == nil {
				t.Fatalf("replies %v", out)
			}
			if got := out[0].GetModeOverride(); !proto.Equal(got, tc.want) {
				t.Fatalf("override %v, want %v", got, tc.want)
			}
			removed := slices.Contains(out[0].GetResponseHeaders().GetResponse().GetHeaderMutation().GetRemoveHeaders(), "content-length")
			if removed != tc.removeCL {
				t.Fatalf("content-length removed %v, want %v", removed, tc.removeCL)
			}
			if want := tc.want.GetResponseBodyMode(); tc.want != nil && st.respBody != want {
				t.Fatalf("tracked response body mode %v, want %v", st.respBody, want)
			}
		})
	}
	// Never on the request direction.
	if resp := headersResponse(filter.Action{ResponseBodyMode: filter.BodyModeBuffered}, requestDirection); resp.GetModeOverride() != nil || resp.GetRequestHeaders() == nil {
		t.Fatalf("got %v", resp)
	}
	// A filter configured FULL_DUPLEX_STREAMED itself: Envoy ignores
	// overrides, so the tracked mode stays.
	st := newTestStream(t, SSEStreamed, &extprocv3.ProtocolConfiguration{ResponseBodyMode: filterv3.ProcessingMode_FULL_DUPLEX_STREAMED})
	mustHandle(t, st, responseHeadersMsg("text/event-stream"))
	if st.respBody != filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		t.Fatalf("tracked %v", st.respBody)
	}
}

// streamedBody returns the streamed_response of a full-duplex body reply,
// failing on any other shape.
func streamedBody(t *testing.T, resp *extprocv3.ProcessingResponse) *extprocv3.StreamedBodyResponse {
	t.Helper()
	sr := resp.GetResponseBody().GetResponse().GetBodyMutation().GetStreamedResponse()
	if sr == nil {
		t.Fatalf("not a streamed_response: %v", resp)
	}
	return sr
}

func TestFullDuplexSSEReplies(t *testing.T) {
	st := newTestStream(t, SSEFullDuplex, &extprocv3.ProtocolConfiguration{RequestBodyMode: filterv3.ProcessingMode_BUFFERED})
	mustHandle(t, st, responseHeadersMsg("text/event-stream"))

	// Half an event: held back, and with nothing to send no reply at all.
	if out := mustHandle(t, st, responseBodyMsg("id: 1\ndata: {\"jsonrpc\":\"2.0\",", false)); len(out) != 0 {
		t.Fatalf("replies to an incomplete event: %v", out)
	}
	// Its end and the start of the next: the complete event goes on.
	out := mustHandle(t, st, responseBodyMsg("\"method\":\"notifications/progress\"}\n\ndata: {", false))
	if len(out) != 1 {
		t.Fatalf("replies %v", out)
	}
	if sr := streamedBody(t, out[0]); string(sr.GetBody()) != "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n" || sr.GetEndOfStream() {
		t.Fatalf("streamed %q eos %v", sr.GetBody(), sr.GetEndOfStream())
	}
	// Trailers end the body: the held-back bytes first (without
	// end_of_stream: the trailers reply ends the body), then the reply.
	out = mustHandle(t, st, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: &extprocv3.HttpTrailers{}}})
	if len(out) != 2 || out[1].GetResponseTrailers() == nil {
		t.Fatalf("replies %v", out)
	}
	if sr := streamedBody(t, out[0]); string(sr.GetBody()) != "data: {" || sr.GetEndOfStream() {
		t.Fatalf("flushed %q eos %v", sr.GetBody(), sr.GetEndOfStream())
	}

	// Without trailers the end_of_stream chunk ends the body, even empty.
	st = newTestStream(t, SSEFullDuplex, &extprocv3.ProtocolConfiguration{})
	mustHandle(t, st, responseHeadersMsg("text/event-stream"))
	mustHandle(t, st, responseBodyMsg(": ping", false))
	out = mustHandle(t, st, responseBodyMsg("", true))
	if len(out) != 1 {
		t.Fatalf("replies %v", out)
	}
	if sr := streamedBody(t, out[0]); string(sr.GetBody()) != ": ping" || !sr.GetEndOfStream() {
		t.Fatalf("last %q eos %v", sr.GetBody(), sr.GetEndOfStream())
	}
	out = mustHandle(t, newStreamAtBody(t), responseBodyMsg("", true))
	if len(out) != 1 || !streamedBody(t, out[0]).GetEndOfStream() {
		t.Fatalf("an empty end must still be answered: %v", out)
	}

	// STREAMED keeps one plain body reply per chunk, even an empty one.
	st = newTestStream(t, SSEStreamed, &extprocv3.ProtocolConfiguration{})
	mustHandle(t, st, responseHeadersMsg("text/event-stream"))
	out = mustHandle(t, st, responseBodyMsg("data: {", false))
	if len(out) != 1 || out[0].GetResponseBody().GetResponse().GetBodyMutation().GetStreamedResponse() != nil {
		t.Fatalf("STREAMED reply %v", out)
	}
	if _, ok := out[0].GetResponseBody().GetResponse().GetBodyMutation().GetMutation().(*extprocv3.BodyMutation_Body); !ok {
		t.Fatalf("STREAMED reply %v", out)
	}
}

func newStreamAtBody(t *testing.T) *streamState {
	t.Helper()
	st := newTestStream(t, SSEFullDuplex, &extprocv3.ProtocolConfiguration{})
	mustHandle(t, st, responseHeadersMsg("text/event-stream"))
	return st
}

func TestParseSSEMode(t *testing.T) {
	for _, m := range []SSEMode{SSEStreamed, SSEFullDuplex} {
		got, err := ParseSSEMode(m.String())
		if err != nil || got != m {
			t.Fatalf("%v: %v %v", m, got, err)
		}
	}
	if _, err := ParseSSEMode("duplex"); err == nil {
		t.Fatal("accepted duplex")
	}
}

func TestMutationsAndImmediateResponse(t *testing.T) {
	resp := headersResponse(filter.Action{SetHeaders: filter.Headers{{Key: "authorization", Value: "Bearer backend"}}, RemoveHeaders: []string{"x-api-key"}}, requestDirection)
	hm := resp.GetRequestHeaders().GetResponse().GetHeaderMutation()
	if len(hm.GetSetHeaders()) != 1 || string(hm.GetSetHeaders()[0].GetHeader().GetRawValue()) != "Bearer backend" ||
		hm.GetSetHeaders()[0].GetAppend().GetValue() || hm.GetRemoveHeaders()[0] != "x-api-key" { //nolint:staticcheck // Envoy ext_proc reads append
		t.Fatalf("mutation %v", hm)
	}
	body := bodyResponse(filter.Action{ReplaceBody: true, Body: []byte("new"), SetHeaders: filter.Headers{{Key: "content-length", Value: "3"}}}, responseDirection)
	cr := body.GetResponseBody().GetResponse()
	if string(cr.GetBodyMutation().GetBody()) != "new" || len(cr.GetHeaderMutation().GetSetHeaders()) != 1 {
		t.Fatalf("body response %v", body)
	}
	empty := bodyResponse(filter.Action{ReplaceBody: true}, responseDirection)
	if _, ok := empty.GetResponseBody().GetResponse().GetBodyMutation().GetMutation().(*extprocv3.BodyMutation_Body); !ok {
		t.Fatal("an empty replacement must still be a body mutation (it holds back bytes)")
	}
	imm := bodyResponse(filter.Action{Respond: &filter.Response{Status: 401, Headers: filter.Headers{{Key: "www-authenticate", Value: "Bearer"}}, Body: []byte("{}"), Details: "d"}}, requestDirection)
	ir := imm.GetImmediateResponse()
	if ir.GetStatus().GetCode() != 401 || string(ir.GetBody()) != "{}" || ir.GetDetails() != "d" || ir.GetHeaders().GetSetHeaders()[0].GetHeader().GetKey() != "www-authenticate" {
		t.Fatalf("immediate %v", ir)
	}
}

func TestStreamInfoFromRouteMetadata(t *testing.T) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(PersonaMetadataKey, "support-agent", UpstreamMetadataKey, "helpdesk"))
	info := streamInfo(ctx, &extprocv3.ProcessingRequest{})
	if info.RoutePersona != "support-agent" || info.RouteUpstream != "helpdesk" {
		t.Fatalf("got %+v", info)
	}
	if info := streamInfo(context.Background(), &extprocv3.ProcessingRequest{}); info.RoutePersona != "" || info.RouteUpstream != "" {
		t.Fatalf("without metadata: %+v", info)
	}
}
