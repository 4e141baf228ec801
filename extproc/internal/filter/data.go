package filter

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/portcullis/portcullis/extproc/dlp"
	"github.com/portcullis/portcullis/extproc/dlp/flow"
	"github.com/portcullis/portcullis/extproc/internal/mcp"
)

// Data protection: every request body the filter authorises and every JSON
// or event-stream response it sees is scanned (ScanDeep: escapes,
// percent-encoding and base64 decoded) together with the known-secret
// guard (the backend credentials the gateway injects, in any encoding).
// The persona's data policy then allows, masks, tokenises, redacts or
// blocks each finding; the decision counts findings by type, direction and
// action, never values.
//
// Cross-tool flows: fingerprints of the sensitive values in tool responses
// are remembered per principal (the agent's subject, so that data read
// through one agent cannot leave through another agent of the same
// principal); a request carrying one of them to an external-sink tool, or
// from a prod server's data to a server of another environment, is refused
// when the data policy says so. Contact and network types (e-mail
// addresses, phone numbers, IPs) are not tracked: mailing a customer whose
// address a ticket shows is the normal case.

// CodeSensitiveData is the JSON-RPC error code of a message refused by a
// data policy; CodeDataFlow of a request refused because of a flow.
const (
	CodeSensitiveData = -32005
	CodeDataFlow      = -32006
)

// Direction is the half of the exchange a finding was in.
type Direction uint8

// Directions.
const (
	DirectionRequest Direction = iota + 1
	DirectionResponse
)

// scan runs the engine and the known-secret guard over body. A panic in
// the engine (a bug: every parser is an attack surface) is returned as an
// error so that the exchange fails closed instead of the process dying.
func (x *Exchange) scan(body []byte) (fs []dlp.Finding, err error) {
	defer func() {
		if r := recover(); r != nil {
			fs, err = nil, fmt.Errorf("sensitive-data scan failed: %v", r)
			x.scratch = nil
		}
	}()
	if k := x.policy.KnownSecrets(); k != nil {
		fs = x.engine.dlp.ScanDeepWith(body, x.scratch[:0], k)
	} else {
		fs = x.engine.dlp.ScanDeep(body, x.scratch[:0])
	}
	x.scratch = fs[:0]
	return fs, nil
}

// scanFailed refuses a request whose body could not be inspected.
func (x *Exchange) scanFailed(replyID json.RawMessage) *Response {
	resp := &Response{
		Status:  500,
		Headers: Headers{{"content-type", "application/json"}},
		Body:    mcp.ErrorResponse(replyID, -32603, "the request could not be inspected for sensitive data", nil),
		Details: "portcullis_inspection_failed",
	}
	x.setRefused(resp, OutcomeError, ReasonInternalError)
	return resp
}

// protectRequest applies the data policy and the flow rules to an
// authorised request body. It returns the body to forward (nil: unchanged)
// or a refusal.
func (x *Exchange) protectRequest(body []byte, msg mcp.Body, replyID json.RawMessage) ([]byte, *Response) {
	fs, err := x.scan(body)
	if err != nil {
		return nil, x.scanFailed(replyID)
	}
	if len(fs) == 0 {
		return nil, nil
	}
	persona := x.agent.Persona
	data := persona.Data
	if resp := x.checkFlows(body, fs, msg, replyID); resp != nil {
		return nil, resp
	}
	out, err := data.Plan.Apply(body, fs, true)
	if err != nil {
		x.countFindings(fs, DirectionRequest, data.Plan, true)
		return nil, x.dataRefusal(replyID, CodeSensitiveData, "request holds sensitive data that cannot be redacted in place", ReasonSensitiveData)
	}
	if out.Blocked != nil {
		x.countFindings(fs, DirectionRequest, data.Plan, true)
		return nil, x.dataRefusal(replyID, CodeSensitiveData,
			fmt.Sprintf("request holds %s, which the data policy of persona %q blocks", out.Blocked.Type, persona.Name), ReasonSensitiveData)
	}
	x.countFindings(fs, DirectionRequest, data.Plan, false)
	if !out.Changed {
		return nil, nil
	}
	// Authorisation decided on the original messages; the rewritten body
	// must still carry the same methods and tools.
	again, err := mcp.ParseBody(out.Body, mcp.Limits{MaxDepth: x.policy.MaxJSONDepth, MaxBatch: x.policy.MaxBatch})
	if err != nil || !sameCalls(msg, again) {
		return nil, x.dataRefusal(replyID, CodeSensitiveData, "request could not be redacted without changing what it calls", ReasonSensitiveData)
	}
	return out.Body, nil
}

func sameCalls(a, b mcp.Body) bool {
	if len(a.Messages) != len(b.Messages) {
		return false
	}
	for i := range a.Messages {
		if a.Messages[i].Method != b.Messages[i].Method || a.Messages[i].Tool != b.Messages[i].Tool {
			return false
		}
	}
	return true
}

