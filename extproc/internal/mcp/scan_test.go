package mcp

import (
	"bytes"
	"encoding/json"
	"testing"
)

// referenceMembers walks an object with encoding/json's Decoder.
func referenceMembers(t *testing.T, raw []byte) (keys []string, vals [][]byte) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		vals = append(vals, v)
	}
	return keys, vals
}

func TestEachMemberMatchesEncodingJSON(t *testing.T) {
	raw := []byte(` { "a" : 1 , "b\u0022c":[1,{"x":"}"}], "":null,"d":"\\\"" ,"e":{ } , "f" : -1.5e3 } `)
	keys, vals := referenceMembers(t, raw)
	i := 0
	if err := eachMember(raw, func(k string, v []byte) bool {
		if k != keys[i] || !bytes.Equal(bytes.TrimSpace(v), bytes.TrimSpace(vals[i])) {
			t.Errorf("member %d: %q=%s, want %q=%s", i, k, v, keys[i], vals[i])
		}
		i++
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if i != len(keys) {
		t.Fatalf("%d members, want %d", i, len(keys))
	}
}

func FuzzEachMember(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[true,{"c":"\""}]}`))
	f.Add([]byte(`{"\u0041":null, "x" : { "y" : [ ] } }`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		trimmed := bytes.TrimSpace(raw)
		if !json.Valid(raw) || len(trimmed) == 0 || trimmed[0] != '{' {
			// Invalid input must not panic either.
			_ = eachMember(raw, func(string, []byte) bool { return true })
			return
		}
		keys, vals := referenceMembers(t, raw)
		i := 0
		err := eachMember(raw, func(k string, v []byte) bool {
			if i >= len(keys) || k != keys[i] || !bytes.Equal(v, bytes.TrimSpace(vals[i])) {
				t.Fatalf("member %d of %q: got %q=%q", i, raw, k, v)
			}
			i++
			return true
		})
		if err != nil || i != len(keys) {
			t.Fatalf("%q: %d of %d members, err %v", raw, i, len(keys), err)
		}
	})
}
