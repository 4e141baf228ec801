package dlp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// presidioTypes maps Presidio entity types to ours.
var presidioTypes = map[string]string{
	"CREDIT_CARD":   "credit-card",
	"IBAN_CODE":     "iban",
	"US_SSN":        "us-ssn",
	"EMAIL_ADDRESS": "email",
	"IP_ADDRESS":    "ipv4-address",
}

// TestPresidioCorpus scores the covered PII types on Presidio's recognizer
// test cases, span-overlap based, on the rows written for each type (its
// positives and the rows where it must not fire). IPv6 entities are left out
// (no IPv6 detector yet). Floors are the figures measured when written.
func TestPresidioCorpus(t *testing.T) {
	path, err := findShared("corpora/pii/presidio_recognizer_tests.jsonl")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	type score struct{ gold, tp, pred, fp int }
	scores := map[string]*score{}
	for _, typ := range presidioTypes {
		scores[typ] = &score{}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row struct {
			Text     string `json:"text"`
			Entities []struct {
				Type       string `json:"type"`
				Start, End int
				Value      string `json:"value"`
			} `json:"entities"`
			ExpectedTypes []string `json:"expected_types"`
			NegativeFor   []string `json:"negative_for"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		// Python character offsets → byte offsets.
		byteAt := make([]int, 0, len(row.Text)+1)
		for i := range row.Text {
			byteAt = append(byteAt, i)
		}
		byteAt = append(byteAt, len(row.Text))
		about := map[string]bool{}
		for _, ty := range append(row.ExpectedTypes, row.NegativeFor...) {
			if ours, ok := presidioTypes[ty]; ok {
				about[ours] = true
			}
		}
		type span struct{ lo, hi int }
		gold := map[string][]span{}
		for _, en := range row.Entities {
			ours, ok := presidioTypes[en.Type]
			if !ok || (en.Type == "IP_ADDRESS" && strings.Contains(en.Value, ":")) {
				continue
			}
			if en.Start < 0 || en.End >= len(byteAt) || en.Start >= en.End {
				t.Fatalf("bad span in %q", row.Text)
			}
			gold[ours] = append(gold[ours], span{byteAt[en.Start], byteAt[en.End]})
			about[ours] = true
		}
		found := e.Scan([]byte(row.Text), nil)
		for typ := range about {
			s := scores[typ]
			matched := make([]bool, len(gold[typ]))
			for _, fd := range found {
				if fd.Type != typ {
					continue
				}
				s.pred++
				hit := false
				for gi, g := range gold[typ] {
					if fd.Start < g.hi && g.lo < fd.End {
						hit, matched[gi] = true, true
					}
				}
				if !hit {
					s.fp++
					if os.Getenv("DLP_DEBUG") != "" {
						t.Logf("FP %s %q in %q", typ, row.Text[fd.Start:fd.End], row.Text)
					}
				}
			}
			s.gold += len(gold[typ])
			for _, m := range matched {
				if m {
					s.tp++
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var types, lines []string
	for typ := range scores {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		s := scores[typ]
		p, r := ratio(s.pred-s.fp, s.pred), ratio(s.tp, s.gold)
		lines = append(lines, fmt.Sprintf("%-14s precision %.3f (%d/%d)  recall %.3f (%d/%d)", typ, p, s.pred-s.fp, s.pred, r, s.tp, s.gold))
		if floor := presidioFloors[typ]; p < floor[0] || r < floor[1] {
			t.Errorf("%s: precision %.3f / recall %.3f below the floors %.2f / %.2f", typ, p, r, floor[0], floor[1])
		}
	}
	t.Logf("Presidio recognizer cases:\n%s", strings.Join(lines, "\n"))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// presidioFloors: {precision, recall} measured when written.
var presidioFloors = map[string][2]float64{
	"credit-card":  {1.00, 0.87}, // 14/14, 14/16
	"iban":         {1.00, 0.99}, // 157/157, 157/158
	"us-ssn":       {0.50, 0.42}, // 3/6, 3/7: bare and dotted SSNs need keyword context (not yet)
	"email":        {1.00, 0.85}, // 6/6, 6/7
	"ipv4-address": {0.95, 0.88}, // 23/24, 23/26
}
