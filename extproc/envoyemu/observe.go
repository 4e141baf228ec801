package envoyemu

import (
	"errors"
	"io"
)

// Observability mode (observability_mode): every message is flagged
// observability_mode and sent without waiting; replies are ignored, so
// nothing the processor says has any effect; there is no protocol_config
// and no message timer. Headers continue at once (content-length is kept),
// only a STREAMED body is sent (one message per read, then an empty
// end_of_stream message unless trailers follow), other body modes send
// nothing, trailers are sent when their mode is SEND. The stream is closed
// deferred_close_timeout after the request ended.

// observe passes src through unchanged, sending every read of it to the
// processor as a body message of d (one per data callback, end_of_stream on
// the last one unless trailers follow).
func (ex *exchange) observe(d *direction, src *chunkReader, trailers func() bool) io.Reader {
	return &observedReader{ex: ex, d: d, src: src, trailers: trailers}
}

type observedReader struct {
	ex       *exchange
	d        *direction
	src      *chunkReader
	trailers func() bool
	cur      []byte
	err      error
}

func (o *observedReader) Read(p []byte) (int, error) {
	for len(o.cur) == 0 {
		if o.err != nil {
			return 0, o.err
		}
		select {
		case rr := <-o.src.results:
			o.cur, o.err = rr.data, rr.err
			eof := errors.Is(rr.err, io.EOF)
			if len(rr.data) > 0 || (eof && !o.trailers()) {
				o.ex.sendBody(o.d, pendingChunk{data: rr.data, endOfStream: eof && !o.trailers()})
			}
		case <-o.src.stop:
			return 0, io.ErrUnexpectedEOF
		}
	}
	n := copy(p, o.cur)
	o.cur = o.cur[n:]
	return n, nil
}
