package envoyemu

import (
	"errors"
	"io"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// NewNoopServer returns an ExternalProcessor that answers every message with
// an empty CONTINUE of the matching oneof and never mutates anything: the
// baseline for benchmarks and a stand-in processor for tests. Observability
// mode messages get no reply. A stream ending by EOF or cancellation is a
// normal end.
func NewNoopServer() extprocv3.ExternalProcessorServer {
	return noopServer{}
}

type noopServer struct {
	extprocv3.UnimplementedExternalProcessorServer
}

func (noopServer) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		if err != nil {
			return err
		}
		resp := continueReply(req)
		if resp == nil {
			continue
		}
		if err := stream.Send(resp); err != nil {
			return nil // the client went away
		}
	}
}

// continueReply is the empty CONTINUE answering req, or nil when req needs no
// answer.
func continueReply(req *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	if req.GetObservabilityMode() {
		return nil
	}
	resp := &extprocv3.ProcessingResponse{}
	switch req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		resp.Response = &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{}}
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		resp.Response = &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{}}
	case *extprocv3.ProcessingRequest_RequestBody:
		resp.Response = &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{}}
	case *extprocv3.ProcessingRequest_ResponseBody:
		resp.Response = &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{}}
	case *extprocv3.ProcessingRequest_RequestTrailers:
		resp.Response = &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		resp.Response = &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}
	default:
		return nil
	}
	return resp
}
