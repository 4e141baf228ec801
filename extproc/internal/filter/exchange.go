package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portcullis/portcullis/extproc/dlp"
	"github.com/portcullis/portcullis/extproc/internal/mcp"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/verdict"
)

// Exchange is the filter's state for one HTTP request/response. Its methods
// are called in protocol order by one goroutine (the ext_proc stream).
type Exchange struct {
	engine *Engine
	policy *policy.Policy
	info   StreamInfo
	start  time.Time

	agent *policy.Agent
	// verdictChecked is set once the verdict cache has been consulted, so a
	// throttle consumes one token per exchange.
	verdictChecked bool

	// narrowID is the id of a tools/list request whose response must be
	// narrowed to the persona's tools; nil when nothing is to be narrowed.
	narrowID json.RawMessage
	respKind responseKind

	// headerMethod and headerName are the Mcp-Method and Mcp-Name request
	// headers (protocol 2026-07-28); they must agree with the body.
	headerMethod, headerName string
	// headerVersion is the MCP-Protocol-Version header, which must agree
	// with a version the body states (params._meta, 2026-07-28).
	headerVersion string
	// legacy is set for a POST of the legacy HTTP+SSE transport (its
	// session id is a query parameter): answers travel on the event stream.
	legacy bool
	sse    mcp.SSESplitter
	// sseOut is the event-stream output buffer, reused across chunks.
	sseOut []byte

	// replyID is the id of the request's single JSON-RPC request (nil for
	// notifications and batches): what a refused response answers.
	replyID json.RawMessage
	// scratch is the findings buffer reused across the exchange's scans.
	scratch []dlp.Finding

	decision Decision
	finished bool
}

type responseKind uint8

const (
	respOther responseKind = iota
	respJSON
	respSSE
)

// RequestHeaders authenticates the agent and prepares the upstream request:
// the agent's key is stripped and the upstream's backend credential injected.
func (x *Exchange) RequestHeaders(h Headers, endOfStream bool) Action {
	d := &x.decision
	d.HTTPMethod = h.Get(":method")
	d.RequestID = h.Get("x-request-id")
	d.Session = h.Get("mcp-session-id")
	x.headerMethod, x.headerName = combined(h, "mcp-method"), combined(h, "mcp-name")
	x.headerVersion = combined(h, "mcp-protocol-version")
	if d.ClientAddress == "" {
		d.ClientAddress = h.Get("x-forwarded-for")
	}
	if err := x.engine.admit(); err != nil {
		return x.refuse(http503(), OutcomeError, ReasonAuditUnavailable)
	}
	if resp := x.checkOrigin(h); resp != nil {
		return x.refuse(resp, OutcomeDenied, ReasonOriginRefused)
	}
	if x.engine.requireRoute && x.info.RoutePersona == "" {
		// Envoy's default-deny route (ext_proc stays on there so that the
		// attempt is recorded): refused before authentication, as Envoy
		// would answer it.
		return x.refuse(&Response{
			Status:  404,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(nil, mcp.CodeInvalidRequest, "no MCP endpoint at this path", nil),
			Details: "portcullis_no_route",
		}, OutcomeDenied, ReasonNoRoute)
	}
	agent, err := x.policy.Authenticate(h.Get(x.policy.AuthHeader()))
	if err != nil {
		reason := ReasonUnknownCredential
		challenge := `Bearer realm="portcullis", error="invalid_token", error_description="unknown API key"`
		if errors.Is(err, policy.AuthMissing) {
			reason = ReasonMissingCredential
			challenge = `Bearer realm="portcullis"`
		}
		return x.refuse(&Response{
			Status:  401,
			Headers: Headers{{"content-type", "application/json"}, {"www-authenticate", challenge}},
			Body:    mcp.ErrorResponse(nil, mcp.CodeUnauthorized, "authentication required: "+err.Error(), nil),
			Details: "portcullis_unauthenticated",
		}, OutcomeDenied, reason)
	}
	x.agent = agent
	d.Agent, d.Subject, d.Persona = agent.ID, agent.Subject, agent.Persona.Name
	up := agent.Persona.Upstream
	d.Upstream = up.Name
	if rp := x.info.RoutePersona; rp != "" && rp != agent.Persona.Name {
		return x.refuse(&Response{
			Status:  403,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(nil, mcp.CodeForbidden, fmt.Sprintf("agent %q may not use the endpoint of persona %q", agent.ID, rp), nil),
			Details: "portcullis_persona_mismatch",
		}, OutcomeDenied, ReasonPersonaMismatch)
	}
	if ru := x.info.RouteUpstream; ru != "" && ru != up.Name {
		msg := fmt.Sprintf("upstream %q is not registered (no shadow MCP)", ru)
		if x.policy.Upstream(ru) != nil {
			msg = fmt.Sprintf("upstream %q is not registered for persona %q", ru, agent.Persona.Name)
		}
		return x.refuse(&Response{
			Status:  403,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(nil, mcp.CodeForbidden, msg, nil),
			Details: "portcullis_unregistered_upstream",
		}, OutcomeDenied, ReasonUnregisteredUpstream)
	}
	sessionHeaders, resp := x.openSession(h)
	if resp != nil {
		reason := ReasonSessionNotBound
		if resp.Status == 400 {
			reason = ReasonMalformedRequest
		}
		return x.refuse(resp, OutcomeDenied, reason)
	}
	if endOfStream {
		// No JSON-RPC body will follow (GET stream, DELETE): verdicts are
		// checked now, and the refusal cannot name a request id.
		if resp := x.checkVerdicts(nil); resp != nil {
			return Action{Respond: resp}
		}
		return Action{SetHeaders: append(x.credentialHeaders(), sessionHeaders...), RemoveHeaders: x.strippedHeaders()}
	}
	// A body follows. The agent's key is stripped now; the backend
	// credential is added only when the body has been authorised (the body
	// reply's header mutation, applied by Envoy while it still holds the
	// BUFFERED request). Should a route ever deliver the body unbuffered or
	// not at all, the request reaches the upstream without the credential:
	// refused there, never executed on the gateway's authority.
	return Action{SetHeaders: sessionHeaders, RemoveHeaders: []string{x.policy.AuthHeader()}}
}

