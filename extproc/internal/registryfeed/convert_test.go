package registryfeed

import (
	"reflect"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/policy"
	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
)

const (
	digest = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
	pinA   = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	pinB   = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// fullSnapshot sets every field the filter reads.
func fullSnapshot() *registryv1.PolicySnapshot {
	return &registryv1.PolicySnapshot{
		Environment: "prod",
		Version:     "sha256:v1",
		Revision:    7,
		Upstreams: []*registryv1.SnapshotUpstream{
			{Name: "crm", Url: "http://crm/mcp", Environment: "prod", CredentialHeader: "x-api-key", CredentialRef: "secret://crm/token", SinkTools: []string{"send_mail"}, ToolPins: map[string]string{"send_mail": pinA, "get_contact": pinB},
				ToolRateLimitsPerHour: map[string]int32{"send_mail": 10}},
			{Name: "forge", Url: "http://forge/mcp", Environment: "dev", CredentialHeader: "authorization", CredentialRef: "file:/etc/forge/token"},
			{Name: "web", Url: "http://web/mcp", Environment: "prod"},
		},
		Personas: []*registryv1.SnapshotPersona{
			{Name: "support", Description: "reads tickets", DenyMethods: []string{"resources/read"}, DataPolicy: "strict",
				Grants: []*registryv1.UpstreamGrant{{Upstream: "crm", Tools: []string{"get_contact", "send_mail"}}}},
			{Name: "dev", Grants: []*registryv1.UpstreamGrant{
				{Upstream: "forge", Tools: []string{"get_issue"}}, {Upstream: "web", Tools: []string{"fetch"}}}},
			{Name: "nobody"},
		},
		Agents: []*registryv1.Agent{
			{Id: "bot-1", Subject: "alice", Persona: "support", KeySha256: digest},
			{Id: "bot-2", Persona: "dev", KeySha256: digest},
			{Id: "bot-3", Persona: "nobody", KeySha256: digest},
		},
		DataPolicies: []*registryv1.DataPolicy{
			{Name: "strict", DefaultRule: &registryv1.DataRule{Action: "mask", Keep: 2},
				Categories:        map[string]*registryv1.DataRule{"financial": {Action: "block"}},
				Types:             map[string]*registryv1.DataRule{"email": {Action: "tokenise"}},
				FlowExternalSinks: "block", FlowProdToDev: "allow"},
			{Name: "default"},
		},
		Settings: &registryv1.Settings{AuthHeader: "x-agent-key", MaxBodyBytes: 2048, MaxJsonDepth: 10, MaxBatch: 5, TokenKeyRef: "secret://tok/key",
			AllowedOrigins: []string{"https://console.example.com"}},
	}
}

func TestConvert(t *testing.T) {
	got, err := Convert(fullSnapshot(), ConvertOptions{SecretsDir: "/run/sec"})
	if err != nil {
		t.Fatal(err)
	}
	want := policy.File{
		Environment: "prod",
		Auth:        policy.AuthConfig{Header: "x-agent-key"},
		Limits:      policy.LimitsConfig{MaxBodyBytes: 2048, MaxJSONDepth: 10, MaxBatch: 5, AllowedOrigins: []string{"https://console.example.com"}},
		Upstreams: []policy.UpstreamConfig{
			{Name: "crm", Environment: "prod", SinkTools: []string{"send_mail"}, ToolPins: map[string]string{"send_mail": pinA, "get_contact": pinB},
				ToolRateLimits: map[string]int{"send_mail": 10}, Credential: &policy.CredentialConfig{Header: "x-api-key", ValueFile: "/run/sec/crm/token"}},
			{Name: "forge", Environment: "dev", Credential: &policy.CredentialConfig{Header: "authorization", ValueFile: "/etc/forge/token"}},
			{Name: "web", Environment: "prod"},
		},
		Personas: []policy.PersonaConfig{
			{Name: "support", Description: "reads tickets", Upstream: "crm", Tools: []string{"get_contact", "send_mail"}, DenyMethods: []string{"resources/read"}, DataPolicy: "strict"},
			{Name: "dev.forge", Upstream: "forge", Tools: []string{"get_issue"}},
			{Name: "dev.web", Upstream: "web", Tools: []string{"fetch"}},
		},
		Agents: []policy.AgentConfig{{ID: "bot-1", Subject: "alice", Persona: "support", KeySHA256: digest}},
		DataProtection: policy.DataProtectionConfig{
			TokenKeyFile: "/run/sec/tok/key",
			Policies: []policy.DataPolicyConfig{
				{Name: "strict", Default: &policy.RuleConfig{Action: "mask", Keep: 2},
					Categories: map[string]policy.RuleConfig{"financial": {Action: "block"}},
					Types:      map[string]policy.RuleConfig{"email": {Action: "tokenise"}},
					Flows:      policy.FlowConfig{ExternalSinks: "block", ProdToDev: "allow"}},
				{Name: "default"},
			},
		},
	}
	if !reflect.DeepEqual(got.File, want) {
		t.Fatalf("file\n got %+v\nwant %+v", got.File, want)
	}
	if len(got.Skipped) != 2 || !strings.Contains(got.Skipped[0], `agent "bot-2": persona "dev" grants tools on several upstreams (forge, web)`) ||
		!strings.Contains(got.Skipped[1], `agent "bot-3": persona "nobody" grants no tools`) {
		t.Fatalf("skipped %q", got.Skipped)
	}
}

func TestConvertMinimal(t *testing.T) {
	got, err := Convert(&registryv1.PolicySnapshot{Environment: "preprod", Version: "sha256:e"}, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := policy.File{Environment: "preprod", Upstreams: []policy.UpstreamConfig{}, Personas: []policy.PersonaConfig{}, Agents: []policy.AgentConfig{}}
	if !reflect.DeepEqual(got.File, want) || got.Skipped != nil {
		t.Fatalf("got %+v", got)
	}
	if _, err := policy.Compile(got.File); err != nil {
		t.Fatalf("an empty snapshot must compile (it refuses everything): %v", err)
	}
}

func TestConvertDefaultSecretsDir(t *testing.T) {
	s := &registryv1.PolicySnapshot{Version: "v", Upstreams: []*registryv1.SnapshotUpstream{{Name: "a", CredentialRef: "secret://a/b"}}}
	got, err := Convert(s, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.File.Upstreams[0].Credential; c == nil || c.ValueFile != DefaultSecretsDir+"/a/b" || c.Header != "" {
		t.Fatalf("credential %+v", c)
	}
}

func TestConvertErrors(t *testing.T) {
	up := func(ref string) *registryv1.PolicySnapshot {
		return &registryv1.PolicySnapshot{Version: "v", Upstreams: []*registryv1.SnapshotUpstream{{Name: "u", CredentialHeader: "authorization", CredentialRef: ref}}}
	}
	for _, tc := range []struct {
		name string
		snap *registryv1.PolicySnapshot
		want string
	}{
		{"nil", nil, "snapshot: missing"},
		{"no version", &registryv1.PolicySnapshot{}, "version is empty"},
		{"env ref", up("env:CRM_TOKEN"), `scheme "env" is not supported by the filter`},
		{"vault ref", up("vault://kv/crm"), `scheme "vault" is not supported by the filter`},
		{"unknown scheme", up("s3://bucket/key"), `unknown credential reference scheme "s3"`},
		{"not a reference", up("s3cr3t-value"), "a value of <12 characters> is not a reference"},
		{"relative file", up("file:token"), "must name an absolute path"},
		{"secret without key", up("secret://crm"), "want secret://NAME/KEY"},
		{"secret traversal", up("secret://../etc/passwd"), "want secret://NAME/KEY"},
		{"secret nested", up("secret://a/b/c"), "want secret://NAME/KEY"},
		{"secret no slashes", up("secret:a/b"), "want secret://NAME/KEY"},
		{"header without ref", &registryv1.PolicySnapshot{Version: "v", Upstreams: []*registryv1.SnapshotUpstream{{Name: "u", CredentialHeader: "x"}}}, "credential_header without credential_ref"},
		{"token key ref", &registryv1.PolicySnapshot{Version: "v", Settings: &registryv1.Settings{TokenKeyRef: "env:K"}}, "settings.token_key_ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert(tc.snap, ConvertOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error leaks the value: %v", err)
			}
		})
	}
}

