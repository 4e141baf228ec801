package registryfeed

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/portcullis/portcullis/extproc/internal/policy"
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
)

// DefaultSecretsDir is where secret://NAME/KEY credential references are
// read from, as DefaultSecretsDir/NAME/KEY (a mounted Kubernetes secret per
// NAME). It matches the registry's own default.
const DefaultSecretsDir = "/var/run/secrets/portcullis"

// ConvertOptions configure Convert.
type ConvertOptions struct {
	// SecretsDir resolves secret://NAME/KEY references to SecretsDir/NAME/KEY.
	// Defaults to DefaultSecretsDir.
	SecretsDir string
}

// Conversion is a snapshot in the filter's policy shape.
type Conversion struct {
	// File is the policy document; policy.Compile validates it.
	File policy.File
	// Skipped says what the filter cannot enforce as the registry states it
	// and therefore leaves out (fail closed): agents whose persona grants
	// nothing, or tools on several upstreams (the filter routes one upstream
	// per persona, so such an agent has no single persona to hold).
	Skipped []string
}

// Convert maps a registry policy snapshot to the filter's policy document.
// It is pure apart from naming files: credential and token-key references
// become file paths that policy.Compile reads.
//
// The mapping: upstreams → Upstreams (tool_pins → ToolPins,
// tool_rate_limits_per_hour → ToolRateLimits, credential_ref file:/ABS → value_file,
// secret://NAME/KEY → SecretsDir/NAME/KEY; env: and vault:// are refused:
// the filter reads no secrets from its environment and has no Vault
// client); personas with one grant → a persona of the same name; personas
// with grants on several upstreams → one "<persona>.<upstream>" persona per
// upstream, as the registry's static rendering does; personas granting
// nothing → left out; agents → Agents; data policies → DataProtection;
// settings → Auth, Limits and the token key.
func Convert(s *registryv1.PolicySnapshot, opts ConvertOptions) (Conversion, error) {
	if s == nil {
		return Conversion{}, errors.New("snapshot: missing")
	}
	if s.GetVersion() == "" {
		return Conversion{}, errors.New("snapshot: version is empty")
	}
	dir := opts.SecretsDir
	if dir == "" {
		dir = DefaultSecretsDir
	}
	var errs []error
	f := policy.File{
		Environment: s.GetEnvironment(),
		Upstreams:   []policy.UpstreamConfig{},
		Personas:    []policy.PersonaConfig{},
		Agents:      []policy.AgentConfig{},
	}
	var out Conversion
	if st := s.GetSettings(); st != nil {
		f.Auth.Header = st.GetAuthHeader()
		f.Limits = policy.LimitsConfig{MaxBodyBytes: int(st.GetMaxBodyBytes()), MaxJSONDepth: int(st.GetMaxJsonDepth()), MaxBatch: int(st.GetMaxBatch()),
			AllowedOrigins: st.GetAllowedOrigins()}
		if ref := st.GetTokenKeyRef(); ref != "" {
			file, err := credentialFile(ref, dir)
			if err != nil {
				errs = append(errs, fmt.Errorf("settings.token_key_ref: %w", err))
			}
			f.DataProtection.TokenKeyFile = file
		}
	}
	for i, u := range s.GetUpstreams() {
		uc := policy.UpstreamConfig{Name: u.GetName(), Environment: u.GetEnvironment(), SinkTools: append([]string(nil), u.GetSinkTools()...)}
		if pins := u.GetToolPins(); len(pins) > 0 {
			uc.ToolPins = make(map[string]string, len(pins))
			for tool, pin := range pins {
				uc.ToolPins[tool] = pin
			}
		}
		if lims := u.GetToolRateLimitsPerHour(); len(lims) > 0 {
			uc.ToolRateLimits = make(map[string]int, len(lims))
			for tool, n := range lims {
				uc.ToolRateLimits[tool] = int(n) // policy.Compile rejects negative limits
			}
		}
		if ref := u.GetCredentialRef(); ref != "" {
			file, err := credentialFile(ref, dir)
			if err != nil {
				errs = append(errs, fmt.Errorf("upstreams[%d] (%s).credential_ref: %w", i, u.GetName(), err))
			}
			uc.Credential = &policy.CredentialConfig{Header: u.GetCredentialHeader(), ValueFile: file}
		} else if u.GetCredentialHeader() != "" {
			errs = append(errs, fmt.Errorf("upstreams[%d] (%s): credential_header without credential_ref", i, u.GetName()))
		}
		f.Upstreams = append(f.Upstreams, uc)
	}
	// routed maps a registry persona name to the filter persona an agent of
	// it gets, or "" when there is none.
	routed := map[string]string{}
	why := map[string]string{}
	for _, p := range s.GetPersonas() {
		grants := p.GetGrants()
		switch len(grants) {
		case 0:
			routed[p.GetName()] = ""
			why[p.GetName()] = "grants no tools"
			continue
		case 1:
			routed[p.GetName()] = p.GetName()
		default:
			routed[p.GetName()] = ""
			ups := make([]string, 0, len(grants))
			for _, g := range grants {
				ups = append(ups, g.GetUpstream())
			}
			why[p.GetName()] = "grants tools on several upstreams (" + strings.Join(ups, ", ") + "); route the agent to one of the personas " + p.GetName() + ".<upstream>"
		}
		for _, g := range grants {
			name := p.GetName()
			if len(grants) > 1 {
				name += "." + g.GetUpstream()
			}
			f.Personas = append(f.Personas, policy.PersonaConfig{
				Name:        name,
				Description: p.GetDescription(),
				Upstream:    g.GetUpstream(),
				Tools:       append([]string{}, g.GetTools()...),
				DenyMethods: append([]string(nil), p.GetDenyMethods()...),
				DataPolicy:  p.GetDataPolicy(),
			})
		}
	}
	for _, a := range s.GetAgents() {
		persona := a.GetPersona()
		if r, known := routed[persona]; known && r == "" {
			out.Skipped = append(out.Skipped, fmt.Sprintf("agent %q: persona %q %s", a.GetId(), persona, why[persona]))
			continue
		}
		// An unknown persona is left for policy.Compile to reject.
		f.Agents = append(f.Agents, policy.AgentConfig{ID: a.GetId(), Subject: a.GetSubject(), Persona: persona, KeySHA256: a.GetKeySha256()})
	}
	for _, d := range s.GetDataPolicies() {
		dc := policy.DataPolicyConfig{
			Name:       d.GetName(),
			Categories: rules(d.GetCategories()),
			Types:      rules(d.GetTypes()),
			Flows:      policy.FlowConfig{ExternalSinks: d.GetFlowExternalSinks(), ProdToDev: d.GetFlowProdToDev()},
		}
		if r := d.GetDefaultRule(); r != nil {
			dc.Default = &policy.RuleConfig{Action: r.GetAction(), Keep: int(r.GetKeep())}
		}
		f.DataProtection.Policies = append(f.DataProtection.Policies, dc)
	}
	if err := errors.Join(errs...); err != nil {
		return Conversion{}, err
	}
	sort.Strings(out.Skipped)
	out.File = f
	return out, nil
}

