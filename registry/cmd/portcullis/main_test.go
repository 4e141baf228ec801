package main

import (
	"bytes"
	"context"
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
	if !strings.Contains(out.String(), "credit-card\n") || strings.Count(out.String(), "\n") < 30 {
		t.Fatalf("got %s", out.String())
	}
}
