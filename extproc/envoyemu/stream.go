package envoyemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	durationpb "google.golang.org/protobuf/types/known/durationpb"
)

// sideStream is the Process stream of one exchange.
type sideStream struct {
	stream grpc.BidiStreamingClient[extprocv3.ProcessingRequest, extprocv3.ProcessingResponse]
	cancel context.CancelFunc
	closed bool // guarded by the exchange's mu

	sendMu             sync.Mutex
	protocolConfigSent bool // guarded by sendMu
}

// openStream returns the exchange's stream, opening it on first use (Envoy's
// openStream). ok is false when processing is complete, including because
// opening failed.
func (ex *exchange) openStream() (side *sideStream, ok bool) {
	ex.openMu.Lock()
	defer ex.openMu.Unlock()
	ex.mu.Lock()
	complete, side := ex.complete, ex.side
	ex.mu.Unlock()
	if complete {
		return nil, false
	}
	if side != nil {
		return side, true
	}
	parent := ex.ctx
	if ex.p.s.observability {
		// The stream outlives the downstream request by
		// deferred_close_timeout (Envoy's deferredCloseStream).
		parent = context.WithoutCancel(ex.ctx)
	}
	ctx, cancel := context.WithCancel(parent)
	sctx := ctx
	if len(ex.grpcMetadata) > 0 {
		sctx = metadata.NewOutgoingContext(ctx, ex.grpcMetadata)
	}
	stream, err := ex.client.Process(sctx)
	if err != nil {
		cancel()
		ex.onStreamError(err)
		return nil, false
	}
	ex.p.stats.streamsStarted.Add(1)
	side = &sideStream{stream: stream, cancel: cancel}
	ex.mu.Lock()
	ex.side = side
	ex.mu.Unlock()
	go ex.receive(side)
	return side, true
}

// send sends req for direction d, expecting a reply of phase ph. It reports
// false, sending nothing, when processing is already complete.
func (ex *exchange) send(d *direction, ph phase, req *extprocv3.ProcessingRequest) bool {
	side, ok := ex.openStream()
	if !ok {
		return false
	}
	ex.mu.Lock()
	if ex.complete {
		ex.mu.Unlock()
		return false
	}
	req.MetadataContext = ex.metadataContextLocked()
	req.Attributes = ex.attributesLocked(d)
	pc := &extprocv3.ProtocolConfiguration{
		RequestBodyMode:  ex.req.mode.body,
		ResponseBodyMode: ex.resp.mode.body,
	}
	obs := ex.p.s.observability
	switch {
	case obs:
		// Nothing is awaited: no reply, no timer.
		req.ObservabilityMode = true
	case d.mode.duplex() && ph == phaseBody:
		ex.duplexSent = true
	}
	if !obs {
		d.expectLocked(ph)
	}
	ex.mu.Unlock()

	side.sendMu.Lock()
	if !side.protocolConfigSent && !obs {
		req.ProtocolConfig = pc
		side.protocolConfigSent = true
	}
	err := side.stream.Send(req)
	side.sendMu.Unlock()
	if err == nil {
		ex.p.stats.msgsSent.Add(1)
	}
	// A failed Send means the stream ended; receive reports why.
	return true
}

// closeStreamLocked cancels the stream: the server sees CANCELLED, as with
// Envoy's default (non-graceful) close.
func (ex *exchange) closeStreamLocked() {
	if ex.side == nil || ex.side.closed {
		return
	}
	ex.side.closed = true
	if ex.p.s.observability {
		// Deferred close: messages still in flight reach the processor.
		time.AfterFunc(ex.p.s.deferredCloseTimeout, ex.side.cancel)
	} else {
		ex.side.cancel()
	}
	ex.p.stats.streamsClosed.Add(1)
}

// failOpenLocked reports whether failures let the request carry on:
// failure_mode_allow, forced off once a FULL_DUPLEX_STREAMED body chunk was
// sent (the processor drained it; there is nothing to carry on with).
func (ex *exchange) failOpenLocked() bool {
	return ex.failureModeAllow && !ex.duplexSent
}

// receive is the stream's receive loop (Envoy's onReceiveMessage and
// onGrpcError/onGrpcClose).
func (ex *exchange) receive(side *sideStream) {
	for {
		resp, err := side.stream.Recv()
		if err != nil {
			ex.onStreamError(err)
			return
		}
		if deliver := ex.onReply(resp); deliver != nil {
			deliver()
		}
	}
}

