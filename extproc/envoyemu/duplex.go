package envoyemu

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// FULL_DUPLEX_STREAMED. Every read of the body goes to the processor as it
// arrives, even while the headers message is unanswered, and Envoy keeps no
// copy: what continues is only what the processor sends back. The processor
// must answer the headers first (a body reply before that is spurious), then
// may send any number of BodyResponse{streamed_response}, re-chunking freely;
// the body ends with a streamed_response carrying end_of_stream or, when the
// body had trailers, with the trailers reply. The end of the client's body is
// an end_of_stream body message (on the last data read, or empty), or the
// trailers message when trailers follow. Plain body or clear_body mutations
// are spurious, header mutations on body replies are ignored, there is no
// message timer and failure_mode_allow is off once a chunk went out.

// duplexHeadersFirst reports whether d's headers message must be sent with
// the body flowing behind it, i.e. d is FULL_DUPLEX_STREAMED with headers
// SEND and processing goes on.
func (ex *exchange) duplexHeadersFirst(d *direction) bool {
	if ex.p.s.observability || ex.isComplete() {
		return false
	}
	m := ex.modeOf(d)
	return m.duplex() && m.sendHeaders
}

// duplexParams connects duplexBody to its direction.
type duplexParams struct {
	// onHeaders, when not nil, is handed the headers reply: the headers
	// message is still unanswered when the body starts.
	onHeaders func(*extprocv3.ProcessingResponse)
	// sink receives the processor's body bytes (or, once processing ended
	// without a local reply, the unprocessed rest of the body).
	sink func([]byte) error
	// trailers returns the direction's trailers; called once src ended.
	trailers func() *headerMap
	// setTrailers receives the trailers to forward, once final.
	setTrailers func(*headerMap)
}

