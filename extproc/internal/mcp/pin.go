package mcp

import (
	"encoding/json"

	"github.com/portcullis/portcullis/extproc/toolpin"
)

// ToolPin returns the pin (toolpin.Pin) of one tool object of a tools/list
// result: its name, description and inputSchema as an MCP client reads
// them. It reports false for a tool that cannot be pinned unambiguously —
// not an object, a duplicate or case-variant name, description or
// inputSchema member, a name or description that is not a string, or a
// schema that is not JSON — which never matches an approved pin.
func ToolPin(tool []byte) (string, bool) {
	members, err := objectMembers(tool, []string{"name", "description", "inputSchema"})
	if err != nil {
		return "", false
	}
	var d toolpin.Definition
	if v, ok := members["name"]; !ok || json.Unmarshal(v, &d.Name) != nil {
		return "", false
	}
	if v, ok := members["description"]; ok && json.Unmarshal(v, &d.Description) != nil {
		return "", false
	}
	d.InputSchema = members["inputSchema"]
	pin, err := toolpin.Pin(d)
	if err != nil {
		return "", false
	}
	return pin, true
}