func rules(m map[string]*registryv1.DataRule) map[string]policy.RuleConfig {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]policy.RuleConfig, len(m))
	for k, r := range m {
		out[k] = policy.RuleConfig{Action: r.GetAction(), Keep: int(r.GetKeep())}
	}
	return out
}

// credentialFile resolves a credential reference to the file holding it.
func credentialFile(ref, secretsDir string) (string, error) {
	scheme, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return "", fmt.Errorf("a value of %s is not a reference (want file:/PATH or secret://NAME/KEY)", redactRef(ref))
	}
	switch scheme {
	case "file":
		if !filepath.IsAbs(rest) {
			return "", fmt.Errorf("file: reference %q must name an absolute path", ref)
		}
		return filepath.Clean(rest), nil
	case "secret":
		nk, ok := strings.CutPrefix(rest, "//")
		name, key, ok2 := strings.Cut(nk, "/")
		if !ok || !ok2 || !pathElem(name) || !pathElem(key) {
			return "", fmt.Errorf("secret reference %q: want secret://NAME/KEY, each one path element", ref)
		}
		return filepath.Join(secretsDir, name, key), nil
	case "env", "vault":
		return "", fmt.Errorf("credential reference scheme %q is not supported by the filter (mount the secret and use file: or secret://)", scheme)
	}
	return "", fmt.Errorf("unknown credential reference scheme %q (want file: or secret://)", scheme)
}

func pathElem(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

// redactRef keeps a malformed reference out of messages when it may be a
// pasted secret: only its length is shown.
func redactRef(ref string) string {
	return fmt.Sprintf("<%d characters>", len(ref))
}