// checkFlows refuses a request carrying a value that an earlier tool
// response showed the same principal, when the data policy forbids the
// flow.
func (x *Exchange) checkFlows(body []byte, fs []dlp.Finding, msg mcp.Body, replyID json.RawMessage) *Response {
	data := x.agent.Persona.Data
	tr := x.engine.flows
	if tr == nil || (!data.BlockSinkFlows && !data.BlockProdToDev) {
		return nil
	}
	up := x.agent.Persona.Upstream
	sinkTool := ""
	for _, m := range msg.Messages {
		if m.Method == mcp.MethodToolsCall && up.IsSink(m.Tool) {
			sinkTool = m.Tool
		}
	}
	toSink := data.BlockSinkFlows && sinkTool != ""
	if !toSink && !data.BlockProdToDev {
		return nil
	}
	for _, f := range fs {
		if !x.tracked(f.Type) {
			continue
		}
		src, ok := tr.Lookup(x.flowKey(), tr.Fingerprint(f.Type, dlp.Value(body, f, true)))
		if !ok {
			continue
		}
		var why string
		switch {
		case toSink:
			why = fmt.Sprintf("tool %q sends data outside the organisation", sinkTool)
		case data.BlockProdToDev && src.Env == "prod" && up.Environment != "prod":
			why = fmt.Sprintf("server %q is %q, the value came from production", up.Name, up.Environment)
		default:
			continue
		}
		x.countFindings([]dlp.Finding{f}, DirectionRequest, nil, true)
		return x.dataRefusal(replyID, CodeDataFlow,
			fmt.Sprintf("request carries a %s value returned by tool %q of server %q; %s", f.Type, src.Tool, src.Server, why), ReasonDataFlow)
	}
	return nil
}

// flowKey is the principal flows are tracked for.
func (x *Exchange) flowKey() string {
	if x.agent.Subject != "" {
		return "s:" + x.agent.Subject
	}
	return "a:" + x.agent.ID
}

// tracked reports the types whose values are followed across tools.
func (x *Exchange) tracked(typ string) bool {
	switch x.agent.Persona.Data.Plan.Category(typ) {
	case dlp.CategoryPersonal, dlp.CategoryNetwork:
		return false
	}
	return true
}

// protectMessage applies the data policy to one response message (a JSON
// body or one event's data) and records its tracked values. blocked is set
// when the policy refuses the message: out is then the refusal.
func (x *Exchange) protectMessage(raw []byte) (out []byte, blocked bool) {
	fs, err := x.scan(raw)
	if err != nil {
		x.decision.Outcome, x.decision.Reason = OutcomeError, ReasonInternalError
		return mcp.ErrorResponse(x.replyID, -32603, "the response could not be inspected for sensitive data", nil), true
	}
	if len(fs) == 0 {
		return raw, false
	}
	persona := x.agent.Persona
	data := persona.Data
	if tr := x.engine.flows; tr != nil && (data.BlockSinkFlows || data.BlockProdToDev) {
		up := persona.Upstream
		src := flow.Source{Server: up.Name, Env: up.Environment, Tool: x.decision.Tool}
		for _, f := range fs {
			if x.tracked(f.Type) {
				src.Type = f.Type
				tr.Observe(x.flowKey(), src, tr.Fingerprint(f.Type, dlp.Value(raw, f, true)))
			}
		}
	}
	res, err := data.Plan.Apply(raw, fs, true)
	var msg string
	switch {
	case errors.Is(err, dlp.ErrUnredactable) || err != nil:
		msg = "response holds sensitive data that cannot be redacted in place"
	case res.Blocked != nil:
		msg = fmt.Sprintf("response holds %s, which the data policy of persona %q blocks", res.Blocked.Type, persona.Name)
	default:
		x.countFindings(fs, DirectionResponse, data.Plan, false)
		return res.Body, false
	}
	x.countFindings(fs, DirectionResponse, data.Plan, true)
	x.decision.Outcome, x.decision.Reason = OutcomeDenied, ReasonSensitiveData
	id := x.replyID
	if m, err := mcp.ParseMessage(raw); err == nil && m.Kind == mcp.KindResponse {
		id = m.ID
	} else if err == nil {
		return nil, true // a server request or notification: dropped
	}
	return mcp.ErrorResponse(id, CodeSensitiveData, msg, nil), true
}

// dataRefusal refuses a request for a data reason. Requests with an id get
// HTTP 200 and the error; notifications and batches get 403.
func (x *Exchange) dataRefusal(id json.RawMessage, code int, msg string, reason Reason) *Response {
	status := x.refusalStatus(id, 403)
	resp := &Response{
		Status:  status,
		Headers: Headers{{"content-type", "application/json"}},
		Body:    mcp.ErrorResponse(id, code, msg, nil),
		Details: "portcullis_sensitive_data",
	}
	x.setRefused(resp, OutcomeDenied, reason)
	return resp
}

// countFindings adds fs to the decision, by type, direction and the
// action taken (block for all of them when the message was refused).
func (x *Exchange) countFindings(fs []dlp.Finding, dir Direction, plan *dlp.Plan, blocked bool) {
	for _, f := range fs {
		a := dlp.ActionBlock
		if !blocked {
			a = plan.Rule(f.Type).Action
		}
		x.addFinding(f.Type, dir, a)
	}
}

func (x *Exchange) addFinding(typ string, dir Direction, a dlp.Action) {
	d := &x.decision
	for i := range d.Findings {
		if f := &d.Findings[i]; f.Type == typ && f.Direction == dir && f.Action == a {
			f.Count++
			return
		}
	}
	if len(d.Findings) >= maxFindingKinds {
		return
	}
	d.Findings = append(d.Findings, Finding{Type: typ, Count: 1, Direction: dir, Action: a})
}

// maxFindingKinds bounds the distinct (type, direction, action) entries of
// one decision.
const maxFindingKinds = 64
