package e2e

import (
	"encoding/json"
	"testing"

	"github.com/portcullis/portcullis/extproc/toolpin"
	"github.com/portcullis/portcullis/registry/catalog"
)

// pinsAgree holds the filter's pin (extproc/toolpin) to the registry's
// (registry/catalog.PinHash): a tool the registry approved must never look
// changed at the gateway, nor a changed one look approved.
func pinsAgree(t *testing.T, d catalog.ToolDefinition) (string, bool) {
	t.Helper()
	reg, rerr := catalog.PinHash(d)
	gw, gerr := toolpin.Pin(toolpin.Definition{Name: d.Name, Description: d.Description, InputSchema: d.InputSchema})
	if (rerr == nil) != (gerr == nil) {
		t.Fatalf("%q / %q: registry error %v, filter error %v", d.Description, d.InputSchema, rerr, gerr)
	}
	if reg != gw {
		t.Fatalf("%q / %q: registry pin %s, filter pin %s", d.Description, d.InputSchema, reg, gw)
	}
	return reg, rerr == nil
}

func TestToolPinsAgreeOnExampleCatalog(t *testing.T) {
	cat, err := catalog.LoadDir("../config/catalog")
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Tools()) == 0 {
		t.Fatal("the example catalog has no tools")
	}
	for _, tool := range cat.Tools() {
		pin, ok := pinsAgree(t, tool.Definition())
		if !ok || pin != tool.Pin {
			t.Errorf("%s: pin %s, catalog holds %s", tool.ID(), pin, tool.Pin)
		}
	}
	t.Logf("%d catalog tools pin alike in the registry and the filter", len(cat.Tools()))
}

var pinEdgeCases = []catalog.ToolDefinition{
	{Name: "plain", Description: "d"},
	{Name: "null-schema", Description: "d", InputSchema: json.RawMessage(`null`)},
	{Name: "spaced-null", Description: "d", InputSchema: json.RawMessage(" \n null \t")},
	{Name: "default", Description: "d", InputSchema: json.RawMessage(`{"type":"object"}`)},
	{Name: "ünïcödé ツール", Description: "日本語の説明 — with emoji 🚀 and <html> & \"quotes\"", InputSchema: json.RawMessage(`{"type":"object","properties":{"名前":{"type":"string","description":"\u00e9\u2028\u2029"}}}`)},
	{Name: "escapes", Description: "tab\tnewline\nnul\u0000bell\u0007", InputSchema: json.RawMessage(`{"pattern":"^[a-z]+\\d*$","x":"\ud83d\ude80"}`)},
	{Name: "invalid-utf8", Description: "bad \xff\xfe bytes", InputSchema: json.RawMessage("{\"k\":\"\xc3\x28\"}")},
	{Name: "numbers", Description: "n", InputSchema: json.RawMessage(`{"a":1.0,"b":1e3,"c":1E+3,"d":-0,"e":0.1,"f":1e21,"g":1e-7,"h":123456789012345678901234567890,"i":5e-324,"j":1.7976931348623157e308,"k":100e-2}`)},
	{Name: "key-order-a", Description: "k", InputSchema: json.RawMessage(`{"z":1,"a":{"y":[3,2,1],"b":null},"m":true,"A":false,"é":"","aa":0}`)},
	{Name: "key-order-a", Description: "k", InputSchema: json.RawMessage(`{"aa":0,"é":"","A":false,"m":true,"a":{"b":null,"y":[3,2,1]},"z":1}`)},
	{Name: "nested", Description: "deep", InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"array","items":{"oneOf":[{"type":"object","properties":{"b":{"$ref":"#/$defs/c"}}},{"type":"null"}]}}},"$defs":{"c":{"enum":[1,"1",1.5,[],{}]}},"additionalProperties":false}`)},
	{Name: "duplicate-keys", Description: "last wins", InputSchema: json.RawMessage(`{"a":1,"a":2}`)},
	{Name: "array-schema", Description: "not an object", InputSchema: json.RawMessage(`[1,"two",{"three":3}]`)},
	{Name: "scalar-schema", Description: "", InputSchema: json.RawMessage(`"just a string"`)},
	{Name: "", Description: "", InputSchema: json.RawMessage(`{}`)},
	{Name: "bad-json", Description: "d", InputSchema: json.RawMessage(`{"a":`)},
	{Name: "trailing", Description: "d", InputSchema: json.RawMessage(`{} {}`)},
	{Name: "trailing-space", Description: "d", InputSchema: json.RawMessage("{}\n\n")},
}

func TestToolPinsAgreeOnEdgeCases(t *testing.T) {
	for _, d := range pinEdgeCases {
		pinsAgree(t, d)
	}
	// Re-encodings of one schema pin alike; the two key orders above are the
	// same schema.
	a, _ := pinsAgree(t, pinEdgeCases[8])
	b, _ := pinsAgree(t, pinEdgeCases[9])
	if a != b {
		t.Fatal("key order changed the pin")
	}
}

func FuzzToolPinsAgree(f *testing.F) {
	for _, d := range pinEdgeCases {
		f.Add(d.Name, d.Description, string(d.InputSchema))
	}
	f.Fuzz(func(t *testing.T, name, desc, schema string) {
		pinsAgree(t, catalog.ToolDefinition{Name: name, Description: desc, InputSchema: json.RawMessage(schema)})
	})
}
