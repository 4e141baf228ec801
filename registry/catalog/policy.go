package catalog

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// The filter policy beyond servers, skills and personas: agents (API-key
// digests and their personas), data policies and filter-wide settings. They
// live in the same directory under three more top-level keys:
//
//	agents:
//	  - id: support-bot                 # [a-z0-9][a-z0-9_.-]*, unique
//	    subject: support-team@example.com
//	    persona: support-agent          # a registered persona
//	    key_sha256: 70c5…               # hex SHA-256 of the API key, never the key
//	data_policies:
//	  - name: support                   # personas name it in data_policy
//	    description: Mask cards, block secrets.
//	    default: allow                  # a bare action or {action: mask, keep: 2}
//	    categories: {secret: block}
//	    types: {credit_card: mask}
//	    flows: {external_sinks: block, prod_to_dev: block}
//	settings:                           # at most once in the directory
//	  auth_header: authorization
//	  limits: {max_body_bytes: 1048576, max_json_depth: 64, max_batch: 100,
//	           allowed_origins: ["https://console.example.com"]}
//	  token_key_ref: secret://portcullis/token-key
//
// Once the directory defines a data policy, every persona's data_policy must
// name one of them.

// Agent is one agent credential: the digest of its API key, never the key.
type Agent struct {
	ID      string `json:"id"`
	Subject string `json:"subject,omitempty"`
	Persona string `json:"persona"`
	// KeySHA256 is the lower-case hex SHA-256 of the API key.
	KeySHA256 string   `json:"key_sha256"`
	Pos       Position `json:"-"`
}

// DataRule is one data-protection action.
type DataRule struct {
	// Action is allow, log, mask, tokenise, redact or block.
	Action string `json:"action"`
	// Keep is what a mask leaves visible; 0 means the filter default (4),
	// -1 keeps none.
	Keep int `json:"keep,omitempty"`
}

// DataFlows says what happens to sensitive values crossing between tools:
// "block" or "allow" (empty means allow).
type DataFlows struct {
	ExternalSinks string `json:"external_sinks,omitempty"`
	ProdToDev     string `json:"prod_to_dev,omitempty"`
}

// DataPolicy is a named sensitive-data policy.
type DataPolicy struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Default applies to types no other rule names; nil means allow.
	Default    *DataRule           `json:"default,omitempty"`
	Categories map[string]DataRule `json:"categories,omitempty"`
	Types      map[string]DataRule `json:"types,omitempty"`
	Flows      DataFlows           `json:"flows"`
	Pos        Position            `json:"-"`
}

// Settings are the filter-wide settings. Zero values mean the filter's
// defaults.
type Settings struct {
	AuthHeader   string `json:"auth_header,omitempty"`
	MaxBodyBytes int64  `json:"max_body_bytes,omitempty"`
	MaxJSONDepth int    `json:"max_json_depth,omitempty"`
	MaxBatch     int    `json:"max_batch,omitempty"`
	TokenKeyRef  string `json:"token_key_ref,omitempty"`
	// AllowedOrigins are browser origins (scheme://host[:port]) the
	// filter accepts; none by default.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	Pos            Position `json:"-"`
}

// DataActions are the valid DataRule actions.
var DataActions = []string{"allow", "log", "mask", "tokenise", "redact", "block"}

// DataCategories are the valid DataPolicy.Categories keys.
var DataCategories = []string{"secret", "financial", "government-id", "health", "personal", "network"}

var typeIDChars = func(r rune) bool {
	return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' && r != '-' && r != '.'
}

// Agents returns the agents, sorted by id.
func (c *Catalog) Agents() []*Agent { return c.policy.agents }

