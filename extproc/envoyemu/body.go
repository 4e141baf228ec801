package envoyemu

import (
	"errors"
	"io"
	"net/http"
	"sync"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// readSize is the largest chunk one read produces: one data callback, one
// STREAMED body message.
const readSize = 32 * 1024

var (
	errOverLimit       = errors.New("envoyemu: body exceeds the buffer limit")
	errProcessingEnded = errors.New("envoyemu: external processing ended with a local reply")
)

type readResult struct {
	data []byte
	err  error // io.EOF at the end of the body
}

// chunkReader reads a body in its own goroutine so the state machines can
// wait for data, replies, timers and verdicts at once. Reads block on the
// consumer, which is how backpressure reaches the peer.
type chunkReader struct {
	results chan readResult
	stop    chan struct{}
	exited  chan struct{}

	mu      sync.Mutex
	stopped bool // set by halt: no further Read starts
	reading bool // a Read of the source is in progress
	eof     bool // the source returned io.EOF
}

func startChunkReader(src io.Reader) *chunkReader {
	c := &chunkReader{
		results: make(chan readResult),
		stop:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	go func() {
		defer close(c.exited)
		for {
			buf := make([]byte, readSize)
			if !c.beginRead() {
				return
			}
			n, err := src.Read(buf)
			c.endRead(err)
			if n == 0 && err == nil {
				continue
			}
			select {
			case c.results <- readResult{data: buf[:n], err: err}:
			case <-c.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

func (c *chunkReader) beginRead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return false
	}
	c.reading = true
	return true
}

func (c *chunkReader) endRead(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading = false
	if errors.Is(err, io.EOF) {
		c.eof = true
	}
}

// halt stops the reader: consumers see stop closed and no further Read of
// the source starts. It reports whether a Read is still in progress; the
// goroutine exits (exited is closed) once that Read returns.
func (c *chunkReader) halt() (reading bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.stopped = true
		close(c.stop)
	}
	return c.reading
}

// sawEOF reports whether the whole source has been read.
func (c *chunkReader) sawEOF() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eof
}

// readUpstream starts reading the upstream response body; the exchange's
// cancellation and closing the body end a pending read.
func (ex *exchange) readUpstream(body io.ReadCloser) *chunkReader {
	c := startChunkReader(body)
	ex.onFinish(func() {
		c.halt()
		_ = body.Close()
		<-c.exited
	})
	return c
}

// rest returns a reader over prefix followed by everything not yet consumed.
func (c *chunkReader) rest(prefix []byte) io.Reader {
	return &restReader{c: c, cur: prefix}
}

type restReader struct {
	c   *chunkReader
	cur []byte
	err error
}

func (r *restReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		select {
		case rr, ok := <-r.c.results:
			if !ok {
				return 0, io.ErrUnexpectedEOF
			}
			r.cur, r.err = rr.data, rr.err
		case <-r.c.stop:
			return 0, io.ErrUnexpectedEOF
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// bufferBody accumulates a whole body for BUFFERED mode. It returns
// errOverLimit past the buffer limit and errProcessingEnded (with what it has
// read so far) when processing ended meanwhile.
func (ex *exchange) bufferBody(src *chunkReader) ([]byte, error) {
	var data []byte
	for {
		select {
		case rr := <-src.results:
			data = append(data, rr.data...)
			if len(data) > ex.p.s.bufferLimit {
				return nil, errOverLimit
			}
			if errors.Is(rr.err, io.EOF) {
				return data, nil
			}
			if rr.err != nil {
				return nil, rr.err
			}
		case <-ex.done:
			return data, errProcessingEnded
		case <-ex.ctx.Done():
			return nil, ex.ctx.Err()
		}
	}
}

// pendingChunk is a body chunk for the processor; in STREAMED mode, one sent
// and not yet answered.
type pendingChunk struct {
	data        []byte
	endOfStream bool
}

// streamBody runs STREAMED mode for d (Envoy's chunk queue): every read is
// sent as one body message and queued; replies are applied in order and only
// then are the chunk's bytes handed to sink; the end of the body is an empty
// end_of_stream message. Sending stops while more than the buffer limit (or
// maxOutstandingChunks chunks) await replies. If processing ends with a
// continue verdict, queued and later bytes flow unprocessed; a local-reply
// verdict returns errProcessingEnded.
//
// When trailers reports that trailers follow the body, no end_of_stream
// message is sent: the trailers message ends the body (Envoy never sees
// end_stream on data then).
func (ex *exchange) streamBody(d *direction, src *chunkReader, sink func([]byte) error, trailers func() bool) error {
	var queue []pendingChunk
	queued := 0
	srcDone, processing := false, true

	apply := func(resp *extprocv3.ProcessingResponse) error {
		head := queue[0]
		out, err := ex.applyStreamedReply(d, resp, head.data)
		if err != nil {
			ex.onSpurious(err.Error()) // head stays queued
			return nil
		}
		queue, queued = queue[1:], queued-len(head.data)
		if len(out) > 0 {
			if err := sink(out); err != nil {
				return err
			}
		}
		if head.endOfStream {
			ex.closeIfLast(func() bool { return !d.isRequest() || ex.resp.mode.noExternalProcess() })
		}
		return nil
	}
	// stop handles the end of processing: replies accepted before it are
	// applied, then the verdict decides.
	stop := func() error {
		for drained := false; !drained; {
			select {
			case resp := <-d.replies:
				if err := apply(resp); err != nil {
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
		for _, c := range queue {
			if err := sink(c.data); err != nil {
				return err
			}
		}
		queue, queued = nil, 0
		return nil
	}
	send := func(c pendingChunk) error {
		if processing && ex.sendBody(d, c) {
			queue = append(queue, c)
			queued += len(c.data)
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
		return sink(c.data)
	}

	for !srcDone || len(queue) > 0 {
		results := src.results
		if srcDone || (processing && (queued > ex.p.s.bufferLimit || len(queue) >= maxOutstandingChunks)) {
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
			if len(rr.data) > 0 {
				err = send(pendingChunk{data: rr.data})
			}
			if err == nil && rr.err != nil {
				srcDone = true
				if !trailers() {
					err = send(pendingChunk{endOfStream: true})
				}
			}
		case resp := <-d.replies:
			err = apply(resp)
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

// applyStreamedReply applies a STREAMED body reply to its chunk (Envoy's
// handleStreamedBodyResponse): header mutations are ignored, and a
// streamed_response is spurious outside FULL_DUPLEX_STREAMED.
func (ex *exchange) applyStreamedReply(d *direction, resp *extprocv3.ProcessingResponse, data []byte) ([]byte, error) {
	br := resp.GetRequestBody()
	if !d.isRequest() {
		br = resp.GetResponseBody()
	}
	bm := br.GetResponse().GetBodyMutation()
	if bm.GetStreamedResponse() != nil {
		return nil, errors.New("spurious message: streamed_response is received while body_mode_ is not FULL_DUPLEX_STREAMED")
	}
	if bm != nil {
		data = applyBodyMutation(bm, data)
	}
	ex.clearRouteCache(d, br.GetResponse())
	return data, nil
}

// writeDownstream writes and flushes response bytes.
func (ex *exchange) writeDownstream(p []byte) error {
	if _, err := ex.w.Write(p); err != nil {
		return err
	}
	ex.flush()
	return nil
}

func (ex *exchange) flush() {
	_ = http.NewResponseController(ex.w).Flush()
}

// copyDownstream streams src downstream, flushing every read so that event
// streams pass through; an upstream failure resets the downstream stream.
func (ex *exchange) copyDownstream(src io.Reader) {
	buf := make([]byte, readSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if werr := ex.writeDownstream(buf[:n]); werr != nil {
				return
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			ex.resetDownstream()
		}
	}
}

// resetDownstream aborts the downstream stream, as Envoy resets it when the
// upstream fails mid-response.
func (ex *exchange) resetDownstream() {
	ex.aborting = true
	ex.result.Reset = true
	ex.p.stats.downstreamResets.Add(1)
	panic(http.ErrAbortHandler)
}
