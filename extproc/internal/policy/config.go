// Package policy holds the filter's policy: who the agents are, which persona
// each one has, which tools a persona grants and which backend credential an
// upstream gets. It is the pure core of authorisation; it imports no
// transport, Kafka or Envoy types.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/portcullis/portcullis/extproc/dlp"
)

// File is the YAML policy document (personas.yaml). Every field's default is
// stated where it is declared.
type File struct {
	// Environment labels every decision the filter emits ("prod", "dev", ...).
	// Defaults to "dev".
	Environment string `json:"environment,omitempty"`
	// Auth says where agents present their API key.
	Auth AuthConfig `json:"auth,omitempty"`
	// Limits bound what the filter accepts.
	Limits LimitsConfig `json:"limits,omitempty"`
	// Upstreams are the MCP servers the filter governs.
	Upstreams []UpstreamConfig `json:"upstreams"`
	// Personas are default-deny tool grants.
	Personas []PersonaConfig `json:"personas"`
	// Agents are the API-key holders and their personas.
	Agents []AgentConfig `json:"agents"`
	// DataProtection says what happens to sensitive data in requests and
	// responses. Optional: without it every finding is only counted in the
	// decision, except the gateway's own backend credentials, which are
	// always redacted.
	DataProtection DataProtectionConfig `json:"data_protection,omitempty"`
}

// AuthConfig locates the agent's API key.
type AuthConfig struct {
	// Header carrying the key. Defaults to "authorization", where the key is
	// expected as "Bearer <key>"; with any other header the whole value is the
	// key.
	Header string `json:"header,omitempty"`
}

// LimitsConfig bounds request processing.
type LimitsConfig struct {
	// MaxBodyBytes is the largest request body accepted; larger bodies get
	// 413. Defaults to 1 MiB (Envoy's default buffer limit).
	MaxBodyBytes int `json:"max_body_bytes,omitempty"`
	// MaxJSONDepth is the deepest JSON nesting accepted. Defaults to 64.
	MaxJSONDepth int `json:"max_json_depth,omitempty"`
	// AllowedOrigins are the browser origins ("https://console.example.com",
	// scheme://host[:port]) whose requests are accepted. A request with any
	// other Origin header is refused with 403 (DNS rebinding and cross-site
	// protection); a loopback origin is also accepted on a loopback
	// listener. Requests without Origin (agents are not browsers) are not
	// affected. Defaults to none.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// MaxBatch is the largest JSON-RPC batch accepted. Defaults to 100.
	MaxBatch int `json:"max_batch,omitempty"`
}

// UpstreamConfig is one governed MCP server.
type UpstreamConfig struct {
	// Name identifies the server in personas and decisions.
	Name string `json:"name"`
	// Credential is injected into every request forwarded to the server.
	// Optional: without it nothing is injected.
	Credential *CredentialConfig `json:"credential,omitempty"`
	// Environment labels the server's data ("prod", "dev"). Defaults to
	// the policy's environment. Data seen in a "prod" server's responses
	// may be kept from reaching a non-"prod" server (flows.prod_to_dev).
	Environment string `json:"environment,omitempty"`
	// SinkTools are the server's tools that send data outside the
	// organisation (e-mail, web posts, chat messages): external sinks for
	// flows.external_sinks.
	SinkTools []string `json:"sink_tools,omitempty"`
	// ToolPins are the approved definitions of the server's tools: tool
	// name → pin, "sha256:<64 lower-case hex>" over the canonical JSON of
	// the tool's name, description and input schema (package
	// extproc/toolpin; the registry's snapshot carries them). Optional:
	// without pins the server's tools/list is narrowed by persona only. With
	// pins, a granted tool the server lists with another pin, or without a
	// pin here, is withheld from tools/list and quarantined: tools/call of it
	// is refused until a policy pins the definition the server now shows.
	ToolPins map[string]string `json:"tool_pins,omitempty"`
	// ToolRateLimits cap tools/call of the server's tools: tool name →
	// calls per hour, per agent (the registry catalog's
	// rate_limit_per_hour). Optional: a tool without an entry, or with 0,
	// is unlimited; negative values are an error. Each filter replica
	// enforces the limit on its own, with a token bucket that holds the
	// whole hour's budget and refills continuously (N/3600 per second), so
	// an agent may call N times at once and then once every 3600/N seconds.
	// A refused call gets JSON-RPC error -32003 with a Retry-After header.
	ToolRateLimits map[string]int `json:"tool_rate_limits,omitempty"`
}

