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
	engine  *filter.Engine
	emit    Emitter
	sseMode SSEMode
}

// Options configure a Server. The zero value is the default configuration.
type Options struct {
	// SSEMode is the ext_proc body mode asked of Envoy for event-stream
	// responses. Defaults to SSEStreamed.
	SSEMode SSEMode
}

// New returns a server deciding with engine and emitting to emit.
func New(engine *filter.Engine, emit Emitter, opts Options) *Server {
	return &Server{engine: engine, emit: emit, sseMode: opts.SSEMode}
}

// Process handles one HTTP exchange. Exactly one decision is emitted per
// stream that carried request headers, however the stream ends.
func (s *Server) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	ctx := stream.Context()
	var st *streamState
	defer func() {
		if st != nil {
			s.emit.Emit(st.x.Finish())
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
		if st == nil {
			st = s.newStreamState(ctx, req)
		}
		resps, err := st.handle(req)
		if err != nil {
			return err
		}
		for _, resp := range resps {
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
}

// streamState is what the server knows of one ext_proc stream: the
// exchange, and the response body mode Envoy uses for it.
type streamState struct {
	x       *filter.Exchange
	sseMode SSEMode
	// overridable is false when the filter configuration's own body modes
	// include FULL_DUPLEX_STREAMED: Envoy then ignores mode_override.
	overridable bool
	// respBody is the response body mode: the configured one (the first
	// message's protocol_config) until a mode_override replaces it. The
	// bootstraps allow every override the server sends (envoy/*.yaml
	// allowed_override_modes); an override Envoy refused would leave the
	// server answering in the wrong shape.
	respBody filterv3.ProcessingMode_BodySendMode
	out      []*extprocv3.ProcessingResponse
}

func (s *Server) newStreamState(ctx context.Context, first *extprocv3.ProcessingRequest) *streamState {
	pc := first.GetProtocolConfig()
	return &streamState{
		x:       s.engine.NewExchange(streamInfo(ctx, first)),
		sseMode: s.sseMode,
		overridable: pc.GetRequestBodyMode() != filterv3.ProcessingMode_FULL_DUPLEX_STREAMED &&
			pc.GetResponseBodyMode() != filterv3.ProcessingMode_FULL_DUPLEX_STREAMED,
		respBody: pc.GetResponseBodyMode(),
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
		if v := attrs.GetFields()["destination.address"]; v != nil {
			info.LocalAddress = v.GetStringValue()
		}
	}
	return info
}

// handle answers one message. The result is valid until the next call:
// usually one reply; none for a FULL_DUPLEX_STREAMED chunk that produced no
// bytes; two for response trailers that release held-back bytes.
func (st *streamState) handle(req *extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, error) {
	x := st.x
	out := st.out[:0]
	switch r := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		act := x.RequestHeaders(fromHeaderMap(r.RequestHeaders.GetHeaders()), r.RequestHeaders.GetEndOfStream())
		out = append(out, headersResponse(act, requestDirection))
	case *extprocv3.ProcessingRequest_RequestBody:
		act := x.RequestBody(r.RequestBody.GetBody(), r.RequestBody.GetEndOfStream())
		out = append(out, bodyResponse(act, requestDirection))
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		act := x.ResponseHeaders(fromHeaderMap(r.ResponseHeaders.GetHeaders()), r.ResponseHeaders.GetEndOfStream())
		resp := headersResponse(act, responseDirection)
		if act.Respond == nil {
			if mode, ok := responseBodyMode(act.ResponseBodyMode, st.sseMode); ok {
				resp.ModeOverride = modeOverride(mode)
				if mode != filterv3.ProcessingMode_BUFFERED {
					removeContentLength(resp.GetResponseHeaders())
				}
				if st.overridable {
					st.respBody = mode
				}
			}
		}
		out = append(out, resp)
	case *extprocv3.ProcessingRequest_ResponseBody:
		body, eos := r.ResponseBody.GetBody(), r.ResponseBody.GetEndOfStream()
		act := x.ResponseBody(body, eos)
		switch {
		case st.respBody != filterv3.ProcessingMode_FULL_DUPLEX_STREAMED || act.Respond != nil:
			out = append(out, bodyResponse(act, responseDirection))
		default:
			if act.ReplaceBody {
				body = act.Body
			}
			// Envoy keeps no copy of the chunk: what goes on is what is sent
			// back. Nothing to send and the body not ended: no reply.
			if len(body) > 0 || eos {
				out = append(out, streamedResponse(body, eos))
			}
		}
	case *extprocv3.ProcessingRequest_RequestTrailers:
		out = append(out, &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}})
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		if st.respBody == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
			// The trailers end the body: the filter releases what it held
			// back (an event without its blank line). The trailers reply
			// then ends the body for Envoy, so the bytes go first without
			// end_of_stream, as in Envoy's full-duplex integration tests (a
			// body reply with end_of_stream would end the body before the
			// trailers reply, which Envoy then treats as spurious).
			act := x.ResponseBody(nil, true)
			if act.Respond != nil {
				return append(out, immediate(act.Respond)), nil
			}
			if act.ReplaceBody && len(act.Body) > 0 {
				out = append(out, streamedResponse(act.Body, false))
			}
		}
		out = append(out, &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}})
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unsupported ext_proc message %T", r)
	}
	st.out = out
	return out, nil
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
	}
	return resp
}

