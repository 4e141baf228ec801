package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`
limits: {max_body_bytes: -1}
upstreams:
  - name: a
  - name: a
  - name: b
    credential: {value: x, value_file: y}
personas:
  - name: p
    upstream: missing
    tools: [""]
agents:
  - {id: "", persona: nope, key_sha256: abc}
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"limits: values must not be negative",
		`upstreams[1].name: duplicate upstream "a"`,
		"upstreams[2].credential: set value or value_file, not both",
		`personas[0].upstream: unknown upstream "missing"`,
		"personas[0].tools[0]: empty tool name",
		"agents[0].id: required",
		`agents[0].persona: unknown persona "nope"`,
		"agents[0].key_sha256: must be 64 hex characters",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestParseRejectsUnknownFields(t *testing.T) {
	_, err := Parse([]byte("upstreams: []\npersonas: []\nagents: []\npersonnas: []\n"))
	if err == nil || !strings.Contains(err.Error(), "personnas") {
		t.Fatalf("got %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	key := "pk_live_abc"
	p, err := Parse([]byte(`
upstreams: [{name: u}]
personas: [{name: p, upstream: u, tools: [t]}]
agents: [{id: a1, persona: p, key_sha256: ` + HashKey(key) + `}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		header string
		want   error
	}{
		{"Bearer " + key, nil},
		{"bearer   " + key + " ", nil},
		{"", AuthMissing},
		{"Bearer ", AuthMissing},
		{"Basic " + key, AuthUnknown},
		{key, AuthUnknown},
		{"Bearer " + key + "x", AuthUnknown},
	} {
		a, err := p.Authenticate(tc.header)
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: err %v, want %v", tc.header, err, tc.want)
		}
		if err == nil && (a.ID != "a1" || a.Persona.Name != "p" || !a.Persona.Grants("t") || a.Persona.Grants("T")) {
			t.Errorf("%q: agent %+v", tc.header, a)
		}
	}
}

func TestCustomAuthHeaderAndCredentialFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	if err := os.WriteFile(secret, []byte("Bearer from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Parse([]byte(`
auth: {header: X-Api-Key}
upstreams: [{name: u, credential: {value_file: ` + secret + `}}]
personas: [{name: p, upstream: u, tools: []}]
agents: [{id: a1, persona: p, key_sha256: ` + HashKey("k1") + `}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.AuthHeader() != "x-api-key" {
		t.Fatalf("auth header %q", p.AuthHeader())
	}
	if _, err := p.Authenticate("k1"); err != nil {
		t.Fatalf("raw key in custom header: %v", err)
	}
	if up := p.Persona("p").Upstream; up.CredentialHeader != "authorization" || up.CredentialValue != "Bearer from-file" {
		t.Fatalf("credential %+v", up)
	}
}

func TestToolPins(t *testing.T) {
	pin := "sha256:" + strings.Repeat("ab", 32)
	p, err := Parse([]byte(`
upstreams:
  - name: pinned
    tool_pins: {get: "` + pin + `"}
  - name: open
personas: [{name: p, upstream: pinned, tools: [get]}]
agents: []
`))
	if err != nil {
		t.Fatal(err)
	}
	up := p.Upstream("pinned")
	if !up.Pinned() || up.Pin("get") != pin || up.Pin("other") != "" {
		t.Fatalf("pinned upstream: pinned=%v get=%q", up.Pinned(), up.Pin("get"))
	}
	if open := p.Upstream("open"); open.Pinned() || open.Pin("get") != "" {
		t.Fatal("an upstream without tool_pins must not be pinned")
	}
	_, err = Parse([]byte(`
upstreams:
  - name: u
    tool_pins: {a: "sha256:ABAB", b: "` + strings.ToUpper(pin) + `", "": "` + pin + `"}
personas: []
agents: []
`))
	for _, want := range []string{`upstreams[0].tool_pins["a"]: want "sha256:"`, `upstreams[0].tool_pins["b"]`, "upstreams[0].tool_pins: empty tool name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestToolRateLimits(t *testing.T) {
	p, err := Parse([]byte(`
upstreams:
  - name: pets
    tool_rate_limits: {delete_pet: 2, get_pet: 0}
personas: [{name: p, upstream: pets, tools: [delete_pet, get_pet]}]
agents: []
`))
	if err != nil {
		t.Fatal(err)
	}
	up := p.Upstream("pets")
	if up.RateLimit("delete_pet") != 2 || up.RateLimit("get_pet") != 0 || up.RateLimit("other") != 0 {
		t.Fatalf("rate limits: delete_pet %d get_pet %d other %d", up.RateLimit("delete_pet"), up.RateLimit("get_pet"), up.RateLimit("other"))
	}
	_, err = Parse([]byte(`
upstreams:
  - name: u
    tool_rate_limits: {a: -1, "": 5}
personas: []
agents: []
`))
	for _, want := range []string{`upstreams[0].tool_rate_limits["a"]: -1 calls per hour is negative`, "upstreams[0].tool_rate_limits: empty tool name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
