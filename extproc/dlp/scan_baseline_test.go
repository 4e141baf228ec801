package dlp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/portcullis/portcullis/extproc/dlp/dlptest"
	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// The engine's scan as it was before the keyword pass reported the
// hand-written scanners' trigger bytes (one pass each for keywords, digit
// runs/IPv4/IBAN and e-mail addresses, a closure per keyword hit, a sort
// that allocates): the reference Engine.Scan is held to, and the baseline
// its benchmark is compared with.

// scanBaseline is Engine.Scan before the single-pass stage 1.
func (e *Engine) scanBaseline(text []byte, dst []Finding) []Finding {
	start := len(dst)
	var wins []window
	e.ac.Scan(text, func(kw, at int) bool {
		di := e.kwOwner[kw]
		d := e.dets[di]
		before, after := d.Before, d.After
		if after == 0 {
			after = 256
		}
		w := window{det: di, lo: max(0, at-before), hi: min(len(text), at+after)}
		if d.Match != nil && extendSameIdentifier(text, wins, di, w) {
			return true
		}
		for j := len(wins) - 1; j >= 0 && j >= len(wins)-8; j-- {
			if wins[j].det == di && w.lo <= wins[j].hi && !e.anchored[di] {
				wins[j].lo, wins[j].hi = min(wins[j].lo, w.lo), max(wins[j].hi, w.hi)
				return true
			}
		}
		wins = append(wins, w)
		return true
	})
	for _, w := range wins {
		d := e.dets[w.det]
		for _, m := range d.Pattern.FindAllSubmatchIndex(text[w.lo:w.hi], -1) {
			lo, hi := m[2*d.Group], m[2*d.Group+1]
			if lo < 0 {
				continue
			}
			v := text[w.lo+lo : w.lo+hi]
			if d.Validate != nil && !d.Validate(v) {
				continue
			}
			if d.MinEntropy > 0 && validate.ShannonEntropy(v) <= d.MinEntropy {
				continue
			}
			dst = append(dst, Finding{Type: d.ID, Start: w.lo + lo, End: w.lo + hi})
		}
	}
	dst = scanFused(text, e.digits, dst)
	dst = scanEmails(text, dst)
	found := dst[start:]
	sort.Slice(found, func(i, j int) bool {
		if found[i].Start != found[j].Start {
			return found[i].Start < found[j].Start
		}
		if found[i].End != found[j].End {
			return found[i].End < found[j].End
		}
		return found[i].Type < found[j].Type
	})
	out := dst[:start]
	for _, f := range found {
		if len(out) > start && out[len(out)-1] == f {
			continue
		}
		out = append(out, f)
	}
	return out
}

// scanEmails finds e-mail addresses without a regular expression (emailAt\n// at every '@', as one pass of its own): from each
// '@' it extends left over local-part characters and right over domain
// labels, then checks the shape (non-empty local part starting with an
// alphanumeric, at least two labels, an alphabetic top-level label of 2–24
// letters, no label starting or ending with '-').
func scanEmails(text []byte, dst []Finding) []Finding {
	for i := 0; i < len(text); {
		j := bytes.IndexByte(text[i:], '@')
		if j < 0 {
			break
		}
		at := i + j
		i = at + 1
		l := at
		for l > 0 && at-l < 64 && isLocalChar(text[l-1]) {
			l--
		}
		if l > 0 && isLocalChar(text[l-1]) {
			continue // local part longer than 64: not an address
		}
		for l < at && !isAlnum(text[l]) {
			l++
		}
		if l == at {
			continue
		}
		r, labelStart, labels, tldOK := at+1, at+1, 0, false
		for r <= len(text) {
			if r < len(text) && isDomainChar(text[r]) && r-at <= 253 {
				r++
				continue
			}
			// end of a label at r
			label := text[labelStart:r]
			if len(label) == 0 || label[0] == '-' || label[len(label)-1] == '-' || len(label) > 63 {
				break
			}
			labels++
			tldOK = len(label) >= 2 && len(label) <= 24 && allLetters(label)
			if r < len(text) && text[r] == '.' && r+1 < len(text) && isDomainChar(text[r+1]) {
				r++
				labelStart = r
				continue
			}
			break
		}
		if labels < 2 || !tldOK {
			continue
		}
		end := labelStart
		for end < len(text) && isDomainChar(text[end]) {
			end++
		}
		if end < len(text) && (isAlnum(text[end]) || text[end] == '@') {
			continue
		}
		dst = append(dst, Finding{Type: "email", Start: l, End: end})
		i = end
	}
	return dst
}

