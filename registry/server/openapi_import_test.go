package server_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	registryv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1"
	"github.com/portcullis/portcullis/proto/gen/go/portcullis/registry/v1/registryv1connect"
	"github.com/portcullis/portcullis/registry/server"
)

var corpusOpenAPI = filepath.Join("..", "..", "third_party", "corpora", "openapi")

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusOpenAPI, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// petstoreServer is the server a test import registers.
func petstoreServer() *registryv1.ImportOpenAPIServer {
	return &registryv1.ImportOpenAPIServer{Name: "petstore", Url: "http://127.0.0.1:9100/mcp", Owner: "pets@example.com",
		Environment: "dev", Auth: &registryv1.Auth{Kind: "header", Header: "x-api-key", CredentialRef: "env:PETSTORE_KEY"},
		Tags: []string{"external-sink"}}
}

func importReq(env string, doc []byte, dryRun bool, include ...string) *connect.Request[registryv1.ImportOpenAPIRequest] {
	return connect.NewRequest(&registryv1.ImportOpenAPIRequest{Environment: env, DocumentName: "oai__v2.0_petstore.json",
		Document: doc, Include: include, Server: petstoreServer(), DryRun: dryRun})
}

func TestImportOpenAPIDryRun(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	before := r.Store.Current("preprod")
	// An editor may dry-run against prod: it writes nothing.
	res, err := client(r, editorToken).ImportOpenAPI(ctx, connect.NewRequest(&registryv1.ImportOpenAPIRequest{
		Environment: "prod", DocumentName: "oai__v2.0_petstore.json", Document: readCorpus(t, "oai__v2.0_petstore.json"), DryRun: true}))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Msg
	if s := m.GetSummary(); s.GetOperations() != 3 || s.GetSelected() != 3 || s.GetTools() != 3 || s.GetSkipped() != 0 || len(s.GetSkippedOperations()) != 0 {
		t.Fatalf("summary = %v", s)
	}
	if len(m.GetTools()) != 3 || m.GetSpec() != "2.0" || m.GetTitle() != "Swagger Petstore" {
		t.Fatalf("response = %v", m)
	}
	ops := map[string]string{}
	for _, tl := range m.GetTools() {
		ops[tl.GetMethod()+" "+tl.GetPath()] = tl.GetOperation()
		if tl.GetName() == "" || tl.GetRiskLevel() == "" || tl.GetRateLimitPerHour() == 0 {
			t.Errorf("tool %v", tl)
		}
	}
	want := map[string]string{"GET /pets": "read", "POST /pets": "write", "GET /pets/{petId}": "read"}
	for k, v := range want {
		if ops[k] != v {
			t.Errorf("%s: operation %q, want %q (all: %v)", k, ops[k], v, ops)
		}
	}
	if m.GetServer() != nil || m.GetVersion() != "" || m.GetRevision() != 0 {
		t.Fatalf("dry run reported a write: %v", m)
	}
	if after := r.Store.Current("preprod"); after.Revision != before.Revision {
		t.Fatalf("dry run wrote preprod: %d→%d", before.Revision, after.Revision)
	}
	if r.Store.Current("prod").Catalog.Server("swagger-petstore") != nil {
		t.Fatal("dry run wrote prod")
	}
}

func TestImportOpenAPIRegistersServer(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, editorToken)
	before := r.Store.Current("preprod")
	res, err := c.ImportOpenAPI(ctx, importReq("preprod", readCorpus(t, "oai__v2.0_petstore.json"), false))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.GetRevision() != before.Revision+1 || res.Msg.GetVersion() == before.Version || res.Msg.GetServer().GetName() != "petstore" {
		t.Fatalf("import: %v", res.Msg)
	}
	got, err := client(r, auditorToken).GetServer(ctx, connect.NewRequest(&registryv1.GetServerRequest{Environment: "preprod", Name: "petstore"}))
	if err != nil {
		t.Fatal(err)
	}
	s := got.Msg.GetServer()
	if got.Msg.GetVersion() != res.Msg.GetVersion() || s.GetUrl() != "http://127.0.0.1:9100/mcp" || s.GetOwner() != "pets@example.com" ||
		s.GetEnvironment() != "dev" || s.GetAuth().GetCredentialRef() != "env:PETSTORE_KEY" || s.GetAuth().GetHeader() != "x-api-key" {
		t.Fatalf("server = %v", s)
	}
	if strings.Join(s.GetTags(), ",") != "external-sink,generated,openapi" {
		t.Fatalf("tags = %v", s.GetTags())
	}
	if len(s.GetTools()) != 3 {
		t.Fatalf("tools = %v", s.GetTools())
	}
	gen := map[string]*registryv1.GeneratedTool{}
	for _, g := range res.Msg.GetTools() {
		gen[g.GetName()] = g
	}
	for _, tl := range s.GetTools() {
		g := gen[tl.GetName()]
		if g == nil || !strings.HasPrefix(tl.GetPin(), "sha256:") || tl.GetDescription() == "" || tl.GetInputSchema() == nil ||
			tl.GetOperation() != g.GetOperation() || tl.GetRisk() != g.GetRiskLevel() || tl.GetRateLimitPerHour() != g.GetRateLimitPerHour() {
			t.Errorf("stored tool %v, generated %v", tl, g)
		}
		if tl.GetInputSchema().GetFields()["type"].GetStringValue() != "object" {
			t.Errorf("%s: input schema %v", tl.GetName(), tl.GetInputSchema())
		}
	}
	// The stored file is plain catalog YAML.
	b, err := os.ReadFile(filepath.Join(r.Store.Dir(), "preprod", "servers", "petstore.yaml"))
	if err != nil || !strings.Contains(string(b), "name: petstore") || !strings.Contains(string(b), "input_schema:") {
		t.Fatalf("servers/petstore.yaml: %s %v", b, err)
	}
	// Re-importing the same document is a no-op write with the same pins.
	again, err := c.ImportOpenAPI(ctx, importReq("preprod", readCorpus(t, "oai__v2.0_petstore.json"), false))
	if err != nil {
		t.Fatal(err)
	}
	for i, tl := range again.Msg.GetServer().GetTools() {
		if tl.GetPin() != s.GetTools()[i].GetPin() {
			t.Errorf("%s: pin changed on re-import", tl.GetName())
		}
	}
}

