package envoyemu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"
	structpb "google.golang.org/protobuf/types/known/structpb"
)

// exchange is one downstream request/response and its Process stream: the
// emulated ext_proc filter instance.
type exchange struct {
	p      *Proxy
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	cancel context.CancelFunc

	reqHeaders *headerMap
	req, resp  *direction

	// The ext_proc settings of this request: the filter configuration with
	// the route's ExtProcPerRoute applied (see applyPerRoute). Set before the
	// stream opens, then read-only.
	client               extprocv3.ExternalProcessorClient
	grpcMetadata         metadata.MD
	failureModeAllow     bool
	forwardingNamespaces []string
	receivingNamespaces  []string

	openMu sync.Mutex // serialises opening the stream

	mu          sync.Mutex
	respHeaders *headerMap
	side        *sideStream
	complete    bool // Envoy's processing_complete_
	duplexSent  bool // a FULL_DUPLEX_STREAMED body chunk went out
	verdict     verdict
	done        chan struct{} // closed when complete becomes true
	metadata    map[string]*structpb.Struct
	// The cached route (nil: none matched), the part of :path it matched,
	// and whether a reply cleared the route cache (see router.go).
	route        *route
	matched      string
	routeName    string // xds.route_name
	routeCleared bool

	// Owned by the handler goroutine.
	down            *chunkReader // the downstream body's only reader, once started
	drainTried      bool         // keepAlive drained the unread body...
	drained         bool         // ...to its end
	aborting        bool         // the handler is panicking with http.ErrAbortHandler
	responseStarted bool
	result          Result
	cleanups        []func()
}

func newExchange(p *Proxy, w http.ResponseWriter, r *http.Request) *exchange {
	ctx, cancel := context.WithCancel(r.Context())
	ex := &exchange{
		p:        p,
		w:        w,
		r:        r,
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
		metadata: map[string]*structpb.Struct{},
		result:   Result{Method: r.Method, Path: requestPath(r)},
	}
	ex.req = newDirection(ex, inbound, requestMode(p.s.mode))
	ex.resp = newDirection(ex, outbound, responseMode(p.s.mode))
	return ex
}

// run plays the request direction, forwards upstream and plays the response
// direction.
func (ex *exchange) run() {
	body, ok := ex.processRequest()
	if !ok {
		return
	}
	// The body is closed by readUpstream's finish hook (or by forward on
	// failure), whichever path processResponse takes.
	resp, ok := ex.forward(body) //nolint:bodyclose // see above
	if !ok {
		return
	}
	ex.processResponse(resp)
}

// finish is Envoy's onDestroy: processing ends, the stream is closed and
// everything the exchange started is stopped.
func (ex *exchange) finish() {
	ex.mu.Lock()
	ex.finishProcessingLocked(verdict{})
	ex.mu.Unlock()
	ex.cancel()
	for i := len(ex.cleanups) - 1; i >= 0; i-- {
		ex.cleanups[i]()
	}
	ex.settleDownstream()
	if ex.p.observer != nil {
		ex.mu.Lock()
		ex.result.RouteName = ex.routeName
		ex.mu.Unlock()
		ex.result.DynamicMetadata = ex.metadataSnapshot()
		ex.p.observer(ex.result)
	}
}

func (ex *exchange) onFinish(f func()) { ex.cleanups = append(ex.cleanups, f) }

// finishProcessingLocked ends external processing, once, with v.
func (ex *exchange) finishProcessingLocked(v verdict) {
	if ex.complete {
		return
	}
	ex.complete = true
	ex.verdict = v
	ex.req.stopTimerLocked()
	ex.resp.stopTimerLocked()
	ex.closeStreamLocked()
	close(ex.done)
}

// fail ends processing with a local reply carrying status_on_error (Envoy's
// handleErrorResponse), e.g. for a rejected mutation.
func (ex *exchange) fail(err error) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.finishProcessingLocked(verdict{reply: ex.errorReply(err.Error())})
}

// closeIfLast ends processing normally when last reports that no further
// reply is expected (Envoy's closeGrpcStreamIfLastRespReceived).
func (ex *exchange) closeIfLast(last func() bool) {
	if ex.p.s.observability {
		return // the stream lives until the request ends, then some more
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if last() {
		ex.finishProcessingLocked(verdict{})
	}
}

// pendingReply returns the local reply processing ended with, if any.
func (ex *exchange) pendingReply() *localReply {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.verdict.reply
}

func (ex *exchange) isComplete() bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.complete
}

func (ex *exchange) modeOf(d *direction) directionMode {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return d.mode
}

