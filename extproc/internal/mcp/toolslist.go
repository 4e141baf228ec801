package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// NarrowToolsList rewrites a tools/list result so that it lists only the
// tools for which keep returns true. Every other member of the result (such
// as nextCursor or _meta) and of each kept tool is preserved byte for byte.
// It reports how many tools were removed.
func NarrowToolsList(result json.RawMessage, keep func(name string) bool) (json.RawMessage, int, error) {
	members, order, err := orderedMembers(result)
	if err != nil {
		return nil, 0, err
	}
	rawTools, ok := members["tools"]
	if !ok {
		return nil, 0, fmt.Errorf("tools/list result has no tools member")
	}
	var tools []json.RawMessage
	if err := json.Unmarshal(rawTools, &tools); err != nil {
		return nil, 0, fmt.Errorf("tools/list result: tools is not an array")
	}
	kept := make([]json.RawMessage, 0, len(tools))
	for _, t := range tools {
		// A tool whose name cannot be read unambiguously (not an object,
		// duplicate or case-variant "name" members) is not kept: default deny.
		if name, ok := exactName(t); ok && keep(name) {
			kept = append(kept, t)
		}
	}
	var buf bytes.Buffer
	buf.Grow(len(result))
	buf.WriteByte('{')
	for i, k := range order {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		buf.Write(key)
		buf.WriteByte(':')
		if k == "tools" {
			buf.WriteByte('[')
			for j, t := range kept {
				if j > 0 {
					buf.WriteByte(',')
				}
				buf.Write(t)
			}
			buf.WriteByte(']')
			continue
		}
		buf.Write(members[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), len(tools) - len(kept), nil
}

// ReplaceResult returns msg (a JSON-RPC response object) with its result
// member replaced, keeping all other members in order.
func ReplaceResult(msg []byte, result json.RawMessage) ([]byte, error) {
	members, order, err := orderedMembers(msg)
	if err != nil {
		return nil, err
	}
	members["result"] = result
	var buf bytes.Buffer
	buf.Grow(len(msg))
	buf.WriteByte('{')
	for i, k := range order {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(members[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func orderedMembers(raw []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	members := make(map[string]json.RawMessage)
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("invalid JSON object")
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, nil, fmt.Errorf("invalid JSON object")
		}
		if _, dup := members[key]; !dup {
			order = append(order, key)
		}
		members[key] = val
	}
	return members, order, nil
}

// exactName reads the "name" member of a tool object the way a
// case-sensitive client would, refusing ambiguous objects.
func exactName(tool json.RawMessage) (string, bool) {
	if len(tool) == 0 || tool[0] != '{' {
		return "", false
	}
	members, err := objectMembers(tool, []string{"name"})
	if err != nil {
		return "", false
	}
	var name string
	if v, ok := members["name"]; !ok || json.Unmarshal(v, &name) != nil {
		return "", false
	}
	return name, true
}
