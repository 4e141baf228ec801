package mcp

import (
	"encoding/json"
	"testing"

	"github.com/portcullis/portcullis/extproc/toolpin"
)

func TestToolPin(t *testing.T) {
	want, err := toolpin.Pin(toolpin.Definition{Name: "get", Description: "Read one.", InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := ToolPin([]byte(`{"inputSchema":{"properties":{"id":{"type":"string"}},"type":"object"},"annotations":{"readOnlyHint":true},"name":"get","description":"Read one.","title":"Get"}`))
	if !ok || got != want {
		t.Fatalf("ToolPin = %q, %v; want %q (members other than name, description and inputSchema do not count)", got, ok, want)
	}
	bare, _ := toolpin.Pin(toolpin.Definition{Name: "x"})
	for in, wantPin := range map[string]string{
		`{"name":"x"}`: bare,
		`{"name":"x","description":null,"inputSchema":null}`: bare,
		`{"name":"x","inputSchema":{"type":"object"}}`:       bare,
	} {
		if got, ok := ToolPin([]byte(in)); !ok || got != wantPin {
			t.Errorf("ToolPin(%s) = %q, %v; want %q", in, got, ok, wantPin)
		}
	}
	for _, in := range []string{
		`[]`, `{"description":"no name"}`, `{"name":1}`, `{"name":"x","description":7}`,
		`{"name":"x","description":"a","description":"b"}`,
		`{"name":"x","Description":"b"}`,
		`{"name":"x","inputSchema":{},"InputSchema":{}}`,
		`{"name":"x","inputSchema":{"a":1},"inputSchema":{"a":2}}`,
	} {
		if got, ok := ToolPin([]byte(in)); ok {
			t.Errorf("ToolPin(%s) = %q; want no pin (ambiguous or malformed)", in, got)
		}
	}
}

func TestNarrowToolsSeesDefinitions(t *testing.T) {
	result := json.RawMessage(`{"tools":[{"name":"a","description":"old"},{"name":"b","description":"new"}],"nextCursor":"c"}`)
	got, removed, err := NarrowTools(result, func(name string, tool []byte) bool {
		var d struct{ Description string }
		_ = json.Unmarshal(tool, &d)
		return d.Description == "old"
	})
	if err != nil || removed != 1 || string(got) != `{"tools":[{"name":"a","description":"old"}],"nextCursor":"c"}` {
		t.Fatalf("got %s, %d, %v", got, removed, err)
	}
}
