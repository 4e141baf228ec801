package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portcullis/portcullis/registry/examplemcp"
)

func loadExample(t testing.TB) *Catalog {
	t.Helper()
	c, err := LoadDir(filepath.Join("..", "..", "config", "catalog"))
	if err != nil {
		t.Fatalf("example catalog: %v", err)
	}
	return c
}

func TestLoadExample(t *testing.T) {
	c := loadExample(t)
	if got := len(c.Servers()); got != 5 {
		t.Errorf("servers = %d, want 5", got)
	}
	if got := len(c.Tools()); got != 23 {
		t.Errorf("tools = %d, want 23", got)
	}
	if !strings.HasPrefix(c.Version(), "sha256:") || len(c.Version()) != 71 {
		t.Errorf("version %q", c.Version())
	}
	sa := c.Persona("support-agent")
	if sa == nil {
		t.Fatal("support-agent missing")
	}
	var got []string
	for _, id := range c.PersonaTools(sa) {
		got = append(got, id.String())
	}
	if want := "helpdesk/add_comment,helpdesk/get_ticket,helpdesk/search_tickets"; strings.Join(got, ",") != want {
		t.Errorf("support-agent tools %v, want %s", got, want)
	}
	rep := c.PersonaTools(c.Persona("reporting-agent"))
	if len(rep) != 2 || rep[0].Name != "export_report" || rep[1].Name != "search_tickets" {
		t.Errorf("reporting-agent tools %v", rep)
	}
	if sk := c.Skill("refunds"); sk.Risk != RiskCritical || sk.DataObjects[0] != "payment" {
		t.Errorf("refunds skill %+v", sk)
	}
	if sk := c.Skill("ticket-reading"); sk.Risk != RiskLow {
		t.Errorf("ticket-reading risk %s, want low (max of its tools)", sk.Risk)
	}
	if tl := c.Tool(ToolID{"helpdesk", "delete_ticket"}); tl.Risk != RiskHigh {
		t.Errorf("delete_ticket default risk %s, want high", tl.Risk)
	}
	if c.Server("helpdesk").Auth.Header != "authorization" {
		t.Errorf("bearer auth header default not applied")
	}
}

// The example catalog's helpdesk pins are the live example server's
// tools/list, byte for byte after canonicalisation.
func TestExampleHelpdeskPinsMatchLiveServer(t *testing.T) {
	c := loadExample(t)
	live := liveHelpdeskTools(t)
	d, err := CompareTools("helpdesk", c.Server("helpdesk").PinnedDefinitions(), live)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Clean() {
		t.Fatalf("drift against the live example server: %+v", d)
	}
}

func liveHelpdeskTools(t *testing.T) []ToolDefinition {
	t.Helper()
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	if _, err := examplemcp.NewServer().Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []ToolDefinition
	for _, tl := range lt.Tools {
		schema, err := json.Marshal(tl.InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ToolDefinition{Name: tl.Name, Description: tl.Description, InputSchema: schema})
	}
	return out
}

const okServer = `servers:
  - name: helpdesk
    url: https://helpdesk.example.com/mcp
    owner: ops@example.com
    environment: prod
    tools:
      - name: send_email
        description: Send an email.
        operation: write
      - name: get_ticket
        description: Read a ticket.
        operation: read
        data_objects: [ticket]
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each must appear as one issue line
	}{
		{
			name: "unknown tool with suggestion",
			files: map[string]string{"servers/helpdesk.yaml": okServer, "skills/tickets.yaml": `skills:
  - name: tickets
    description: Tickets.
    owner: ops@example.com
    tools:
      - helpdesk/get_ticket
      - helpdesk/send_mail
`},
			want: []string{`skills/tickets.yaml:7: skills[0].tools[1]: unknown tool "helpdesk/send_mail" (did you mean "helpdesk/send_email"?)`},
		},
		{
			name: "unknown field and missing required",
			files: map[string]string{"servers/a.yaml": `servers:
  - name: a
    url: https://a.example.com
    ownr: me
    environment: prod
`},
			want: []string{
				`servers/a.yaml:2: servers[0].owner: required field missing`,
				`servers/a.yaml:4: servers[0].ownr: unknown field (did you mean "owner"?)`,
			},
		},
		{
			name: "bad enums and url",
			files: map[string]string{"s.yaml": `servers:
  - name: a
    url: ftp://a
    owner: me
    environment: staging
    tools:
      - name: t
        description: d
        operation: execute
        risk: extreme
