package dlpbench

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/portcullis/portcullis/extproc/dlp"
	"github.com/portcullis/portcullis/extproc/dlp/dlptest"
)

var sizes = []int{1 << 10, 8 << 10, 64 << 10, 1 << 20}

// BenchmarkEngines runs both engines on identical bodies; compare the
// "portcullis" and "gitleaks" ns/op of each size (scripts/bench-dlp.sh prints
// the ratios).
func BenchmarkEngines(b *testing.B) {
	ours, err := dlp.NewEngine(nil)
	if err != nil {
		b.Fatal(err)
	}
	gl, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range sizes {
		for _, kw := range []bool{false, true} {
			body := dlptest.JSONBody(size, kw)
			name := fmt.Sprintf("%dKiB/keywords=%v", size>>10, kw)
			b.Run(name+"/portcullis", func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var fs []dlp.Finding
				for b.Loop() {
					fs = ours.Scan(body, fs[:0])
				}
				if kw && len(fs) == 0 {
					b.Fatal("no findings")
				}
			})
			if size > 64<<10 && kw && testing.Short() {
				continue // gitleaks takes seconds per 1 MiB keyword-heavy body
			}
			b.Run(name+"/gitleaks", func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				s := string(body)
				n := 0
				for b.Loop() {
					n = len(gl.DetectString(s))
				}
				if kw && n == 0 {
					b.Fatal("no findings")
				}
			})
		}
	}
}

// TestBothFindTheSecret keeps the comparison honest: on the keyword-heavy
// body both engines report the planted GitHub tokens.
func TestBothFindTheSecret(t *testing.T) {
	body := dlptest.JSONBody(8<<10, true)
	ours, err := dlp.NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	gl, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Count(body, []byte("ghp_"))
	got := 0
	for _, f := range ours.Scan(body, nil) {
		if f.Type == "github-token" {
			got++
		}
	}
	glGot := 0
	for _, f := range gl.DetectString(string(body)) {
		if f.RuleID == "github-pat" {
			glGot++
		}
	}
	if got != want || glGot != want {
		t.Fatalf("planted %d tokens: portcullis found %d, gitleaks %d", want, got, glGot)
	}
}
