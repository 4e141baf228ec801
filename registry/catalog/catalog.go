package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Catalog is a validated, immutable set of servers, skills and personas.
// Every list it returns is sorted by name; callers must not modify what it
// returns.
type Catalog struct {
	servers  []*Server
	skills   []*Skill
	personas []*Persona
	byServer map[string]*Server
	bySkill  map[string]*Skill
	byPerson map[string]*Persona
	tools    []*Tool
	byTool   map[ToolID]*Tool
	policy   policySet
	version  string
}

// Servers returns the registered servers.
func (c *Catalog) Servers() []*Server { return c.servers }

// Server returns the server called name, or nil.
func (c *Catalog) Server(name string) *Server { return c.byServer[name] }

// Tools returns every tool of every server, sorted by ID.
func (c *Catalog) Tools() []*Tool { return c.tools }

// Tool returns the tool with the given ID, or nil.
func (c *Catalog) Tool(id ToolID) *Tool { return c.byTool[id] }

// Skills returns the skills.
func (c *Catalog) Skills() []*Skill { return c.skills }

// Skill returns the skill called name, or nil.
func (c *Catalog) Skill(name string) *Skill { return c.bySkill[name] }

// Personas returns the personas.
func (c *Catalog) Personas() []*Persona { return c.personas }

// Persona returns the persona called name, or nil.
func (c *Catalog) Persona(name string) *Persona { return c.byPerson[name] }

// Version is the content hash of the catalog, "sha256:<hex>": equal for
// catalogs with equal content whatever the file layout, order or comments.
func (c *Catalog) Version() string { return c.version }

// PersonaTools returns the tools persona p grants: the union of its skills'
// tools plus AddTools minus RemoveTools, sorted. p need not be registered,
// but its skills and tools must resolve in c.
func (c *Catalog) PersonaTools(p *Persona) []ToolID {
	set := map[ToolID]bool{}
	for _, s := range p.Skills {
		if sk := c.bySkill[s]; sk != nil {
			for _, id := range sk.Tools {
				set[id] = true
			}
		}
	}
	for _, id := range p.AddTools {
		set[id] = true
	}
	for _, id := range p.RemoveTools {
		delete(set, id)
	}
	out := make([]ToolID, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.SortFunc(out, CompareToolIDs)
	return out
}

// SkillsOf returns the skills that include tool id, sorted by name.
func (c *Catalog) SkillsOf(id ToolID) []*Skill {
	var out []*Skill
	for _, sk := range c.skills {
		if slices.Contains(sk.Tools, id) {
			out = append(out, sk)
		}
	}
	return out
}

// New validates servers, skills and personas built in code (for example by
// the API) and returns the catalog. References are resolved as in YAML:
// ToolIDs with an empty Server resolve when exactly one server has the tool.
// The arguments are copied.
func New(servers []*Server, skills []*Skill, personas []*Persona) (*Catalog, error) {
	l := newLoader()
	for i, s := range servers {
		cp := *s
		rs := &rawServer{s: &cp, pos: s.Pos, path: fmt.Sprintf("servers[%d]", i)}
		cp.Tools = nil
		for j, t := range s.Tools {
			tc := *t
			if tc.InputSchema != nil {
				cs, err := CanonicalJSON(tc.InputSchema)
				if err != nil {
					l.issues.add(t.Pos, fmt.Sprintf("%s.tools[%d].input_schema", rs.path, j), "%v", err)
				}
				tc.InputSchema = cs
			}
			rt := rawTool{t: &tc, pos: t.Pos, path: fmt.Sprintf("%s.tools[%d]", rs.path, j)}
			if t.Pin != "" {
				rt.pin = ref{text: t.Pin, pos: t.Pos, path: rt.path + ".pin"}
			}
			rs.tools = append(rs.tools, rt)
		}
		l.servers = append(l.servers, rs)
	}
	toRefs := func(ids []ToolID, p string, pos Position) []ref {
		var out []ref
		for i, id := range ids {
			txt := id.Name
			if id.Server != "" {
				txt = id.String()
			}
			out = append(out, ref{text: txt, pos: pos, path: fmt.Sprintf("%s[%d]", p, i)})
		}
		return out
	}
	strRefs := func(ss []string, p string, pos Position) []ref {
		var out []ref
		for i, s := range ss {
			out = append(out, ref{text: s, pos: pos, path: fmt.Sprintf("%s[%d]", p, i)})
		}
		return out
	}
	for i, sk := range skills {
		cp := *sk
		p := fmt.Sprintf("skills[%d]", i)
		l.skills = append(l.skills, &rawSkill{sk: &cp, pos: sk.Pos, path: p, tools: toRefs(sk.Tools, p+".tools", sk.Pos),
			dataObjects: strRefs(sk.DataObjects, p+".data_objects", sk.Pos), riskSet: sk.Risk != ""})
	}
	for i, pe := range personas {
		cp := *pe
		p := fmt.Sprintf("personas[%d]", i)
		l.personas = append(l.personas, &rawPersona{p: &cp, pos: pe.Pos, path: p, skills: strRefs(pe.Skills, p+".skills", pe.Pos),
			add: toRefs(pe.AddTools, p+".add_tools", pe.Pos), remove: toRefs(pe.RemoveTools, p+".remove_tools", pe.Pos)})
	}
	return l.build()
}

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)
	toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	tagRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]{0,62}$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func checkURL(u string) error {
	if u == "" {
		return fmt.Errorf("must not be empty")
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", u)
	}
	if pu.User != nil {
		return fmt.Errorf("URL must not embed credentials; use auth.credential_ref")
	}
	return nil
}

