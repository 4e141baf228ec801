package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Position locates a definition in the source YAML. The zero value means the
// definition did not come from a file (it was built in code).
type Position struct {
	File   string
	Line   int
	Column int
}

func (p Position) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
}

// ToolID names a tool by its server: "server/tool".
type ToolID struct {
	Server string
	Name   string
}

func (id ToolID) String() string { return id.Server + "/" + id.Name }

// ParseToolID parses "server/tool".
func ParseToolID(s string) (ToolID, error) {
	server, name, ok := strings.Cut(s, "/")
	if !ok || server == "" || name == "" || strings.Contains(name, "/") {
		return ToolID{}, fmt.Errorf("tool %q: want server/tool", s)
	}
	return ToolID{Server: server, Name: name}, nil
}

// CompareToolIDs orders tool IDs by server, then name.
func CompareToolIDs(a, b ToolID) int {
	if c := strings.Compare(a.Server, b.Server); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Environment is where a server's data lives.
type Environment string

// Environments.
const (
	Prod Environment = "prod"
	Dev  Environment = "dev"
)

// Operation is what a tool does to its data objects.
type Operation string

// Operations, in increasing order of privilege.
const (
	OpRead   Operation = "read"
	OpWrite  Operation = "write"
	OpDelete Operation = "delete"
	OpAdmin  Operation = "admin"
)

// Operations lists every operation kind.
var Operations = []Operation{OpRead, OpWrite, OpDelete, OpAdmin}

// Risk grades the harm a tool can do.
type Risk string

// Risks, in increasing order.
const (
	RiskLow      Risk = "low"
	RiskMedium   Risk = "medium"
	RiskHigh     Risk = "high"
	RiskCritical Risk = "critical"
)

var riskOrder = []Risk{RiskLow, RiskMedium, RiskHigh, RiskCritical}

// Level is the risk's rank: 0 for low … 3 for critical, -1 if unknown.
func (r Risk) Level() int { return slices.Index(riskOrder, r) }

// DefaultRisk is the risk of a tool that states none.
func DefaultRisk(op Operation) Risk {
	switch op {
	case OpRead:
		return RiskLow
	case OpWrite:
		return RiskMedium
	case OpDelete:
		return RiskHigh
	default:
		return RiskCritical
	}
}

// AuthKind is how the gateway authenticates to a server.
type AuthKind string

// Auth kinds.
const (
	AuthNone   AuthKind = "none"
	AuthBearer AuthKind = "bearer"
	AuthHeader AuthKind = "header"
	AuthOAuth2 AuthKind = "oauth2"
)

// Auth is how the gateway authenticates upstream. The catalog holds only a
// reference to the credential, never its value.
type Auth struct {
	// Kind defaults to AuthNone.
	Kind AuthKind `json:"kind"`
	// Header carrying the credential. Defaults to "authorization" for
	// bearer and oauth2; required for kind header.
	Header string `json:"header,omitempty"`
	// CredentialRef is file:/path, secret://NAME/KEY, env:NAME or
	// vault://PATH. Required unless Kind is none.
	CredentialRef string `json:"credential_ref,omitempty"`
}

// TagExternalSink marks a server or tool that sends data outside the
// organisation (e-mail, web posts, chat).
const TagExternalSink = "external-sink"

// Server is a registered MCP server.
type Server struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	URL         string      `json:"url"`
	Owner       string      `json:"owner"`
	Environment Environment `json:"environment"`
	Auth        Auth        `json:"auth"`
	Tags        []string    `json:"tags,omitempty"`
	// Tools is the pinned snapshot of the server's tools/list, sorted by name.
	Tools []*Tool  `json:"tools"`
	Pos   Position `json:"-"`
}

// HasTag reports whether the server carries tag.
func (s *Server) HasTag(tag string) bool { return slices.Contains(s.Tags, tag) }

// Tool returns the server's tool called name, or nil.
func (s *Server) Tool(name string) *Tool {
	for _, t := range s.Tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// PinnedDefinitions returns the pinned definitions of the server's tools.
func (s *Server) PinnedDefinitions() []ToolDefinition {
	out := make([]ToolDefinition, 0, len(s.Tools))
	for _, t := range s.Tools {
		out = append(out, t.Definition())
	}
	return out
}

// Tool is one pinned tool of a server.
type Tool struct {
	Server      string `json:"server"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// InputSchema is the canonical JSON of the tool's input schema.
	InputSchema json.RawMessage `json:"input_schema"`
	Operation   Operation       `json:"operation"`
	DataObjects []string        `json:"data_objects,omitempty"`
	// Risk defaults to DefaultRisk(Operation).
	Risk Risk     `json:"risk"`
	Tags []string `json:"tags,omitempty"`
	// RateLimitPerHour is how many calls of the tool one agent may make per
	// hour (enforced by each filter replica); 0 means unlimited. It is
	// operator policy, not part of the server's definition, so the pin does
	// not cover it.
	RateLimitPerHour int `json:"rate_limit_per_hour,omitempty"`
	// Pin is PinHash of the definition.
	Pin string   `json:"pin"`
	Pos Position `json:"-"`
}

// ID returns server/name.
func (t *Tool) ID() ToolID { return ToolID{Server: t.Server, Name: t.Name} }

// Definition returns the part of the tool that the server itself reports in
// tools/list and that pinning covers.
func (t *Tool) Definition() ToolDefinition {
	return ToolDefinition{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema}
}

// Skill is a named bundle of tools.
type Skill struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Owner       string   `json:"owner"`
	Risk        Risk     `json:"risk"`
	Tools       []ToolID `json:"tools"`
	DataObjects []string `json:"data_objects,omitempty"`
	Pos         Position `json:"-"`
}

// Persona is a default-deny profile built from skills.
type Persona struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Skills      []string `json:"skills,omitempty"`
	AddTools    []ToolID `json:"add_tools,omitempty"`
	RemoveTools []ToolID `json:"remove_tools,omitempty"`
	DataPolicy  string   `json:"data_policy,omitempty"`
	// DenyMethods are JSON-RPC methods refused outright ("resources/read").
	DenyMethods []string `json:"deny_methods,omitempty"`
	Pos         Position `json:"-"`
}

// MarshalJSON writes the ID as "server/tool".
func (id ToolID) MarshalJSON() ([]byte, error) { return json.Marshal(id.String()) }

// UnmarshalJSON reads "server/tool".
func (id *ToolID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseToolID(s)
	if err != nil {
		return err
	}
	*id = v
	return nil
}