// await waits for the next reply of d. ok is false when processing ended
// first (see pendingReply) or the downstream request went away. Replies
// accepted before processing ended are still delivered, in order.
func (ex *exchange) await(d *direction) (resp *extprocv3.ProcessingResponse, ok bool) {
	select {
	case resp := <-d.replies:
		return resp, true
	case <-ex.done:
		select {
		case resp := <-d.replies:
			return resp, true
		default:
			return nil, false
		}
	case <-ex.ctx.Done():
		return nil, false
	}
}

// sendHeaders sends d's headers message; false when nothing was sent.
func (ex *exchange) sendHeaders(d *direction, h *headerMap, endOfStream bool) bool {
	hh := &extprocv3.HttpHeaders{Headers: h.toProto(ex.p.s.forward), EndOfStream: endOfStream}
	req := &extprocv3.ProcessingRequest{}
	if d.isRequest() {
		req.Request = &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: hh}
	} else {
		req.Request = &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: hh}
	}
	if !ex.send(d, phaseHeaders, req) {
		return false
	}
	ex.mu.Lock()
	d.headersSent = true
	ex.mu.Unlock()
	return true
}

// sendBody sends one body message of d; false when nothing was sent.
func (ex *exchange) sendBody(d *direction, c pendingChunk) bool {
	hb := &extprocv3.HttpBody{Body: c.data, EndOfStream: c.endOfStream}
	req := &extprocv3.ProcessingRequest{}
	if d.isRequest() {
		req.Request = &extprocv3.ProcessingRequest_RequestBody{RequestBody: hb}
	} else {
		req.Request = &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: hb}
	}
	return ex.send(d, phaseBody, req)
}

// headerPhase plays d's headers step on h: send (if the mode says so),
// remove content-length where the mode requires it, then apply the reply.
func (ex *exchange) headerPhase(d *direction, h *headerMap, endOfStream bool) replacement {
	if ex.isComplete() || !ex.modeOf(d).sendHeaders {
		ex.removeContentLengthIfNeeded(d, h)
		return replacement{}
	}
	if !ex.sendHeaders(d, h, endOfStream) {
		return replacement{}
	}
	if ex.p.s.observability {
		// sendHeadersInObservabilityMode: headers continue at once and
		// content-length stays.
		return replacement{}
	}
	// Envoy strips content-length when decode/encodeHeaders returns, i.e.
	// after sending the headers message and before its reply.
	ex.removeContentLengthIfNeeded(d, h)
	resp, ok := ex.await(d)
	if !ok {
		return replacement{}
	}
	hr := resp.GetRequestHeaders()
	if !d.isRequest() {
		hr = resp.GetResponseHeaders()
	}
	rep, err := ex.applyHeadersReply(d, h, hr)
	if err != nil {
		ex.fail(err)
	}
	return rep
}

func (ex *exchange) removeContentLengthIfNeeded(d *direction, h *headerMap) {
	ex.mu.Lock()
	remove := !ex.complete && d.mode.shouldRemoveContentLength()
	ex.mu.Unlock()
	if remove {
		h.remove("content-length")
	}
}

// replacement is the body set by a CONTINUE_AND_REPLACE headers reply.
type replacement struct {
	replaced bool
	body     []byte
}

// applyHeadersReply mirrors ProcessorState::handleHeadersResponse.
func (ex *exchange) applyHeadersReply(d *direction, h *headerMap, hr *extprocv3.HeadersResponse) (replacement, error) {
	cr := hr.GetResponse()
	replacing := cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE
	if cr.GetHeaderMutation() != nil {
		params := mutationParams{
			replacingMessage:    replacing,
			removeContentLength: ex.modeOf(d).shouldRemoveContentLength(),
		}
		if err := applyHeaderMutations(cr.GetHeaderMutation(), h, ex.p.s.checker, params, ex.countRejected); err != nil {
			return replacement{}, err
		}
	}
	ex.clearRouteCache(d, cr)
	if ex.modeOf(d).duplex() {
		// A mode_override to FULL_DUPLEX_STREAMED: the processor re-chunks
		// the body, a content-length kept from header time cannot hold.
		h.remove("content-length")
	}
	if !replacing {
		return replacement{}, nil
	}
	var rep replacement
	if cr.GetBodyMutation() != nil {
		h.remove("content-length")
		rep = replacement{replaced: true, body: applyBodyMutation(cr.GetBodyMutation(), nil)}
	}
	// Nothing more of this direction goes to the processor.
	ex.mu.Lock()
	d.mode.body = filterv3.ProcessingMode_NONE
	d.mode.sendTrailers = false
	ex.mu.Unlock()
	return rep, nil
}

