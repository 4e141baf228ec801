package persona

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/registry/catalog"
)

// Options configure Compile. The zero value is ready to use.
type Options struct {
	// Quarantine lists tools that must not be granted (rug-pulled tools
	// awaiting re-approval). Nil means none.
	Quarantine catalog.Quarantine
}

// ExclusionKind says why a tool is not granted.
type ExclusionKind string

// Exclusion kinds, strongest first.
const (
	// Negated: a negative phrase names the tool's operation and object
	// ("never sends email").
	Negated ExclusionKind = "negated"
	// DataObjectExcluded: a negative phrase names only the object
	// ("no billing data").
	DataObjectExcluded ExclusionKind = "data-object-excluded"
	// OperationExcluded: a negative phrase names only the operation, or the
	// role is read-only ("never deletes", "read-only").
	OperationExcluded ExclusionKind = "operation-excluded"
	// Quarantined: the tool's live definition no longer matches its pin.
	Quarantined ExclusionKind = "quarantined"
	// OperationNotRequested: the object was asked for, this operation was
	// not ("reads tickets" does not grant delete_ticket).
	OperationNotRequested ExclusionKind = "operation-not-requested"
	// NotRequested: nothing in the description matches the tool (default
	// deny).
	NotRequested ExclusionKind = "not-requested"
)

// Reason explains one grant.
type Reason struct {
	// Phrase is the part of the description that asked for the tool.
	Phrase string `json:"phrase"`
	// Action is what the phrase asked for (read, comment, send, ...).
	Action string `json:"action"`
	// Object is the phrase's object words ("support tickets").
	Object string `json:"object"`
	// Matched says where the object matched the tool ("data object ticket").
	Matched string  `json:"matched"`
	Score   float64 `json:"score"`
	// Implied is set when the grant is a read implied by a change ("updates
	// contacts" implies finding them).
	Implied bool `json:"implied,omitempty"`
	// Source is "lexical" for the deterministic compiler, or the name of a
	// Proposer.
	Source string `json:"source"`
}

func (r Reason) String() string {
	s := fmt.Sprintf("%q asks to %s %q (matched %s)", r.Phrase, r.Action, r.Object, r.Matched)
	if r.Implied {
		s += ", implied read"
	}
	if r.Source != "" && r.Source != SourceLexical {
		s += " [" + r.Source + "]"
	}
	return s
}

// SourceLexical marks the deterministic compiler's reasons.
const SourceLexical = "lexical"

// Grant is one granted tool.
type Grant struct {
	Tool      catalog.ToolID    `json:"tool"`
	Operation catalog.Operation `json:"operation"`
	Risk      catalog.Risk      `json:"risk"`
	Reasons   []Reason          `json:"reasons"`
}

// Exclusion is one tool that is not granted, with the strongest reason.
type Exclusion struct {
	Tool   catalog.ToolID `json:"tool"`
	Kind   ExclusionKind  `json:"kind"`
	Reason string         `json:"reason"`
	// Phrase is the part of the description responsible, if any.
	Phrase string `json:"phrase,omitempty"`
}

// Profile is a compiled default-deny profile: every tool of the catalog is
// either granted (with reasons) or excluded (with a reason).
type Profile struct {
	Description    string      `json:"description"`
	CatalogVersion string      `json:"catalog_version"`
	Granted        []Grant     `json:"granted"`
	Excluded       []Exclusion `json:"excluded"`
	// Skills are the catalog skills all of whose tools are granted.
	Skills []string `json:"skills,omitempty"`
	// Unmatched are phrases that matched no tool, for the reviewer.
	Unmatched []string `json:"unmatched,omitempty"`
}

// Tools returns the granted tools, sorted.
func (p *Profile) Tools() []catalog.ToolID {
	out := make([]catalog.ToolID, len(p.Granted))
	for i, g := range p.Granted {
		out[i] = g.Tool
	}
	return out
}

