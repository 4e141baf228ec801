package main

import (
	"bytes"
	"context"
	"github.com/portcullis/portcullis/extproc/dlp"
	"strings"
	"testing"
)

func TestScanJSONL(t *testing.T) {
	in := `{"text":"key AKIALALEMEL33243OLIB"}` + "\n" + `{"text":"nothing here"}` + "\n" + `{"text":"é mail: bob@example.org"}` + "\n"
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"scan", "--jsonl"}, strings.NewReader(in), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	want := `{"findings":[{"type":"aws-access-key-id","start":4,"end":24}]}
{"findings":[]}
{"findings":[{"type":"email","start":9,"end":24}]}
`
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestScanRejectsBadLines(t *testing.T) {
	err := Main(context.Background(), []string{"scan", "--jsonl"}, strings.NewReader("{\"text\":\"a\"}\nnot json\n"), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("got %v", err)
	}
}

func TestDetectors(t *testing.T) {
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"detectors"}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	e, err := dlp.NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if want := len(e.Types()) + 2; len(lines) != want {
		t.Fatalf("%d lines, want a header, %d types and a count", len(lines), want-2)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if f := strings.Fields(l); len(f) < 5 || f[1] == "" || f[2] == "" {
			t.Fatalf("line %q lacks a category, check or tags", l)
		}
	}
	if !strings.Contains(out.String(), "credit-card ") {
		t.Fatalf("no credit-card line:\n%s", out.String())
	}
}