func allLetters(b []byte) bool {
	for _, c := range b {
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	return true
}

// checkScanEqualsBaseline fails t when Scan and scanBaseline disagree on
// text, or on text repeated past the length where the keyword pass walks
// interleaved streams (when repeat is set).
func checkScanEqualsBaseline(t *testing.T, e *Engine, text []byte, repeat bool) {
	t.Helper()
	texts := [][]byte{text}
	if repeat && len(text) > 0 && len(text) < 4<<10 {
		texts = append(texts, bytes.Repeat(text, (4<<10)/len(text)+1))
	}
	for _, x := range texts {
		want := e.scanBaseline(x, nil)
		got := e.Scan(x, []Finding{})
		if len(want) == 0 {
			want = []Finding{}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q (%d bytes):\nScan     %v\nbaseline %v", x[:min(len(x), 300)], len(x), got, want)
		}
	}
}

func TestScanEqualsBaseline(t *testing.T) {
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 100, 1 << 10, 8 << 10, 64 << 10} {
		checkScanEqualsBaseline(t, e, dlptest.JSONBody(size, false), true)
		checkScanEqualsBaseline(t, e, dlptest.JSONBody(size, true), true)
	}
	var files []string
	for _, rel := range []string{"corpora/secrets/gitleaks_rules.jsonl", "corpora/pii/presidio_recognizer_tests.jsonl", "corpora/openapi"} {
		path, err := dlptest.Corpus(rel)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			m, _ := filepath.Glob(filepath.Join(path, "*"))
			files = append(files, m...)
			continue
		}
		files = append(files, path)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		checkScanEqualsBaseline(t, e, raw, false)
		for _, line := range bytes.Split(raw, []byte("\n")) {
			checkScanEqualsBaseline(t, e, line, false)
		}
	}
}

// FuzzScanEqualsBaseline holds Engine.Scan to scanBaseline: the same
// findings for every input.
func FuzzScanEqualsBaseline(f *testing.F) {
	for _, s := range []string{
		"card 4111 1111 1111 1111, ip 10.0.0.1, iban GB82 WEST 1234 5698 7654 32 a.b@example.org",
		`{"token":"ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiq","AKIAIOSFODNN7EXAMPLF":1, "x":"user1@example.org"}`,
		"1.4111111111111111 and 078-05-1123 and ::ffff:10.0.0.1 DE89370400440532013000 x@y.co@z.org",
		"ssn 078-05-1120 date of birth 1990-01-01 passport X1234567 xoxb-1234567890-abcdefghij",
	} {
		f.Add([]byte(s))
	}
	e, err := NewEngine(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		checkScanEqualsBaseline(t, e, text, true)
	})
}

// BenchmarkScanBaseline is BenchmarkScan on scanBaseline, to compare in
// one run.
func BenchmarkScanBaseline(b *testing.B) {
	e, err := NewEngine(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1 << 10, 8 << 10, 64 << 10, 1 << 20} {
		for _, kw := range []bool{false, true} {
			body := dlptest.JSONBody(size, kw)
			b.Run(fmt.Sprintf("%dKiB/keywords=%v", size>>10, kw), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var dst []Finding
				for b.Loop() {
					dst = e.scanBaseline(body, dst[:0])
				}
				if len(dst) == 0 {
					b.Fatal("no findings")
				}
			})
		}
	}
}
