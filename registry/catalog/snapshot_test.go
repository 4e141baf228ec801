package catalog

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFilterPolicy(t *testing.T) {
	c := loadExample(t)
	fp, err := c.Snapshot(nil).FilterPolicy(FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(fp)
	if strings.Contains(string(b), `"value"`) {
		t.Error("rendered a credential value")
	}
	ups := map[string]FilterUpstream{}
	for _, u := range fp.Upstreams {
		ups[u.Name] = u
	}
	h := ups["helpdesk"]
	if h.Environment != "prod" || strings.Join(h.SinkTools, ",") != "send_email" ||
		h.Credential == nil || h.Credential.ValueFile != "/var/run/secrets/portcullis/helpdesk/token" || h.Credential.Header != "authorization" {
		t.Errorf("helpdesk upstream %+v %+v", h, h.Credential)
	}
	if w := ups["web"]; len(w.SinkTools) != 3 || w.Credential != nil {
		t.Errorf("web upstream %+v (a server tagged external-sink makes every tool a sink)", w)
	}
	if f := ups["forge"]; f.Credential.ValueFile != "/var/run/secrets/portcullis/forge/token" {
		t.Errorf("forge credential %+v", f.Credential)
	}
	if b := ups["billing"]; b.Credential.Header != "x-api-key" {
		t.Errorf("billing header %+v", b.Credential)
	}
	var sa *FilterPersona
	for i := range fp.Personas {
		if fp.Personas[i].Name == "support-agent" {
			sa = &fp.Personas[i]
		}
	}
	if sa == nil || sa.Upstream != "helpdesk" || sa.DataPolicy != "support" || strings.Join(sa.Tools, ",") != "add_comment,get_ticket,search_tickets" {
		t.Errorf("support-agent %+v", sa)
	}
}

func TestFilterPolicyMultiServerAndBadRefs(t *testing.T) {
	files := map[string][]byte{
		"s.yaml": []byte(`servers:
  - {name: a, url: "https://a.example.com", owner: o, environment: prod, auth: {kind: bearer, credential_ref: "vault://kv/a"}, tools: [{name: x, description: X., operation: read}]}
  - {name: b, url: "https://b.example.com", owner: o, environment: dev, tools: [{name: y, description: Y., operation: write, tags: [external-sink]}]}
personas:
  - {name: p, add_tools: [a/x, b/y]}
`),
	}
	c, err := Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Snapshot(nil).FilterPolicy(FilterOptions{})
	if err == nil || !strings.Contains(err.Error(), `server "a"`) || !strings.Contains(err.Error(), "vault") {
		t.Fatalf("vault ref: err = %v", err)
	}
	files["s.yaml"] = []byte(strings.Replace(string(files["s.yaml"]), "vault://kv/a", "secret://a/token", 1))
	c, err = Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := c.Snapshot(nil).FilterPolicy(FilterOptions{Environment: "prod", SecretsDir: "/s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(fp.Personas) != 2 || fp.Personas[0].Name != "p.a" || fp.Personas[1].Name != "p.b" || fp.Personas[1].Tools[0] != "y" {
		t.Errorf("personas %+v", fp.Personas)
	}
	if fp.Upstreams[0].Credential.ValueFile != "/s/a/token" || fp.Environment != "prod" || fp.Upstreams[1].SinkTools[0] != "y" {
		t.Errorf("upstreams %+v", fp.Upstreams)
	}
}
