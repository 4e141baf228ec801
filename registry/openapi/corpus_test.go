package openapi

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const corpusDir = "../../third_party/corpora/openapi"

type corpusEntry struct {
	file       string
	operations int
	webhooks   int
}

func readIndex(t testing.TB) []corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "INDEX.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		ops, _ := strconv.Atoi(cols[3])
		wh, _ := strconv.Atoi(cols[4])
		out = append(out, corpusEntry{cols[0], ops, wh})
	}
	return out
}

// justifiedSkips are the corpus operations that cannot become tools, keyed by
// file and then "METHOD path", with the reason the importer must give.
var justifiedSkips = map[string]map[string]string{}

// TestCorpus imports every corpus document: the operation count must match
// INDEX.tsv, every operation must become a tool unless it is a named,
// justified skip, and every tool must be well-formed.
func TestCorpus(t *testing.T) {
	entries := readIndex(t)
	if len(entries) < 38 {
		t.Fatalf("INDEX.tsv lists %d documents", len(entries))
	}
	entries = append(entries, corpusEntry{file: "oai-learn__petstore-separate", operations: 4})
	total := 0
	for _, e := range entries {
		t.Run(e.file, func(t *testing.T) {
			res, err := Import(context.Background(), []string{filepath.Join(corpusDir, e.file)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Documents) != 1 {
				t.Fatalf("%d documents", len(res.Documents))
			}
			d := res.Documents[0]
			if d.Summary.Operations != e.operations {
				t.Errorf("operations = %d, INDEX says %d", d.Summary.Operations, e.operations)
			}
			webhooks, opSkips := 0, map[string]string{}
			for _, s := range d.Skipped {
				switch s.Kind {
				case "webhook":
					webhooks++
				case "operation":
					opSkips[s.Method+" "+s.Path] = s.Reason
				}
			}
			if webhooks != e.webhooks {
				t.Errorf("webhooks skipped = %d, INDEX says %d", webhooks, e.webhooks)
			}
			want := justifiedSkips[e.file]
			for k, r := range opSkips {
				if want[k] == "" || !strings.Contains(r, want[k]) {
					t.Errorf("unjustified skip %s: %s", k, r)
				}
			}
			if d.Summary.Tools != d.Summary.Selected-len(opSkips) || d.Summary.Selected != d.Summary.Operations {
				t.Errorf("summary %+v, %d operation skips", d.Summary, len(opSkips))
			}
			checkTools(t, d.Tools)
			total += d.Summary.Tools
			t.Logf("%s: %d operations, %d tools, %d skipped", d.Spec, d.Summary.Operations, d.Summary.Tools, d.Summary.Skipped)
		})
	}
	t.Logf("corpus: %d documents, %d tools", len(entries), total)
}

// checkTools asserts the invariants every generated tool list must hold.
func checkTools(t *testing.T, tools []Tool) {
	t.Helper()
	seen := map[string]bool{}
	for _, tool := range tools {
		if !ToolNamePattern.MatchString(tool.Name) {
			t.Errorf("bad tool name %q", tool.Name)
		}
		if seen[tool.Name] {
			t.Errorf("duplicate tool name %q", tool.Name)
		}
		seen[tool.Name] = true
		if tool.Description == "" {
			t.Errorf("%s: empty description", tool.Name)
		}
		if tool.InputSchema["type"] != "object" {
			t.Errorf("%s: input schema type %v", tool.Name, tool.InputSchema["type"])
		}
		if _, err := json.Marshal(tool); err != nil {
			t.Errorf("%s: not serialisable: %v", tool.Name, err)
		}
		if _, err := compileSchema(tool.InputSchema); err != nil {
			t.Errorf("%s: input schema does not compile: %v", tool.Name, err)
		}
		if tool.Risk.Level == "" || tool.RateLimitPerHour <= 0 {
			t.Errorf("%s: risk %+v rate %d", tool.Name, tool.Risk, tool.RateLimitPerHour)
		}
	}
}