// checkCredentialRef accepts references only: a credential value (anything
// that is not one of the reference forms) is refused.
func checkCredentialRef(r string) error {
	const forms = "want file:/path, secret://NAME/KEY, env:NAME or vault://PATH; the catalog never holds credential values"
	switch {
	case strings.HasPrefix(r, "file:"):
		if p := strings.TrimPrefix(r, "file:"); !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\n") {
			return fmt.Errorf("credential_ref %q: file: needs an absolute path", r)
		}
	case strings.HasPrefix(r, "secret://"):
		name, key, ok := strings.Cut(strings.TrimPrefix(r, "secret://"), "/")
		if !ok || !nameRE.MatchString(name) || key == "" || strings.ContainsAny(key, "/ \t\n") {
			return fmt.Errorf("credential_ref %q: want secret://NAME/KEY", r)
		}
	case strings.HasPrefix(r, "env:"):
		if !envNameRE.MatchString(strings.TrimPrefix(r, "env:")) {
			return fmt.Errorf("credential_ref %q: want env:NAME", r)
		}
	case strings.HasPrefix(r, "vault://"):
		if p := strings.TrimPrefix(r, "vault://"); p == "" || strings.ContainsAny(p, " \t\n") {
			return fmt.Errorf("credential_ref %q: want vault://PATH", r)
		}
	default:
		// Never echo what may be a secret.
		return fmt.Errorf("credential_ref is not a reference (%s)", forms)
	}
	return nil
}

func sortStrings(s []string) { sort.Strings(s) }

