package catalog

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Snapshot is what the filter enforces: every persona resolved to its tools,
// with quarantined tools withheld. It is deterministic: equal catalogs and
// quarantines give equal snapshots and versions.
type Snapshot struct {
	// Version is the content hash of the snapshot (catalog version plus
	// quarantine).
	Version        string            `json:"version"`
	CatalogVersion string            `json:"catalog_version"`
	Servers        []*Server         `json:"servers"`
	Personas       []CompiledPersona `json:"personas"`
	Quarantined    []ToolChange      `json:"quarantined,omitempty"`
}

// CompiledPersona is a persona resolved to tools.
type CompiledPersona struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	DataPolicy  string   `json:"data_policy,omitempty"`
	Tools       []ToolID `json:"tools"`
	// Withheld are tools the persona would have but that are quarantined.
	Withheld []ToolID `json:"withheld,omitempty"`
}

// Servers returns the servers the persona's tools belong to, sorted.
func (p CompiledPersona) Servers() []string {
	var out []string
	for _, id := range p.Tools {
		if !slices.Contains(out, id.Server) {
			out = append(out, id.Server)
		}
	}
	slices.Sort(out)
	return out
}

// Snapshot compiles every persona. q may be nil.
func (c *Catalog) Snapshot(q Quarantine) *Snapshot {
	s := &Snapshot{CatalogVersion: c.version, Servers: c.servers}
	for _, id := range q.IDs() {
		if c.byTool[id] != nil {
			s.Quarantined = append(s.Quarantined, q[id])
		}
	}
	for _, p := range c.personas {
		cp := CompiledPersona{Name: p.Name, Description: p.Description, DataPolicy: p.DataPolicy, Tools: []ToolID{}}
		for _, id := range c.PersonaTools(p) {
			if q.Has(id) {
				cp.Withheld = append(cp.Withheld, id)
				continue
			}
			cp.Tools = append(cp.Tools, id)
		}
		s.Personas = append(s.Personas, cp)
	}
	s.Version = contentHash(struct {
		Catalog     string            `json:"catalog"`
		Personas    []CompiledPersona `json:"personas"`
		Quarantined []ToolChange      `json:"quarantined"`
	}{s.CatalogVersion, s.Personas, s.Quarantined})
	return s
}

// FilterPolicy mirrors the filter's static policy file (extproc's
// policy.File): the parts the catalog owns. Agents, auth, limits and data
// protection are configured next to it.
type FilterPolicy struct {
	Environment string           `json:"environment,omitempty"`
	Upstreams   []FilterUpstream `json:"upstreams"`
	Personas    []FilterPersona  `json:"personas"`
}

// FilterUpstream is policy.UpstreamConfig.
type FilterUpstream struct {
	Name        string            `json:"name"`
	Credential  *FilterCredential `json:"credential,omitempty"`
	Environment string            `json:"environment,omitempty"`
	SinkTools   []string          `json:"sink_tools,omitempty"`
	// ToolRateLimits: tool → rate_limit_per_hour, for limited tools only.
	ToolRateLimits map[string]int `json:"tool_rate_limits,omitempty"`
}

// FilterCredential is policy.CredentialConfig; the catalog only ever renders
// a value_file, never a value.
type FilterCredential struct {
	Header    string `json:"header,omitempty"`
	ValueFile string `json:"value_file,omitempty"`
}

// FilterPersona is policy.PersonaConfig.
type FilterPersona struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Upstream    string   `json:"upstream"`
	Tools       []string `json:"tools"`
	DataPolicy  string   `json:"data_policy,omitempty"`
}

// FilterOptions configure Snapshot.FilterPolicy.
type FilterOptions struct {
	// Environment labels the policy. Defaults to "dev".
	Environment string
	// SecretsDir is where secret://NAME/KEY credentials are mounted, as
	// SecretsDir/NAME/KEY. Defaults to "/var/run/secrets/portcullis".
	SecretsDir string
}

// DefaultSecretsDir is FilterOptions.SecretsDir's default.
const DefaultSecretsDir = "/var/run/secrets/portcullis"

// FilterPolicy renders the snapshot in the filter's static policy shape.
// The filter routes a persona to one upstream, so a persona whose tools span
// several servers becomes one entry per server, named "<persona>.<server>";
// a persona with no tools is left out (default deny needs no entry). A
// credential reference the static filter cannot read (env:, vault://) is an
// error, as is a server referenced by no persona only if its credential is
// unreadable.
func (s *Snapshot) FilterPolicy(opts FilterOptions) (*FilterPolicy, error) {
	env := opts.Environment
	if env == "" {
		env = "dev"
	}
	dir := opts.SecretsDir
	if dir == "" {
		dir = DefaultSecretsDir
	}
	var errs []error
	fp := &FilterPolicy{Environment: env, Upstreams: []FilterUpstream{}, Personas: []FilterPersona{}}
	for _, srv := range s.Servers {
		u := FilterUpstream{Name: srv.Name, Environment: string(srv.Environment)}
		for _, t := range srv.Tools {
			if srv.HasTag(TagExternalSink) || slices.Contains(t.Tags, TagExternalSink) {
				u.SinkTools = append(u.SinkTools, t.Name)
			}
			if t.RateLimitPerHour > 0 {
				if u.ToolRateLimits == nil {
					u.ToolRateLimits = map[string]int{}
				}
				u.ToolRateLimits[t.Name] = t.RateLimitPerHour
			}
		}
		if srv.Auth.Kind != AuthNone && srv.Auth.CredentialRef != "" {
			file, err := credentialFile(srv.Auth.CredentialRef, dir)
			if err != nil {
				errs = append(errs, fmt.Errorf("server %q: %w", srv.Name, err))
			}
			u.Credential = &FilterCredential{Header: srv.Auth.Header, ValueFile: file}
		}
		fp.Upstreams = append(fp.Upstreams, u)
	}
	for _, p := range s.Personas {
		servers := p.Servers()
		for _, server := range servers {
			name := p.Name
			if len(servers) > 1 {
				name = p.Name + "." + server
			}
			fpp := FilterPersona{Name: name, Description: p.Description, Upstream: server, DataPolicy: p.DataPolicy, Tools: []string{}}
			for _, id := range p.Tools {
				if id.Server == server {
					fpp.Tools = append(fpp.Tools, id.Name)
				}
			}
			fp.Personas = append(fp.Personas, fpp)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return fp, nil
}

func credentialFile(ref, secretsDir string) (string, error) {
	switch {
	case strings.HasPrefix(ref, "file:"):
		return strings.TrimPrefix(ref, "file:"), nil
	case strings.HasPrefix(ref, "secret://"):
		name, key, _ := strings.Cut(strings.TrimPrefix(ref, "secret://"), "/")
		return path.Join(secretsDir, name, key), nil
	default:
		scheme, _, _ := strings.Cut(ref, ":")
		return "", fmt.Errorf("credential_ref scheme %q cannot be rendered for the static filter policy (use file: or secret://)", scheme)
	}
}
