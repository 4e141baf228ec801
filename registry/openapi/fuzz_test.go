package openapi

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// FuzzImportBytes: arbitrary bytes never panic, and whatever imports yields
// valid, serialisable tools.
func FuzzImportBytes(f *testing.F) {
	for _, name := range []string{"oai__v2.0_petstore.json", "oai__v3.0_petstore-expanded.json", "readme__3.0_circular-paths.json", "oai-learn__tictactoe.yaml", "readme__3.0_parameters-style.json"} {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("openapi: 3.1.0\npaths:\n  /a/{x}:\n    get: {}\n"))
	f.Add([]byte("swagger: '2.0'\npaths: {'/x': {delete: {parameters: [{in: formData, name: f, type: file}]}}}"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ImportBytes(context.Background(), "fuzz", data, Options{MaxSchemaNodes: 500})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tl := range d.Tools {
			if !ToolNamePattern.MatchString(tl.Name) || seen[tl.Name] {
				t.Fatalf("bad or duplicate name %q", tl.Name)
			}
			seen[tl.Name] = true
			if _, err := json.Marshal(tl); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkImportLargest(b *testing.B) {
	path := filepath.Join(corpusDir, "readme__3.0_star-trek.yaml") // 363 kB, 120 operations
	b.ReportAllocs()
	for b.Loop() {
		res, err := Import(context.Background(), []string{path}, Options{})
		if err != nil || res.Totals.Tools != 120 {
			b.Fatal(err)
		}
	}
}
