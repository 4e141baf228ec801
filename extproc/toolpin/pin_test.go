package toolpin

import (
	"encoding/json"
	"testing"
)

func TestPinKnownValue(t *testing.T) {
	// The canonical document of this definition is
	// {"description":"d","inputSchema":{"type":"object"},"name":"n"}.
	got, err := Pin(Definition{Name: "n", Description: "d"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "sha256:bd7085e45fea5490b4f4490f1b252a980d24f15f2c5e598723af37bda5ad12d0"
	if got != want {
		t.Fatalf("pin %q, want %q", got, want)
	}
}

func TestPinEquivalences(t *testing.T) {
	pin := func(schema string) string {
		t.Helper()
		p, err := Pin(Definition{Name: "t", Description: "x", InputSchema: json.RawMessage(schema)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	same := [][]string{
		{"", "null", " null ", `{"type":"object"}`, "{ \"type\" : \"object\" }\n"},
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, `{"a":1.0,"b":2e0}`, `{"a":10e-1,"b":0.2e1}`},
		{`{"max":1000}`, `{"max":1e3}`, `{"max":1000.000}`},
		{`{"d":"é<>&"}`, `{"d":"\u00e9\u003c\u003e\u0026"}`},
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if a, b := pin(group[0]), pin(s); a != b {
				t.Errorf("%q and %q pin differently", group[0], s)
			}
		}
	}
	differ := []string{`{"type":"object"}`, `{"type":"object","properties":{}}`, `{"a":1}`, `{"a":"1"}`, `{"a":[1,2]}`, `{"a":[2,1]}`}
	seen := map[string]string{}
	for _, s := range differ {
		p := pin(s)
		if prev, dup := seen[p]; dup {
			t.Errorf("%q and %q pin alike", prev, s)
		}
		seen[p] = s
	}
	a, _ := Pin(Definition{Name: "t", Description: "x"})
	b, _ := Pin(Definition{Name: "t", Description: "x "})
	if a == b {
		t.Error("a changed description must change the pin")
	}
}

func TestPinErrors(t *testing.T) {
	for _, s := range []string{`{`, `{"a":1} {}`, `nope`} {
		if _, err := Pin(Definition{Name: "t", InputSchema: json.RawMessage(s)}); err == nil {
			t.Errorf("schema %q: want an error", s)
		}
	}
}

func TestCanonicalJSON(t *testing.T) {
	for in, want := range map[string]string{
		``: `null`,
		` {"b": [1.50, 1e21], "a": {"z":true,"y":null}} `: `{"a":{"y":null,"z":true},"b":[1.5,1e+21]}`,
		`"<\u2028>"`: `"<\u2028>"`,
	} {
		got, err := CanonicalJSON([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("CanonicalJSON(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// FuzzPin: Pin never panics, and a definition pins like its canonical form.
func FuzzPin(f *testing.F) {
	f.Add("t", "d", `{"type":"object","properties":{"a":{"type":"number","maximum":1e3}}}`)
	f.Add("ü", "\u2028", `[1.0, "x"]`)
	f.Fuzz(func(t *testing.T, name, desc, schema string) {
		p, err := Pin(Definition{Name: name, Description: desc, InputSchema: json.RawMessage(schema)})
		if err != nil {
			return
		}
		cs, err := CanonicalJSON([]byte(schema))
		if err != nil {
			t.Fatalf("Pin accepted a schema CanonicalJSON refuses: %v", err)
		}
		p2, err := Pin(Definition{Name: name, Description: desc, InputSchema: cs})
		if err != nil || p2 != p {
			t.Fatalf("canonical form pins differently: %s vs %s (%v)", p, p2, err)
		}
	})
}
