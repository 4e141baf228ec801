// Package toolpin computes the pin of an MCP tool definition: the hash the
// registry approves a tool's name, description and input schema under
// (portcullis.registry.v1.SnapshotUpstream.tool_pins). The filter compares
// the pin of what an upstream lists with the approved one to catch a
// changed definition ("rug pull").
//
// The registry pins with this same code (registry/catalog.PinHash calls
// Pin), so approval and verification cannot drift apart; a test in the e2e
// module also checks the stored pins of the example catalog. It imports only
// the standard library.
package toolpin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Prefix starts every pin.
const Prefix = "sha256:"

// Definition is a tool as a server reports it in tools/list: the part a pin
// covers.
type Definition struct {
	Name        string
	Description string
	// InputSchema is the raw inputSchema value; empty or JSON null counts
	// as DefaultInputSchema.
	InputSchema json.RawMessage
}

// DefaultInputSchema is the schema of a tool that states none.
var DefaultInputSchema = json.RawMessage(`{"type":"object"}`)

// CanonicalJSON re-encodes a JSON value deterministically: object keys
// sorted (by their UTF-8 bytes), no insignificant whitespace, no HTML
// escaping, strings re-escaped as encoding/json does (invalid UTF-8 becomes
// U+FFFD, U+2028 and U+2029 are escaped), numbers in the shortest form that
// round-trips through float64 (1.0 → 1, 1e3 → 1000, 1e21 → 1e+21). Empty
// input yields "null". Trailing data after the value is an error.
func CanonicalJSON(raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("null"), nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after JSON value")
	}
	return canonicalValue(v)
}

func canonicalValue(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// encoding/json sorts map keys and formats float64 like ECMAScript.
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Pin returns the pin of d: Prefix and the lower-case hex SHA-256 of the
// canonical JSON of {"description","inputSchema","name"}. A missing schema
// counts as DefaultInputSchema, so servers that omit it and servers that
// send {"type":"object"} pin alike. It fails only for a schema that is not
// JSON.
func Pin(d Definition) (string, error) {
	schema := d.InputSchema
	if len(bytes.TrimSpace(schema)) == 0 || string(bytes.TrimSpace(schema)) == "null" {
		schema = DefaultInputSchema
	}
	cs, err := CanonicalJSON(schema)
	if err != nil {
		return "", fmt.Errorf("tool %q: input schema: %w", d.Name, err)
	}
	doc, err := canonicalValue(map[string]any{
		"name":        d.Name,
		"description": d.Description,
		"inputSchema": json.RawMessage(cs),
	})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(doc)
	return Prefix + hex.EncodeToString(sum[:]), nil
}
