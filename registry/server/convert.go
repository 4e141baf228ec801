package server

import (
	"encoding/json"
	"maps"
	"slices"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/registry/catalog"
	"github.com/portcullis/portcullis/registry/persona"
)

// The YAML shapes the API writes: the catalog file format, field order as
// documented in registry/catalog.

type yServer struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description,omitempty"`
	URL         string   `yaml:"url"`
	Owner       string   `yaml:"owner"`
	Environment string   `yaml:"environment"`
	Auth        *yAuth   `yaml:"auth,omitempty"`
	Tags        []string `yaml:"tags,omitempty,flow"`
	Tools       []yTool  `yaml:"tools,omitempty"`
}

type yAuth struct {
	Kind          string `yaml:"kind,omitempty"`
	Header        string `yaml:"header,omitempty"`
	CredentialRef string `yaml:"credential_ref,omitempty"`
}

type yTool struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Operation   string   `yaml:"operation"`
	DataObjects []string `yaml:"data_objects,omitempty,flow"`
	Risk        string   `yaml:"risk,omitempty"`
	Tags        []string `yaml:"tags,omitempty,flow"`
	// RateLimitPerHour: 0 (unlimited) is left out.
	RateLimitPerHour int            `yaml:"rate_limit_per_hour,omitempty"`
	InputSchema      map[string]any `yaml:"input_schema,omitempty"`
	Pin              string         `yaml:"pin,omitempty"`
}

type ySkill struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Owner       string   `yaml:"owner"`
	Risk        string   `yaml:"risk,omitempty"`
	Tools       []string `yaml:"tools,flow"`
	DataObjects []string `yaml:"data_objects,omitempty,flow"`
}

type yPersona struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description,omitempty"`
	Skills      []string `yaml:"skills,omitempty,flow"`
	AddTools    []string `yaml:"add_tools,omitempty,flow"`
	RemoveTools []string `yaml:"remove_tools,omitempty,flow"`
	DataPolicy  string   `yaml:"data_policy,omitempty"`
	DenyMethods []string `yaml:"deny_methods,omitempty,flow"`
}

type yAgent struct {
	ID        string `yaml:"id"`
	Subject   string `yaml:"subject,omitempty"`
	Persona   string `yaml:"persona"`
	KeySHA256 string `yaml:"key_sha256"`
}

type yRule struct {
	Action string `yaml:"action"`
	Keep   int    `yaml:"keep,omitempty"`
}

type yFlows struct {
	ExternalSinks string `yaml:"external_sinks,omitempty"`
	ProdToDev     string `yaml:"prod_to_dev,omitempty"`
}

type yDataPolicy struct {
	Name        string           `yaml:"name"`
	Description string           `yaml:"description,omitempty"`
	Default     *yRule           `yaml:"default,omitempty"`
	Categories  map[string]yRule `yaml:"categories,omitempty"`
	Types       map[string]yRule `yaml:"types,omitempty"`
	Flows       *yFlows          `yaml:"flows,omitempty"`
}

type yLimits struct {
	MaxBodyBytes   int64    `yaml:"max_body_bytes,omitempty"`
	MaxJSONDepth   int32    `yaml:"max_json_depth,omitempty"`
	MaxBatch       int32    `yaml:"max_batch,omitempty"`
	AllowedOrigins []string `yaml:"allowed_origins,omitempty"`
}

type ySettings struct {
	AuthHeader  string   `yaml:"auth_header,omitempty"`
	Limits      *yLimits `yaml:"limits,omitempty"`
	TokenKeyRef string   `yaml:"token_key_ref,omitempty"`
}

func serverYAML(s *registryv1.Server) yServer {
	y := yServer{Name: s.GetName(), Description: s.GetDescription(), URL: s.GetUrl(), Owner: s.GetOwner(),
		Environment: s.GetEnvironment(), Tags: s.GetTags()}
	if a := s.GetAuth(); a != nil && (a.GetKind() != "" || a.GetHeader() != "" || a.GetCredentialRef() != "") {
		y.Auth = &yAuth{Kind: a.GetKind(), Header: a.GetHeader(), CredentialRef: a.GetCredentialRef()}
	}
	for _, t := range s.GetTools() {
		yt := yTool{Name: t.GetName(), Description: t.GetDescription(), Operation: t.GetOperation(),
			DataObjects: t.GetDataObjects(), Risk: t.GetRisk(), Tags: t.GetTags(), RateLimitPerHour: int(t.GetRateLimitPerHour()), Pin: t.GetPin()}
		if t.GetInputSchema() != nil {
			yt.InputSchema = t.GetInputSchema().AsMap()
		}
		y.Tools = append(y.Tools, yt)
	}
	return y
}

func skillYAML(s *registryv1.Skill) ySkill {
	return ySkill{Name: s.GetName(), Description: s.GetDescription(), Owner: s.GetOwner(), Risk: s.GetRisk(),
		Tools: s.GetTools(), DataObjects: s.GetDataObjects()}
}