// A curl-style JSON call: the document travels as base64 (proto3 JSON of bytes).
func TestImportOpenAPIJSON(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	doc := base64.StdEncoding.EncodeToString(readCorpus(t, "oai-learn__petstore.yaml"))
	url := r.URL + registryv1connect.RegistryServiceImportOpenAPIProcedure
	code, body := postJSON(t, url, adminToken, `{"environment":"prod","documentName":"petstore.yaml","document":"`+doc+`",`+
		`"namePrefix":"pets_","server":{"url":"https://mcp.example.com/pets","owner":"pets@example.com","environment":"prod"}}`)
	if code != 200 {
		t.Fatalf("status %d: %v", code, body)
	}
	srv, _ := body["server"].(map[string]any)
	tools, _ := body["tools"].([]any)
	if srv == nil || srv["name"] == "" || len(tools) == 0 || body["revision"] == nil {
		t.Fatalf("body = %v", body)
	}
	for _, tl := range tools {
		if n, _ := tl.(map[string]any)["name"].(string); !strings.HasPrefix(n, "pets_") {
			t.Errorf("tool name %q without the prefix", n)
		}
	}
	// An invalid document over JSON: invalid_argument with the parser's message.
	code, body = postJSON(t, url, adminToken, `{"environment":"prod","dryRun":true,"document":"`+
		base64.StdEncoding.EncodeToString([]byte(`{"openapi":"3.0.0","paths":{"/a":{"get":{"responses":`))+`"}`)
	if code != 400 || body["code"] != "invalid_argument" || !strings.Contains(body["message"].(string), "document:") {
		t.Fatalf("invalid document: %d %v", code, body)
	}
}