func (x *Exchange) credentialHeaders() Headers {
	up := x.agent.Persona.Upstream
	if up.CredentialHeader == "" {
		return nil
	}
	return Headers{{up.CredentialHeader, up.CredentialValue}}
}

func (x *Exchange) strippedHeaders() []string {
	auth := x.policy.AuthHeader()
	if up := x.agent.Persona.Upstream; up.CredentialHeader == auth {
		return nil // overwritten by the credential
	}
	return []string{auth}
}

// RequestBody authorises the JSON-RPC message(s) in a buffered request body.
func (x *Exchange) RequestBody(body []byte, endOfStream bool) Action {
	d := &x.decision
	d.BytesIn += uint64(len(body))
	if x.agent == nil || x.decision.Outcome != OutcomeAllowed {
		return Action{} // already refused at headers
	}
	if limit := x.policy.MaxBodyBytes; len(body) > limit {
		return x.refuse(&Response{
			Status:  413,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(nil, mcp.CodeInvalidRequest, fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", len(body), limit), nil),
			Details: "portcullis_body_too_large",
		}, OutcomeDenied, ReasonBodyTooLarge)
	}
	if !endOfStream {
		// The filter is configured for BUFFERED request bodies; a partial
		// body means the configuration is wrong. Fail closed.
		return x.refuse(&Response{
			Status:  500,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(nil, -32603, "request body was not buffered", nil),
			Details: "portcullis_body_not_buffered",
		}, OutcomeError, ReasonInternalError)
	}
	msg, err := mcp.ParseBody(body, mcp.Limits{MaxDepth: x.policy.MaxJSONDepth, MaxBatch: x.policy.MaxBatch})
	if err != nil {
		var pe *mcp.ParseError
		code, reason := mcp.CodeParseError, err.Error()
		if errors.As(err, &pe) {
			code = pe.Code
		}
		return x.refuse(&Response{
			Status:  400,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(nil, code, reason, nil),
			Details: "portcullis_malformed_jsonrpc",
		}, OutcomeDenied, ReasonMalformedRequest)
	}
	first := msg.Messages[0]
	var replyID json.RawMessage
	if !msg.Batch && first.Kind == mcp.KindRequest {
		replyID = first.ID
	}
	x.replyID = replyID
	d.Method, d.Tool = first.Method, first.Tool
	if msg.Batch {
		d.Method = "batch"
	}
	if resp := x.checkVerdicts(replyID); resp != nil {
		return Action{Respond: resp}
	}
	mismatch := x.headerMismatch(first, msg.Batch)
	if mismatch == "" {
		mismatch = x.versionMismatch(first, msg.Batch)
	}
	if msg := mismatch; msg != "" {
		// Routing layers may act on the headers; the upstream executes the
		// body. A disagreement is refused, never resolved either way.
		return x.refuse(&Response{
			Status:  400,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(replyID, mcp.CodeHeaderMismatch, msg, nil),
			Details: "portcullis_header_mismatch",
		}, OutcomeDenied, ReasonMalformedRequest)
	}
	persona := x.agent.Persona
	d.Reason = ReasonMethodPassthrough
	for i, m := range msg.Messages {
		if m.Kind == mcp.KindResponse {
			continue // the client answering a server request
		}
		where := ""
		if msg.Batch {
			where = fmt.Sprintf(" (batch element %d)", i)
		}
		if persona.Forbids(m.Method) {
			d.Method, d.Tool = m.Method, m.Tool
			return x.deny(replyID, fmt.Sprintf("method %q is not permitted for persona %q%s", m.Method, persona.Name, where), ReasonMethodForbidden)
		}
		if m.Method == mcp.MethodToolsCall {
			if !persona.Grants(m.Tool) {
				d.Method, d.Tool = m.Method, m.Tool
				return x.deny(replyID, fmt.Sprintf("tool %q is not permitted for persona %q%s", m.Tool, persona.Name, where), ReasonToolNotGranted)
			}
			if x.engine.quarantine.Blocks(persona.Upstream, m.Tool) {
				d.Method, d.Tool = m.Method, m.Tool
				return x.deny(replyID, fmt.Sprintf("tool %q of server %q is quarantined: it changed its definition since it was approved%s", m.Tool, persona.Upstream.Name, where), ReasonToolQuarantined)
			}
			d.Reason = ReasonToolGranted
		}
		if m.Method == mcp.MethodToolsList && m.Kind == mcp.KindRequest {
			if msg.Batch {
				// Narrowing is tracked for one id per exchange; a batched
				// tools/list would escape it, so it is refused.
				return x.deny(nil, "tools/list is not accepted inside a batch", ReasonMethodForbidden)
			}
			x.narrowID = m.ID
		}
	}
	if resp := x.checkRateLimits(msg, replyID); resp != nil {
		return Action{Respond: resp}
	}
	act := Action{SetHeaders: x.credentialHeaders()}
	out, resp := x.protectRequest(body, msg, replyID)
	if resp != nil {
		return Action{Respond: resp}
	}
	if out != nil {
		// Credentials and other data the policy rewrites never reach the
		// upstream. Envoy keeps content-length for BUFFERED bodies.
		act.ReplaceBody, act.Body = true, out
		act.SetHeaders = append(act.SetHeaders, Header{"content-length", strconv.Itoa(len(out))})
	}
	return act
}

// headerMismatch checks the Mcp-Method and Mcp-Name headers against the
// body and says what disagrees, or "".
func (x *Exchange) headerMismatch(m mcp.Message, batch bool) string {
	if x.headerMethod == "" && x.headerName == "" {
		return ""
	}
	if batch {
		return "Mcp-Method/Mcp-Name headers cannot describe a batch"
	}
	if x.headerMethod != "" && x.headerMethod != m.Method {
		return fmt.Sprintf("Mcp-Method header %q does not match the body's method %q", truncateValue(x.headerMethod), truncateValue(m.Method))
	}
	if x.headerName != "" && m.Method == mcp.MethodToolsCall && x.headerName != m.Tool {
		return fmt.Sprintf("Mcp-Name header %q does not match the body's tool %q", truncateValue(x.headerName), truncateValue(m.Tool))
	}
	return ""
}

// versionMismatch compares the MCP-Protocol-Version header with the
// version a 2026-07-28 body states in params._meta, and says what
// disagrees, or "". A body stating none is judged by the header alone.
func (x *Exchange) versionMismatch(m mcp.Message, batch bool) string {
	if batch || x.headerVersion == "" {
		return ""
	}
	v, ok, ambiguous := mcp.MetaProtocolVersion(m.Params)
	switch {
	case ambiguous:
		return "the body's protocol version cannot be read unambiguously"
	case ok && v != x.headerVersion:
		return fmt.Sprintf("MCP-Protocol-Version header %q does not match the body's %q", truncateValue(x.headerVersion), truncateValue(v))
	}
	return ""
}

// combined returns the values of the header key joined as RFC 9110 §5.3
// combines a repeated field, so that a repeated Mcp-Method or Mcp-Name
// cannot agree with the body in the copy the filter reads and differ in
// the copy a routing layer reads.
func combined(h Headers, key string) string {
	return strings.Join(headerValues(h, key), ", ")
}

func truncateValue(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// deny answers a refused request with a JSON-RPC error. Requests with an id
// get HTTP 200 and the error (what MCP clients surface to the model);
// notifications and batches get 403.
func (x *Exchange) deny(id json.RawMessage, msg string, reason Reason) Action {
	status := x.refusalStatus(id, 403)
	return x.refuse(&Response{
		Status:  status,
		Headers: Headers{{"content-type", "application/json"}},
		Body:    mcp.ErrorResponse(id, mcp.CodeForbidden, msg, nil),
		Details: "portcullis_denied",
	}, OutcomeDenied, reason)
}

// refusalStatus is the HTTP status of a refusal answering a request with
// id: 200 with the JSON-RPC error in the body, which Streamable HTTP clients
// hand to the caller. Without an id (notifications, batches) there is no one
// to answer, and on the legacy HTTP+SSE transport the client reads answers
// only from its event stream, never from the POST: both get noID (403 or
// 429), which fails the client's send and so the call.
func (x *Exchange) refusalStatus(id json.RawMessage, noID int) int {
	if id == nil || x.legacy {
		return noID
	}
	return 200
}

// checkVerdicts consults the verdict cache once per exchange and returns the
// refusal, or nil.
func (x *Exchange) checkVerdicts(id json.RawMessage) *Response {
	if x.verdictChecked {
		return nil
	}
	x.verdictChecked = true
	a := x.agent
	res, v := x.engine.verdicts.Check(x.engine.now(),
		verdict.Key{Kind: verdict.KindAgent, ID: a.ID},
		verdict.Key{Kind: verdict.KindSubject, ID: a.Subject},
		verdict.Key{Kind: verdict.KindPersona, ID: a.Persona.Name},
		verdict.Key{Kind: verdict.KindSession, ID: x.decision.Session},
		verdict.Key{Kind: verdict.KindClientAddress, ID: hostOf(x.decision.ClientAddress)},
	)
	if res == verdict.Pass {
		return nil
	}
	status := x.refusalStatus(id, 403)
	data := map[string]string{"verdict_id": v.ID, "rule": v.Rule, "reason": v.Reason}
	if !v.ExpiresAt.IsZero() {
		data["expires_at"] = v.ExpiresAt.UTC().Format(time.RFC3339)
	}
	x.decision.VerdictID = v.ID
	if res == verdict.Throttled {
		status = x.refusalStatus(id, 429)
		resp := &Response{
			Status:  status,
			Headers: Headers{{"content-type", "application/json"}, {"retry-after", strconv.Itoa(retryAfter(v.Rate))}},
			Body:    mcp.ErrorResponse(id, mcp.CodeThrottled, fmt.Sprintf("agent %q is throttled by verdict %s (rule %s: %s)", x.agent.ID, v.ID, v.Rule, v.Reason), data),
			Details: "portcullis_throttled",
		}
		x.setRefused(resp, OutcomeThrottled, ReasonVerdictThrottle)
		return resp
	}
	until := ""
	if !v.ExpiresAt.IsZero() {
		until = " until " + v.ExpiresAt.UTC().Format(time.RFC3339)
	}
	resp := &Response{
		Status:  status,
		Headers: Headers{{"content-type", "application/json"}},
		Body:    mcp.ErrorResponse(id, mcp.CodeBlocked, fmt.Sprintf("agent %q is blocked by verdict %s (rule %s: %s)%s", x.agent.ID, v.ID, v.Rule, v.Reason, until), data),
		Details: "portcullis_blocked",
	}
	x.setRefused(resp, OutcomeBlocked, ReasonVerdictBlock)
	return resp
}

func retryAfter(rate float64) int {
	if rate <= 0 {
		return 60
	}
	s := int(1/rate + 0.999)
	return max(s, 1)
}

func (x *Exchange) refuse(resp *Response, o Outcome, r Reason) Action {
	x.setRefused(resp, o, r)
	return Action{Respond: resp}
}

func (x *Exchange) setRefused(resp *Response, o Outcome, r Reason) {
	x.decision.Outcome, x.decision.Reason = o, r
	x.decision.HTTPStatus = resp.Status
	x.decision.BytesOut = uint64(len(resp.Body))
}

// ResponseHeaders chooses how the response body is inspected: JSON bodies
// buffered, event streams streamed (only an incomplete event is held back).
func (x *Exchange) ResponseHeaders(h Headers, endOfStream bool) Action {
	if s, err := strconv.Atoi(h.Get(":status")); err == nil {
		x.decision.HTTPStatus = s
	}
	var set Headers
	if sid := h.Get("mcp-session-id"); sid != "" && x.agent != nil {
		// The agent gets the session id bound to it (see SessionBinder).
		x.decision.Session = sid
		set = Headers{{"mcp-session-id", x.engine.sessions.Issue(x.agent.ID, x.agent.Persona.Upstream.Name, sid)}}
	}
	if endOfStream {
		return Action{SetHeaders: set}
	}
	switch mediaType(h.Get("content-type")) {
	case "application/json":
		x.respKind = respJSON
		return Action{SetHeaders: set, ResponseBodyMode: BodyModeBuffered}
	case "text/event-stream":
		x.respKind = respSSE
		return Action{SetHeaders: set, ResponseBodyMode: BodyModeStreamed}
	}
	if x.narrowID != nil {
		// A tools/list answer in a form the filter cannot inspect must not
		// reach the agent un-narrowed.
		x.respKind = respJSON
		return Action{SetHeaders: set, ResponseBodyMode: BodyModeBuffered}
	}
	// Other bodies keep the configured mode (NONE locally; STREAMED in the
	// production bootstrap, where they are counted).
	return Action{SetHeaders: set}
}

// maxReusedSSEBuffer bounds the event-stream output buffer an exchange
// keeps between chunks.
const maxReusedSSEBuffer = 256 << 10

// ResponseBody narrows tools/list results in JSON bodies (buffered) and in
// event streams (chunk by chunk). For an event stream the returned Body is
// only valid until the next call: the caller sends it on before it passes
// the next chunk.
func (x *Exchange) ResponseBody(chunk []byte, endOfStream bool) Action {
	switch x.respKind {
	case respJSON:
		out := x.narrowMessage(chunk)
		out = x.protectBody(out)
		x.decision.BytesOut += uint64(len(out))
		if string(out) == string(chunk) {
			return Action{}
		}
		return Action{
			ReplaceBody: true,
			Body:        out,
			// Envoy keeps content-length for BUFFERED bodies and checks it
			// against the replaced body.
			SetHeaders: Headers{{"content-length", strconv.Itoa(len(out))}},
		}
	case respSSE:
		// Reused from chunk to chunk: the transport sends each reply
		// before it hands over the next chunk (see ResponseBody's doc).
		out := x.sseOut[:0]
		for _, ev := range x.sse.Feed(chunk) {
			out = append(out, x.narrowEvent(ev)...)
		}
		if endOfStream {
			if rest := x.sse.Flush(); len(rest) > 0 {
				out = append(out, x.narrowEvent(rest)...)
			}
		}
		x.decision.BytesOut += uint64(len(out))
		if cap(out) <= maxReusedSSEBuffer {
			x.sseOut = out
		} else {
			x.sseOut = nil
		}
		if string(out) == string(chunk) {
			// Whole events, none changed (the usual chunk of a server
			// that flushes per event): continue the chunk as it is rather
			// than send it back.
			return Action{}
		}
		return Action{ReplaceBody: true, Body: out}
	}
	x.decision.BytesOut += uint64(len(chunk))
	return Action{}
}

// narrowEvent narrows and protects one complete event.
func (x *Exchange) narrowEvent(ev []byte) []byte {
	data, ok := mcp.EventData(ev)
	if !ok || len(data) == 0 {
		return ev // priming event, comment, retry
	}
	if mcp.EventType(ev) == "endpoint" {
		// Legacy HTTP+SSE transport: where the agent is to POST.
		ref, ok := x.bindEndpoint(data)
		if !ok {
			return []byte(": portcullis removed an endpoint event it could not read\n\n")
		}
		return mcp.ReplaceEventData(ev, ref)
	}
	out := x.narrowMessage(data)
	out, blocked := x.protectMessage(out)
	if blocked && out == nil {
		return []byte(": portcullis removed a message its data policy blocks\n\n")
	}
	if string(out) == string(data) {
		return ev
	}
	return mcp.ReplaceEventData(ev, out)
}

// protectBody applies the data policy to a buffered JSON response.
func (x *Exchange) protectBody(body []byte) []byte {
	out, blocked := x.protectMessage(body)
	if blocked && out == nil {
		// A server request or notification as the whole body: answer the
		// agent's request with the refusal instead.
		return mcp.ErrorResponse(x.replyID, CodeSensitiveData, "response withheld by the data policy", nil)
	}
	return out
}

// narrowMessage narrows raw if it is a response to the exchange's
// tools/list request, or any response whose result has a "tools" member:
// on a GET stream, in a Last-Event-ID replay, on the legacy transport's
// event stream or on another request's stream, a tools/list answer is
// narrowed all the same, since clients match responses by id, not by the
// stream they came on. Anything else passes unchanged; a message the filter
// cannot read while a narrowing is pending is replaced by an error (fail
// closed).
func (x *Exchange) narrowMessage(raw []byte) []byte {
	pending := x.narrowID != nil
	if !pending && !mcp.MentionsTools(raw) {
		return raw // cannot name a tools member (fast path for every other message)
	}
	m, err := mcp.ParseMessage(raw)
	if err != nil {
		if !pending && !json.Valid(raw) {
			return raw // not JSON: no client reads a result from it; the data policy still scans it
		}
		// JSON that names tools but is no JSON-RPC message the filter
		// can read unambiguously (a case-variant "Result", a duplicate
		// member) may still be read as a tools/list answer by a lenient
		// client: withheld.
		return mcp.ErrorResponse(x.narrowID, -32603, "upstream message could not be inspected", nil)
	}
	// Any response in this exchange answers its one tools/list request
	// (batches with tools/list are refused): the id is not compared, since
	// upstreams re-serialise ids ("\u0061" comes back as "a", 1.5 as 1).
	if m.Kind != mcp.KindResponse || m.Result == nil || (!pending && !mcp.MayListTools(m.Result)) {
		return raw
	}
	id := x.narrowID
	if !pending {
		id = m.ID
	}
	narrowed, _, err := mcp.NarrowTools(m.Result, x.keepTool)
	if err != nil {
		return mcp.ErrorResponse(id, -32603, "upstream tools/list result could not be inspected", nil)
	}
	out, err := mcp.ReplaceResult(raw, narrowed)
	if err != nil {
		return mcp.ErrorResponse(id, -32603, "upstream tools/list response could not be inspected", nil)
	}
	return out
}

// keepTool decides whether a tool of a tools/list answer is shown: the
// persona must grant it and, when its upstream pins tool definitions, the
// tool's pin must be the approved one. A granted tool that fails the pin is
// a rug pull: withheld, quarantined and named in the decision. A granted
// tool that matches its pin again leaves the quarantine.
func (x *Exchange) keepTool(name string, tool []byte) bool {
	persona := x.agent.Persona
	if !persona.Grants(name) {
		return false
	}
	up := persona.Upstream
	if !up.Pinned() {
		return true
	}
	observed, ok := mcp.ToolPin(tool)
	if ok && observed == up.Pin(name) {
		x.engine.quarantine.lift(up.Name, name)
		return true
	}
	x.engine.quarantine.add(up.Name, name, observed)
	if i, found := slices.BinarySearch(x.decision.QuarantinedTools, name); !found {
		x.decision.QuarantinedTools = slices.Insert(x.decision.QuarantinedTools, i, name)
	}
	return false
}

// Finish closes the exchange and returns its audit record. Later calls
// return the same record.
func (x *Exchange) Finish() Decision {
	if !x.finished {
		x.finished = true
		now := x.engine.now()
		d := &x.decision
		d.Time = now
		d.Latency = now.Sub(x.start)
		// Fields the agent controls are bounded so that one request cannot
		// produce an audit record Kafka refuses (and stall delivery).
		for _, f := range []*string{&d.Method, &d.Tool, &d.Session, &d.RequestID, &d.ClientAddress, &d.HTTPMethod} {
			*f = capField(*f)
		}
	}
	return x.decision
}

// MaxFieldBytes bounds each agent-controlled string of a Decision.
const MaxFieldBytes = 256

// capField truncates s to MaxFieldBytes on a UTF-8 boundary, marking the cut.
func capField(s string) string {
	if len(s) <= MaxFieldBytes {
		return s
	}
	cut := MaxFieldBytes - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func http503() *Response {
	return &Response{
		Status:  503,
		Headers: Headers{{"content-type", "application/json"}, {"retry-after", "5"}},
		Body:    mcp.ErrorResponse(nil, -32603, "audit trail unavailable: request refused so that no decision is lost", nil),
		Details: "portcullis_audit_unavailable",
	}
}
