package policy

import (
	"strings"
)

// Policy is a compiled, immutable policy snapshot. It is safe for concurrent
// use.
type Policy struct {
	Environment  string
	MaxBodyBytes int
	MaxJSONDepth int
	MaxBatch     int

	authHeader string
	upstreams  map[string]*Upstream
	personas   map[string]*Persona
	agents     map[string]*Agent // by key digest
}

// Upstream is a governed MCP server.
type Upstream struct {
	Name             string
	CredentialHeader string // lower-case; empty when nothing is injected
	CredentialValue  string
}

// Persona is a compiled default-deny profile.
type Persona struct {
	Name        string
	Upstream    *Upstream
	tools       map[string]struct{}
	denyMethods map[string]struct{}
}

// Agent is an authenticated caller.
type Agent struct {
	ID      string
	Subject string
	Persona *Persona
}

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

// Persona returns the named persona, or nil.
func (p *Policy) Persona(name string) *Persona { return p.personas[name] }