// Exclusion returns the exclusion of id, if it is excluded.
func (p *Profile) Exclusion(id catalog.ToolID) (Exclusion, bool) {
	for _, e := range p.Excluded {
		if e.Tool == id {
			return e, true
		}
	}
	return Exclusion{}, false
}

// Persona turns the profile into a catalog persona: the fully granted skills
// plus the remaining tools as add_tools.
func (p *Profile) Persona(name string, cat *catalog.Catalog) *catalog.Persona {
	pe := &catalog.Persona{Name: name, Description: p.Description, Skills: slices.Clone(p.Skills)}
	covered := map[catalog.ToolID]bool{}
	for _, s := range p.Skills {
		for _, id := range cat.Skill(s).Tools {
			covered[id] = true
		}
	}
	for _, g := range p.Granted {
		if !covered[g.Tool] {
			pe.AddTools = append(pe.AddTools, g.Tool)
		}
	}
	return pe
}

// ErrEmptyDescription is returned for a blank description.
var ErrEmptyDescription = errors.New("persona: empty role description")

// Compile turns a natural-language role description into a default-deny
// profile over cat. It is deterministic and uses no external service:
//
//  1. the description is tokenised, stemmed and split into clauses and verb
//     phrases; negators ("never", "no", "not", "without", "cannot") negate
//     to the end of their clause, "except" makes what follows an exception,
//     "read-only"/"only" restrict a phrase to reads;
//  2. verbs map to actions through a small lexicon (read, update, create,
//     comment, send, delete, export, refund, merge, admin, manage, full
//     access); tools get actions from the verbs in their names;
//  3. each object group ("support tickets") is scored against every tool by
//     TF-IDF over the tool's name, data objects, server, tags, skills and
//     descriptions (head noun weighted over modifiers, synonyms folded);
//     tools scoring at least half the best score match;
//  4. a matched tool is granted when its action is one the phrase asked for
//     (changing an object implies reading it);
//  5. every negative phrase then removes what it names — a negated
//     capability is never granted, whatever else matched it — and
//     quarantined tools are withheld.
func Compile(desc string, cat *catalog.Catalog, opts Options) (*Profile, error) {
	if strings.TrimSpace(desc) == "" {
		return nil, ErrEmptyDescription
	}
	if cat == nil {
		return nil, errors.New("persona: nil catalog")
	}
	a := analyse(desc, cat)
	prof := &Profile{Description: desc, CatalogVersion: cat.Version(), Granted: []Grant{}, Excluded: []Exclusion{}}
	for i, d := range a.ix.docs {
		id := d.tool.ID()
		switch {
		case a.denied[i] != nil:
			prof.Excluded = append(prof.Excluded, *a.denied[i])
		case opts.Quarantine.Has(id):
			c := opts.Quarantine[id]
			prof.Excluded = append(prof.Excluded, Exclusion{Tool: id, Kind: Quarantined,
				Reason: fmt.Sprintf("quarantined: live definition %s differs from the pin", c.Kind)})
		case len(a.reasons[i]) > 0:
			prof.Granted = append(prof.Granted, Grant{Tool: id, Operation: d.tool.Operation, Risk: d.tool.Risk, Reasons: a.reasons[i]})
		case a.notAsked[i] != nil:
			prof.Excluded = append(prof.Excluded, *a.notAsked[i])
		default:
			prof.Excluded = append(prof.Excluded, Exclusion{Tool: id, Kind: NotRequested, Reason: "no phrase of the description asks for this tool (default deny)"})
		}
	}
	prof.Skills = coveredSkills(cat, prof.Tools())
	prof.Unmatched = a.unmatched
	return prof, nil
}

func coveredSkills(cat *catalog.Catalog, granted []catalog.ToolID) []string {
	var out []string
	for _, sk := range cat.Skills() {
		all := true
		for _, id := range sk.Tools {
			if !slices.Contains(granted, id) {
				all = false
				break
			}
		}
		if all {
			out = append(out, sk.Name)
		}
	}
	return out
}