`},
			want: []string{
				`s.yaml:3: servers[0].url: "ftp://a" is not an absolute http(s) URL`,
				`s.yaml:5: servers[0].environment: unknown environment "staging" (want prod or dev)`,
				`s.yaml:9: servers[0].tools[0].operation: unknown operation "execute" (want read, write, delete or admin)`,
				`s.yaml:10: servers[0].tools[0].risk: unknown risk "extreme" (want low, medium, high or critical)`,
			},
		},
		{
			name: "credential value refused",
			files: map[string]string{"s.yaml": `servers:
  - name: a
    url: https://a.example.com
    owner: me
    environment: dev
    auth:
      kind: bearer
      credential_ref: "Bearer s3cr3t-value"
`},
			want: []string{`s.yaml:8: servers[0].auth.credential_ref: credential_ref is not a reference (want file:/path, secret://NAME/KEY, env:NAME or vault://PATH; the catalog never holds credential values)`},
		},
		{
			name: "inline credential field refused",
			files: map[string]string{"s.yaml": `servers:
  - name: a
    url: https://a.example.com
    owner: me
    environment: dev
    auth: {kind: bearer, credential: "x"}
`},
			want: []string{
				`s.yaml:2: servers[0].auth.credential_ref: required for auth kind bearer`,
				`s.yaml:6: servers[0].auth.credential: credential values are never stored in the catalog: use credential_ref (file:, secret://, env: or vault://)`,
			},
		},
		{
			name:  "duplicates across files",
			files: map[string]string{"a.yaml": okServer, "b.yaml": okServer},
			want:  []string{`b.yaml:2: servers[0].name: duplicate server "helpdesk" (first defined at a.yaml:2)`},
		},
		{
			name: "duplicate tool in server",
			files: map[string]string{"a.yaml": okServer + `      - name: get_ticket
        description: again
        operation: read
`},
			want: []string{`a.yaml:14: servers[0].tools[2].name: duplicate tool "get_ticket" on server "helpdesk" (first defined at line 10)`},
		},
		{
			name: "persona references",
			files: map[string]string{"servers.yaml": okServer, "skills.yaml": `skills:
  - name: ticket-reading
    description: r
    owner: me
    tools: [get_ticket]
    data_objects: [invoice]
`, "personas.yaml": `personas:
  - name: p
    skills: [ticket-readin]
    add_tools: [helpdesk/nope]
    remove_tools: [helpdesk/send_email]
  - name: q
    skills: [ticket-reading, ticket-reading]
    add_tools: [helpdesk/get_ticket]
`},
			want: []string{
				`personas.yaml:3: personas[0].skills[0]: unknown skill "ticket-readin" (did you mean "ticket-reading"?)`,
				`personas.yaml:4: personas[0].add_tools[0]: unknown tool "helpdesk/nope"`,
				`personas.yaml:5: personas[0].remove_tools[0]: tool "helpdesk/send_email" is not granted by any of the persona's skills`,
				`personas.yaml:7: personas[1].skills[1]: skill "ticket-reading" listed twice`,
				`personas.yaml:8: personas[1].add_tools[0]: tool "helpdesk/get_ticket" is already granted by skill "ticket-reading"`,
				`skills.yaml:6: skills[0].data_objects[0]: data object "invoice" is not touched by any of the skill's tools`,
			},
		},
		{
			name: "ambiguous bare tool",
			files: map[string]string{"a.yaml": okServer, "b.yaml": strings.Replace(okServer, "name: helpdesk", "name: desk2", 1),
				"k.yaml": "skills:\n  - {name: s, description: d, owner: o, tools: [get_ticket]}\n"},
			want: []string{`k.yaml:2: skills[0].tools[0]: tool "get_ticket" is offered by several servers (desk2, helpdesk): write server/tool`},
		},
		{
			name:  "unknown server in tool ref",
			files: map[string]string{"a.yaml": okServer, "k.yaml": "skills:\n  - {name: s, description: d, owner: o, tools: [helpdsk/get_ticket]}\n"},
			want:  []string{`k.yaml:2: skills[0].tools[0]: unknown server "helpdsk" in tool "helpdsk/get_ticket" (did you mean "helpdesk"?)`},
		},
		{
			name:  "syntax error",
			files: map[string]string{"bad.yaml": "servers:\n  - name: a\n   url: [\n"},
			want:  []string{`bad.yaml:1: invalid YAML: did not find expected '-' indicator`},
		},
		{
			name:  "wrong shapes",
			files: map[string]string{"w.yaml": "servers: {name: a}\nskills:\n  - name: [x]\n    tools: helpdesk/x\n    description: d\n    owner: o\nextra: 1\n"},
			want: []string{
				`w.yaml:1: servers: must be a list, not a mapping`,
				`w.yaml:3: skills[0].name: must be a string, not a list`,
				`w.yaml:4: skills[0].tools: must be a list, not a scalar (str)`,
				`w.yaml:7: extra: unknown field`,
			},
		},
		{
			name:  "pin mismatch",
			files: map[string]string{"a.yaml": strings.Replace(okServer, "        operation: read\n", "        operation: read\n        pin: sha256:0000\n", 1)},
			want:  []string{`a.yaml:13: servers[0].tools[1].pin: pin sha256:0000 does not match the definition`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range tc.files {
				files[k] = []byte(v)
			}
			c, err := Parse(files)
			if err == nil {
				t.Fatalf("loaded %d servers, want errors", len(c.Servers()))
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *ValidationError", err, err)
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing issue\n  %s\ngot:\n  %s", w, strings.Join(lines, "\n  "))
				}
			}
			if len(ve.Issues) != len(tc.want) {
				t.Errorf("got %d issues, want %d:\n  %s", len(ve.Issues), len(tc.want), strings.Join(lines, "\n  "))
			}
		})
	}
}

