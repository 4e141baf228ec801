package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// TestGolden compares one document per spec family with its golden file.
func TestGolden(t *testing.T) {
	families := map[string]string{
		"swagger2":   "oai__v2.0_petstore.json",
		"openapi30":  "oai__v3.0_petstore-expanded.json",
		"openapi31":  "oai-learn__tictactoe.yaml",
		"multifile":  "oai-learn__petstore-separate",
		"circular":   "readme__3.0_circular-paths.json",
		"circular2":  "readme__2.0_schema-circular.json",
		"forms":      "readme__3.0_file-uploads.json",
		"parameters": "readme__3.0_parameters-style.json",
	}
	for family, file := range families {
		t.Run(family, func(t *testing.T) {
			res, err := Import(context.Background(), []string{filepath.Join(corpusDir, file)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			d := res.Documents[0]
			d.File = filepath.ToSlash(filepath.Base(filepath.Dir(d.File))) + "/" + filepath.Base(d.File)
			got, err := json.MarshalIndent(d, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", family+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run go test -run TestGolden -update and review the diff", family, path)
			}
		})
	}
}