// analysis is the per-tool outcome of the phrases.
type analysis struct {
	ix        *index
	phrases   []*phrase
	reasons   [][]Reason
	denied    []*Exclusion
	notAsked  []*Exclusion
	unmatched []string
}

func analyse(desc string, cat *catalog.Catalog) *analysis {
	ix := buildIndex(cat)
	a := &analysis{ix: ix, phrases: parse(desc), reasons: make([][]Reason, len(ix.docs)),
		denied: make([]*Exclusion, len(ix.docs)), notAsked: make([]*Exclusion, len(ix.docs))}
	// Positive phrases without objects take the previous phrase's objects
	// ("reviews and merges", "… and closes").
	var prev []group
	for _, p := range a.phrases {
		if len(p.groups) == 0 && !p.negated && prev != nil {
			p.groups = prev
		}
		if len(p.groups) > 0 {
			prev = p.groups
		}
	}
	positive := make([][]bool, len(a.phrases)) // tools each positive phrase grants
	for pi, p := range a.phrases {
		if p.negated {
			continue
		}
		positive[pi] = make([]bool, len(ix.docs))
		acts := p.actions()
		if p.readOnly && !slices.Contains(acts, actRead) {
			acts = append(acts, actRead)
		}
		if p.readOnly {
			acts = slices.DeleteFunc(acts, func(x action) bool { return x != actRead })
		}
		if len(acts) == 0 || len(p.groups) == 0 {
			a.unmatched = append(a.unmatched, p.text)
			continue
		}
		hit := false
		for _, g := range a.withVerbGroups(p) {
			ms := ix.matches(g)
			explicit := make([]Reason, len(ix.docs))
			ok := make([]bool, len(ix.docs))
			productive := false
			for ti, m := range ms {
				if m.score == 0 {
					continue
				}
				for _, act := range acts {
					if act == actAll || overlaps(grants[act], ix.docs[ti].actions) {
						explicit[ti] = Reason{Phrase: p.text, Action: string(act), Object: groupText(g), Matched: m.field, Score: round(m.score), Source: SourceLexical}
						ok[ti], productive = true, true
						break
					}
				}
			}
			for ti, m := range ms {
				if m.score == 0 {
					continue
				}
				d := ix.docs[ti]
				r := explicit[ti]
				if !ok[ti] && productive {
					// Changing an object implies finding it: grant its plain
					// reads, but only where the change itself matched.
					for _, act := range acts {
						if impliesRead[act] && d.tool.Operation == catalog.OpRead && slices.Contains(d.actions, actRead) {
							r = Reason{Phrase: p.text, Action: string(act), Object: groupText(g), Matched: m.field, Score: round(m.score), Implied: true, Source: SourceLexical}
							ok[ti] = true
							break
						}
					}
				}
				if ok[ti] {
					hit = true
					positive[pi][ti] = true
					if !containsReason(a.reasons[ti], r) {
						a.reasons[ti] = append(a.reasons[ti], r)
					}
				} else if a.notAsked[ti] == nil {
					a.notAsked[ti] = &Exclusion{Tool: d.tool.ID(), Kind: OperationNotRequested, Phrase: p.text,
						Reason: fmt.Sprintf("%q matches the tool's object (%s) but asks to %s, and the tool does %s",
							p.text, m.field, joinActions(acts), joinActions(d.actions))}
				}
			}
		}
		if !hit {
			a.unmatched = append(a.unmatched, p.text)
		}
		if p.readOnly {
			// "read-only X" also forbids changing X.
			a.deny(-1, p, []action{actUpdate}, OperationExcluded, positive)
		}
	}
	for pi, p := range a.phrases {
		if !p.negated {
			continue
		}
		acts := p.actions()
		kind := Negated
		switch {
		case len(acts) == 0:
			kind = DataObjectExcluded
		case len(p.groups) == 0 || allUniversal(p.groups):
			kind = OperationExcluded
		}
		a.deny(pi, p, acts, kind, positive)
	}
	return a
}

