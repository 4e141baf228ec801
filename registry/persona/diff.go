package persona

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/registry/catalog"
)

// DiffEntry is one tool added or removed by a proposal.
type DiffEntry struct {
	Tool catalog.ToolID `json:"tool"`
	// Why: the grant reasons for an added tool, the exclusion reason for a
	// removed one.
	Why []string `json:"why"`
	// Risk of the tool, so reviewers can sort by it.
	Risk catalog.Risk `json:"risk"`
}

// PersonaDiff is the reviewable change from a persona's current tools to a
// proposed profile. An editor accepts it (writing Proposed back to the
// catalog) or rejects it; nothing is applied by computing it.
type PersonaDiff struct {
	Persona        string           `json:"persona"`
	CatalogVersion string           `json:"catalog_version"`
	Added          []DiffEntry      `json:"added"`
	Removed        []DiffEntry      `json:"removed"`
	Kept           []catalog.ToolID `json:"kept"`
	SkillsAdded    []string         `json:"skills_added,omitempty"`
	SkillsRemoved  []string         `json:"skills_removed,omitempty"`
	// Proposed is the persona the profile becomes: its fully granted skills
	// plus the remaining tools as add_tools.
	Proposed *catalog.Persona `json:"proposed"`
}

// Empty reports whether the proposal changes no tool.
func (d *PersonaDiff) Empty() bool { return len(d.Added) == 0 && len(d.Removed) == 0 }

// Diff compares the persona current (nil for a new persona called name)
// with the proposed profile.
func Diff(cat *catalog.Catalog, name string, current *catalog.Persona, proposed *Profile) *PersonaDiff {
	if current != nil {
		name = current.Name
	}
	var cur []catalog.ToolID
	var curSkills []string
	if current != nil {
		cur = cat.PersonaTools(current)
		curSkills = current.Skills
	}
	next := proposed.Tools()
	d := &PersonaDiff{Persona: name, CatalogVersion: cat.Version(), Added: []DiffEntry{}, Removed: []DiffEntry{}, Kept: []catalog.ToolID{}}
	d.Proposed = proposed.Persona(name, cat)
	if current != nil {
		d.Proposed.DataPolicy = current.DataPolicy
		if d.Proposed.Description == "" {
			d.Proposed.Description = current.Description
		}
	}
	risk := func(id catalog.ToolID) catalog.Risk {
		if t := cat.Tool(id); t != nil {
			return t.Risk
		}
		return ""
	}
	for _, g := range proposed.Granted {
		if slices.Contains(cur, g.Tool) {
			d.Kept = append(d.Kept, g.Tool)
			continue
		}
		var why []string
		for _, r := range g.Reasons {
			why = append(why, r.String())
		}
		d.Added = append(d.Added, DiffEntry{Tool: g.Tool, Why: why, Risk: g.Risk})
	}
	for _, id := range cur {
		if slices.Contains(next, id) {
			continue
		}
		why := []string{"not granted by the proposal"}
		if e, ok := proposed.Exclusion(id); ok {
			why = []string{fmt.Sprintf("%s: %s", e.Kind, e.Reason)}
		}
		d.Removed = append(d.Removed, DiffEntry{Tool: id, Why: why, Risk: risk(id)})
	}
	for _, s := range d.Proposed.Skills {
		if !slices.Contains(curSkills, s) {
			d.SkillsAdded = append(d.SkillsAdded, s)
		}
	}
	for _, s := range curSkills {
		if !slices.Contains(d.Proposed.Skills, s) {
			d.SkillsRemoved = append(d.SkillsRemoved, s)
		}
	}
	return d
}

// String renders the diff for review, one tool a line:
//
//	persona support-agent (catalog sha256:…)
//	+ helpdesk/add_comment [medium]  "comments on support tickets" asks to comment …
//	- helpdesk/send_email [high]  negated: "never sends email" forbids it …
//	  helpdesk/get_ticket
func (d *PersonaDiff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "persona %s (catalog %s)\n", d.Persona, d.CatalogVersion)
	for _, e := range d.Added {
		fmt.Fprintf(&b, "+ %s [%s]  %s\n", e.Tool, e.Risk, strings.Join(e.Why, "; "))
	}
	for _, e := range d.Removed {
		fmt.Fprintf(&b, "- %s [%s]  %s\n", e.Tool, e.Risk, strings.Join(e.Why, "; "))
	}
	for _, id := range d.Kept {
		fmt.Fprintf(&b, "  %s\n", id)
	}
	if len(d.SkillsAdded)+len(d.SkillsRemoved) > 0 {
		fmt.Fprintf(&b, "skills: +%v -%v\n", d.SkillsAdded, d.SkillsRemoved)
	}
	if d.Empty() {
		b.WriteString("(no change)\n")
	}
	return b.String()
}
