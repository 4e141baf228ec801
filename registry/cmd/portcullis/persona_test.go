package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

const exampleCatalog = "../../../config/catalog"

func TestPersonaCompile(t *testing.T) {
	var out bytes.Buffer
	err := Main(context.Background(), []string{"persona", "compile", "--catalog", exampleCatalog, "--json",
		"reads and comments on support tickets, never sends email"}, nil, &out, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var prof struct {
		Granted []struct {
			Tool    string `json:"tool"`
			Reasons []any  `json:"reasons"`
		} `json:"granted"`
		Excluded []struct {
			Tool string `json:"tool"`
			Kind string `json:"kind"`
		} `json:"excluded"`
	}
	if err := json.Unmarshal(out.Bytes(), &prof); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	granted := map[string]bool{}
	for _, g := range prof.Granted {
		if len(g.Reasons) == 0 {
			t.Errorf("%s granted without a reason", g.Tool)
		}
		granted[g.Tool] = true
	}
	if !granted["helpdesk/add_comment"] || !granted["helpdesk/get_ticket"] || granted["helpdesk/send_email"] {
		t.Fatalf("granted %v", granted)
	}
	for _, e := range prof.Excluded {
		if e.Tool == "helpdesk/send_email" && e.Kind != "negated" {
			t.Fatalf("send_email excluded as %q, want negated", e.Kind)
		}
	}
}

func TestPersonaDiff(t *testing.T) {
	var out bytes.Buffer
	err := Main(context.Background(), []string{"persona", "diff", "--catalog", exampleCatalog, "--persona", "support-agent",
		"reads support tickets and deletes spam tickets"}, nil, &out, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.HasPrefix(s, "persona support-agent") || !strings.Contains(s, "+ helpdesk/delete_ticket") || !strings.Contains(s, "- helpdesk/add_comment") {
		t.Fatalf("diff:\n%s", s)
	}
}

func TestPersonaErrors(t *testing.T) {
	for _, args := range [][]string{
		{"persona"},
		{"persona", "compile", "--catalog", exampleCatalog},
		{"persona", "diff", "--catalog", exampleCatalog, "reads tickets"},
		{"persona", "compile", "--catalog", "/nonexistent", "reads tickets"},
	} {
		if err := Main(context.Background(), args, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
