package envoyemu

import (
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// phase is the kind of message a direction waits a reply for.
type phase int

const (
	phaseIdle phase = iota
	phaseHeaders
	phaseBody
	phaseTrailers
)

func (p phase) String() string {
	switch p {
	case phaseHeaders:
		return "headers"
	case phaseBody:
		return "body"
	case phaseTrailers:
		return "trailers"
	default:
		return "idle"
	}
}

// trafficDirection says which half of the exchange a direction plays.
type trafficDirection int

const (
	inbound  trafficDirection = iota // the request: Envoy's decoding side
	outbound                         // the response: Envoy's encoding side
)

// maxOutstandingChunks bounds how many STREAMED chunks may await replies, in
// addition to Envoy's byte bound (BufferLimit); it also sizes the reply queue.
const maxOutstandingChunks = 128

// direction is the state machine of one traffic direction (Envoy's
// DecodingProcessorState or EncodingProcessorState). Fields after replies are
// guarded by the exchange's mu.
type direction struct {
	ex      *exchange
	traffic trafficDirection
	// replies carries accepted replies, in order, from the receive loop to the
	// goroutine driving this direction.
	replies chan *extprocv3.ProcessingResponse

	mode           directionMode
	awaiting       phase
	outstanding    int
	sentAttributes bool
	// headersSent records that a headers message went out: only then can a
	// BUFFERED body reply still mutate the headers (Envoy's headers_).
	headersSent bool

	timer              *time.Timer
	timerGen           uint64
	newTimeoutReceived bool

	// FULL_DUPLEX_STREAMED keeps no per-message count: after the headers
	// reply any number of body replies may come until one ends the body
	// (end_of_stream) or the trailers reply does.
	duplexTrailersSent bool
	duplexEnded        bool
}

func newDirection(ex *exchange, traffic trafficDirection, mode directionMode) *direction {
	return &direction{
		ex:      ex,
		traffic: traffic,
		replies: make(chan *extprocv3.ProcessingResponse, maxOutstandingChunks+2),
		mode:    mode,
	}
}

func (d *direction) isRequest() bool { return d.traffic == inbound }

// expectLocked records one more outstanding message of phase ph and
// (re)arms the message timer, as Envoy's onStartProcessorCall does on every
// send.
func (d *direction) expectLocked(ph phase) {
	if d.mode.duplex() {
		// No message timer in FULL_DUPLEX_STREAMED (Envoy's
		// onStartProcessorCall): the connection manager's stream idle
		// timeout governs.
		switch ph {
		case phaseHeaders:
			d.awaiting = ph
			d.outstanding++
		case phaseTrailers:
			d.duplexTrailersSent = true
		}
		return
	}
	d.awaiting = ph
	d.outstanding++
	d.armTimerLocked(d.ex.p.s.messageTimeout)
	d.newTimeoutReceived = false
}

// acceptLocked consumes one outstanding message of phase ph; false means the
// reply is spurious.
func (d *direction) acceptLocked(ph phase) bool {
	if d.mode.duplex() && ph != phaseHeaders {
		// Headers must be answered first (ProcessorState's callback state);
		// then body replies until the body ended, or the trailers reply.
		if d.awaiting == phaseHeaders || d.duplexEnded {
			return false
		}
		if ph == phaseTrailers {
			if !d.duplexTrailersSent {
				return false
			}
			d.duplexEnded = true
		}
		return true
	}
	if d.awaiting != ph || d.outstanding == 0 {
		return false
	}
	d.outstanding--
	if d.outstanding == 0 {
		d.awaiting = phaseIdle
		d.stopTimerLocked()
	} else {
		// Envoy stops the timer on every reply and re-arms it on the next
		// send; pipelined chunks keep a timer running instead, so a processor
		// that stops answering mid-stream still times out.
		d.armTimerLocked(d.ex.p.s.messageTimeout)
	}
	return true
}

func (d *direction) armTimerLocked(timeout time.Duration) {
	d.stopTimerLocked()
	gen := d.timerGen
	d.timer = time.AfterFunc(timeout, func() { d.ex.onMessageTimeout(d, gen) })
}

func (d *direction) stopTimerLocked() {
	d.timerGen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// restartTimerLocked handles override_message_timeout: only a running timer,
// and only once per sent message.
func (d *direction) restartTimerLocked(timeout time.Duration) bool {
	if d.timer == nil || d.newTimeoutReceived {
		return false
	}
	d.armTimerLocked(timeout)
	d.newTimeoutReceived = true
	return true
}