// onReply handles one reply under mu. A FULL_DUPLEX_STREAMED reply is not
// bounded by what was sent, so the returned deliver, when not nil, hands it
// to its direction after mu is released (the receive loop is the only
// sender, so order is kept).
func (ex *exchange) onReply(resp *extprocv3.ProcessingResponse) (deliver func()) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.p.s.observability {
		return nil // replies are ignored in observability mode
	}
	if ex.complete {
		return nil // late replies are ignored
	}
	if t := resp.GetOverrideMessageTimeout(); t != nil {
		ex.onNewTimeoutLocked(t)
		return nil
	}
	var d *direction
	var ph phase
	switch r := resp.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		d, ph = ex.req, phaseHeaders
	case *extprocv3.ProcessingResponse_RequestBody:
		d, ph = ex.req, phaseBody
	case *extprocv3.ProcessingResponse_RequestTrailers:
		d, ph = ex.req, phaseTrailers
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		d, ph = ex.resp, phaseHeaders
	case *extprocv3.ProcessingResponse_ResponseBody:
		d, ph = ex.resp, phaseBody
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		d, ph = ex.resp, phaseTrailers
	case *extprocv3.ProcessingResponse_ImmediateResponse:
		if ex.p.s.disableImmediateResponse {
			ex.spuriousLocked("unhandled immediate response due to config disabled it")
			return
		}
		ex.p.stats.msgsReceived.Add(1)
		ex.setDynamicMetadataLocked(resp)
		ex.finishProcessingLocked(verdict{reply: immediateReply(r.ImmediateResponse)})
		return nil
	default:
		ex.spuriousLocked("unhandled message")
		return nil
	}
	duplex := d.mode.duplex() && ph != phaseHeaders
	if !d.acceptLocked(ph) {
		ex.spuriousLocked("spurious message")
		return nil
	}
	if duplex && ph == phaseBody {
		// handleBodyResponse in FULL_DUPLEX_STREAMED: only streamed_response.
		sr := bodyReplyOf(resp).GetResponse().GetBodyMutation().GetStreamedResponse()
		if sr == nil {
			ex.spuriousLocked("spurious message: FULL_DUPLEX_STREAMED body reply without streamed_response")
			return nil
		}
		if sr.GetEndOfStream() {
			d.duplexEnded = true
		}
	}
	ex.p.stats.msgsReceived.Add(1)
	if ph == phaseHeaders {
		ex.applyModeOverrideLocked(resp.GetModeOverride())
	}
	ex.setDynamicMetadataLocked(resp)
	if !duplex {
		d.replies <- resp // never blocks: capacity exceeds the outstanding bound
		return nil
	}
	return func() {
		select {
		case d.replies <- resp:
		case <-ex.ctx.Done():
		}
	}
}

// bodyReplyOf returns the BodyResponse of either direction.
func bodyReplyOf(resp *extprocv3.ProcessingResponse) *extprocv3.BodyResponse {
	if br := resp.GetRequestBody(); br != nil {
		return br
	}
	return resp.GetResponseBody()
}

// applyModeOverrideLocked mirrors the mode_override handling of Envoy's
// onReceiveMessage for a reply to a headers message.
func (ex *exchange) applyModeOverrideLocked(override *filterv3.ProcessingMode) {
	s := ex.p.s
	// Not when the filter's own body mode is FULL_DUPLEX_STREAMED
	// (processor_state's setProcessingMode).
	if override == nil || !s.allowModeOverride || isDuplex(s.mode) {
		return
	}
	mode := effectiveModeOverride(override, s.mode)
	if !overrideAllowed(mode, s.allowedOverrideModes) ||
		!bodyModeEmulated(mode.GetRequestBodyMode()) || !bodyModeEmulated(mode.GetResponseBodyMode()) {
		ex.p.stats.modeOverridesIgnored.Add(1)
		return
	}
	ex.req.mode = requestMode(mode)
	ex.resp.mode = responseMode(mode)
}

// onNewTimeoutLocked handles override_message_timeout (Envoy's onNewTimeout).
func (ex *exchange) onNewTimeoutLocked(t *durationpb.Duration) {
	st := &ex.p.stats
	if t.CheckValid() != nil {
		st.overrideTimeoutIgnored.Add(1)
		return
	}
	timeout := t.AsDuration()
	if timeout < time.Millisecond || timeout > ex.p.s.maxMessageTimeout {
		st.overrideTimeoutIgnored.Add(1)
		return
	}
	restartedReq := ex.req.restartTimerLocked(timeout)
	restartedResp := ex.resp.restartTimerLocked(timeout)
	if !restartedReq && !restartedResp {
		st.overrideTimeoutIgnored.Add(1)
		return
	}
	st.overrideTimeoutReceived.Add(1)
}

// spuriousLocked handles an out-of-order or unknown reply: fail-open ignores
// the processor from now on, fail-closed sends a local reply.
func (ex *exchange) spuriousLocked(reason string) {
	ex.p.stats.spurious.Add(1)
	if ex.failOpenLocked() {
		ex.p.stats.failureModeAllowed.Add(1)
		ex.finishProcessingLocked(verdict{})
		return
	}
	ex.finishProcessingLocked(verdict{reply: ex.errorReply(reason)})
}

// onSpurious is spuriousLocked for callers not holding mu.
func (ex *exchange) onSpurious(reason string) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if !ex.complete {
		ex.spuriousLocked(reason)
	}
}

// onStreamError handles the end of the stream or a failure to open it.
func (ex *exchange) onStreamError(err error) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.complete {
		return
	}
	st := &ex.p.stats
	switch {
	case errors.Is(err, io.EOF):
		// The server closed the stream with OK: processing stops and the
		// request carries on unprocessed (Envoy's onGrpcClose).
		st.streamsClosed.Add(1)
		ex.finishProcessingLocked(verdict{})
	case ex.ctx.Err() != nil:
		// The downstream request went away; nothing left to answer.
		ex.finishProcessingLocked(verdict{})
	default:
		s := status.Convert(err)
		st.streamsFailed.Add(1)
		if ex.failOpenLocked() {
			st.failureModeAllowed.Add(1)
			ex.finishProcessingLocked(verdict{})
			return
		}
		ex.finishProcessingLocked(verdict{reply: &localReply{
			status:  ex.p.s.statusOnError,
			details: fmt.Sprintf("ext_proc_error_gRPC_error_%d{%s}", s.Code(), s.Message()),
		}})
	}
}

// onMessageTimeout fires when a direction's message timer expires.
func (ex *exchange) onMessageTimeout(d *direction, gen uint64) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.complete || d.timerGen != gen {
		return
	}
	ex.p.stats.messageTimeouts.Add(1)
	if ex.failOpenLocked() {
		ex.p.stats.failureModeAllowed.Add(1)
		ex.finishProcessingLocked(verdict{})
		return
	}
	ex.finishProcessingLocked(verdict{reply: &localReply{
		status:  504,
		details: "ext_proc_error_per-message_timeout_exceeded",
	}})
}
