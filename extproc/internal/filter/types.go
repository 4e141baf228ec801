// Package filter is the policy core of the ext_proc filter: for one HTTP
// exchange it turns headers and bodies (plain values, no ext_proc types) into
// actions — continue with mutations, or answer immediately — and into one
// audit Decision. It never waits on I/O: policy and verdicts are local
// snapshots.
package filter

import (
	"strings"

	"github.com/portcullis/portcullis/extproc/dlp"
	"time"
)

// Header is one HTTP header; keys are lower-case as Envoy sends them.
type Header struct {
	Key   string
	Value string
}

// Headers is an ordered header list, pseudo-headers (":path") included.
type Headers []Header

// Get returns the first value of key (lower-case), or "".
func (h Headers) Get(key string) string {
	for _, kv := range h {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// BodyMode is how the filter wants a body delivered.
type BodyMode uint8

const (
	BodyModeUnchanged BodyMode = iota // keep the configured mode
	BodyModeNone                      // do not send the body
	BodyModeBuffered                  // the whole body in one message
	// BodyModeStreamed: chunk by chunk, each answered with the bytes that go
	// on, the last call having endOfStream (possibly empty). The ext_proc
	// edge asks Envoy for STREAMED or FULL_DUPLEX_STREAMED (server.SSEMode).
	BodyModeStreamed
)

// Action is the filter's answer to one message of the exchange.
type Action struct {
	// Respond, when set, ends the exchange with this local reply; nothing
	// else in the Action applies.
	Respond *Response
	// SetHeaders overwrite (or add) headers; RemoveHeaders delete them.
	SetHeaders    Headers
	RemoveHeaders []string
	// ReplaceBody replaces the body (or chunk) with Body.
	ReplaceBody bool
	Body        []byte
	// ResponseBodyMode, on a response-headers action, overrides how the
	// response body is sent to the filter.
	ResponseBodyMode BodyMode
}

// Response is a local reply.
type Response struct {
	Status  int
	Headers Headers
	Body    []byte
	// Details is a short machine-readable tag for access logs.
	Details string
}

// Outcome is what happened to the exchange.
type Outcome uint8

const (
	OutcomeAllowed Outcome = iota + 1
	OutcomeDenied
	OutcomeBlocked
	OutcomeError
	OutcomeThrottled
)

// Reason says why.
type Reason uint8

const (
	ReasonToolGranted Reason = iota + 1
	ReasonToolNotGranted
	ReasonMethodPassthrough
	ReasonMethodForbidden
	ReasonMissingCredential
	ReasonUnknownCredential
	ReasonMalformedRequest
	ReasonBodyTooLarge
	ReasonVerdictBlock
	ReasonVerdictThrottle
	ReasonNoMessage
	ReasonInternalError
	ReasonPersonaMismatch
	ReasonAuditUnavailable
	ReasonSensitiveData
	ReasonDataFlow
	// ReasonUnregisteredUpstream: the route names an upstream the policy
	// does not register for the persona (no shadow MCP).
	ReasonUnregisteredUpstream
	// ReasonToolQuarantined: tools/call of a tool its upstream listed with a
	// definition other than the approved one (see Quarantine).
	ReasonToolQuarantined
	// ReasonRateLimited: tools/call of a tool whose per-hour rate limit for
	// the agent is exhausted (see RateLimiter); outcome OutcomeThrottled.
	ReasonRateLimited
	// ReasonOriginRefused: an Origin not accepted, or a non-loopback Host on
	// a loopback listener (DNS rebinding protection; see checkOrigin).
	ReasonOriginRefused
	// ReasonSessionNotBound: a session id not issued to this agent (see
	// SessionBinder).
	ReasonSessionNotBound
	// ReasonNoRoute: the route names no persona (Options.RequireRoutePersona).
	ReasonNoRoute
)

// Finding counts sensitive-data detections of one type, in one direction,
// handled by one action.
type Finding struct {
	Type      string
	Count     uint32
	Direction Direction
	Action    dlp.Action
}

// Decision is the audit record of one exchange. The emitter adds the event
// id, the instance and the sequence number.
type Decision struct {
	Time          time.Time
	Agent         string
	Subject       string
	Persona       string
	Session       string
	Method        string
	Tool          string
	Upstream      string
	Outcome       Outcome
	Reason        Reason
	Findings      []Finding
	Latency       time.Duration
	BytesIn       uint64
	BytesOut      uint64
	ClientAddress string
	Environment   string
	HTTPMethod    string
	HTTPStatus    int
	VerdictID     string
	RequestID     string
	// PolicyVersion is the version of the policy snapshot the exchange was
	// decided with (policy.Policy.Version).
	PolicyVersion string
	// QuarantinedTools are the tools withheld from this exchange's
	// tools/list answer because their definition differs from the pinned
	// one, sorted, each once; nil for other exchanges.
	QuarantinedTools []string
}

// mediaType returns the lower-case media type of a Content-Type value.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
