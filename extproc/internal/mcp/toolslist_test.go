package mcp

import (
	"encoding/json"
	"testing"
)

func TestNarrowToolsList(t *testing.T) {
	result := json.RawMessage(`{"tools":[{"name":"a","inputSchema":{"type":"object"}},{"name":"b"},{"description":"no name"},{"name":"c"}],"nextCursor":"x"}`)
	got, removed, err := NarrowToolsList(result, func(n string) bool { return n == "a" || n == "c" })
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tools":[{"name":"a","inputSchema":{"type":"object"}},{"name":"c"}],"nextCursor":"x"}`
	if string(got) != want || removed != 2 {
		t.Fatalf("got %s (removed %d), want %s (removed 2)", got, removed, want)
	}
}

func TestNarrowToolsListDuplicateToolsMember(t *testing.T) {
	// JSON parsers keep the last duplicate; the narrowed output must carry
	// only one, narrowed, tools member.
	result := json.RawMessage(`{"tools":[],"tools":[{"name":"secret"},{"name":"a"}]}`)
	got, _, err := NarrowToolsList(result, func(n string) bool { return n == "a" })
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"tools":[{"name":"a"}]}` {
		t.Fatalf("got %s", got)
	}
}

func TestNarrowToolsListErrors(t *testing.T) {
	for _, in := range []string{`[]`, `{"x":1}`, `{"tools":{}}`} {
		if _, _, err := NarrowToolsList(json.RawMessage(in), func(string) bool { return true }); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func TestReplaceResult(t *testing.T) {
	got, err := ReplaceResult([]byte(`{"jsonrpc":"2.0","id":3,"result":{"tools":[1]}}`), json.RawMessage(`{"tools":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}` {
		t.Fatalf("got %s", got)
	}
}
