package persona

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/portcullis/portcullis/registry/catalog"
)

type labelledCase struct {
	Description string   `yaml:"description"`
	Grant       []string `yaml:"grant"`
	Never       []string `yaml:"never"`
}

func loadExample(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.LoadDir(filepath.Join("..", "..", "config", "catalog"))
	if err != nil {
		t.Fatalf("example catalog: %v", err)
	}
	return cat
}

// TestLabelledSet scores the compiler on testdata/personas_labelled.yaml:
// per-description and micro-averaged precision/recall of granted tools. A
// negated capability ("never" list) must never be granted.
func TestLabelledSet(t *testing.T) {
	p, r := scoreSet(t, "personas_labelled.yaml", 30)
	if p < 0.9 {
		t.Errorf("micro precision %.3f < 0.9", p)
	}
	if r < 0.85 {
		t.Errorf("micro recall %.3f < 0.85", r)
	}
}

// TestHeldOutSet reports the scores on descriptions never used for tuning;
// only the never lists are enforced.
func TestHeldOutSet(t *testing.T) {
	scoreSet(t, "personas_heldout.yaml", 10)
}

func scoreSet(t *testing.T, file string, minCases int) (precision, recall float64) {
	cat := loadExample(t)
	raw, err := os.ReadFile(filepath.Join("..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Cases []labelledCase `yaml:"cases"`
	}
	if err := yaml.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Cases) < minCases {
		t.Fatalf("%s has %d cases, want at least %d", file, len(set.Cases), minCases)
	}
	var tp, fp, fn int
	for i, c := range set.Cases {
		for _, s := range append(slices.Clone(c.Grant), c.Never...) {
			id, err := catalog.ParseToolID(s)
			if err != nil || cat.Tool(id) == nil {
				t.Fatalf("case %d: label %q is not a catalog tool", i, s)
			}
		}
		prof, err := Compile(c.Description, cat, Options{})
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got := map[string]bool{}
		for _, id := range prof.Tools() {
			got[id.String()] = true
		}
		want := map[string]bool{}
		for _, s := range c.Grant {
			want[s] = true
		}
		var ctp, cfp, cfn int
		var extra, missing []string
		for s := range got {
			if want[s] {
				ctp++
			} else {
				cfp++
				extra = append(extra, s)
			}
		}
		for s := range want {
			if !got[s] {
				cfn++
				missing = append(missing, s)
			}
		}
		slices.Sort(extra)
		slices.Sort(missing)
		tp, fp, fn = tp+ctp, fp+cfp, fn+cfn
		t.Logf("%2d P=%.2f R=%.2f %q", i+1, ratio(ctp, ctp+cfp), ratio(ctp, ctp+cfn), c.Description)
		if len(extra)+len(missing) > 0 {
			t.Logf("     extra %v missing %v", extra, missing)
		}
		for _, s := range c.Never {
			if got[s] {
				t.Errorf("case %d %q: negated capability %s granted", i+1, c.Description, s)
			}
		}
	}
	p, r := ratio(tp, tp+fp), ratio(tp, tp+fn)
	t.Logf("%s: micro-averaged over %d descriptions: precision %.3f recall %.3f (tp=%d fp=%d fn=%d)", file, len(set.Cases), p, r, tp, fp, fn)
	return p, r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