// modeOverride is the mode_override asking for response body mode mode.
// Envoy replaces both body modes on an override; the request body is done
// by now, so NONE there changes nothing. FULL_DUPLEX_STREAMED also asks for
// the response trailers: Envoy's filter configuration requires trailer mode
// SEND with that body mode because, when the body ends with trailers, the
// trailers message is the only end of the body the server sees (Envoy does
// not enforce it on an override, and without it such a body never ends for
// the server).
func modeOverride(mode filterv3.ProcessingMode_BodySendMode) *filterv3.ProcessingMode {
	pm := &filterv3.ProcessingMode{ResponseBodyMode: mode}
	if mode == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		pm.ResponseTrailerMode = filterv3.ProcessingMode_SEND
	}
	return pm
}

// removeContentLength adds content-length to the header reply's removals.
// Envoy drops content-length at header time only for the configured body
// mode, which a mode_override to a streamed mode comes too late to change;
// the filter may then change the body's length (redacting, narrowing).
func removeContentLength(hr *extprocv3.HeadersResponse) {
	if hr.Response == nil {
		hr.Response = &extprocv3.CommonResponse{}
	}
	if hr.Response.HeaderMutation == nil {
		hr.Response.HeaderMutation = &extprocv3.HeaderMutation{}
	}
	hm := hr.Response.HeaderMutation
	hm.RemoveHeaders = append(hm.RemoveHeaders, "content-length")
}

// streamedResponse is a FULL_DUPLEX_STREAMED response body reply: body is
// what continues downstream, endOfStream ends the body.
func streamedResponse(body []byte, endOfStream bool) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{
		Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{
			StreamedResponse: &extprocv3.StreamedBodyResponse{Body: body, EndOfStream: endOfStream},
		}}},
	}}}
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

// responseBodyMode maps the filter's wish for a response body to the
// ext_proc body mode; the filter asks for chunk-by-chunk delivery for event
// streams only, and sse says which streamed mode serves it.
func responseBodyMode(m filter.BodyMode, sse SSEMode) (filterv3.ProcessingMode_BodySendMode, bool) {
	switch m {
	case filter.BodyModeNone:
		return filterv3.ProcessingMode_NONE, true
	case filter.BodyModeBuffered:
		return filterv3.ProcessingMode_BUFFERED, true
	case filter.BodyModeStreamed:
		if sse == SSEFullDuplex {
			return filterv3.ProcessingMode_FULL_DUPLEX_STREAMED, true
		}
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