func personaYAML(p *registryv1.Persona) yPersona {
	return yPersona{Name: p.GetName(), Description: p.GetDescription(), Skills: p.GetSkills(), AddTools: p.GetAddTools(),
		RemoveTools: p.GetRemoveTools(), DataPolicy: p.GetDataPolicy(), DenyMethods: p.GetDenyMethods()}
}

func agentYAML(a *registryv1.Agent) yAgent {
	return yAgent{ID: a.GetId(), Subject: a.GetSubject(), Persona: a.GetPersona(), KeySHA256: a.GetKeySha256()}
}

func rulesYAML(m map[string]*registryv1.DataRule) map[string]yRule {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]yRule, len(m))
	for k, r := range m {
		out[k] = yRule{Action: r.GetAction(), Keep: int(r.GetKeep())}
	}
	return out
}

func dataPolicyYAML(d *registryv1.DataPolicy) yDataPolicy {
	y := yDataPolicy{Name: d.GetName(), Description: d.GetDescription(), Categories: rulesYAML(d.GetCategories()), Types: rulesYAML(d.GetTypes())}
	if r := d.GetDefaultRule(); r != nil {
		y.Default = &yRule{Action: r.GetAction(), Keep: int(r.GetKeep())}
	}
	if d.GetFlowExternalSinks() != "" || d.GetFlowProdToDev() != "" {
		y.Flows = &yFlows{ExternalSinks: d.GetFlowExternalSinks(), ProdToDev: d.GetFlowProdToDev()}
	}
	return y
}

func settingsYAML(s *registryv1.Settings) ySettings {
	y := ySettings{AuthHeader: s.GetAuthHeader(), TokenKeyRef: s.GetTokenKeyRef()}
	if s.GetMaxBodyBytes() != 0 || s.GetMaxJsonDepth() != 0 || s.GetMaxBatch() != 0 || len(s.GetAllowedOrigins()) > 0 {
		y.Limits = &yLimits{MaxBodyBytes: s.GetMaxBodyBytes(), MaxJSONDepth: s.GetMaxJsonDepth(), MaxBatch: s.GetMaxBatch(),
			AllowedOrigins: s.GetAllowedOrigins()}
	}
	return y
}

// Catalog → wire.

func toolIDs(ids []catalog.ToolID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func schemaStruct(raw json.RawMessage) *structpb.Struct {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil
	}
	return s
}

func serverProto(s *catalog.Server) *registryv1.Server {
	out := &registryv1.Server{Name: s.Name, Description: s.Description, Url: s.URL, Owner: s.Owner,
		Environment: string(s.Environment), Tags: slices.Clone(s.Tags),
		Auth: &registryv1.Auth{Kind: string(s.Auth.Kind), Header: s.Auth.Header, CredentialRef: s.Auth.CredentialRef}}
	for _, t := range s.Tools {
		out.Tools = append(out.Tools, &registryv1.Tool{Name: t.Name, Description: t.Description, InputSchema: schemaStruct(t.InputSchema),
			Operation: string(t.Operation), DataObjects: slices.Clone(t.DataObjects), Risk: string(t.Risk), Tags: slices.Clone(t.Tags), Pin: t.Pin,
			RateLimitPerHour: int32(min(t.RateLimitPerHour, catalog.MaxRateLimitPerHour))})
	}
	return out
}

func skillProto(s *catalog.Skill) *registryv1.Skill {
	return &registryv1.Skill{Name: s.Name, Description: s.Description, Owner: s.Owner, Risk: string(s.Risk),
		Tools: toolIDs(s.Tools), DataObjects: slices.Clone(s.DataObjects)}
}

func personaProto(p *catalog.Persona) *registryv1.Persona {
	return &registryv1.Persona{Name: p.Name, Description: p.Description, Skills: slices.Clone(p.Skills),
		AddTools: toolIDs(p.AddTools), RemoveTools: toolIDs(p.RemoveTools), DataPolicy: p.DataPolicy, DenyMethods: slices.Clone(p.DenyMethods)}
}

func agentProto(a *catalog.Agent) *registryv1.Agent {
	return &registryv1.Agent{Id: a.ID, Subject: a.Subject, Persona: a.Persona, KeySha256: a.KeySHA256}
}

func ruleProto(r catalog.DataRule) *registryv1.DataRule {
	return &registryv1.DataRule{Action: r.Action, Keep: int32(r.Keep)}
}

func rulesProto(m map[string]catalog.DataRule) map[string]*registryv1.DataRule {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*registryv1.DataRule, len(m))
	for k, r := range m {
		out[k] = ruleProto(r)
	}
	return out
}

func dataPolicyProto(d *catalog.DataPolicy) *registryv1.DataPolicy {
	out := &registryv1.DataPolicy{Name: d.Name, Description: d.Description, Categories: rulesProto(d.Categories),
		Types: rulesProto(d.Types), FlowExternalSinks: d.Flows.ExternalSinks, FlowProdToDev: d.Flows.ProdToDev}
	if d.Default != nil {
		out.DefaultRule = ruleProto(*d.Default)
	}
	return out
}

