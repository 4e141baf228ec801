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

func TestNarrowToolsListAmbiguousNames(t *testing.T) {
	// Go's encoding/json would read "a" from the first object (last
	// case-insensitive match); a JavaScript client reads "secret".
	result := json.RawMessage(`{"tools":[{"name":"secret","NAME":"a"},{"name":"a","name":"secret"},{"name":"a"}]}`)
	got, removed, err := NarrowToolsList(result, func(n string) bool { return n == "a" })
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"tools":[{"name":"a"}]}` || removed != 2 {
		t.Fatalf("got %s (removed %d)", got, removed)
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

// FuzzNarrowToolsList: whatever the upstream sends, a narrowed result is
// valid JSON and lists no tool the persona lacks.
func FuzzNarrowToolsList(f *testing.F) {
	f.Add([]byte(`{"tools":[{"name":"a"},{"name":"secret"}],"nextCursor":"x"}`))
	f.Add([]byte(`{"tools":[],"tools":[{"name":"secret"}]}`))
	f.Add([]byte(`{"tools":[{"name":"a","name":"secret"}]}`))
	f.Add([]byte(`{"tools":[{"name":"a"}],"Tools":[{"name":"secret"}]}`))
	f.Add([]byte(`{"tools":[{"name":"a","Name":"secret"}]}`))
	f.Fuzz(func(t *testing.T, result []byte) {
		if !json.Valid(result) {
			return
		}
		out, _, err := NarrowToolsList(result, func(n string) bool { return n == "a" })
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out of %q: %q", result, out)
		}
		// Read the result as a case-sensitive client would: every tool's
		// exact "name" member must be a granted one.
		members, err := objectMembers(out, nil)
		if err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		var tools []json.RawMessage
		if err := json.Unmarshal(members["tools"], &tools); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		for _, tl := range tools {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(tl, &m); err != nil {
				t.Fatalf("tool %q: %v", tl, err)
			}
			if string(m["name"]) != `"a"` {
				t.Fatalf("tool %q survived narrowing of %q: %q", tl, result, out)
			}
		}
		// And as a case-insensitive one (Go's encoding/json: struct fields
		// match any case, the last matching member wins).
		var ci struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		}
		if json.Unmarshal(out, &ci) == nil {
			for _, tl := range ci.Tools {
				if tl.Name != "a" {
					t.Fatalf("case-insensitive client sees tool %q in %q (from %q)", tl.Name, out, result)
				}
			}
		}
	})
}

func TestNarrowToolsListCaseVariantMember(t *testing.T) {
	keep := func(name string) bool { return name == "get_ticket" }
	for _, result := range []string{
		`{"tools":[{"name":"get_ticket"}],"Tools":[{"name":"delete_all"}]}`,
		`{"Tools":[{"name":"delete_all"}],"tools":[{"name":"get_ticket"}]}`,
		`{"TOOLS":[{"name":"delete_all"}]}`,
		`{"tools":[],"tOoLs":[{"name":"delete_all"}]}`,
		`{"tools":[],"toolſ":[{"name":"delete_all"}]}`,
	} {
		if out, _, err := NarrowToolsList(json.RawMessage(result), keep); err == nil {
			t.Errorf("%s narrowed to %s: a case-insensitive client would read the other member", result, out)
		}
		if !MayListTools(json.RawMessage(result)) || !MentionsTools([]byte(result)) {
			t.Errorf("%s: not recognised as listing tools", result)
		}
	}
	for _, raw := range []string{`{"content":[]}`, `{"text":"toolbox"}`} {
		if MayListTools(json.RawMessage(raw)) || MentionsTools([]byte(raw)) {
			t.Errorf("%s: taken for a tools list", raw)
		}
	}
	if !MentionsTools([]byte(`{"\u0074ools":[]}`)) {
		t.Error("escaped key not caught")
	}
}
