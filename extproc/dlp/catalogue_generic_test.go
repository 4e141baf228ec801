package dlp

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/dlp/dlptest"
)

// gitleaksGeneric maps gitleaks' structural rules to the generic types that
// cover them. A row counts as found when any of the listed types fires.
var gitleaksGeneric = map[string][]string{
	"generic-api-key":        {"generic-api-key", "password-assignment", "bearer-token"},
	"kubernetes-secret-yaml": {"kubernetes-secret"},
	"curl-auth-header":       {"basic-auth-credentials", "bearer-token", "generic-api-key"},
}

// genericFloors: {minimum recall, maximum false-positive rate} measured when
// written. gitleaks' generic-api-key positives include values our
// heuristics refuse on purpose (single words, no digit); its negatives are
// the placeholders its own allow-lists reject.
var genericFloors = map[string][2]float64{
	"generic-api-key":        {0.90, 0.10}, // 57/61, 6/74
	"kubernetes-secret-yaml": {0.90, 0.10}, // 15/16, 1/17
	"curl-auth-header":       {0.70, 0.15}, // 13/18, 1/9: empty passwords, non-base64 "Basic" values, short tokens
}

// TestGitleaksGenericCorpus scores the generic secret types on gitleaks'
// structural rules (a development check of the heuristics, not a target).
func TestGitleaksGenericCorpus(t *testing.T) {
	type corpusRow struct {
		Text     string `json:"text"`
		Label    string `json:"label"`
		Positive bool   `json:"positive"`
	}
	rows, err := dlptest.ReadJSONL[corpusRow]("corpora/secrets/gitleaks_rules.jsonl")
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	secretTypes := map[string]bool{}
	for _, in := range e.Detectors() {
		if in.Category == CategorySecret {
			secretTypes[in.ID] = true
		}
	}
	type score struct{ pos, hit, neg, fp int }
	scores := map[string]*score{}
	debug := os.Getenv("DLP_DEBUG") != ""
	for _, row := range rows {
		types, ok := gitleaksGeneric[row.Label]
		if !ok {
			continue
		}
		s := scores[row.Label]
		if s == nil {
			s = &score{}
			scores[row.Label] = s
		}
		found := false
		for _, fd := range e.Scan([]byte(row.Text), nil) {
			for _, typ := range types {
				// A vendor type reported instead of the generic one counts.
				if fd.Type == typ || (row.Label != "kubernetes-secret-yaml" && secretTypes[fd.Type]) {
					found = true
					if debug && !row.Positive {
						t.Logf("FP %s %q in %q", typ, row.Text[fd.Start:fd.End], row.Text)
					}
				}
			}
		}
		if row.Positive {
			s.pos++
			if found {
				s.hit++
			} else if debug {
				t.Logf("FN %s %q", row.Label, row.Text)
			}
		} else {
			s.neg++
			if found {
				s.fp++
			}
		}
	}
	var labels, lines []string
	for l := range scores {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		s := scores[l]
		r, fpr := ratio(s.hit, s.pos), float64(s.fp)/float64(max(s.neg, 1))
		lines = append(lines, fmt.Sprintf("%-24s recall %.3f (%d/%d)  false positives %d/%d", l, r, s.hit, s.pos, s.fp, s.neg))
		if fl := genericFloors[l]; r < fl[0] || fpr > fl[1] {
			t.Errorf("%s: recall %.3f / false-positive rate %.3f beyond the floors %.2f / %.2f", l, r, fpr, fl[0], fl[1])
		}
	}
	t.Logf("gitleaks structural rules:\n%s", strings.Join(lines, "\n"))
}

// Regression: "basic" followed by a word whose length is not a multiple of
// 4 once made the Basic-auth validator decode past its buffer.
func TestBasicAuthValidatorOddLengths(t *testing.T) {
	e := testEngine(t)
	for _, s := range []string{
		"This gives basic information about it",
		"basic abcdefghijk", "Basic dXNlcjpwYXNzd29yZA", "Authorization: Basic dXNlcjpwYXNzd29yZA==x",
	} {
		e.Scan([]byte(s), nil) // must not panic
	}
	if fs := e.Scan([]byte("Authorization: Basic YWxpY2U6WnE5dlIybUs3eA"), nil); len(fs) == 0 {
		t.Fatal("unpadded Basic credentials not found")
	}
}