func settingsProto(s *catalog.Settings) *registryv1.Settings {
	if s == nil {
		return &registryv1.Settings{}
	}
	return &registryv1.Settings{AuthHeader: s.AuthHeader, MaxBodyBytes: s.MaxBodyBytes, MaxJsonDepth: int32(s.MaxJSONDepth),
		MaxBatch: int32(s.MaxBatch), TokenKeyRef: s.TokenKeyRef, AllowedOrigins: s.AllowedOrigins}
}

// snapshotProto renders what the filter of st.Env enforces.
func snapshotProto(st *State) *registryv1.PolicySnapshot {
	cat := st.Catalog
	snap := cat.Snapshot(nil)
	out := &registryv1.PolicySnapshot{Environment: st.Env, Version: st.Version, Revision: st.Revision,
		CreateTime: timestamppb.New(st.Created), Settings: settingsProto(cat.Settings())}
	for _, s := range cat.Servers() {
		u := &registryv1.SnapshotUpstream{Name: s.Name, Url: s.URL, Environment: string(s.Environment), ToolPins: map[string]string{}}
		if s.Auth.Kind != catalog.AuthNone && s.Auth.CredentialRef != "" {
			u.CredentialHeader, u.CredentialRef = s.Auth.Header, s.Auth.CredentialRef
		}
		for _, t := range s.Tools {
			u.ToolPins[t.Name] = t.Pin
			if t.RateLimitPerHour > 0 {
				if u.ToolRateLimitsPerHour == nil {
					u.ToolRateLimitsPerHour = map[string]int32{}
				}
				u.ToolRateLimitsPerHour[t.Name] = int32(min(t.RateLimitPerHour, catalog.MaxRateLimitPerHour))
			}
			if s.HasTag(catalog.TagExternalSink) || slices.Contains(t.Tags, catalog.TagExternalSink) {
				u.SinkTools = append(u.SinkTools, t.Name)
			}
		}
		out.Upstreams = append(out.Upstreams, u)
	}
	for _, p := range snap.Personas {
		sp := &registryv1.SnapshotPersona{Name: p.Name, Description: p.Description, DataPolicy: p.DataPolicy}
		if cp := cat.Persona(p.Name); cp != nil {
			sp.DenyMethods = slices.Clone(cp.DenyMethods)
		}
		byUp := map[string][]string{}
		for _, id := range p.Tools {
			byUp[id.Server] = append(byUp[id.Server], id.Name)
		}
		for _, up := range slices.Sorted(maps.Keys(byUp)) {
			sp.Grants = append(sp.Grants, &registryv1.UpstreamGrant{Upstream: up, Tools: byUp[up]})
		}
		out.Personas = append(out.Personas, sp)
	}
	for _, a := range cat.Agents() {
		out.Agents = append(out.Agents, agentProto(a))
	}
	for _, d := range cat.DataPolicies() {
		out.DataPolicies = append(out.DataPolicies, dataPolicyProto(d))
	}
	for _, s := range cat.Skills() {
		out.Skills = append(out.Skills, skillProto(s))
	}
	return out
}

func profileProto(p *persona.Profile) *registryv1.PersonaProfile {
	out := &registryv1.PersonaProfile{Description: p.Description, CatalogVersion: p.CatalogVersion,
		Skills: slices.Clone(p.Skills), Unmatched: slices.Clone(p.Unmatched)}
	for _, g := range p.Granted {
		tg := &registryv1.ToolGrant{Tool: g.Tool.String(), Operation: string(g.Operation), Risk: string(g.Risk)}
		for _, r := range g.Reasons {
			tg.Reasons = append(tg.Reasons, &registryv1.GrantReason{Phrase: r.Phrase, Action: r.Action, Object: r.Object,
				Matched: r.Matched, Score: r.Score, Implied: r.Implied, Source: r.Source})
		}
		out.Granted = append(out.Granted, tg)
	}
	for _, e := range p.Excluded {
		out.Excluded = append(out.Excluded, &registryv1.ToolExclusion{Tool: e.Tool.String(), Kind: string(e.Kind), Reason: e.Reason, Phrase: e.Phrase})
	}
	return out
}

func diffProto(d *persona.PersonaDiff) *registryv1.PersonaDiff {
	entries := func(es []persona.DiffEntry) []*registryv1.DiffEntry {
		out := make([]*registryv1.DiffEntry, len(es))
		for i, e := range es {
			out[i] = &registryv1.DiffEntry{Tool: e.Tool.String(), Why: slices.Clone(e.Why), Risk: string(e.Risk)}
		}
		return out
	}
	out := &registryv1.PersonaDiff{Persona: d.Persona, CatalogVersion: d.CatalogVersion, Added: entries(d.Added),
		Removed: entries(d.Removed), Kept: toolIDs(d.Kept), SkillsAdded: slices.Clone(d.SkillsAdded), SkillsRemoved: slices.Clone(d.SkillsRemoved)}
	if d.Proposed != nil {
		out.Proposed = personaProto(d.Proposed)
	}
	return out
}