// Agent returns the agent with the given id, or nil.
func (c *Catalog) Agent(id string) *Agent {
	for _, a := range c.policy.agents {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// DataPolicies returns the data policies, sorted by name.
func (c *Catalog) DataPolicies() []*DataPolicy { return c.policy.dataPolicies }

// DataPolicy returns the data policy called name, or nil.
func (c *Catalog) DataPolicy(name string) *DataPolicy {
	for _, d := range c.policy.dataPolicies {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Settings returns the filter-wide settings, or nil when the directory has
// none.
func (c *Catalog) Settings() *Settings { return c.policy.settings }

type policySet struct {
	agents       []*Agent
	dataPolicies []*DataPolicy
	settings     *Settings
}

type rawPolicy struct {
	agents       []*Agent
	agentPaths   []string
	dataPolicies []*DataPolicy
	dpPaths      []string
	settings     []*Settings
}

func (d *fileDec) agent(n *yaml.Node, p string) {
	a := &Agent{Pos: d.pos(n)}
	ok := d.mapping(n, p, map[string]func(*yaml.Node, string){
		"id":         func(v *yaml.Node, fp string) { d.str(v, fp, &a.ID) },
		"subject":    func(v *yaml.Node, fp string) { d.str(v, fp, &a.Subject) },
		"persona":    func(v *yaml.Node, fp string) { d.str(v, fp, &a.Persona) },
		"key_sha256": func(v *yaml.Node, fp string) { d.str(v, fp, &a.KeySHA256) },
		"key": func(v *yaml.Node, fp string) {
			d.errf(v, fp, "API keys are never stored in the catalog: use key_sha256 (the hex SHA-256 of the key)")
		},
	}, []string{"id", "persona", "key_sha256"})
	if ok {
		d.l.policy.agents = append(d.l.policy.agents, a)
		d.l.policy.agentPaths = append(d.l.policy.agentPaths, p)
	}
}

func (d *fileDec) rule(n *yaml.Node, p string, dst *DataRule) {
	if n.Kind == yaml.ScalarNode {
		d.str(n, p, &dst.Action)
		d.checkAction(n, p, dst.Action)
		return
	}
	d.mapping(n, p, map[string]func(*yaml.Node, string){
		"action": func(v *yaml.Node, fp string) { d.str(v, fp, &dst.Action); d.checkAction(v, fp, dst.Action) },
		"keep": func(v *yaml.Node, fp string) {
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				d.errf(v, fp, "must be an integer, not %s", kindName(v))
				return
			}
			if err := v.Decode(&dst.Keep); err != nil || dst.Keep < -1 {
				d.errf(v, fp, "must be -1 or more")
			}
		},
	}, []string{"action"})
}

func (d *fileDec) checkAction(n *yaml.Node, p, a string) {
	if !slices.Contains(DataActions, a) {
		d.errf(n, p, "unknown action %q (want %s)", a, strings.Join(DataActions, ", "))
	}
}

func (d *fileDec) rules(n *yaml.Node, p string, valid func(string) string, dst *map[string]DataRule) {
	if n.Kind != yaml.MappingNode {
		d.errf(n, p, "must be a mapping, not %s", kindName(n))
		return
	}
	*dst = map[string]DataRule{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		fp := join(p, k.Value)
		if msg := valid(k.Value); msg != "" {
			d.errf(k, fp, "%s", msg)
			continue
		}
		if _, dup := (*dst)[k.Value]; dup {
			d.errf(k, fp, "duplicate field")
			continue
		}
		var r DataRule
		d.rule(v, fp, &r)
		(*dst)[k.Value] = r
	}
}

func (d *fileDec) flow(n *yaml.Node, p string, dst *string) {
	d.str(n, p, dst)
	if *dst != "block" && *dst != "allow" {
		d.errf(n, p, "unknown flow action %q (want block or allow)", *dst)
	}
}

func (d *fileDec) dataPolicy(n *yaml.Node, p string) {
	dp := &DataPolicy{Pos: d.pos(n)}
	ok := d.mapping(n, p, map[string]func(*yaml.Node, string){
		"name":        func(v *yaml.Node, fp string) { d.str(v, fp, &dp.Name) },
		"description": func(v *yaml.Node, fp string) { d.str(v, fp, &dp.Description) },
		"default": func(v *yaml.Node, fp string) {
			dp.Default = &DataRule{}
			d.rule(v, fp, dp.Default)
		},
		"categories": func(v *yaml.Node, fp string) {
			d.rules(v, fp, func(k string) string {
				if slices.Contains(DataCategories, k) {
					return ""
				}
				return fmt.Sprintf("unknown category%s (want %s)", didYouMean(k, DataCategories), strings.Join(DataCategories, ", "))
			}, &dp.Categories)
		},
		"types": func(v *yaml.Node, fp string) {
			d.rules(v, fp, func(k string) string {
				if k == "" || strings.IndexFunc(k, typeIDChars) >= 0 {
					return fmt.Sprintf("invalid detector type %q (want [a-z0-9_.-])", k)
				}
				return ""
			}, &dp.Types)
		},
		"flows": func(v *yaml.Node, fp string) {
			d.mapping(v, fp, map[string]func(*yaml.Node, string){
				"external_sinks": func(v *yaml.Node, fp string) { d.flow(v, fp, &dp.Flows.ExternalSinks) },
				"prod_to_dev":    func(v *yaml.Node, fp string) { d.flow(v, fp, &dp.Flows.ProdToDev) },
			}, nil)
		},
	}, []string{"name"})
	if ok {
		d.l.policy.dataPolicies = append(d.l.policy.dataPolicies, dp)
		d.l.policy.dpPaths = append(d.l.policy.dpPaths, p)
	}
}

func (d *fileDec) posInt(n *yaml.Node, p string, dst any) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errf(n, p, "must be an integer, not %s", kindName(n))
		return
	}
	var v int64
	if err := n.Decode(&v); err != nil || v < 0 {
		d.errf(n, p, "must be a non-negative integer")
		return
	}
	switch t := dst.(type) {
	case *int64:
		*t = v
	case *int:
		*t = int(v)
	}
}

func (d *fileDec) settings(n *yaml.Node, p string) {
	s := &Settings{Pos: d.pos(n)}
	ok := d.mapping(n, p, map[string]func(*yaml.Node, string){
		"auth_header": func(v *yaml.Node, fp string) { d.str(v, fp, &s.AuthHeader) },
		"limits": func(v *yaml.Node, fp string) {
			d.mapping(v, fp, map[string]func(*yaml.Node, string){
				"max_body_bytes": func(v *yaml.Node, fp string) { d.posInt(v, fp, &s.MaxBodyBytes) },
				"max_json_depth": func(v *yaml.Node, fp string) { d.posInt(v, fp, &s.MaxJSONDepth) },
				"max_batch":      func(v *yaml.Node, fp string) { d.posInt(v, fp, &s.MaxBatch) },
				"allowed_origins": func(v *yaml.Node, fp string) {
					d.strs(v, fp, &s.AllowedOrigins)
					for i, o := range s.AllowedOrigins {
						if msg := checkOrigin(o); msg != "" && i < len(v.Content) {
							d.errf(v.Content[i], fmt.Sprintf("%s[%d]", fp, i), "%s", msg)
						}
					}
				},
			}, nil)
		},
		"token_key_ref": func(v *yaml.Node, fp string) {
			d.str(v, fp, &s.TokenKeyRef)
			d.checkCredRef(v, fp, s.TokenKeyRef)
		},
		"token_key": func(v *yaml.Node, fp string) {
			d.errf(v, fp, "key values are never stored in the catalog: use token_key_ref (file:, secret://, env: or vault://)")
		},
	}, nil)
	if ok {
		d.l.policy.settings = append(d.l.policy.settings, s)
	}
}

// buildPolicy validates agents, data policies and settings against the
// personas already built into c.
func (l *loader) buildPolicy(c *Catalog) {
	is := &l.issues
	rp := &l.policy
	dpNames := map[string]bool{}
	tokenises := false
	for i, dp := range rp.dataPolicies {
		p := rp.dpPaths[i]
		if !nameRE.MatchString(dp.Name) {
			if dp.Name != "" {
				is.add(dp.Pos, p+".name", "invalid data policy name %q (want [a-z0-9][a-z0-9_.-]*)", dp.Name)
			}
			continue
		}
		if dpNames[dp.Name] {
			is.add(dp.Pos, p+".name", "duplicate data policy %q", dp.Name)
			continue
		}
		dpNames[dp.Name] = true
		for _, r := range dp.rules() {
			tokenises = tokenises || r.Action == "tokenise"
		}
		c.policy.dataPolicies = append(c.policy.dataPolicies, dp)
	}
	names := make([]string, 0, len(dpNames))
	for n := range dpNames {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, raw := range l.personas {
		pe := raw.p
		if c.byPerson[pe.Name] != pe {
			continue
		}
		for i, m := range pe.DenyMethods {
			if strings.TrimSpace(m) == "" || strings.ContainsAny(m, " \t\n") {
				is.add(raw.pos, fmt.Sprintf("%s.deny_methods[%d]", raw.path, i), "invalid JSON-RPC method %q", m)
			}
		}
		pe.DenyMethods = normalizeList(pe.DenyMethods)
		if len(dpNames) > 0 && pe.DataPolicy != "" && !dpNames[pe.DataPolicy] {
			is.add(raw.pos, raw.path+".data_policy", "unknown data policy %q%s", pe.DataPolicy, didYouMean(pe.DataPolicy, names))
		}
	}
	personaNames := make([]string, 0, len(c.byPerson))
	for n := range c.byPerson {
		personaNames = append(personaNames, n)
	}
	sort.Strings(personaNames)
	ids, keys := map[string]bool{}, map[string]string{}
	for i, a := range rp.agents {
		p := rp.agentPaths[i]
		if a.ID == "" {
			continue // reported as missing by the loader
		}
		if !nameRE.MatchString(a.ID) {
			is.add(a.Pos, p+".id", "invalid agent id %q (want [a-z0-9][a-z0-9_.-]*, at most 63 characters)", a.ID)
			continue
		}
		if ids[a.ID] {
			is.add(a.Pos, p+".id", "duplicate agent %q", a.ID)
			continue
		}
		ids[a.ID] = true
		if c.byPerson[a.Persona] == nil {
			is.add(a.Pos, p+".persona", "unknown persona %q%s", a.Persona, didYouMean(a.Persona, personaNames))
		}
		a.KeySHA256 = strings.ToLower(a.KeySHA256)
		if b, err := hex.DecodeString(a.KeySHA256); err != nil || len(b) != 32 {
			is.add(a.Pos, p+".key_sha256", "must be 64 hex characters (the SHA-256 of the key, never the key)")
		} else if other, dup := keys[a.KeySHA256]; dup {
			is.add(a.Pos, p+".key_sha256", "key already assigned to agent %q", other)
		} else {
			keys[a.KeySHA256] = a.ID
		}
		c.policy.agents = append(c.policy.agents, a)
	}
	for i, s := range rp.settings {
		if i > 0 {
			is.add(s.Pos, "settings", "duplicate settings (first defined at %s)", rp.settings[0].Pos)
			continue
		}
		s.AuthHeader = strings.ToLower(s.AuthHeader)
		c.policy.settings = s
	}
	if tokenises && (c.policy.settings == nil || c.policy.settings.TokenKeyRef == "") {
		pos := Position{}
		if len(rp.dataPolicies) > 0 {
			pos = rp.dataPolicies[0].Pos
		}
		is.add(pos, "settings.token_key_ref", "required: a data policy uses the tokenise action")
	}
	slices.SortFunc(c.policy.agents, func(a, b *Agent) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(c.policy.dataPolicies, func(a, b *DataPolicy) int { return strings.Compare(a.Name, b.Name) })
}

func (dp *DataPolicy) rules() []DataRule {
	var out []DataRule
	if dp.Default != nil {
		out = append(out, *dp.Default)
	}
	for _, r := range dp.Categories {
		out = append(out, r)
	}
	for _, r := range dp.Types {
		out = append(out, r)
	}
	return out
}

// checkOrigin says what is wrong with an allowed origin, or "": it must be
// a serialised origin, scheme://host[:port] with scheme http or https.
func checkOrigin(o string) string {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return fmt.Sprintf("origin %q does not parse", o)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("origin %q: scheme must be http or https", o)
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("origin %q: want scheme://host[:port] only", o)
	}
	return ""
}