func TestImportOpenAPIRBAC(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	doc := readCorpus(t, "oai__v2.0_petstore.json")
	tests := []struct {
		name   string
		token  string
		env    string
		dryRun bool
		want   connect.Code
	}{
		{"auditor dry run", auditorToken, "preprod", true, connect.CodePermissionDenied},
		{"auditor import", auditorToken, "preprod", false, connect.CodePermissionDenied},
		{"filter dry run", filterToken, "preprod", true, connect.CodePermissionDenied},
		{"editor dry run prod", editorToken, "prod", true, 0},
		{"editor import preprod", editorToken, "preprod", false, 0},
		{"editor import prod", editorToken, "prod", false, connect.CodePermissionDenied},
		{"admin import prod", adminToken, "prod", false, 0},
		{"nobody", "", "preprod", true, connect.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(r, tt.token).ImportOpenAPI(ctx, importReq(tt.env, doc, tt.dryRun))
			if tt.want == 0 && err != nil || tt.want != 0 && connect.CodeOf(err) != tt.want {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if r.Store.Current("prod").Catalog.Server("petstore") == nil {
		t.Fatal("admin import into prod not stored")
	}
}

func TestImportOpenAPIErrors(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, adminToken)
	before := r.Store.Current("preprod")
	doc := readCorpus(t, "oai__v2.0_petstore.json")
	tests := []struct {
		name      string
		req       *registryv1.ImportOpenAPIRequest
		field     string
		substring string
	}{
		{"malformed yaml", &registryv1.ImportOpenAPIRequest{Environment: "preprod", DocumentName: "bad.yaml",
			Document: []byte("openapi: 3.0.0\npaths: [\n"), Server: petstoreServer()}, "document", "not an OpenAPI or Swagger document"},
		{"not openapi", &registryv1.ImportOpenAPIRequest{Environment: "preprod", Document: []byte(`{"hello":"world"}`), DryRun: true},
			"document", "not an OpenAPI or Swagger document"},
		{"empty document", &registryv1.ImportOpenAPIRequest{Environment: "preprod", DryRun: true}, "document", "required"},
		{"too large", &registryv1.ImportOpenAPIRequest{Environment: "preprod", DryRun: true,
			Document: make([]byte, server.MaxImportDocumentBytes+1)}, "document", "exceeds the 8388608-byte limit"},
		{"no server", &registryv1.ImportOpenAPIRequest{Environment: "preprod", Document: doc}, "server", "required unless dry_run"},
		{"no url", &registryv1.ImportOpenAPIRequest{Environment: "preprod", Document: doc,
			Server: &registryv1.ImportOpenAPIServer{Owner: "x@example.com", Environment: "dev"}}, "server.url", "required"},
		{"unknown environment", &registryv1.ImportOpenAPIRequest{Environment: "staging", Document: doc, DryRun: true}, "environment", "unknown environment"},
		{"catalog validation", &registryv1.ImportOpenAPIRequest{Environment: "preprod", Document: doc,
			Server: &registryv1.ImportOpenAPIServer{Name: "petstore", Url: "ftp://x", Owner: "x@example.com", Environment: "dev"}},
			"servers[0].url", "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ImportOpenAPI(ctx, connect.NewRequest(tt.req))
			for _, v := range violations(t, err) {
				if v.GetField() == tt.field && strings.Contains(v.GetDescription(), tt.substring) {
					return
				}
			}
			t.Fatalf("no violation %s %q in %v", tt.field, tt.substring, err)
		})
	}
	if after := r.Store.Current("preprod"); after.Revision != before.Revision {
		t.Fatalf("failed imports changed the store: %d→%d", before.Revision, after.Revision)
	}
}

func TestImportOpenAPIExpectedVersion(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, editorToken)
	v0 := r.Store.Current("preprod").Version
	req := importReq("preprod", readCorpus(t, "oai__v2.0_petstore.json"), false)
	req.Msg.ExpectedVersion = v0
	first, err := c.ImportOpenAPI(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// A second writer that read v0 loses.
	_, err = c.ImportOpenAPI(ctx, req)
	if connect.CodeOf(err) != connect.CodeAborted || !strings.Contains(err.Error(), first.Msg.GetVersion()) {
		t.Fatalf("stale import: %v", err)
	}
}

// Re-importing a document with fewer operations while a skill still uses a
// removed tool fails, naming the skill, and changes nothing.
func TestImportOpenAPIRemovedToolInUse(t *testing.T) {
	r := startRegistry(t, exampleDir(t))
	ctx := context.Background()
	c := client(r, editorToken)
	doc := readCorpus(t, "oai__v2.0_petstore.json")
	res, err := c.ImportOpenAPI(ctx, importReq("preprod", doc, false))
	if err != nil {
		t.Fatal(err)
	}
	var create string
	for _, tl := range res.Msg.GetTools() {
		if tl.GetMethod() == "POST" {
			create = tl.GetName()
		}
	}
	if _, err := c.PutSkill(ctx, connect.NewRequest(&registryv1.PutSkillRequest{Environment: "preprod", Skill: &registryv1.Skill{
		Name: "pet-intake", Description: "Register new pets.", Owner: "pets@example.com", Tools: []string{"petstore/" + create}}})); err != nil {
		t.Fatal(err)
	}
	before := r.Store.Current("preprod")
	_, err = c.ImportOpenAPI(ctx, importReq("preprod", doc, false, "GET /pets", "GET /pets/*"))
	vs := violations(t, err)
	found := false
	for _, v := range vs {
		if v.GetFile() == "skills/pet-intake.yaml" && v.GetField() == "skills[0].tools[0]" && strings.Contains(v.GetDescription(), create) {
			found = true
		}
	}
	if !found || !strings.Contains(err.Error(), "pet-intake") {
		t.Fatalf("want a violation naming skill pet-intake and tool %s: %v %v", create, err, vs)
	}
	after := r.Store.Current("preprod")
	if after.Revision != before.Revision || len(after.Catalog.Server("petstore").Tools) != 3 {
		t.Fatalf("failed re-import changed the store")
	}
	// A dry run with the same selection reports 2 tools and writes nothing.
	dry, err := c.ImportOpenAPI(ctx, importReq("preprod", doc, true, "GET /pets", "GET /pets/*"))
	if err != nil || dry.Msg.GetSummary().GetSelected() != 2 || len(dry.Msg.GetTools()) != 2 {
		t.Fatalf("dry run: %v %v", dry, err)
	}
}
