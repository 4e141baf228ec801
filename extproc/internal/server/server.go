// Package server is the ext_proc edge: it owns the gRPC stream Envoy opens
// per HTTP request, maps ext_proc messages to the filter core's plain values
// and the core's actions back to ext_proc responses. Errors become gRPC
// statuses here and nowhere else.
package server

import (
	"context"
	"errors"
	"io"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/portcullis/portcullis/extproc/internal/filter"
)

// Emitter receives the audit record of every exchange. Emit must not block
// on the network.
type Emitter interface {
	Emit(filter.Decision)
}

// PersonaMetadataKey is the gRPC initial-metadata key a route uses to tell
// the filter which persona's virtual endpoint it serves
// (ExtProcPerRoute.overrides.grpc_initial_metadata).
const PersonaMetadataKey = "x-portcullis-persona"

// UpstreamMetadataKey is the gRPC initial-metadata key a route uses to tell
// the filter which upstream MCP server (as the policy names it) it forwards
// to. The filter refuses the request when the upstream is not the persona's
// registered one (no shadow MCP).
const UpstreamMetadataKey = "x-portcullis-upstream"

// attributesKey is where Envoy puts the requested attributes.
const attributesKey = "envoy.filters.http.ext_proc"

// Server implements envoy.service.ext_proc.v3.ExternalProcessor.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer
	engine *filter.Engine
	emit   Emitter
}

// New returns a server deciding with engine and emitting to emit.
func New(engine *filter.Engine, emit Emitter) *Server {
	return &Server{engine: engine, emit: emit}
}

// Process handles one HTTP exchange. Exactly one decision is emitted per
// stream that carried request headers, however the stream ends.
func (s *Server) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	ctx := stream.Context()
	var x *filter.Exchange
	defer func() {
		if x != nil {
			s.emit.Emit(x.Finish())
		}
	}()
	for {
		req, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled) {
				return nil // Envoy closes (or resets) the stream after the last reply
			}
			return err
		}
		if x == nil {
			x = s.engine.NewExchange(streamInfo(ctx, req))
		}
		resp, err := handle(x, req)
		if err != nil {
			return err
		}
		if err := stream.Send(resp); err != nil {
			if status.Code(err) == codes.Canceled {
				return nil
			}
			return err
		}
		if resp.GetImmediateResponse() != nil {
			return nil // Envoy closes the stream after a local reply
		}
	}
}

func streamInfo(ctx context.Context, req *extprocv3.ProcessingRequest) filter.StreamInfo {
	var info filter.StreamInfo
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(PersonaMetadataKey); len(v) > 0 {
			info.RoutePersona = v[0]
		}
		if v := md.Get(UpstreamMetadataKey); len(v) > 0 {
			info.RouteUpstream = v[0]
		}
	}
	if attrs := req.GetAttributes()[attributesKey]; attrs != nil {
		if v := attrs.GetFields()["source.address"]; v != nil {
			info.ClientAddress = v.GetStringValue()
		}
	}
	return info
}

func handle(x *filter.Exchange, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
	switch r := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		act := x.RequestHeaders(fromHeaderMap(r.RequestHeaders.GetHeaders()), r.RequestHeaders.GetEndOfStream())
		return headersResponse(act, requestDirection), nil
	case *extprocv3.ProcessingRequest_RequestBody:
		act := x.RequestBody(r.RequestBody.GetBody(), r.RequestBody.GetEndOfStream())
		return bodyResponse(act, requestDirection), nil
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		act := x.ResponseHeaders(fromHeaderMap(r.ResponseHeaders.GetHeaders()), r.ResponseHeaders.GetEndOfStream())
		return headersResponse(act, responseDirection), nil
	case *extprocv3.ProcessingRequest_ResponseBody:
		act := x.ResponseBody(r.ResponseBody.GetBody(), r.ResponseBody.GetEndOfStream())
		return bodyResponse(act, responseDirection), nil
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}, nil
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}, nil
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unsupported ext_proc message %T", r)
	}
}

type direction uint8

const (
	requestDirection direction = iota
	responseDirection
)

func headersResponse(act filter.Action, dir direction) *extprocv3.ProcessingResponse {
	if act.Respond != nil {
		return immediate(act.Respond)
	}
	hr := &extprocv3.HeadersResponse{Response: common(act)}
	resp := &extprocv3.ProcessingResponse{}
	if dir == requestDirection {
		resp.Response = &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: hr}
	} else {
		resp.Response = &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: hr}
		if mode, ok := bodyMode(act.ResponseBodyMode); ok {
			// Envoy replaces both body modes on an override; the request
			// body is done by now, so NONE there changes nothing.
			resp.ModeOverride = &filterv3.ProcessingMode{ResponseBodyMode: mode}
		}
	}
	return resp
}

func bodyResponse(act filter.Action, dir direction) *extprocv3.ProcessingResponse {
	if act.Respond != nil {
		return immediate(act.Respond)
	}
	cr := common(act)
	if act.ReplaceBody {
		if cr == nil {
			cr = &extprocv3.CommonResponse{}
		}
		cr.BodyMutation = &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: act.Body}}
	}
	br := &extprocv3.BodyResponse{Response: cr}
	if dir == requestDirection {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: br}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: br}}
}

func common(act filter.Action) *extprocv3.CommonResponse {
	if len(act.SetHeaders) == 0 && len(act.RemoveHeaders) == 0 {
		return nil
	}
	return &extprocv3.CommonResponse{HeaderMutation: headerMutation(act.SetHeaders, act.RemoveHeaders)}
}

func headerMutation(set filter.Headers, remove []string) *extprocv3.HeaderMutation {
	m := &extprocv3.HeaderMutation{RemoveHeaders: remove}
	for _, h := range set {
		m.SetHeaders = append(m.SetHeaders, &corev3.HeaderValueOption{
			Header: &corev3.HeaderValue{Key: h.Key, RawValue: []byte(h.Value)},
			// Envoy's ext_proc mutation code reads the (deprecated) append
			// field, default false = overwrite; append_action is not
			// consulted there, so this is the field that takes effect.
			Append: wrapperspb.Bool(false), //nolint:staticcheck // see above
		})
	}
	return m
}

func immediate(r *filter.Response) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{
		ImmediateResponse: &extprocv3.ImmediateResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(r.Status)},
			Headers: headerMutation(r.Headers, nil),
			Body:    r.Body,
			Details: r.Details,
		},
	}}
}

func bodyMode(m filter.BodyMode) (filterv3.ProcessingMode_BodySendMode, bool) {
	switch m {
	case filter.BodyModeNone:
		return filterv3.ProcessingMode_NONE, true
	case filter.BodyModeBuffered:
		return filterv3.ProcessingMode_BUFFERED, true
	case filter.BodyModeStreamed:
		return filterv3.ProcessingMode_STREAMED, true
	}
	return 0, false
}

func fromHeaderMap(hm *corev3.HeaderMap) filter.Headers {
	out := make(filter.Headers, 0, len(hm.GetHeaders()))
	for _, h := range hm.GetHeaders() {
		v := h.GetValue()
		if raw := h.GetRawValue(); len(raw) > 0 {
			v = string(raw)
		}
		out = append(out, filter.Header{Key: h.GetKey(), Value: v})
	}
	return out
}