// CredentialConfig is a backend credential injected as one header. Exactly one
// of Value and ValueFile is set.
type CredentialConfig struct {
	// Header to set. Defaults to "authorization".
	Header string `json:"header,omitempty"`
	// Value is the header value, e.g. "Bearer s3cr3t".
	Value string `json:"value,omitempty"`
	// ValueFile is a file whose content (trailing newline trimmed) is the value,
	// e.g. a mounted Kubernetes secret.
	ValueFile string `json:"value_file,omitempty"`
}

// PersonaConfig is a default-deny profile.
type PersonaConfig struct {
	Name string `json:"name"`
	// Description is the natural-language role the persona was made from.
	Description string `json:"description,omitempty"`
	// Upstream is the name of the server this persona's endpoint routes to.
	Upstream string `json:"upstream"`
	// Tools lists the only tools tools/call may invoke and tools/list shows.
	Tools []string `json:"tools"`
	// DenyMethods lists JSON-RPC methods refused outright (e.g.
	// "resources/read"). Methods not listed, other than tools/call, are left
	// to the upstream.
	DenyMethods []string `json:"deny_methods,omitempty"`
	// DataPolicy names the data_protection.policies entry applied to this
	// persona's traffic. Defaults to the policy named "default" when there
	// is one.
	DataPolicy string `json:"data_policy,omitempty"`
}

// AgentConfig is one agent credential.
type AgentConfig struct {
	ID string `json:"id"`
	// Subject is the human or service the agent acts for.
	Subject string `json:"subject,omitempty"`
	Persona string `json:"persona"`
	// KeySHA256 is the lower-case hex SHA-256 of the agent's API key. Keys are
	// random high-entropy tokens, so a plain digest is enough; the key itself
	// is never stored. `portcullis-extproc -hash-key` prints it.
	KeySHA256 string `json:"key_sha256"`
}

// Defaults.
const (
	DefaultEnvironment  = "dev"
	DefaultAuthHeader   = "authorization"
	DefaultMaxBodyBytes = 1 << 20
)

// HashKey returns the digest stored in AgentConfig.KeySHA256 for key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// FileVersion is the Version of a policy read from a static file: "file:"
// and the lower-case hex SHA-256 of its content.
func FileVersion(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "file:" + hex.EncodeToString(sum[:])
}

// Load reads, validates and compiles a policy file.
func Load(path string) (*Policy, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p.Version = FileVersion(raw)
	return p, nil
}

// Parse validates and compiles a policy document. Unknown fields are errors.
// All problems are reported together.
func Parse(raw []byte) (*Policy, error) {
	var f File
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		return nil, err
	}
	return Compile(f)
}

