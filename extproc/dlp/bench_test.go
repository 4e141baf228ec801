package dlp

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/dlp/dlptest"
	"github.com/portcullis/portcullis/extproc/dlp/prefilter"
)

func BenchmarkScan(b *testing.B) {
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
					dst = e.Scan(body, dst[:0])
				}
				if len(dst) == 0 {
					b.Fatal("no findings")
				}
			})
		}
	}
}

// BenchmarkKeywordPass is stage 1 alone (the keyword and trigger pass) on
// the clean body, for splitting BenchmarkScan's time.
func BenchmarkKeywordPass(b *testing.B) {
	e, err := NewEngine(nil)
	if err != nil {
		b.Fatal(err)
	}
	body := dlptest.JSONBody(64<<10, false)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var s prefilter.Scratch
	var ms []prefilter.Match
	for b.Loop() {
		ms = e.ac.Find(body, ms[:0], &s)
	}
}

// syntheticEngine is the catalogue plus n keyword-context detectors whose
// keywords are PII context words (testdata/synthetic_keywords.txt, with
// numbered variants past its end): the keyword pass's scaling check.
func syntheticEngine(tb testing.TB, n int) *Engine {
	raw, err := os.ReadFile("testdata/synthetic_keywords.txt")
	if err != nil {
		tb.Fatal(err)
	}
	words := strings.Split(strings.TrimSpace(string(raw)), "\n")
	dets := Catalogue()
	pattern := regexp.MustCompile(`\b([0-9]{6,12})\b`)
	for i := range n {
		kw := words[i%len(words)]
		if i >= len(words) {
			kw = fmt.Sprintf("%s %d", kw, i/len(words))
		}
		dets = append(dets, &Detector{ID: fmt.Sprintf("synthetic-%d", i), Keywords: []string{kw}, Pattern: pattern, Group: 1, After: 64})
	}
	e, err := NewEngine(dets)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// BenchmarkScanSynthetic is BenchmarkScan's 64 KiB bodies with 500 more
// keywords, against the baseline scan in the same run.
func BenchmarkScanSynthetic(b *testing.B) {
	e := syntheticEngine(b, 500)
	for _, kw := range []bool{false, true} {
		body := dlptest.JSONBody(64<<10, kw)
		for _, impl := range []struct {
			name string
			scan func([]byte, []Finding) []Finding
		}{{"scan", e.Scan}, {"baseline", e.scanBaseline}} {
			b.Run(fmt.Sprintf("keywords=%v/%s", kw, impl.name), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var dst []Finding
				for b.Loop() {
					dst = impl.scan(body, dst[:0])
				}
			})
		}
	}
}
