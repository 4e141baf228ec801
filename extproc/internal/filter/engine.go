package filter

import (
	"crypto/rand"
	"sync/atomic"
	"time"

	"github.com/portcullis/portcullis/extproc/dlp"
	"github.com/portcullis/portcullis/extproc/dlp/flow"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/verdict"
)

// Engine holds what every exchange decides against: the current policy
// snapshot and the verdict cache. It is safe for concurrent use.
type Engine struct {
	policy   atomic.Pointer[policy.Policy]
	verdicts *verdict.Cache
	now      func() time.Time
	admit    func() error
	dlp      *dlp.Engine
	flows    *flow.Tracker
	// quarantine holds the rug-pulled tools (see Quarantine).
	quarantine *Quarantine
	// rateLimits holds the per-tool rate limit buckets (see RateLimiter).
	rateLimits *RateLimiter
	// sessions binds MCP session ids to agents (see SessionBinder).
	sessions *SessionBinder
	// requireRoute: see Options.RequireRoutePersona.
	requireRoute bool
}

// Options configure an Engine.
type Options struct {
	// Verdicts is the verdict cache consulted on every request. Defaults to an
	// empty cache (no verdicts).
	Verdicts *verdict.Cache
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Admit is asked before every exchange whether its audit record can be
	// kept; when it returns an error the request is refused with 503
	// (fail-closed: no request is served whose decision would be lost).
	// Defaults to always admitting.
	Admit func() error
	// FlowKey keys the fingerprints of sensitive values tracked across
	// tools (cross-tool data flows). Defaults to a random key per process:
	// fingerprints never leave the process, so they need no stable key.
	FlowKey []byte
	// Flow bounds the cross-tool flow tracker (sessions, values per
	// session, TTL); its Key is FlowKey. Zero values are flow's defaults.
	Flow flow.Options
	// MaxQuarantined bounds the quarantine of rug-pulled tools (see
	// Quarantine). Defaults to DefaultMaxQuarantined.
	MaxQuarantined int
	// MaxRateBuckets bounds the per-(agent, upstream, tool) token buckets
	// of the tool rate limits (see RateLimiter). Defaults to
	// DefaultMaxRateBuckets.
	MaxRateBuckets int
	// SessionKey keys the binding of MCP session ids to agents (see
	// SessionBinder). Every replica serving the same agents must have the
	// same key. Defaults to a random key per process: one replica, and
	// sessions end when it restarts (agents get 404 and initialise again).
	SessionKey []byte
	// RequireRoutePersona refuses (404) every request whose route names no
	// persona (StreamInfo.RoutePersona empty): Envoy's default-deny route,
	// or a persona route that lost its ExtProcPerRoute metadata. Off by
	// default for callers without routes; the extproc command turns it on.
	RequireRoutePersona bool
}

// NewEngine returns an engine enforcing p.
func NewEngine(p *policy.Policy, opts Options) *Engine {
	e := &Engine{verdicts: opts.Verdicts, now: opts.Now, admit: opts.Admit, dlp: policy.DLPEngine, quarantine: newQuarantine(opts.MaxQuarantined),
		rateLimits: newRateLimiter(opts.MaxRateBuckets), sessions: NewSessionBinder(opts.SessionKey), requireRoute: opts.RequireRoutePersona}
	fo := opts.Flow
	fo.Key = opts.FlowKey
	if fo.Key == nil {
		fo.Key = make([]byte, 32)
		_, _ = rand.Read(fo.Key) // crypto/rand.Read never fails
	}
	if fo.Now == nil {
		fo.Now = opts.Now
	}
	tr, err := flow.New(fo)
	if err != nil {
		panic("filter: flow options: " + err.Error())
	}
	e.flows = tr
	if e.verdicts == nil {
		e.verdicts = verdict.NewCache()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.admit == nil {
		e.admit = func() error { return nil }
	}
	e.policy.Store(p)
	return e
}

// SetPolicy replaces the policy snapshot; exchanges already started keep the
// snapshot they began with. Quarantined tools that p approves (it pins the
// definition the upstream was seen listing, or no longer pins the upstream)
// are lifted.
func (e *Engine) SetPolicy(p *policy.Policy) {
	e.policy.Store(p)
	e.quarantine.Prune(p)
}

// Policy returns the current snapshot.
func (e *Engine) Policy() *policy.Policy { return e.policy.Load() }

// Quarantine returns the engine's quarantine of rug-pulled tools.
func (e *Engine) Quarantine() *Quarantine { return e.quarantine }

// RateLimiter returns the engine's per-tool rate limiter.
func (e *Engine) RateLimiter() *RateLimiter { return e.rateLimits }

// Verdicts returns the engine's verdict cache.
func (e *Engine) Verdicts() *verdict.Cache { return e.verdicts }

// StreamInfo is what the transport knows about an exchange before its first
// header: values Envoy passes as attributes or gRPC metadata.
type StreamInfo struct {
	// ClientAddress is the downstream address (Envoy's source.address).
	ClientAddress string
	// LocalAddress is the listener address the request arrived on (Envoy's
	// destination.address); empty when Envoy does not send it. A loopback
	// listener only serves loopback Host names (see checkOrigin).
	LocalAddress string
	// RoutePersona is the persona of the virtual endpoint the route belongs
	// to, when the route says (per-route gRPC metadata); empty otherwise.
	RoutePersona string
	// RouteUpstream is the upstream MCP server the route forwards to, when
	// the route says (per-route gRPC metadata); empty otherwise. A request
	// whose route names an upstream other than the persona's registered one
	// is refused (no shadow MCP).
	RouteUpstream string
}

// NewExchange starts the state for one HTTP exchange.
func (e *Engine) NewExchange(info StreamInfo) *Exchange {
	p := e.policy.Load()
	return &Exchange{
		engine: e,
		policy: p,
		info:   info,
		start:  e.now(),
		decision: Decision{
			ClientAddress: info.ClientAddress,
			Environment:   p.Environment,
			PolicyVersion: p.Version,
			Outcome:       OutcomeAllowed,
			Reason:        ReasonNoMessage,
		},
	}
}