// build resolves and validates everything the loader collected.
func (l *loader) build() (*Catalog, error) {
	is := &l.issues
	c := &Catalog{byServer: map[string]*Server{}, bySkill: map[string]*Skill{}, byPerson: map[string]*Persona{}, byTool: map[ToolID]*Tool{}}
	first := map[string]Position{}
	dup := func(kind, name string, pos Position, p string) bool {
		key := kind + "\x00" + name
		if fp, ok := first[key]; ok {
			where := fp.String()
			if where == "" {
				where = "earlier"
			} else {
				where = "at " + where
			}
			is.add(pos, p, "duplicate %s %q (first defined %s)", kind, name, where)
			return true
		}
		first[key] = pos
		return false
	}
	toolServers := map[string][]string{} // tool name → servers offering it
	for _, rs := range l.servers {
		s := rs.s
		if !nameRE.MatchString(s.Name) {
			if s.Name != "" {
				is.add(rs.pos, rs.path+".name", "invalid server name %q (want [a-z0-9][a-z0-9_.-]*, at most 63 characters)", s.Name)
			}
			continue
		}
		if dup("server", s.Name, rs.pos, rs.path+".name") {
			continue
		}
		if s.Owner == "" {
			// reported as missing by the loader; for New, report here
			if rs.pos.File == "" {
				is.add(rs.pos, rs.path+".owner", "required")
			}
		}
		if rs.pos.File == "" {
			if err := checkURL(s.URL); err != nil {
				is.add(rs.pos, rs.path+".url", "%v", err)
			}
			if s.Environment != Prod && s.Environment != Dev {
				is.add(rs.pos, rs.path+".environment", "unknown environment %q (want prod or dev)", s.Environment)
			}
		}
		if s.Auth.Kind == "" {
			s.Auth.Kind = AuthNone
		}
		switch s.Auth.Kind {
		case AuthNone:
			if s.Auth.CredentialRef != "" {
				is.add(rs.pos, rs.path+".auth.credential_ref", "set, but auth.kind is none")
			}
		case AuthBearer, AuthOAuth2, AuthHeader:
			if s.Auth.CredentialRef == "" {
				is.add(rs.pos, rs.path+".auth.credential_ref", "required for auth kind %s", s.Auth.Kind)
			} else if rs.pos.File == "" {
				if err := checkCredentialRef(s.Auth.CredentialRef); err != nil {
					is.add(rs.pos, rs.path+".auth.credential_ref", "%v", err)
				}
			}
			if s.Auth.Header == "" {
				if s.Auth.Kind == AuthHeader {
					is.add(rs.pos, rs.path+".auth.header", "required for auth kind header")
				}
				s.Auth.Header = "authorization"
			}
			s.Auth.Header = strings.ToLower(s.Auth.Header)
		default:
			if rs.pos.File == "" {
				is.add(rs.pos, rs.path+".auth.kind", "unknown auth kind %q", s.Auth.Kind)
			}
		}
		s.Tags = checkTags(is, rs.pos, rs.path+".tags", s.Tags)
		seenTool := map[string]Position{}
		for _, rt := range rs.tools {
			t := rt.t
			t.Server = s.Name
			if !toolNameRE.MatchString(t.Name) {
				if t.Name != "" {
					is.add(rt.pos, rt.path+".name", "invalid tool name %q (want [A-Za-z0-9_.-], 1 to 128 characters)", t.Name)
				}
				continue
			}
			if fp, ok := seenTool[t.Name]; ok {
				is.add(rt.pos, rt.path+".name", "duplicate tool %q on server %q (first defined at line %d)", t.Name, s.Name, fp.Line)
				continue
			}
			seenTool[t.Name] = rt.pos
			if rt.pos.File == "" {
				if t.Description == "" {
					is.add(rt.pos, rt.path+".description", "required")
				}
				if !isOperation(t.Operation) {
					is.add(rt.pos, rt.path+".operation", "unknown operation %q (want read, write, delete or admin)", t.Operation)
				}
			}
			if t.Risk == "" {
				t.Risk = DefaultRisk(t.Operation)
			}
			if rt.pos.File == "" && (t.RateLimitPerHour < 0 || t.RateLimitPerHour > MaxRateLimitPerHour) {
				is.add(rt.pos, rt.path+".rate_limit_per_hour", "must be between 0 (unlimited) and %d calls per hour", MaxRateLimitPerHour)
			}
			if t.InputSchema == nil {
				t.InputSchema = DefaultInputSchema
			} else if !strings.HasPrefix(string(t.InputSchema), "{") {
				is.add(rt.pos, rt.path+".input_schema", "must be a JSON object")
			}
			t.DataObjects = normalizeList(t.DataObjects)
			t.Tags = checkTags(is, rt.pos, rt.path+".tags", t.Tags)
			pin, err := PinHash(t.Definition())
			if err != nil {
				is.add(rt.pos, rt.path+".input_schema", "%v", err)
			}
			t.Pin = pin
			if rt.pin.text != "" && rt.pin.text != pin {
				is.add(rt.pin.pos, rt.pin.path, "pin %s does not match the definition (%s): the description or schema changed without re-approval", rt.pin.text, pin)
			}
			s.Tools = append(s.Tools, t)
			c.byTool[t.ID()] = t
			c.tools = append(c.tools, t)
			toolServers[t.Name] = append(toolServers[t.Name], s.Name)
		}
		slices.SortFunc(s.Tools, func(a, b *Tool) int { return strings.Compare(a.Name, b.Name) })
		c.byServer[s.Name] = s
		c.servers = append(c.servers, s)
	}
	allTools := make([]string, 0, len(c.byTool))
	for id := range c.byTool {
		allTools = append(allTools, id.String())
	}
	sortStrings(allTools)
	resolveTool := func(r ref) (ToolID, bool) {
		if !strings.Contains(r.text, "/") {
			servers := toolServers[r.text]
			switch len(servers) {
			case 1:
				return ToolID{Server: servers[0], Name: r.text}, true
			case 0:
				is.add(r.pos, r.path, "unknown tool %q%s", r.text, didYouMean(r.text, bareNames(allTools)))
			default:
				sorted := slices.Clone(servers)
				slices.Sort(sorted)
				is.add(r.pos, r.path, "tool %q is offered by several servers (%s): write server/tool", r.text, strings.Join(sorted, ", "))
			}
			return ToolID{}, false
		}
		id, err := ParseToolID(r.text)
		if err != nil {
			is.add(r.pos, r.path, "%v", err)
			return ToolID{}, false
		}
		if c.byServer[id.Server] == nil {
			names := make([]string, 0, len(c.byServer))
			for n := range c.byServer {
				names = append(names, n)
			}
			sortStrings(names)
			is.add(r.pos, r.path, "unknown server %q in tool %q%s", id.Server, r.text, didYouMean(id.Server, names))
			return ToolID{}, false
		}
		if c.byTool[id] == nil {
			is.add(r.pos, r.path, "unknown tool %q%s", r.text, didYouMean(r.text, allTools))
			return ToolID{}, false
		}
		return id, true
	}
	for _, rk := range l.skills {
		sk := rk.sk
		if !nameRE.MatchString(sk.Name) {
			if sk.Name != "" {
				is.add(rk.pos, rk.path+".name", "invalid skill name %q (want [a-z0-9][a-z0-9_.-]*)", sk.Name)
			}
			continue
		}
		if dup("skill", sk.Name, rk.pos, rk.path+".name") {
			continue
		}
		if rk.pos.File == "" && sk.Owner == "" {
			is.add(rk.pos, rk.path+".owner", "required")
		}
		sk.Tools = nil
		seen := map[ToolID]bool{}
		objects := map[string]bool{}
		maxRisk := RiskLow
		for _, r := range rk.tools {
			id, ok := resolveTool(r)
			if !ok {
				continue
			}
			if seen[id] {
				is.add(r.pos, r.path, "tool %q listed twice", id)
				continue
			}
			seen[id] = true
			sk.Tools = append(sk.Tools, id)
			t := c.byTool[id]
			for _, o := range t.DataObjects {
				objects[o] = true
			}
			if t.Risk.Level() > maxRisk.Level() {
				maxRisk = t.Risk
			}
		}
		if len(rk.tools) == 0 {
			is.add(rk.pos, rk.path+".tools", "a skill needs at least one tool")
		}
		slices.SortFunc(sk.Tools, CompareToolIDs)
		sk.DataObjects = nil
		for _, r := range rk.dataObjects {
			if !objects[r.text] {
				is.add(r.pos, r.path, "data object %q is not touched by any of the skill's tools", r.text)
				continue
			}
			sk.DataObjects = append(sk.DataObjects, r.text)
		}
		if len(rk.dataObjects) == 0 {
			for o := range objects {
				sk.DataObjects = append(sk.DataObjects, o)
			}
		}
		sk.DataObjects = normalizeList(sk.DataObjects)
		if !rk.riskSet {
			sk.Risk = maxRisk
		}
		c.bySkill[sk.Name] = sk
		c.skills = append(c.skills, sk)
	}
	skillNames := make([]string, 0, len(c.bySkill))
	for n := range c.bySkill {
		skillNames = append(skillNames, n)
	}
	sortStrings(skillNames)
	for _, rp := range l.personas {
		p := rp.p
		if !nameRE.MatchString(p.Name) {
			if p.Name != "" {
				is.add(rp.pos, rp.path+".name", "invalid persona name %q (want [a-z0-9][a-z0-9_.-]*)", p.Name)
			} else if rp.pos.File == "" {
				is.add(rp.pos, rp.path+".name", "required")
			}
			continue
		}
		if dup("persona", p.Name, rp.pos, rp.path+".name") {
			continue
		}
		p.Skills, p.AddTools, p.RemoveTools = nil, nil, nil
		fromSkills := map[ToolID]string{}
		for _, r := range rp.skills {
			sk := c.bySkill[r.text]
			if sk == nil {
				is.add(r.pos, r.path, "unknown skill %q%s", r.text, didYouMean(r.text, skillNames))
				continue
			}
			if slices.Contains(p.Skills, r.text) {
				is.add(r.pos, r.path, "skill %q listed twice", r.text)
				continue
			}
			p.Skills = append(p.Skills, r.text)
			for _, id := range sk.Tools {
				if _, ok := fromSkills[id]; !ok {
					fromSkills[id] = sk.Name
				}
			}
		}
		for _, r := range rp.add {
			id, ok := resolveTool(r)
			if !ok {
				continue
			}
			if s, dup := fromSkills[id]; dup {
				is.add(r.pos, r.path, "tool %q is already granted by skill %q", id, s)
				continue
			}
			if slices.Contains(p.AddTools, id) {
				is.add(r.pos, r.path, "tool %q listed twice", id)
				continue
			}
			p.AddTools = append(p.AddTools, id)
		}
		for _, r := range rp.remove {
			id, ok := resolveTool(r)
			if !ok {
				continue
			}
			if _, granted := fromSkills[id]; !granted {
				is.add(r.pos, r.path, "tool %q is not granted by any of the persona's skills", id)
				continue
			}
			if slices.Contains(p.RemoveTools, id) {
				is.add(r.pos, r.path, "tool %q listed twice", id)
				continue
			}
			p.RemoveTools = append(p.RemoveTools, id)
		}
		slices.Sort(p.Skills)
		slices.SortFunc(p.AddTools, CompareToolIDs)
		slices.SortFunc(p.RemoveTools, CompareToolIDs)
		if p.DataPolicy != "" && !nameRE.MatchString(p.DataPolicy) {
			is.add(rp.pos, rp.path+".data_policy", "invalid data policy name %q", p.DataPolicy)
		}
		c.byPerson[p.Name] = p
		c.personas = append(c.personas, p)
	}
	l.buildPolicy(c)
	if err := is.err(); err != nil {
		return nil, err
	}
	slices.SortFunc(c.servers, func(a, b *Server) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(c.skills, func(a, b *Skill) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(c.personas, func(a, b *Persona) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(c.tools, func(a, b *Tool) int { return CompareToolIDs(a.ID(), b.ID()) })
	c.version = contentHash(struct {
		Servers  []*Server  `json:"servers"`
		Skills   []*Skill   `json:"skills"`
		Personas []*Persona `json:"personas"`
		// Omitted when empty, so catalogs without them keep their versions.
		Agents       []*Agent      `json:"agents,omitempty"`
		DataPolicies []*DataPolicy `json:"data_policies,omitempty"`
		Settings     *Settings     `json:"settings,omitempty"`
	}{c.servers, c.skills, c.personas, c.policy.agents, c.policy.dataPolicies, c.policy.settings})
	return c, nil
}

func bareNames(ids []string) []string {
	out := make([]string, len(ids))
	for i, s := range ids {
		_, out[i], _ = strings.Cut(s, "/")
	}
	return out
}

func checkTags(is *issues, pos Position, p string, tags []string) []string {
	for i, t := range tags {
		if !tagRE.MatchString(t) {
			is.add(pos, fmt.Sprintf("%s[%d]", p, i), "invalid tag %q (want lower-case [a-z0-9_.:-])", t)
		}
	}
	return normalizeList(tags)
}

// normalizeList sorts and de-duplicates.
func normalizeList(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// contentHash is "sha256:" + the hex SHA-256 of v's canonical JSON.
func contentHash(v any) string {
	b, err := json.Marshal(v)
	if err == nil {
		b, err = CanonicalJSON(b)
	}
	if err != nil {
		panic(fmt.Sprintf("catalog: hashing: %v", err)) // only plain data is hashed
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
