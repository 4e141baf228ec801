package envoyemu

import (
	"errors"
	"io"
	"net/http"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Trailers. Go hands over a body's trailers only once the body has been
// read to its end, which is also when Envoy's onTrailers runs: after the last
// data callback, whose end_stream is then false.

// trailerMap converts trailers as Go received them into a headerMap; nil
// when there are none (Go pre-declares announced keys without values).
func trailerMap(t http.Header) *headerMap {
	h := &headerMap{}
	h.appendRegular(t)
	if len(h.entries) == 0 {
		return nil
	}
	return h
}

// hasRequestTrailers reports whether the downstream request ended with
// trailers; only meaningful once its body has been read to the end.
func (ex *exchange) hasRequestTrailers() bool { return trailerMap(ex.r.Trailer) != nil }

// sendTrailers sends d's trailers message; false when nothing was sent.
func (ex *exchange) sendTrailers(d *direction, t *headerMap) bool {
	ht := &extprocv3.HttpTrailers{Trailers: t.toProto(ex.p.s.forward)}
	req := &extprocv3.ProcessingRequest{}
	if d.isRequest() {
		req.Request = &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: ht}
	} else {
		req.Request = &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: ht}
	}
	return ex.send(d, phaseTrailers, req)
}

// trailerPhase plays d's trailers step on t (Envoy's onTrailers once the
// body is done): a trailers message when the mode says SEND, then the reply's
// header_mutation applied to t under the mutation rules. A failure leaves a
// local reply pending.
func (ex *exchange) trailerPhase(d *direction, t *headerMap) {
	if t == nil || ex.isComplete() || !ex.modeOf(d).sendTrailers {
		return
	}
	if !ex.sendTrailers(d, t) || ex.p.s.observability {
		return
	}
	resp, ok := ex.await(d)
	if !ok {
		return
	}
	if err := ex.applyTrailersReply(t, resp); err != nil {
		ex.fail(err)
		return
	}
	ex.closeIfLast(func() bool { return !d.isRequest() || ex.resp.mode.noExternalProcess() })
}

// applyTrailersReply mirrors ProcessorState::handleTrailersResponse.
func (ex *exchange) applyTrailersReply(t *headerMap, resp *extprocv3.ProcessingResponse) error {
	tr := resp.GetRequestTrailers()
	if tr == nil {
		tr = resp.GetResponseTrailers()
	}
	if m := tr.GetHeaderMutation(); m != nil && t != nil {
		return applyHeaderMutations(m, t, ex.p.s.checker, mutationParams{}, ex.countRejected)
	}
	return nil
}

// trailerStash carries processed request trailers from the goroutine that
// produced the body to the upstream request; it is written before that
// goroutine ends the body, and read once the body reached its end.
type trailerStash struct {
	t       *headerMap
	settled bool // t is final; otherwise the request's own trailers are used
}

// requestTrailerPhase runs the request trailers step once the body has been
// read and stashes the result; errProcessingEnded means a local reply is
// pending.
func (ex *exchange) requestTrailerPhase(tr *trailerStash) error {
	t := trailerMap(ex.r.Trailer)
	ex.trailerPhase(ex.req, t)
	if ex.pendingReply() != nil {
		return errProcessingEnded
	}
	tr.t, tr.settled = t, true
	return nil
}

// requestBody is the upstream body reading rd: when rd ends, the request
// trailers step runs (unless the producer of rd already did, see
// trailerStash) and the resulting trailers are handed to the upstream
// request. Go's transport reads Trailer when the body ends, on the goroutine
// reading it, so the map is only written there.
func (ex *exchange) requestBody(rd io.Reader, tr *trailerStash) upstreamBody {
	trailer := http.Header{}
	return upstreamBody{r: &eofHook{r: rd, hook: func() error {
		if !tr.settled {
			if err := ex.requestTrailerPhase(tr); err != nil {
				return err
			}
		}
		if tr.t != nil {
			for k, vs := range tr.t.httpHeader() {
				trailer[k] = vs
			}
		}
		return nil
	}}, trailer: trailer}
}

// eofHook calls hook once, when r reports io.EOF; a hook error replaces it.
type eofHook struct {
	r    io.Reader
	hook func() error
	done bool
}

func (e *eofHook) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if errors.Is(err, io.EOF) && !e.done {
		e.done = true
		if herr := e.hook(); herr != nil {
			return n, herr
		}
	}
	return n, err
}

// responseTrailers runs the response trailers step and sends the trailers
// downstream; response headers are out, so a failure resets the stream.
func (ex *exchange) responseTrailers(d *direction, resp *http.Response) {
	t := trailerMap(resp.Trailer)
	ex.trailerPhase(d, t)
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return
	}
	ex.writeTrailers(t)
}

// writeTrailers sends t downstream as trailers.
func (ex *exchange) writeTrailers(t *headerMap) {
	if t == nil {
		return
	}
	for k, vs := range t.httpHeader() {
		ex.w.Header()[http.TrailerPrefix+k] = vs
	}
}
