package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/registry/server"
)

// startRegistry runs the real registry handler over HTTP on an empty
// directory, with an admin and an editor token.
func startRegistry(t *testing.T) (url string, tokens map[string]string) {
	t.Helper()
	tokens = map[string]string{"admin": "tok-admin-5c1f9e2a", "editor": "tok-editor-0b7d3c44"}
	var lines strings.Builder
	for role, tok := range tokens {
		fmt.Fprintf(&lines, "%s-user %s %s\n", role, role, server.HashToken(tok))
	}
	toks, err := server.ParseTokens(strings.NewReader(lines.String()))
	if err != nil {
		t.Fatal(err)
	}
	store, err := server.OpenStore(t.TempDir(), server.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(server.NewHandler(store, toks))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for role, tok := range tokens {
		p := filepath.Join(t.TempDir(), role)
		if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tokens[role] = p // token file
	}
	return srv.URL, tokens
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Main(context.Background(), args, nil, &out, &errb)
	return out.String() + errb.String(), err
}

func TestRegistryApplyGetPromote(t *testing.T) {
	url, tok := startRegistry(t)
	if out, err := run(t, "registry", "apply", "--dry-run", exampleCatalog); err != nil || !strings.Contains(out, "valid") {
		t.Fatalf("dry run: %v %s", err, out)
	}
	out, err := run(t, "registry", "apply", "--url", url, "--token-file", tok["editor"], exampleCatalog)
	if err != nil || !strings.Contains(out, "preprod:") {
		t.Fatalf("apply: %v %s", err, out)
	}
	// Applying the same directory again changes nothing.
	if out, err := run(t, "registry", "apply", "--url", url, "--token-file", tok["editor"], exampleCatalog); err != nil || !strings.Contains(out, "0 writes changed") {
		t.Fatalf("re-apply: %v %s", err, out)
	}
	out, err = run(t, "registry", "get", "--url", url, "--token-file", tok["editor"], "personas")
	if err != nil || !strings.Contains(out, `"support-agent"`) {
		t.Fatalf("get personas: %v %s", err, out)
	}
	if out, err := run(t, "policy", "promote", "--url", url, "--token-file", tok["editor"]); err == nil || !strings.Contains(err.Error(), "permission_denied") {
		t.Fatalf("an editor promoted: %v %s", err, out)
	}
	if out, err := run(t, "policy", "promote", "--url", url, "--token-file", tok["admin"]); err != nil || !strings.Contains(out, "promoted preprod → prod") {
		t.Fatalf("promote: %v %s", err, out)
	}
	out, err = run(t, "registry", "get", "--url", url, "--token-file", tok["admin"], "--environment", "prod", "snapshot")
	if err != nil || !strings.Contains(out, `"helpdesk"`) {
		t.Fatalf("prod snapshot: %v %s", err, out)
	}
}

func TestRegistryApplyPrune(t *testing.T) {
	url, tok := startRegistry(t)
	// The catalog plus one more persona, applied; then the catalog alone
	// with --prune deletes that persona.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(exampleCatalog)); err != nil {
		t.Fatal(err)
	}
	extra := "personas:\n  - name: extra-agent\n    skills: [ticket-reading]\n    data_policy: support\n"
	if err := os.WriteFile(filepath.Join(dir, "personas", "extra.yaml"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "registry", "apply", "--url", url, "--token-file", tok["admin"], dir); err != nil {
		t.Fatalf("apply with extra: %v %s", err, out)
	}
	if out, err := run(t, "registry", "get", "--url", url, "--token-file", tok["admin"], "persona", "extra-agent"); err != nil {
		t.Fatalf("extra persona not applied: %v %s", err, out)
	}
	out, err := run(t, "registry", "apply", "--url", url, "--token-file", tok["admin"], "--prune", exampleCatalog)
	if err != nil || !strings.Contains(out, "1 objects deleted") {
		t.Fatalf("prune: %v %s", err, out)
	}
	if out, err := run(t, "registry", "get", "--url", url, "--token-file", tok["admin"], "persona", "extra-agent"); err == nil {
		t.Fatalf("pruned persona still there: %s", out)
	}
}

func TestRegistryCommandErrors(t *testing.T) {
	t.Setenv("PORTCULLIS_REGISTRY_TOKEN", "")
	for _, args := range [][]string{
		{"registry"},
		{"registry", "apply"},
		{"registry", "apply", "/nonexistent"},
		{"registry", "apply", exampleCatalog}, // no token
		{"registry", "get"},
		{"policy"},
	} {
		if out, err := run(t, args...); err == nil {
			t.Errorf("%v: no error (%s)", args, out)
		}
	}
}

func TestOpenAPIImportThroughRegistry(t *testing.T) {
	url, tok := startRegistry(t)
	spec := filepath.Join(corpusOpenAPI, "oai__v2.0_petstore.json")
	out, err := run(t, "openapi", "import", "--registry", url, "--token-file", tok["editor"], "--dry-run", spec)
	if err != nil || !strings.Contains(out, `"listPets"`) || strings.Contains(out, `"revision"`) {
		t.Fatalf("dry run: %v %s", err, out)
	}
	out, err = run(t, "openapi", "import", "--registry", url, "--token-file", tok["editor"], "--server", "petstore",
		"--url", "http://127.0.0.1:8100/mcp", "--owner", "pets@example.com", "--credential-ref", "secret://petstore/key", "--credential-header", "api_key", spec)
	if err != nil || !strings.Contains(out, `"revision"`) {
		t.Fatalf("import: %v %s", err, out)
	}
	out, err = run(t, "registry", "get", "--url", url, "--token-file", tok["editor"], "server", "petstore")
	if err != nil || strings.Count(out, `"pin"`) != 3 {
		t.Fatalf("registered server: %v %s", err, out)
	}
}
