package policy

import (
	"strings"

	"github.com/portcullis/portcullis/extproc/dlp"
)

// Policy is a compiled, immutable policy snapshot. It is safe for concurrent
// use.
type Policy struct {
	// Version identifies the snapshot in every decision: the registry
	// snapshot's content hash ("sha256:<hex>") or, for a static file,
	// "file:<sha256 hex of the file>". Compile leaves it empty; whoever
	// compiles a policy sets it before sharing it (Load does for files).
	Version      string
	Environment  string
	MaxBodyBytes int
	MaxJSONDepth int
	MaxBatch     int

	authHeader string
	// origins are the accepted browser origins, normalised.
	origins   map[string]struct{}
	known     *dlp.KnownSecrets
	upstreams map[string]*Upstream
	personas  map[string]*Persona
	agents    map[string]*Agent // by key digest
}

// Upstream is a governed MCP server.
type Upstream struct {
	Name             string
	CredentialHeader string // lower-case; empty when nothing is injected
	CredentialValue  string
	// Environment labels the server's data ("prod", "dev").
	Environment string
	sinks       map[string]struct{}
	// pins maps tool name → approved pin; nil when the server has none.
	pins map[string]string
	// rateLimits maps tool name → calls per hour per agent; nil when no
	// tool is limited.
	rateLimits map[string]int
}

// RateLimit returns the calls per hour one agent may make of tool, or 0
// when the tool is unlimited.
func (u *Upstream) RateLimit(tool string) int { return u.rateLimits[tool] }

// Pinned reports whether the server's tool definitions are pinned: then
// every tool it lists must match its pin to be shown.
func (u *Upstream) Pinned() bool { return len(u.pins) > 0 }

// Pin returns the approved pin of tool ("sha256:<hex>"), or "" when the
// tool has none.
func (u *Upstream) Pin(tool string) string { return u.pins[tool] }

// IsSink reports whether tool sends data outside the organisation.
func (u *Upstream) IsSink(tool string) bool {
	_, ok := u.sinks[tool]
	return ok
}

// Persona is a compiled default-deny profile.
type Persona struct {
	Name        string
	Upstream    *Upstream
	tools       map[string]struct{}
	denyMethods map[string]struct{}
	// Data is the persona's data policy (never nil).
	Data *DataPolicy
}

// Agent is an authenticated caller.
type Agent struct {
	ID      string
	Subject string
	Persona *Persona
}

// KnownSecrets is the guard for the backend credentials this policy
// injects: they must never appear in what agents send or receive.
func (p *Policy) KnownSecrets() *dlp.KnownSecrets { return p.known }

// AuthHeader is the lower-case header that carries the agent's key.
func (p *Policy) AuthHeader() string { return p.authHeader }

// AuthError says why authentication failed.
type AuthError uint8

const (
	AuthMissing AuthError = iota + 1 // no key presented
	AuthUnknown                      // key not recognised
)

func (e AuthError) Error() string {
	if e == AuthMissing {
		return "missing API key"
	}
	return "unknown API key"
}

// Authenticate resolves the agent from the value of the auth header.
func (p *Policy) Authenticate(headerValue string) (*Agent, error) {
	key := strings.TrimSpace(headerValue)
	if p.authHeader == DefaultAuthHeader {
		scheme, rest, ok := strings.Cut(key, " ")
		if !ok || !strings.EqualFold(scheme, "bearer") {
			if key == "" || strings.EqualFold(key, "bearer") {
				return nil, AuthMissing
			}
			return nil, AuthUnknown
		}
		key = strings.TrimSpace(rest)
	}
	if key == "" {
		return nil, AuthMissing
	}
	a, ok := p.agents[HashKey(key)]
	if !ok {
		return nil, AuthUnknown
	}
	return a, nil
}

// Grants reports whether the persona may call tool. Tool names are compared
// exactly: MCP tool names are case-sensitive.
func (per *Persona) Grants(tool string) bool {
	_, ok := per.tools[tool]
	return ok
}

// Forbids reports whether the persona refuses method outright.
func (per *Persona) Forbids(method string) bool {
	_, ok := per.denyMethods[method]
	return ok
}

// Upstream returns the named upstream, or nil when the policy does not
// register it.
func (p *Policy) Upstream(name string) *Upstream { return p.upstreams[name] }

// Persona returns the named persona, or nil.
func (p *Policy) Persona(name string) *Persona { return p.personas[name] }
