package rules

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestRulesImportNoAdapters keeps the rules core pure: no Kafka, ClickHouse,
// protobuf or logging package, and nothing of analytics' adapters.
func TestRulesImportNoAdapters(t *testing.T) {
	forbidden := []string{
		"github.com/twmb/", "github.com/ClickHouse/", "google.golang.org/protobuf",
		"github.com/portcullis/portcullis/proto", "go.uber.org/zap",
		"github.com/portcullis/portcullis/analytics/",
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s: the rules core takes plain domain values only", name, path)
				}
			}
		}
	}
}
