package dlp

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Action is what a data policy does with a finding. Actions are ordered by
// strength: when findings overlap, the strongest applies to the union.
type Action uint8

const (
	// ActionAllow lets the value through; the finding is still counted in
	// the decision (allow + log).
	ActionAllow Action = iota
	// ActionMask replaces the value's letters and digits with '*' but for
	// the last Rule.Keep of them ("**** **** **** 1111").
	ActionMask
	// ActionTokenise replaces the value with a keyed hash, stable for one
	// token key (one tenant), so that records can still be joined on it:
	// "[TOKEN:credit-card:5f1c0e9a2b7d4c68]".
	ActionTokenise
	// ActionRedact replaces the value with a typed placeholder:
	// "[REDACTED:credit-card]".
	ActionRedact
	// ActionBlock refuses the whole message.
	ActionBlock
)

var actionNames = [...]string{"allow", "mask", "tokenise", "redact", "block"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// ParseAction parses an action name ("log" is accepted for allow,
// "tokenize" for tokenise).
func ParseAction(s string) (Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "allow", "log":
		return ActionAllow, nil
	case "mask":
		return ActionMask, nil
	case "tokenise", "tokenize":
		return ActionTokenise, nil
	case "redact":
		return ActionRedact, nil
	case "block":
		return ActionBlock, nil
	}
	return 0, fmt.Errorf("unknown action %q (want allow, mask, tokenise, redact or block)", s)
}

// DefaultKeep is how many trailing letters or digits a mask keeps when the
// rule does not say.
const DefaultKeep = 4

// Rule is the action for one data class.
type Rule struct {
	Action Action
	// Keep is the number of trailing letters/digits a mask leaves visible;
	// 0 means DefaultKeep, a negative value keeps none.
	Keep int
}

func (r Rule) keep() int {
	switch {
	case r.Keep == 0:
		return DefaultKeep
	case r.Keep < 0:
		return 0
	}
	return r.Keep
}

// Policy says what to do with each data class: a rule per type id wins
// over a rule per category, which wins over Default.
type Policy struct {
	Default    Rule
	Categories map[Category]Rule
	Types      map[string]Rule
}

// KnownSecretType is the type of findings of the known-secret guard: a
// credential the gateway itself holds.
const KnownSecretType = "known-secret"

// Plan is a Policy resolved against an engine's types, with the key that
// tokens are derived from. It is immutable and safe for concurrent use.
type Plan struct {
	rules    map[string]Rule
	cats     map[string]Category
	fallback Rule
	tokenKey []byte
}

// Plan resolves p against the engine's types. Unknown type ids and
// categories are errors (a typo must not silently leave a type allowed).
// tokenKey keys ActionTokenise; it must be at least 16 bytes when any rule
// tokenises.
func (e *Engine) Plan(p Policy, tokenKey []byte) (*Plan, error) {
	infos := append(e.Detectors(), Info{ID: KnownSecretType, Category: CategorySecret})
	cats := map[Category]bool{}
	types := map[string]Category{}
	for _, in := range infos {
		cats[in.Category] = true
		types[in.ID] = in.Category
	}
	var errs []error
	tokenises := p.Default.Action == ActionTokenise
	for _, c := range sortedKeys(p.Categories) {
		if !cats[c] {
			errs = append(errs, fmt.Errorf("unknown data category %q", c))
		}
		tokenises = tokenises || p.Categories[c].Action == ActionTokenise
	}
	for _, t := range sortedKeys(p.Types) {
		if _, ok := types[t]; !ok {
			errs = append(errs, fmt.Errorf("unknown detector type %q (see `portcullis detectors`)", t))
		}
		tokenises = tokenises || p.Types[t].Action == ActionTokenise
	}
	if tokenises && len(tokenKey) < 16 {
		errs = append(errs, errors.New("tokenise needs a token key of at least 16 bytes"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	pl := &Plan{rules: make(map[string]Rule, len(types)), cats: types, fallback: p.Default, tokenKey: tokenKey}
	for t, c := range types {
		r := p.Default
		if cr, ok := p.Categories[c]; ok {
			r = cr
		}
		if tr, ok := p.Types[t]; ok {
			r = tr
		}
		pl.rules[t] = r
	}
	return pl, nil
}

// Rule returns the rule for a type (the default for types the engine does
// not know).
func (p *Plan) Rule(typ string) Rule {
	if r, ok := p.rules[typ]; ok {
		return r
	}
	return p.fallback
}

// Category returns a type's category ("" for types the engine does not
// know).
func (p *Plan) Category(typ string) Category { return p.cats[typ] }

// Passive reports whether the plan only ever allows: nothing can be
// rewritten or blocked, so callers may skip redaction work.
func (p *Plan) Passive() bool {
	if p.fallback.Action != ActionAllow {
		return false
	}
	for _, r := range p.rules {
		if r.Action != ActionAllow {
			return false
		}
	}
	return true
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
