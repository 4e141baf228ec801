package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// NarrowToolsList rewrites a tools/list result so that it lists only the
// tools for which keep returns true. Every other member of the result (such
// as nextCursor or _meta) and of each kept tool is preserved byte for byte.
// It reports how many tools were removed.
func NarrowToolsList(result json.RawMessage, keep func(name string) bool) (json.RawMessage, int, error) {
	return NarrowTools(result, func(name string, _ []byte) bool { return keep(name) })
}

// NarrowTools is NarrowToolsList with keep also given each tool's raw JSON
// object, so that it can judge the tool's definition (see ToolPin), not
// only its name. The tool bytes are only valid during the call.
func NarrowTools(result json.RawMessage, keep func(name string, tool []byte) bool) (json.RawMessage, int, error) {
	members, order, err := orderedMembers(result)
	if err != nil {
		return nil, 0, err
	}
	for _, k := range order {
		// A case-insensitive client (Go's encoding/json, mark3labs/mcp-go)
		// reads "Tools" as tools, possibly over the narrowed list: refused.
		if k != "tools" && strings.EqualFold(k, "tools") {
			return nil, 0, fmt.Errorf("tools/list result has a member differing from \"tools\" only by case")
		}
	}
	rawTools, ok := members["tools"]
	if !ok {
		return nil, 0, fmt.Errorf("tools/list result has no tools member")
	}
	total := 0
	kept := make([]json.RawMessage, 0, 8)
	if err := eachElement(rawTools, func(t []byte) {
		total++
		// A tool whose name cannot be read unambiguously (not an object,
		// duplicate or case-variant "name" members) is not kept: default deny.
		if name, ok := exactName(t); ok && keep(name, t) {
			kept = append(kept, t)
		}
	}); err != nil {
		return nil, 0, fmt.Errorf("tools/list result: tools is not an array")
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
	return buf.Bytes(), total - len(kept), nil
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
	members := make(map[string]json.RawMessage, 4)
	order := make([]string, 0, 4)
	err := eachMember(raw, func(key string, val []byte) bool {
		if _, dup := members[key]; !dup {
			order = append(order, key)
		}
		members[key] = val // the last duplicate wins, as in JSON parsers
		return true
	})
	if err != nil {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	return members, order, nil
}

// exactName reads the "name" member of a tool object the way a
// case-sensitive client would, refusing ambiguous objects.
func exactName(tool []byte) (string, bool) {
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

// MayListTools reports whether result (a JSON-RPC result) has a "tools"
// member, as a client would decode it (escaped keys included): such a
// result is narrowed wherever it arrives, whichever request it claims to
// answer. Results that are not JSON objects do not list tools.
func MayListTools(result json.RawMessage) bool {
	found := false
	_ = eachMember(result, func(key string, _ []byte) bool {
		found = strings.EqualFold(key, "tools") // as a case-insensitive client reads it
		return !found
	})
	return found
}

// MentionsTools reports whether raw could hold a member a client reads as
// "tools": the letters t-o-o-l-s in any case (the long s, which Unicode
// case folding takes for s, included), or any backslash (an escaped key). False means raw cannot list tools, without parsing it.
func MentionsTools(raw []byte) bool {
	if bytes.IndexByte(raw, '\\') >= 0 {
		return true
	}
	for i := 0; i+5 <= len(raw); i++ {
		if raw[i]|0x20 == 't' && raw[i+1]|0x20 == 'o' && raw[i+2]|0x20 == 'o' && raw[i+3]|0x20 == 'l' &&
			(raw[i+4]|0x20 == 's' || (raw[i+4] == 0xC5 && i+5 < len(raw) && raw[i+5] == 0xBF)) { // ſ (U+017F) folds to s
			return true
		}
	}
	return false
}
