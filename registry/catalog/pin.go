package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/portcullis/portcullis/extproc/toolpin"
	"slices"
	"strings"
)

// ToolDefinition is a tool as a server reports it in tools/list: the part
// that pinning covers.
type ToolDefinition struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema,omitempty"`
}

// DefaultInputSchema is the schema of a tool that states none.
var DefaultInputSchema = toolpin.DefaultInputSchema

// CanonicalJSON re-encodes a JSON value deterministically (see
// toolpin.CanonicalJSON: the filter verifies pins with the same code).
func CanonicalJSON(raw []byte) ([]byte, error) { return toolpin.CanonicalJSON(raw) }

// PinHash is the pin of a tool definition: "sha256:" and the hex SHA-256 of
// the canonical JSON of {name, description, inputSchema}. A missing schema
// counts as DefaultInputSchema. It is toolpin.Pin, the function the filter
// checks live tools/list answers with.
func PinHash(d ToolDefinition) (string, error) {
	return toolpin.Pin(toolpin.Definition{Name: d.Name, Description: d.Description, InputSchema: d.InputSchema})
}

// ChangeKind says how a live tool differs from its pin.
type ChangeKind string

// Change kinds.
const (
	// ToolAdded: the server offers a tool that is not pinned. It is not
	// granted to anyone until it is registered.
	ToolAdded ChangeKind = "added"
	// ToolRemoved: a pinned tool is gone from the server.
	ToolRemoved ChangeKind = "removed"
	// DescriptionChanged, SchemaChanged and DescriptionAndSchemaChanged are
	// rug pulls: the tool is quarantined until re-approved.
	DescriptionChanged          ChangeKind = "description-changed"
	SchemaChanged               ChangeKind = "schema-changed"
	DescriptionAndSchemaChanged ChangeKind = "description-and-schema-changed"
)

// ToolChange is one difference between a server's live tools and its pins.
type ToolChange struct {
	Tool       ToolID     `json:"tool"`
	Kind       ChangeKind `json:"kind"`
	PinnedHash string     `json:"pinned_hash,omitempty"`
	LiveHash   string     `json:"live_hash,omitempty"`
	// Quarantine is true for rug pulls (changed description or schema).
	Quarantine bool `json:"quarantine"`
}

// Drift is the difference between a server's live tools/list and its pinned
// snapshot. Each list is sorted by tool name.
type Drift struct {
	Server  string       `json:"server"`
	Added   []ToolChange `json:"added,omitempty"`
	Removed []ToolChange `json:"removed,omitempty"`
	Changed []ToolChange `json:"changed,omitempty"`
}

// Clean reports whether the live tools match the pins exactly.
func (d Drift) Clean() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// CompareTools compares a server's live tools/list with its pinned
// definitions. Duplicate names in either list are an error (a server that
// lists a name twice cannot be pinned).
func CompareTools(server string, pinned, live []ToolDefinition) (Drift, error) {
	d := Drift{Server: server}
	index := func(list []ToolDefinition, what string) (map[string]ToolDefinition, []string, error) {
		m := make(map[string]ToolDefinition, len(list))
		var names []string
		for _, t := range list {
			if _, dup := m[t.Name]; dup {
				return nil, nil, fmt.Errorf("%s tools of %q: duplicate tool %q", what, server, t.Name)
			}
			m[t.Name] = t
			names = append(names, t.Name)
		}
		slices.Sort(names)
		return m, names, nil
	}
	pm, pnames, err := index(pinned, "pinned")
	if err != nil {
		return d, err
	}
	lm, lnames, err := index(live, "live")
	if err != nil {
		return d, err
	}
	for _, name := range lnames {
		lt := lm[name]
		lh, err := PinHash(lt)
		if err != nil {
			return d, err
		}
		id := ToolID{Server: server, Name: name}
		pt, ok := pm[name]
		if !ok {
			d.Added = append(d.Added, ToolChange{Tool: id, Kind: ToolAdded, LiveHash: lh})
			continue
		}
		ph, err := PinHash(pt)
		if err != nil {
			return d, err
		}
		if ph == lh {
			continue
		}
		descChanged := pt.Description != lt.Description
		schemaChanged := !sameSchema(pt.InputSchema, lt.InputSchema)
		kind := SchemaChanged
		switch {
		case descChanged && schemaChanged:
			kind = DescriptionAndSchemaChanged
		case descChanged:
			kind = DescriptionChanged
		}
		d.Changed = append(d.Changed, ToolChange{Tool: id, Kind: kind, PinnedHash: ph, LiveHash: lh, Quarantine: true})
	}
	for _, name := range pnames {
		if _, ok := lm[name]; ok {
			continue
		}
		ph, err := PinHash(pm[name])
		if err != nil {
			return d, err
		}
		d.Removed = append(d.Removed, ToolChange{Tool: ToolID{Server: server, Name: name}, Kind: ToolRemoved, PinnedHash: ph})
	}
	return d, nil
}

func sameSchema(a, b json.RawMessage) bool {
	ha, erra := PinHash(ToolDefinition{InputSchema: a})
	hb, errb := PinHash(ToolDefinition{InputSchema: b})
	return erra == nil && errb == nil && ha == hb
}

// Quarantine is the set of tools withheld from every persona because their
// live definition no longer matches the pin, with the reason for each.
// The zero value is an empty set ready to use after make, or use nil for
// "nothing quarantined" in read-only calls.
type Quarantine map[ToolID]ToolChange

// Apply quarantines every rug-pulled tool in d.
func (q Quarantine) Apply(d Drift) {
	for _, c := range d.Changed {
		if c.Quarantine {
			q[c.Tool] = c
		}
	}
}

// Has reports whether id is quarantined.
func (q Quarantine) Has(id ToolID) bool {
	_, ok := q[id]
	return ok
}

// IDs returns the quarantined tools, sorted.
func (q Quarantine) IDs() []ToolID {
	out := make([]ToolID, 0, len(q))
	for id := range q {
		out = append(out, id)
	}
	slices.SortFunc(out, CompareToolIDs)
	return out
}

// Reapprove returns a copy of the pinned tool t that pins the live
// definition: its description and schema become the live ones and its pin is
// recomputed, while operation, data objects, risk and tags are kept (the
// reviewer should re-check them). The caller writes the result back to the
// catalog's YAML and lifts the quarantine with delete(q, t.ID()).
func Reapprove(t *Tool, live ToolDefinition) (*Tool, error) {
	if live.Name != t.Name {
		return nil, fmt.Errorf("reapprove %s: live tool is %q", t.ID(), live.Name)
	}
	schema := live.InputSchema
	if len(bytes.TrimSpace(schema)) == 0 || strings.TrimSpace(string(schema)) == "null" {
		schema = DefaultInputSchema
	}
	cs, err := CanonicalJSON(schema)
	if err != nil {
		return nil, fmt.Errorf("reapprove %s: input schema: %w", t.ID(), err)
	}
	nt := *t
	nt.Description = live.Description
	nt.InputSchema = cs
	nt.DataObjects = slices.Clone(t.DataObjects)
	nt.Tags = slices.Clone(t.Tags)
	nt.Pin, err = PinHash(nt.Definition())
	if err != nil {
		return nil, err
	}
	return &nt, nil
}