func TestVersionIgnoresLayoutAndComments(t *testing.T) {
	split := map[string][]byte{"servers/h.yaml": []byte(okServer), "skills/s.yaml": []byte("skills:\n  - {name: s, description: d, owner: o, tools: [helpdesk/get_ticket]}\n")}
	one := map[string][]byte{"all.yaml": []byte("# everything in one file\nskills:\n  - name: s\n    owner: o\n    description: d\n    tools: [get_ticket]\n" + okServer)}
	a, err := Parse(split)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(one)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() != b.Version() {
		t.Errorf("versions differ: %s vs %s", a.Version(), b.Version())
	}
	changed := map[string][]byte{"all.yaml": []byte(strings.Replace(string(one["all.yaml"]), "Read a ticket.", "Read a ticket!", 1))}
	cc, err := Parse(changed)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Version() == a.Version() {
		t.Error("a changed description kept the version")
	}
	if v1, v2 := loadExample(t).Version(), loadExample(t).Version(); v1 != v2 {
		t.Error("example version not deterministic")
	}
}

func TestNewValidatesInCode(t *testing.T) {
	srv := &Server{Name: "h", URL: "https://h.example.com", Owner: "o", Environment: Prod,
		Tools: []*Tool{{Name: "get", Description: "Get.", Operation: OpRead}}}
	c, err := New([]*Server{srv}, []*Skill{{Name: "s", Description: "d", Owner: "o", Tools: []ToolID{{Name: "get"}}}},
		[]*Persona{{Name: "p", Skills: []string{"s"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PersonaTools(c.Persona("p")); len(got) != 1 || got[0] != (ToolID{"h", "get"}) {
		t.Errorf("persona tools %v", got)
	}
	_, err = New([]*Server{{Name: "h", URL: "nope", Environment: "x", Auth: Auth{Kind: AuthBearer, CredentialRef: "hunter2"}}}, nil,
		[]*Persona{{Name: "p", Skills: []string{"missing"}}})
	if err == nil {
		t.Fatal("invalid catalog accepted")
	}
	for _, w := range []string{"servers[0].url", "servers[0].environment", "servers[0].owner", "servers[0].auth.credential_ref", `personas[0].skills[0]: unknown skill "missing"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Error("error echoes a credential value")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(okServer))
	f.Add([]byte("skills:\n  - {name: s, tools: [a/b, c]}\npersonas: [{name: p, skills: [s]}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("servers:\n  - &s {name: a, tools: [{name: t, input_schema: {type: object, properties: {a: 1.5e300}}}]}\n  - *s\n"))
	f.Add([]byte("---\n---\nservers: ~\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(map[string][]byte{"f.yaml": data})
		if err == nil && c == nil {
			t.Fatal("nil catalog without error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