// Compile validates f and builds the lookup structures the filter uses.
func Compile(f File) (*Policy, error) {
	var errs []error
	p := &Policy{
		Environment:  orDefault(f.Environment, DefaultEnvironment),
		authHeader:   strings.ToLower(orDefault(f.Auth.Header, DefaultAuthHeader)),
		MaxBodyBytes: f.Limits.MaxBodyBytes,
		MaxJSONDepth: f.Limits.MaxJSONDepth,
		MaxBatch:     f.Limits.MaxBatch,
		origins:      make(map[string]struct{}, len(f.Limits.AllowedOrigins)),
		upstreams:    make(map[string]*Upstream, len(f.Upstreams)),
		personas:     make(map[string]*Persona, len(f.Personas)),
		agents:       make(map[string]*Agent, len(f.Agents)),
	}
	if p.MaxBodyBytes == 0 {
		p.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if p.MaxBodyBytes < 0 || p.MaxJSONDepth < 0 || p.MaxBatch < 0 {
		errs = append(errs, errors.New("limits: values must not be negative"))
	}
	for i, o := range f.Limits.AllowedOrigins {
		norm, err := NormalizeOrigin(o)
		if err != nil {
			errs = append(errs, fmt.Errorf("limits.allowed_origins[%d]: %w", i, err))
			continue
		}
		p.origins[norm] = struct{}{}
	}
	for i, u := range f.Upstreams {
		at := fmt.Sprintf("upstreams[%d]", i)
		if u.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", at))
			continue
		}
		if _, dup := p.upstreams[u.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: duplicate upstream %q", at, u.Name))
			continue
		}
		up := &Upstream{Name: u.Name, Environment: orDefault(u.Environment, p.Environment), sinks: make(map[string]struct{}, len(u.SinkTools))}
		for _, t := range u.SinkTools {
			up.sinks[t] = struct{}{}
		}
		if len(u.ToolPins) > 0 {
			up.pins = make(map[string]string, len(u.ToolPins))
			for tool, pin := range u.ToolPins {
				if tool == "" {
					errs = append(errs, fmt.Errorf("%s.tool_pins: empty tool name", at))
					continue
				}
				if !validPin(pin) {
					errs = append(errs, fmt.Errorf("%s.tool_pins[%q]: want \"sha256:\" and 64 lower-case hex characters", at, tool))
					continue
				}
				up.pins[tool] = pin
			}
		}
		for _, tool := range slices.Sorted(maps.Keys(u.ToolRateLimits)) {
			n := u.ToolRateLimits[tool]
			switch {
			case tool == "":
				errs = append(errs, fmt.Errorf("%s.tool_rate_limits: empty tool name", at))
			case n < 0:
				errs = append(errs, fmt.Errorf("%s.tool_rate_limits[%q]: %d calls per hour is negative (0 means unlimited)", at, tool, n))
			case n > 0:
				if up.rateLimits == nil {
					up.rateLimits = make(map[string]int, len(u.ToolRateLimits))
				}
				up.rateLimits[tool] = n
			}
		}
		if c := u.Credential; c != nil {
			up.CredentialHeader = strings.ToLower(orDefault(c.Header, DefaultAuthHeader))
			switch {
			case c.Value != "" && c.ValueFile != "":
				errs = append(errs, fmt.Errorf("%s.credential: set value or value_file, not both", at))
			case c.Value != "":
				up.CredentialValue = c.Value
			case c.ValueFile != "":
				v, err := os.ReadFile(c.ValueFile)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.credential.value_file: %w", at, err))
				}
				up.CredentialValue = strings.TrimRight(string(v), "\r\n")
			default:
				errs = append(errs, fmt.Errorf("%s.credential: value or value_file required", at))
			}
		}
		p.upstreams[u.Name] = up
	}
	var secrets []dlp.KnownSecret
	for _, u := range f.Upstreams {
		if up := p.upstreams[u.Name]; up != nil && up.CredentialValue != "" {
			secrets = append(secrets, dlp.KnownSecret{Name: up.Name, Value: up.CredentialValue})
		}
	}
	known, err := dlp.NewKnownSecrets(secrets)
	if err != nil {
		errs = append(errs, fmt.Errorf("upstreams: credentials: %w", err))
	}
	p.known = known
	data, derrs := compileData(f.DataProtection)
	errs = append(errs, derrs...)
	for i, pc := range f.Personas {
		at := fmt.Sprintf("personas[%d]", i)
		if pc.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", at))
			continue
		}
		if _, dup := p.personas[pc.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: duplicate persona %q", at, pc.Name))
			continue
		}
		up, ok := p.upstreams[pc.Upstream]
		if !ok {
			errs = append(errs, fmt.Errorf("%s.upstream: unknown upstream %q", at, pc.Upstream))
		}
		per := &Persona{Name: pc.Name, Upstream: up, tools: make(map[string]struct{}, len(pc.Tools)), denyMethods: make(map[string]struct{}, len(pc.DenyMethods))}
		for j, t := range pc.Tools {
			if t == "" {
				errs = append(errs, fmt.Errorf("%s.tools[%d]: empty tool name", at, j))
			}
			per.tools[t] = struct{}{}
		}
		for _, m := range pc.DenyMethods {
			per.denyMethods[m] = struct{}{}
		}
		per.Data = passThroughData
		if dp, ok := data[pc.DataPolicy]; ok {
			per.Data = dp
		} else if pc.DataPolicy != "" {
			errs = append(errs, fmt.Errorf("%s.data_policy: unknown data policy %q", at, pc.DataPolicy))
		} else if dp, ok := data[DefaultDataPolicy]; ok {
			per.Data = dp
		}
		p.personas[pc.Name] = per
	}
	for i, a := range f.Agents {
		at := fmt.Sprintf("agents[%d]", i)
		if a.ID == "" {
			errs = append(errs, fmt.Errorf("%s.id: required", at))
		}
		per, ok := p.personas[a.Persona]
		if !ok {
			errs = append(errs, fmt.Errorf("%s.persona: unknown persona %q", at, a.Persona))
		}
		digest := strings.ToLower(a.KeySHA256)
		if b, err := hex.DecodeString(digest); err != nil || len(b) != sha256.Size {
			errs = append(errs, fmt.Errorf("%s.key_sha256: must be 64 hex characters (SHA-256 of the key)", at))
			continue
		}
		if _, dup := p.agents[digest]; dup {
			errs = append(errs, fmt.Errorf("%s.key_sha256: key already assigned to another agent", at))
			continue
		}
		p.agents[digest] = &Agent{ID: a.ID, Subject: a.Subject, Persona: per}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// validPin reports whether pin has the form "sha256:<64 lower-case hex>".
func validPin(pin string) bool {
	hexPart, ok := strings.CutPrefix(pin, "sha256:")
	if !ok || len(hexPart) != 2*sha256.Size || strings.ToLower(hexPart) != hexPart {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
