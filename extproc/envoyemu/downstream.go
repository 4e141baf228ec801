package envoyemu

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// The downstream request body and Go's HTTP/1 server.
//
// ServeHTTP enables full duplex, so net/http leaves the request body alone
// while the response is written and only settles it once the handler has
// returned: finishRequest first aborts its background connection read and
// then Closes the body, which drains up to 256 KiB of what is unread. If
// that drain reaches the end of the body, the body's EOF hook starts a new
// background read that nothing aborts, and the server's read of the next
// keep-alive request panics with "invalid concurrent Body.Read call"
// (golang/go#68560). Likewise a body read that is still running, or that
// starts, after ServeHTTP returned races the server's own reads; and a read
// deadline that cuts a connection read short cancels the connection's
// context, i.e. that of every later request on it.
//
// So the exchange owns the body: only one goroutine (ex.down) ever reads it,
// the upstream request is fed from that goroutine, and before ServeHTTP
// returns the goroutine has exited and the body either has been read to its
// end inside the handler (net/http then aborts the background read it
// started) or the response said Connection: close, as Envoy's connection
// manager closes an HTTP/1 connection whose response starts before its
// request is complete (downstream_rq_response_before_rq_complete).

const (
	// drainGrace bounds how long the exchange waits for the rest of a request
	// body it has no use for, and how long net/http may linger draining an
	// unfinished body behind a closing connection.
	drainGrace = 50 * time.Millisecond
	// drainLimit is the most the exchange reads of a body it has no use for
	// (net/http's maxPostHandlerReadBytes).
	drainLimit = 256 << 10
)

func (ex *exchange) noRequestBody() bool {
	return ex.r.Body == nil || ex.r.Body == http.NoBody
}

// readDownstream starts reading the downstream request body, once; every
// consumer of the body shares the returned reader. settleDownstream stops it.
func (ex *exchange) readDownstream() *chunkReader {
	if ex.down == nil {
		ex.down = startChunkReader(ex.r.Body)
	}
	return ex.down
}

// discardDownstream drains the downstream body in the background: after a
// CONTINUE_AND_REPLACE headers reply Envoy drains later client data.
func (ex *exchange) discardDownstream() {
	c := ex.readDownstream()
	go func() {
		for {
			select {
			case rr := <-c.results:
				if rr.err != nil {
					return
				}
			case <-c.stop:
				return
			}
		}
	}()
}

// keepAlive decides, as response headers are about to go downstream, whether
// an HTTP/1 connection stays open: only when the request has been received
// completely. A body nothing has read (a local reply to the request headers)
// is drained first for up to drainGrace and drainLimit bytes, standing in for
// what Envoy's codec receives while the filter waits for the processor. It
// must run on the handler goroutine.
func (ex *exchange) keepAlive() bool {
	switch {
	case ex.r.ProtoMajor != 1 || ex.noRequestBody():
		return true
	case ex.down != nil:
		return ex.down.sawEOF()
	case !ex.drainTried:
		ex.drainTried = true
		ex.drained = ex.drainUnread()
	}
	return ex.drained
}

// drainUnread reads and discards the unread request body within drainGrace
// and drainLimit; it reports whether the body ended. A request that expects
// 100-continue is not drained: the client has not sent its body.
func (ex *exchange) drainUnread() bool {
	if strings.EqualFold(ex.r.Header.Get("Expect"), "100-continue") {
		return false
	}
	rc := http.NewResponseController(ex.w)
	if rc.SetReadDeadline(time.Now().Add(drainGrace)) != nil {
		return false
	}
	_, err := io.CopyN(io.Discard, ex.r.Body, drainLimit+1)
	if !errors.Is(err, io.EOF) {
		// Cut short or too long: the connection closes after the response
		// and net/http's own drain stays bounded by the deadline.
		return false
	}
	// At EOF net/http has cleared the deadline and started its background
	// read; clearing it again cannot disturb that read, a past deadline
	// would.
	_ = rc.SetReadDeadline(time.Time{})
	return true
}

// settleDownstream runs as the exchange ends, before ServeHTTP returns. It
// stops the body reader, interrupting a read still waiting on the client
// through the read deadline, and waits for it to exit. An HTTP/1 body left
// unfinished then goes to net/http behind Connection: close (already on the
// response, see keepAlive; set here when no response was written) with
// drainGrace to drain what it can, so that it can close the connection
// gracefully.
func (ex *exchange) settleDownstream() {
	if ex.noRequestBody() {
		return
	}
	rc := http.NewResponseController(ex.w)
	complete := ex.drained
	if c := ex.down; c != nil {
		if c.halt() {
			// Without deadline support the read cannot be interrupted: wait
			// for it anyway, the body must not be read after ServeHTTP
			// returns.
			_ = rc.SetReadDeadline(time.Now())
			complete = false
		} else {
			complete = c.sawEOF() // final: no read runs or will start
		}
		<-c.exited
	}
	if complete || ex.aborting || ex.r.ProtoMajor != 1 {
		return
	}
	if !ex.responseStarted {
		ex.w.Header().Set("Connection", "close")
	}
	_ = rc.SetReadDeadline(time.Now().Add(drainGrace))
}
