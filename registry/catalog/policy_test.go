package catalog

import (
	"strings"
	"testing"
)

const policyBase = `servers:
  - name: helpdesk
    url: https://helpdesk/mcp
    owner: o
    environment: prod
    tools:
      - {name: get_ticket, description: Read a ticket., operation: read}
personas:
  - name: support
    add_tools: [get_ticket]
    data_policy: support
    deny_methods: [resources/read, resources/read]
`

func TestPolicyLoads(t *testing.T) {
	c, err := Parse(map[string][]byte{"a.yaml": []byte(policyBase), "b.yaml": []byte(`
agents:
  - {id: bot, subject: s@example.com, persona: support, key_sha256: ` + strings.Repeat("AB", 32) + `}
data_policies:
  - name: support
    default: allow
    categories: {secret: block}
    types: {credit_card: {action: tokenise, keep: 2}}
    flows: {external_sinks: block}
settings:
  auth_header: X-Agent-Key
  limits: {max_batch: 10, allowed_origins: ["https://console.example.com"]}
  token_key_ref: secret://portcullis/token-key
`)})
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Agent("bot"); a == nil || a.KeySHA256 != strings.Repeat("ab", 32) {
		t.Fatalf("agent = %+v", a)
	}
	if d := c.DataPolicy("support"); d == nil || d.Types["credit_card"].Keep != 2 || d.Flows.ExternalSinks != "block" || d.Default.Action != "allow" {
		t.Fatalf("data policy = %+v", d)
	}
	if s := c.Settings(); s.AuthHeader != "x-agent-key" || s.MaxBatch != 10 || len(s.AllowedOrigins) != 1 {
		t.Fatalf("settings = %+v", s)
	}
	if p := c.Persona("support"); len(p.DenyMethods) != 1 {
		t.Fatalf("deny_methods = %v", p.DenyMethods)
	}
	plain, err := Parse(map[string][]byte{"a.yaml": []byte(policyBase)})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Version() == c.Version() {
		t.Fatal("agents, data policies and settings must change the version")
	}
}

func TestPolicyErrors(t *testing.T) {
	_, err := Parse(map[string][]byte{"a.yaml": []byte(policyBase), "b.yaml": []byte(`agents:
  - {id: bot, persona: nobody, key_sha256: abc}
  - {id: bot2, persona: support, key: s3cr3t}
data_policies:
  - name: other
    categories: {secrets: block}
    types: {credit_card: hide}
    flows: {prod_to_dev: maybe}
  - name: tok
    default: tokenise
settings:
  token_key: raw
  limits:
    allowed_origins: [console.example.com, "https://x.example/path"]
---
settings: {}
`)})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		`b.yaml:2: agents[0].persona: unknown persona "nobody"`,
		`b.yaml:2: agents[0].key_sha256: must be 64 hex characters`,
		`b.yaml:3: agents[1].key: API keys are never stored`,
		`b.yaml:6: data_policies[0].categories.secrets: unknown category (did you mean "secret"?)`,
		`b.yaml:7: data_policies[0].types.credit_card: unknown action "hide"`,
		`b.yaml:8: data_policies[0].flows.prod_to_dev: unknown flow action "maybe"`,
		`b.yaml:12: settings.token_key: key values are never stored`,
		`b.yaml:14: settings.limits.allowed_origins[0]: origin "console.example.com": scheme must be http or https`,
		`b.yaml:14: settings.limits.allowed_origins[1]: origin "https://x.example/path": want scheme://host[:port] only`,
		`settings: duplicate settings`,
		`settings.token_key_ref: required: a data policy uses the tokenise action`,
		`a.yaml:9: personas[0].data_policy: unknown data policy "support"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "raw") {
		t.Error("error echoes a secret")
	}
}