// bufferedPhase sends a BUFFERED body, or the BUFFERED_PARTIAL prefix, and
// applies the reply (Envoy's handleBufferedBodyCallback and
// handleBufferedPartialBodyCallback); endOfStream is false when trailers
// follow or, in BUFFERED_PARTIAL, the buffer limit was hit. On an error
// processing must fail.
func (ex *exchange) bufferedPhase(d *direction, h *headerMap, data []byte, endOfStream bool) ([]byte, error) {
	if !ex.sendBody(d, pendingChunk{data: data, endOfStream: endOfStream}) {
		return data, nil
	}
	resp, ok := ex.await(d)
	if !ok {
		return data, nil
	}
	br := resp.GetRequestBody()
	if !d.isRequest() {
		br = resp.GetResponseBody()
	}
	cr := br.GetResponse()
	ex.mu.Lock()
	headersHeld := d.headersSent
	mode := d.mode
	ex.mu.Unlock()
	if cr.GetHeaderMutation() != nil && headersHeld {
		params := mutationParams{
			replacingMessage:    cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
			removeContentLength: mode.shouldRemoveContentLength(),
		}
		if err := applyHeaderMutations(cr.GetHeaderMutation(), h, ex.p.s.checker, params, ex.countRejected); err != nil {
			return nil, err
		}
	}
	if bm := cr.GetBodyMutation(); bm != nil {
		if headersHeld && h.has("content-length") {
			if cl := h.contentLength(); cl >= 0 && cl != int64(len(bm.GetBody())) {
				return nil, errors.New("mismatch between content length and the length of the mutated body")
			}
		}
		data = applyBodyMutation(bm, data)
	}
	ex.clearRouteCache(d, cr)
	return data, nil
}

// processRequest plays the request direction and returns the body to send
// upstream; ok is false when a local reply was sent instead.
func (ex *exchange) processRequest() (body upstreamBody, ok bool) {
	r := ex.r
	ex.reqHeaders = requestHeaderMap(r, newRequestID)
	if lr := ex.checkRequestPath(); lr != nil {
		ex.writeLocalReply(lr)
		return upstreamBody{}, false
	}
	ex.startRouting()
	noBody := r.Body == nil || r.Body == http.NoBody
	d := ex.req

	if !noBody && ex.duplexHeadersFirst(d) {
		return ex.duplexRequest(d)
	}
	rep := ex.headerPhase(d, ex.reqHeaders, noBody)
	ex.closeIfLast(func() bool {
		return (noBody || (d.mode.body == filterv3.ProcessingMode_NONE && !d.mode.sendTrailers)) &&
			ex.resp.mode.noExternalProcess()
	})
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return upstreamBody{}, false
	}
	switch {
	case rep.replaced:
		if !noBody {
			ex.discardDownstream()
		}
		return bytesBody(rep.body), true
	case noBody:
		return upstreamBody{}, true
	}
	mode := ex.modeOf(d)
	// Even unprocessed, the body reaches the upstream through the exchange's
	// reader: the upstream transport must not read r.Body itself, it may go on
	// after ServeHTTP returns.
	src := ex.readDownstream()
	tr := &trailerStash{}
	switch {
	case ex.isComplete() || mode.body == filterv3.ProcessingMode_NONE:
		return ex.requestBody(src.rest(nil), tr), true
	case ex.p.s.observability:
		if mode.body != filterv3.ProcessingMode_STREAMED {
			return ex.requestBody(src.rest(nil), tr), true // no other body mode is observed
		}
		return ex.requestBody(ex.observe(d, src, ex.hasRequestTrailers), tr), true
	case mode.body == filterv3.ProcessingMode_STREAMED:
		return ex.streamRequestBody(src), true
	case mode.duplex():
		return ex.duplexRequestBody(src, nil, nil), true
	case mode.body == filterv3.ProcessingMode_BUFFERED_PARTIAL:
		return ex.partialRequest(d, src)
	}

	data, err := ex.bufferBody(src)
	switch {
	case errors.Is(err, errOverLimit):
		ex.writeLocalReply(&localReply{
			status:  http.StatusRequestEntityTooLarge,
			body:    []byte("Payload Too Large"),
			details: "request_payload_too_large",
		})
		return upstreamBody{}, false
	case errors.Is(err, errProcessingEnded):
		if lr := ex.pendingReply(); lr != nil {
			ex.writeLocalReply(lr)
			return upstreamBody{}, false
		}
		return ex.requestBody(src.rest(data), tr), true
	case err != nil:
		return upstreamBody{}, false // the client went away mid-body
	}
	if data, err = ex.bufferedPhase(d, ex.reqHeaders, data, !ex.hasRequestTrailers()); err != nil {
		ex.fail(err)
	}
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return upstreamBody{}, false
	}
	return ex.requestBody(bytes.NewReader(data), tr), true
}