// What Convert passes through unchecked, policy.Compile rejects: such a
// snapshot is ignored by the feed.
func TestConvertedSnapshotCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*registryv1.PolicySnapshot)
		want string
	}{
		{"unknown upstream", func(s *registryv1.PolicySnapshot) { s.Personas[0].Grants[0].Upstream = "ghost" }, `unknown upstream "ghost"`},
		{"unknown persona", func(s *registryv1.PolicySnapshot) { s.Agents[0].Persona = "ghost" }, `unknown persona "ghost"`},
		{"bad action", func(s *registryv1.PolicySnapshot) { s.DataPolicies[0].DefaultRule.Action = "explode" }, "default"},
		{"bad digest", func(s *registryv1.PolicySnapshot) { s.Agents[0].KeySha256 = "nothex" }, "key_sha256"},
		{"unknown data policy", func(s *registryv1.PolicySnapshot) { s.Personas[0].DataPolicy = "ghost" }, `unknown data policy "ghost"`},
		{"negative limit", func(s *registryv1.PolicySnapshot) { s.Settings.MaxBatch = -1 }, "must not be negative"},
		{"missing credential file", func(s *registryv1.PolicySnapshot) {}, "value_file"},
		{"malformed pin", func(s *registryv1.PolicySnapshot) { s.Upstreams[0].ToolPins["send_mail"] = "sha256:x" }, `tool_pins["send_mail"]`},
		{"negative rate limit", func(s *registryv1.PolicySnapshot) { s.Upstreams[0].ToolRateLimitsPerHour["send_mail"] = -1 }, `tool_rate_limits["send_mail"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fullSnapshot()
			s.Settings.TokenKeyRef = ""
			s.DataPolicies[0].Types = nil
			tc.edit(s)
			conv, err := Convert(s, ConvertOptions{SecretsDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = policy.Compile(conv.File)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("compile error %v, want %q", err, tc.want)
			}
		})
	}
}

// The pins a snapshot carries reach the compiled policy unchanged, and a
// converted file does not share the snapshot's map.
func TestConvertToolPins(t *testing.T) {
	s := fullSnapshot()
	conv, err := Convert(s, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Upstreams[0].ToolPins["send_mail"] = pinB
	if got := conv.File.Upstreams[0].ToolPins["send_mail"]; got != pinA {
		t.Fatalf("converted pins alias the snapshot: %q", got)
	}
	if conv.File.Upstreams[1].ToolPins != nil || conv.File.Upstreams[2].ToolPins != nil {
		t.Fatal("upstreams without pins must convert without ToolPins")
	}
	conv.File.Upstreams[0].Credential, conv.File.Upstreams[1].Credential = nil, nil
	conv.File.DataProtection = policy.DataProtectionConfig{}
	for i := range conv.File.Personas {
		conv.File.Personas[i].DataPolicy = ""
	}
	p, err := policy.Compile(conv.File)
	if err != nil {
		t.Fatal(err)
	}
	if up := p.Upstream("crm"); !up.Pinned() || up.Pin("send_mail") != pinA || up.Pin("get_contact") != pinB {
		t.Fatalf("compiled crm pins: %q %q", up.Pin("send_mail"), up.Pin("get_contact"))
	}
	if p.Upstream("web").Pinned() {
		t.Fatal("web has no pins")
	}
}

// The rate limits a snapshot carries reach the compiled policy, unaliased.
func TestConvertToolRateLimits(t *testing.T) {
	s := fullSnapshot()
	conv, err := Convert(s, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Upstreams[0].ToolRateLimitsPerHour["send_mail"] = 99
	if got := conv.File.Upstreams[0].ToolRateLimits["send_mail"]; got != 10 {
		t.Fatalf("converted rate limits alias the snapshot: %d", got)
	}
	if conv.File.Upstreams[1].ToolRateLimits != nil {
		t.Fatal("upstreams without limits must convert without ToolRateLimits")
	}
	conv.File.Upstreams[0].Credential, conv.File.Upstreams[1].Credential = nil, nil
	conv.File.DataProtection = policy.DataProtectionConfig{}
	for i := range conv.File.Personas {
		conv.File.Personas[i].DataPolicy = ""
	}
	p, err := policy.Compile(conv.File)
	if err != nil {
		t.Fatal(err)
	}
	if up := p.Upstream("crm"); up.RateLimit("send_mail") != 10 || up.RateLimit("get_contact") != 0 {
		t.Fatalf("compiled limits: send_mail %d get_contact %d", up.RateLimit("send_mail"), up.RateLimit("get_contact"))
	}
}