// duplexBody runs FULL_DUPLEX_STREAMED for d until both the source and the
// processor are done. It returns errProcessingEnded when processing ended
// with a local reply.
func (ex *exchange) duplexBody(d *direction, src *chunkReader, p duplexParams) error {
	srcDone, procDone, processing := false, false, true
	var trailers *headerMap

	handle := func(resp *extprocv3.ProcessingResponse) error {
		switch {
		case resp.GetRequestHeaders() != nil || resp.GetResponseHeaders() != nil:
			if p.onHeaders != nil {
				p.onHeaders(resp)
			}
			return nil
		case resp.GetRequestTrailers() != nil || resp.GetResponseTrailers() != nil:
			if err := ex.applyTrailersReply(trailers, resp); err != nil {
				ex.fail(err)
				return errProcessingEnded
			}
			p.setTrailers(trailers)
			procDone = true
		default:
			ex.clearRouteCache(d, bodyReplyOf(resp).GetResponse())
			sr := bodyReplyOf(resp).GetResponse().GetBodyMutation().GetStreamedResponse()
			if len(sr.GetBody()) > 0 {
				if err := p.sink(sr.GetBody()); err != nil {
					return err
				}
			}
			procDone = sr.GetEndOfStream()
		}
		if procDone {
			ex.closeIfLast(func() bool { return !d.isRequest() || ex.resp.mode.noExternalProcess() })
		}
		return nil
	}
	// stop handles the end of processing: replies accepted before it are
	// applied; without a local reply the rest of the body goes on
	// unprocessed (what the processor drained is lost).
	stop := func() error {
		for drained := false; !drained; {
			select {
			case resp := <-d.replies:
				if err := handle(resp); err != nil {
					return err
				}
			default:
				drained = true
			}
		}
		if ex.pendingReply() != nil {
			return errProcessingEnded
		}
		processing = false
		if !procDone {
			procDone = true
			if srcDone {
				p.setTrailers(trailers)
			}
		}
		return nil
	}
	// send sends one body message, or passes data on once processing ended.
	send := func(c pendingChunk) error {
		if processing && ex.sendBody(d, c) {
			return nil
		}
		if processing {
			if err := stop(); err != nil {
				return err
			}
		}
		if len(c.data) == 0 {
			return nil
		}
		return p.sink(c.data)
	}

	for !srcDone || !procDone {
		results := src.results
		if srcDone {
			results = nil
		}
		done := ex.done
		if !processing {
			done = nil
		}
		var err error
		select {
		case rr := <-results:
			if rr.err != nil && !errors.Is(rr.err, io.EOF) {
				return rr.err
			}
			eof := rr.err != nil
			if eof {
				srcDone = true
				trailers = p.trailers()
			}
			switch {
			case !processing:
				if len(rr.data) > 0 {
					err = p.sink(rr.data)
				}
				if err == nil && eof {
					p.setTrailers(trailers)
				}
			case procDone:
				// The processor ended the body: the rest is drained.
			default:
				// With trailers the body does not end on data; they are only
				// sent with trailer mode SEND (required by Envoy's config
				// check, not for a mode_override: then nothing ends the body
				// for the processor, as in Envoy).
				withTrailers := eof && trailers != nil
				if len(rr.data) > 0 || (eof && !withTrailers) {
					err = send(pendingChunk{data: rr.data, endOfStream: eof && !withTrailers})
				}
				if err == nil && withTrailers && processing && ex.modeOf(d).sendTrailers && !ex.sendTrailers(d, trailers) {
					err = stop()
					if err == nil {
						p.setTrailers(trailers)
					}
				}
			}
		case resp := <-d.replies:
			err = handle(resp)
		case <-done:
			err = stop()
		case <-ex.ctx.Done():
			err = ex.ctx.Err()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// duplexRequest plays a FULL_DUPLEX_STREAMED request with headers SEND: the
// body flows to the processor while the headers reply is awaited.
func (ex *exchange) duplexRequest(d *direction) (upstreamBody, bool) {
	h := ex.reqHeaders
	sent := ex.sendHeaders(d, h, false)
	ex.removeContentLengthIfNeeded(d, h)
	src := ex.readDownstream()
	if !sent {
		if lr := ex.pendingReply(); lr != nil {
			ex.writeLocalReply(lr)
			return upstreamBody{}, false
		}
		return ex.requestBody(src.rest(nil), &trailerStash{}), true
	}
	replies := make(chan *extprocv3.ProcessingResponse, 1)
	settled := make(chan struct{})
	var once sync.Once
	settle := func() { once.Do(func() { close(settled) }) }
	body := ex.duplexRequestBody(src, func(resp *extprocv3.ProcessingResponse) {
		replies <- resp
		settle()
	}, settle)

	var resp *extprocv3.ProcessingResponse
	select {
	case resp = <-replies:
	case <-settled:
		select {
		case resp = <-replies:
		default:
		}
	case <-ex.ctx.Done():
		return upstreamBody{}, false
	}
	if resp != nil {
		if _, err := ex.applyHeadersReply(d, h, resp.GetRequestHeaders()); err != nil {
			ex.fail(err)
		}
	}
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return upstreamBody{}, false
	}
	return body, true
}

// duplexRequestBody runs the FULL_DUPLEX_STREAMED request body in its own
// goroutine, feeding the upstream request through a pipe. onHeaders is as in
// duplexParams; settled, when not nil, is called once the loop will hand over
// no headers reply anymore.
func (ex *exchange) duplexRequestBody(src *chunkReader, onHeaders func(*extprocv3.ProcessingResponse), settled func()) upstreamBody {
	pr, pw := io.Pipe()
	exited := make(chan struct{})
	tr := &trailerStash{}
	go func() {
		defer close(exited)
		if settled != nil {
			defer settled()
		}
		err := ex.duplexBody(ex.req, src, duplexParams{
			onHeaders: onHeaders,
			sink: func(p []byte) error {
				if settled != nil {
					settled() // body bytes come only after the headers reply
				}
				_, err := pw.Write(p)
				return err
			},
			trailers:    func() *headerMap { return trailerMap(ex.r.Trailer) },
			setTrailers: func(t *headerMap) { tr.t, tr.settled = t, true },
		})
		if err == nil && !tr.settled {
			tr.settled = true // the processor ended the body: no trailers
		}
		_ = pw.CloseWithError(err)
	}()
	ex.onFinish(func() {
		_ = pr.CloseWithError(context.Canceled)
		<-exited
	})
	return ex.requestBody(pr, tr)
}

// duplexResponse plays a FULL_DUPLEX_STREAMED response on the handler
// goroutine; headersPending says the headers message is still to be sent
// (headers SEND), otherwise the headers go downstream first.
func (ex *exchange) duplexResponse(d *direction, h *headerMap, resp *http.Response, headersPending bool) {
	if headersPending {
		ex.sendHeaders(d, h, false)
		ex.removeContentLengthIfNeeded(d, h)
	}
	src := ex.readUpstream(resp.Body)
	ensureHeaders := func() {
		if !ex.responseStarted {
			ex.writeHeaders(h)
			ex.flush()
		}
	}
	if !headersPending {
		ensureHeaders()
	}
	var trailers *headerMap
	err := ex.duplexBody(d, src, duplexParams{
		onHeaders: func(r *extprocv3.ProcessingResponse) {
			if _, err := ex.applyHeadersReply(d, h, r.GetResponseHeaders()); err != nil {
				ex.fail(err)
				return
			}
			ensureHeaders()
		},
		sink: func(p []byte) error {
			ensureHeaders()
			return ex.writeDownstream(p)
		},
		trailers:    func() *headerMap { return trailerMap(resp.Trailer) },
		setTrailers: func(t *headerMap) { trailers = t },
	})
	if errors.Is(err, errProcessingEnded) {
		if lr := ex.pendingReply(); lr != nil {
			ex.writeLocalReply(lr) // resets the stream once headers are out
			return
		}
	}
	if err != nil {
		ex.resetDownstream()
	}
	ensureHeaders()
	ex.writeTrailers(trailers)
}