// withVerbGroups adds, for verbs that are also object words of the catalog
// ("emails customers", "messages the team"), the verb itself as an object.
func (a *analysis) withVerbGroups(p *phrase) []group {
	gs := slices.Clone(p.groups)
	for i, v := range p.verbs {
		for _, d := range a.ix.docs {
			if d.fields[v] >= weightName {
				gs = append(gs, group{words: []string{v}, raw: p.verbRaw[i]})
				break
			}
		}
	}
	return gs
}

// deny excludes every tool that negative phrase p (index pi, or -1 for a
// synthetic read-only restriction) names. Tools granted by a positive
// exception to p ("cannot do anything except read tickets") are spared.
func (a *analysis) deny(pi int, p *phrase, acts []action, kind ExclusionKind, positive [][]bool) {
	spared := make([]bool, len(a.ix.docs))
	if pi >= 0 {
		for qi, q := range a.phrases {
			if q.exceptOf == pi && !q.negated && positive[qi] != nil {
				for ti, ok := range positive[qi] {
					spared[ti] = spared[ti] || ok
				}
			}
		}
	}
	groups := a.withVerbGroups(p)
	if len(p.groups) == 0 {
		groups = []group{{universal: true}}
	}
	for ti, d := range a.ix.docs {
		if spared[ti] || a.denied[ti] != nil {
			continue
		}
		objHit, where := false, ""
		if slices.Contains(acts, actSend) && negCovers(actSend, d) {
			// Never sending X means never sending anything out: any
			// message can carry X.
			objHit, where = true, "any data (outbound)"
		}
		for _, g := range groups {
			if objHit {
				break
			}
			if g.universal && len(g.words) == 0 {
				objHit, where = true, "everything"
				break
			}
			if w, f, ok := a.ix.strongHit(g, ti); ok {
				objHit, where = true, fmt.Sprintf("%q in %s", w, f)
				break
			}
			if m := a.ix.matches(g)[ti]; m.score > 0 {
				objHit, where = true, fmt.Sprintf("%q in %s", m.word, m.field)
				break
			}
		}
		if !objHit {
			continue
		}
		actHit := len(acts) == 0
		for _, act := range acts {
			if negCovers(act, d) {
				actHit = true
				break
			}
		}
		if !actHit {
			continue
		}
		why := fmt.Sprintf("%q forbids it (object %s; tool does %s)", p.text, where, joinActions(d.actions))
		if pi < 0 {
			why = fmt.Sprintf("%q is read-only and the tool does %s", p.text, d.tool.Operation)
		}
		a.denied[ti] = &Exclusion{Tool: d.tool.ID(), Kind: kind, Phrase: p.text, Reason: why}
	}
}

// negCovers says whether negating act forbids the tool. Negations are read
// broadly: "never changes anything" forbids every non-read tool.
func negCovers(act action, d *toolDoc) bool {
	op := d.tool.Operation
	switch act {
	case actRead:
		return op == catalog.OpRead
	case actUpdate:
		return op != catalog.OpRead
	case actAny, actAll, actManage:
		return true
	case actCreate:
		return overlaps([]action{actCreate, actComment}, d.actions)
	case actSend:
		return slices.Contains(d.actions, actSend) || (d.sink && op != catalog.OpRead)
	case actDelete:
		return slices.Contains(d.actions, actDelete) || op == catalog.OpDelete || op == catalog.OpAdmin
	case actAdmin:
		return op == catalog.OpAdmin
	default:
		return slices.Contains(d.actions, act)
	}
}

func overlaps(a, b []action) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func allUniversal(gs []group) bool {
	for _, g := range gs {
		if !g.universal || len(g.words) > 0 {
			return false
		}
	}
	return true
}

func groupText(g group) string {
	if g.raw != "" {
		return g.raw
	}
	return strings.Join(g.words, " ")
}

func containsReason(rs []Reason, r Reason) bool {
	for _, x := range rs {
		if x.Phrase == r.Phrase && x.Object == r.Object && x.Action == r.Action {
			return true
		}
	}
	return false
}

func round(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