// streamRequestBody runs the STREAMED request body in its own goroutine,
// feeding the upstream request through a pipe.
func (ex *exchange) streamRequestBody(src *chunkReader) upstreamBody {
	pr, pw := io.Pipe()
	exited := make(chan struct{})
	tr := &trailerStash{}
	go func() {
		defer close(exited)
		err := ex.streamBody(ex.req, src, func(p []byte) error {
			_, err := pw.Write(p)
			return err
		}, ex.hasRequestTrailers)
		if err == nil {
			err = ex.requestTrailerPhase(tr)
		}
		_ = pw.CloseWithError(err)
	}()
	ex.onFinish(func() {
		_ = pr.CloseWithError(context.Canceled)
		<-exited
	})
	return ex.requestBody(pr, tr)
}

// processResponse plays the response direction and writes the response
// downstream.
func (ex *exchange) processResponse(resp *http.Response) {
	d := ex.resp
	h := responseHeaderMap(resp)
	ex.mu.Lock()
	ex.respHeaders = h
	if d.mode.noExternalProcess() {
		ex.finishProcessingLocked(verdict{})
	}
	ex.mu.Unlock()
	noBody := resp.Body == nil || resp.Body == http.NoBody

	if !noBody && ex.duplexHeadersFirst(d) {
		ex.duplexResponse(d, h, resp, true)
		return
	}
	rep := ex.headerPhase(d, h, noBody)
	ex.closeIfLast(func() bool {
		return noBody || (d.mode.body == filterv3.ProcessingMode_NONE && !d.mode.sendTrailers)
	})
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return
	}
	switch {
	case rep.replaced:
		ex.writeHeaders(h)
		_, _ = ex.w.Write(rep.body)
		return
	case noBody:
		ex.writeHeaders(h)
		return
	}
	mode := ex.modeOf(d)
	if mode.duplex() && !ex.isComplete() && !ex.p.s.observability {
		ex.duplexResponse(d, h, resp, false)
		return
	}
	src := ex.readUpstream(resp.Body)
	hasTrailers := func() bool { return trailerMap(resp.Trailer) != nil }
	switch {
	case ex.isComplete() || mode.body == filterv3.ProcessingMode_NONE ||
		(ex.p.s.observability && mode.body != filterv3.ProcessingMode_STREAMED):
		ex.writeHeaders(h)
		ex.flush()
		ex.copyDownstream(src.rest(nil))
	case ex.p.s.observability:
		ex.writeHeaders(h)
		ex.flush()
		ex.copyDownstream(ex.observe(d, src, hasTrailers))
	case mode.body == filterv3.ProcessingMode_STREAMED:
		ex.writeHeaders(h)
		ex.flush()
		// Headers are out: a local reply or an upstream failure from here on
		// can only reset the downstream stream.
		if err := ex.streamBody(d, src, ex.writeDownstream, hasTrailers); err != nil {
			ex.resetDownstream()
		}
	case mode.body == filterv3.ProcessingMode_BUFFERED_PARTIAL:
		if !ex.partialResponse(d, h, src, hasTrailers) {
			return
		}
	default: // BUFFERED
		if !ex.bufferedResponse(d, h, src, hasTrailers) {
			return
		}
	}
	ex.responseTrailers(d, resp)
}

// bufferedResponse handles a BUFFERED response body; false means a local
// reply was sent instead.
func (ex *exchange) bufferedResponse(d *direction, h *headerMap, src *chunkReader, hasTrailers func() bool) bool {
	data, err := ex.bufferBody(src)
	switch {
	case errors.Is(err, errOverLimit):
		ex.writeLocalReply(&localReply{
			status:  http.StatusInternalServerError,
			body:    []byte("Internal Server Error"),
			details: "response_payload_too_large",
		})
		return false
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
	if data, err = ex.bufferedPhase(d, h, data, !hasTrailers()); err != nil {
		ex.fail(err)
	}
	if lr := ex.pendingReply(); lr != nil {
		ex.writeLocalReply(lr)
		return false
	}
	ex.writeHeaders(h)
	if hasTrailers() {
		// Trailers need chunked framing: without a flush Go's server would
		// set a Content-Length for the buffered body and drop them.
		_ = ex.writeDownstream(data)
	} else {
		_, _ = ex.w.Write(data)
	}
	return true
}
