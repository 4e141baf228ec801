package envoyemu

import (
	"io"
	"net/http"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Helpers shared by the BUFFERED_PARTIAL, trailers, FULL_DUPLEX_STREAMED and
// observability conformance cases.

// postPieces sends a chunked POST whose body is written in pieces, gap
// apart, followed by trailer (nil: no trailers).
func postPieces(gap time.Duration, trailer http.Header, pieces ...string) func(h *harness) response {
	return func(h *harness) response {
		pr, pw := io.Pipe()
		go func() {
			for i, p := range pieces {
				if i > 0 {
					time.Sleep(gap)
				}
				if _, err := io.WriteString(pw, p); err != nil {
					return
				}
			}
			_ = pw.Close()
		}()
		req := h.newRequest(http.MethodPost, "/", "")
		req.Body = pr
		req.Trailer = trailer
		return h.do(req)
	}
}

// upstreamWithTrailers answers like defaultUpstream and adds the response
// trailers x-test-trailers: Yes (announced) and x-other-trailer: 2.
func upstreamWithTrailers(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Trailer", "X-Test-Trailers")
	_, _ = io.WriteString(w, upstreamText)
	w.Header().Set("X-Test-Trailers", "Yes")
	w.Header().Set(http.TrailerPrefix+"X-Other-Trailer", "2")
}

func streamedBodyMutation(body string, eos bool) *extprocv3.CommonResponse {
	return &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{
		Mutation: &extprocv3.BodyMutation_StreamedResponse{StreamedResponse: &extprocv3.StreamedBodyResponse{
			Body: []byte(body), EndOfStream: eos,
		}},
	}}
}

func requestStreamedReply(body string, eos bool) *extprocv3.ProcessingResponse {
	return requestBodyReply(streamedBodyMutation(body, eos))
}

func responseStreamedReply(body string, eos bool) *extprocv3.ProcessingResponse {
	return responseBodyReply(streamedBodyMutation(body, eos))
}

func requestTrailersReply(m *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{
		RequestTrailers: &extprocv3.TrailersResponse{HeaderMutation: m}}}
}

func responseTrailersReply(m *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{
		ResponseTrailers: &extprocv3.TrailersResponse{HeaderMutation: m}}}
}

// bodyOf returns a body message's bytes and end_of_stream, either direction.
func bodyOf(m *extprocv3.ProcessingRequest) (string, bool) {
	if b := m.GetRequestBody(); b != nil {
		return string(b.GetBody()), b.GetEndOfStream()
	}
	b := m.GetResponseBody()
	return string(b.GetBody()), b.GetEndOfStream()
}

// recvBodyUntil receives body messages of kind until one ends the stream or
// a message of another kind arrives (returned as last, nil at stream end).
func recvBodyUntil(s *procStream, kind string) (body string, n int, last *extprocv3.ProcessingRequest) {
	var b strings.Builder
	for {
		m := s.recv()
		if m == nil || msgKind(m) != kind {
			return b.String(), n, m
		}
		data, eos := bodyOf(m)
		b.WriteString(data)
		n++
		if eos {
			return b.String(), n, m
		}
	}
}

func headerValue(hm *corev3.HeaderMap, key string) string {
	v, _ := headerOf(hm, key)
	return v
}
