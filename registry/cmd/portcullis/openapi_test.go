package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/portcullis/portcullis/registry/catalog"
)

const corpusOpenAPI = "../../../third_party/corpora/openapi"

func TestOpenAPIImportDryRun(t *testing.T) {
	var out bytes.Buffer
	err := Main(context.Background(), []string{"openapi", "import", "--dry-run", filepath.Join(corpusOpenAPI, "oai__v3.0_petstore-expanded.json")}, nil, &out, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var sum importSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if !sum.DryRun || len(sum.Documents) != 1 || sum.Totals.Operations != 4 || sum.Totals.Tools != 4 || len(sum.Written) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	for _, tool := range sum.Documents[0].Tools {
		if tool.Method == "DELETE" && (tool.RateLimit != 10 || tool.Risk == "low") {
			t.Errorf("delete tool %+v: want 10/h and a raised risk", tool)
		}
	}
}

func TestOpenAPIImportDirectoryCountsEveryOperation(t *testing.T) {
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"openapi", "import", "--dry-run", corpusOpenAPI}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var sum importSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Documents) < 39 || sum.Totals.Tools != sum.Totals.Selected || sum.Totals.Tools < 500 {
		t.Fatalf("totals %+v over %d documents", sum.Totals, len(sum.Documents))
	}
}

func TestOpenAPIImportRegistersServer(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(exampleCatalog)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Main(context.Background(), []string{"openapi", "import", "--catalog", dir, "--server", "petstore", "--url", "http://127.0.0.1:9100/mcp",
		"--owner", "pets@example.com", "--credential-ref", "secret://petstore/api-key", "--credential-header", "api_key",
		filepath.Join(corpusOpenAPI, "oai__v2.0_petstore.json")}, nil, &out, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := cat.Server("petstore")
	if s == nil || len(s.Tools) != 3 || s.URL != "http://127.0.0.1:9100/mcp" {
		t.Fatalf("registered server %+v", s)
	}
	// Each generated tool carries its default rate limit by method.
	for _, tl := range s.Tools {
		want := map[catalog.Operation]int{catalog.OpRead: 1000, catalog.OpWrite: 100, catalog.OpDelete: 10}[tl.Operation]
		if tl.RateLimitPerHour != want {
			t.Errorf("%s (%s): rate_limit_per_hour %d, want %d", tl.Name, tl.Operation, tl.RateLimitPerHour, want)
		}
	}
	// A second import replaces the server; the catalog still loads.
	if err := Main(context.Background(), []string{"openapi", "import", "--catalog", dir, "--server", "petstore", "--url", "http://127.0.0.1:9100/mcp",
		"--owner", "pets@example.com", "--include", "GET /pets", filepath.Join(corpusOpenAPI, "oai__v2.0_petstore.json")}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if cat, err = catalog.LoadDir(dir); err != nil || len(cat.Server("petstore").Tools) != 1 {
		t.Fatalf("after re-import: %v", err)
	}
}

func TestOpenAPIImportErrors(t *testing.T) {
	for _, args := range [][]string{
		{"openapi"},
		{"openapi", "import"},
		{"openapi", "import", filepath.Join(corpusOpenAPI, "oai__v2.0_petstore.json")}, // no --url/--owner
		{"openapi", "import", "--dry-run", "/nonexistent.yaml"},
	} {
		if err := Main(context.Background(), args, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
