package server

import (
	"context"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/portcullis/portcullis/extproc/internal/filter"
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

func TestResponseHeadersModeOverride(t *testing.T) {
	for _, tc := range []struct {
		mode filter.BodyMode
		want filterv3.ProcessingMode_BodySendMode
		set  bool
	}{
		{filter.BodyModeBuffered, filterv3.ProcessingMode_BUFFERED, true},
		{filter.BodyModeStreamed, filterv3.ProcessingMode_STREAMED, true},
		{filter.BodyModeUnchanged, 0, false},
	} {
		resp := headersResponse(filter.Action{ResponseBodyMode: tc.mode}, responseDirection)
		if resp.GetResponseHeaders() == nil {
			t.Fatalf("wrong oneof %T", resp.GetResponse())
		}
		if (resp.GetModeOverride() != nil) != tc.set || resp.GetModeOverride().GetResponseBodyMode() != tc.want {
			t.Fatalf("mode %d: override %v", tc.mode, resp.GetModeOverride())
		}
	}
	// Never on the request direction.
	if resp := headersResponse(filter.Action{ResponseBodyMode: filter.BodyModeBuffered}, requestDirection); resp.GetModeOverride() != nil || resp.GetRequestHeaders() == nil {
		t.Fatalf("got %v", resp)
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
