package envoyemu

import (
	"bytes"
	"errors"
	"io"
)

// BUFFERED_PARTIAL (Envoy's onData for BUFFERED_PARTIAL): the body is
// queued until it ends or the queue grows past the buffer limit, then what
// was queued goes to the processor as one message, with end_of_stream only
// when the body really ended there (not when the limit was hit, nor when
// trailers follow). The headers are held until that reply, which may still
// mutate them; the reply's body mutation applies to the queued bytes; all
// later data passes unprocessed. content-length was removed at header time.
// Unlike BUFFERED, going over the limit is not an error.

// bufferPartial queues src until its end (eof) or past the buffer limit. It
// returns errProcessingEnded, with what it has read so far, when processing
// ended meanwhile.
func (ex *exchange) bufferPartial(src *chunkReader) (data []byte, eof bool, err error) {
	for {
		select {
		case rr := <-src.results:
			data = append(data, rr.data...)
			if errors.Is(rr.err, io.EOF) {
				return data, true, nil
			}
			if rr.err != nil {
				return nil, false, rr.err
			}
			if len(data) > ex.p.s.bufferLimit {
				return data, false, nil
			}
		case <-ex.done:
			return data, false, errProcessingEnded
		case <-ex.ctx.Done():
			return nil, false, ex.ctx.Err()
		}
	}
}

// partialRequest handles a BUFFERED_PARTIAL request body.
func (ex *exchange) partialRequest(d *direction, src *chunkReader) (upstreamBody, bool) {
	tr := &trailerStash{}
	data, eof, err := ex.bufferPartial(src)
	switch {
	case errors.Is(err, errProcessingEnded):
		if lr := ex.pendingReply(); lr != nil {
			ex.writeLocalReply(lr)
			return upstreamBody{}, false
		}
		return ex.requestBody(src.rest(data), tr), true
	case err != nil:
		return upstreamBody{}, false // the client went away mid-body
	}
	out, err := ex.bufferedPhase(d, ex.reqHeaders, data, eof && !ex.hasRequestTrailers())
	if err != nil {
		ex.fail(err)
	}
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return upstreamBody{}, false
	}
	var rd io.Reader = bytes.NewReader(out)
	if !eof {
		rd = io.MultiReader(rd, src.rest(nil))
	}
	return ex.requestBody(rd, tr), true
}

// partialResponse handles a BUFFERED_PARTIAL response body; false means a
// local reply was sent instead.
func (ex *exchange) partialResponse(d *direction, h *headerMap, src *chunkReader, hasTrailers func() bool) bool {
	data, eof, err := ex.bufferPartial(src)
	switch {
	case errors.Is(err, errProcessingEnded):
		if lr := ex.pendingReply(); lr != nil {
			ex.writeLocalReply(lr)
			return false
		}
		ex.writeHeaders(h)
		ex.copyDownstream(src.rest(data))
		return true
	case err != nil:
		ex.resetDownstream()
	}
	out, err := ex.bufferedPhase(d, h, data, eof && !hasTrailers())
	if err != nil {
		ex.fail(err)
	}
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return false
	}
	ex.writeHeaders(h)
	if err := ex.writeDownstream(out); err != nil || eof {
		return err == nil
	}
	ex.copyDownstream(src.rest(nil))
	return true
}
