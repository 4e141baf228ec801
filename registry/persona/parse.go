package persona

import "strings"

// group is one object noun phrase: modifiers then head ("support tickets").
type group struct {
	words     []string // canonical stems, in order
	raw       string   // surface text for reasons
	universal bool     // everything/anything
}

// phrase is one verb phrase of the description: its verbs, its object
// groups and whether it is negated.
type phrase struct {
	text     string
	verbs    []string // canonical stems of the verbs, in order
	verbRaw  []string
	groups   []group
	negated  bool
	readOnly bool
	// exceptOf is the index of the phrase this one is an exception to
	// ("cannot do anything except read tickets"), or -1.
	exceptOf int
	// actionNouns are objects that name an action ("processes refunds").
	actionNouns []string
}

func (p *phrase) actions() []action {
	var out []action
	seen := map[action]bool{}
	add := func(a action) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	onlyGeneric := true
	for _, v := range p.verbs {
		if e := verbs[v]; e.pos != actManage && e.neg != actAny {
			onlyGeneric = false
		}
	}
	if onlyGeneric && len(p.actionNouns) > 0 {
		// "processes refunds": the noun names the action.
		for _, n := range p.actionNouns {
			if e, ok := verbs[n]; ok {
				if p.negated {
					add(e.neg)
				} else {
					add(e.pos)
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, v := range p.verbs {
		e := verbs[v]
		a := e.pos
		if p.negated {
			a = e.neg
		}
		add(a)
	}
	return out
}

// parse splits a description into phrases. Clauses end at punctuation and
// at words such as "but"; a negator opens a negative scope to the end of the
// clause; "except" makes the rest of the clause an exception to what came
// before it; a verb that follows an object starts a new phrase.
func parse(desc string) []*phrase {
	toks := tokenize(desc)
	var out []*phrase
	var cur *phrase
	var curGroup *group
	var lastGroups []group
	negated := false
	clauseStart := 0 // index in out of the clause's first phrase
	exceptOf := -1
	prevKind := "start" // start, punct, conj, neg, stop, prep, verb, object, pron
	var text []string

	closeGroup := func() {
		if curGroup != nil && cur != nil {
			if len(curGroup.words) > 0 || curGroup.universal {
				cur.groups = append(cur.groups, *curGroup)
			}
		}
		curGroup = nil
	}
	closePhrase := func() {
		closeGroup()
		if cur != nil {
			cur.text = strings.TrimSpace(strings.Join(text, " "))
			if len(cur.verbs) > 0 || len(cur.groups) > 0 {
				if len(cur.groups) > 0 {
					lastGroups = cur.groups
				}
				out = append(out, cur)
			}
		}
		cur = nil
		text = nil
	}
	newPhrase := func() {
		var pending []string // words before the verb ("never")
		if cur == nil {
			pending = text
		}
		closePhrase()
		text = pending
		cur = &phrase{negated: negated, exceptOf: exceptOf}
	}
	for _, t := range toks {
		if t.punc || clauseBreaks[t.raw] {
			closePhrase()
			negated, exceptOf, prevKind = false, -1, "punct"
			clauseStart = len(out)
			continue
		}
		switch {
		case exceptions[t.raw]:
			closePhrase()
			if len(out) > clauseStart {
				exceptOf = len(out) - 1
			} else if len(out) > 0 {
				exceptOf = len(out) - 1
			}
			negated = !negated
			if exceptOf >= 0 {
				negated = !out[exceptOf].negated
			}
			prevKind = "neg"
			continue
		case (t.raw == "nothing" || t.raw == "none") && cur != nil && len(cur.verbs) > 0 && len(cur.groups) == 0 && curGroup == nil:
			// "exports nothing": the verb before it is negated.
			cur.negated = true
			cur.groups = append(cur.groups, group{universal: true, raw: t.raw})
			negated = true
			text = append(text, t.raw)
			prevKind = "object"
			continue
		case negators[t.raw]:
			if !negated || cur == nil {
				closePhrase()
			}
			negated = true
			if t.raw == "nothing" || t.raw == "none" {
				cur = &phrase{negated: true, exceptOf: exceptOf, groups: []group{{universal: true, raw: t.raw}}}
			}
			text = append(text, t.raw)
			prevKind = "neg"
			continue
		case conjunctions[t.raw]:
			closeGroup()
			text = append(text, t.raw)
			prevKind = "conj"
			continue
		case t.raw == "of":
			// "status of payments": one group whose head is the last noun.
			text = append(text, t.raw)
			continue
		case prepositions[t.raw]:
			closeGroup()
			text = append(text, t.raw)
			prevKind = "prep"
			continue
		case t.raw == "only":
			if cur != nil {
				cur.readOnly = true
			}
			text = append(text, t.raw)
			continue
		case pronouns[t.raw]:
			if cur == nil {
				cur = &phrase{negated: negated, exceptOf: exceptOf}
			}
			closeGroup()
			cur.groups = append(cur.groups, lastGroups...)
			text = append(text, t.raw)
			prevKind = "pron"
			continue
		case universal[t.raw]:
			if cur == nil {
				cur = &phrase{negated: negated, exceptOf: exceptOf}
			}
			if curGroup == nil {
				curGroup = &group{}
			}
			curGroup.universal = true
			curGroup.raw = strings.TrimSpace(curGroup.raw + " " + t.raw)
			text = append(text, t.raw)
			prevKind = "object"
			continue
		case stopwords[t.raw] || len(t.key) < 2:
			text = append(text, t.raw)
			if prevKind != "verb" {
				prevKind = "stop"
			}
			continue
		}
		_, isVerb := verbs[t.key]
		if t.raw == "readonly" {
			isVerb = true
		}
		if isVerb && prevKind != "object" && prevKind != "verb" {
			// A verb: a new phrase unless it joins the verbs of the
			// current one ("reads and comments on").
			if cur == nil || len(cur.groups) > 0 || curGroup != nil || prevKind == "pron" {
				newPhrase()
			}
			cur.verbs = append(cur.verbs, t.key)
			cur.verbRaw = append(cur.verbRaw, t.raw)
			if t.raw == "readonly" {
				cur.readOnly = true
			}
			text = append(text, t.raw)
			prevKind = "verb"
			continue
		}
		if isVerb && prevKind == "verb" && cur != nil && len(cur.verbs) > 0 && t.raw != "readonly" &&
			(cur.verbRaw[len(cur.verbRaw)-1] == "readonly" || t.raw == "access" || t.raw == "fullaccess") {
			// "read-only access": one verb phrase.
			cur.verbs = append(cur.verbs, t.key)
			cur.verbRaw = append(cur.verbRaw, t.raw)
			text = append(text, t.raw)
			continue
		}
		// An object word. Generic access verbs in object position ("billing
		// access") carry no object.
		if isVerb && genericAccess[t.key] {
			text = append(text, t.raw)
			continue
		}
		if cur == nil {
			cur = &phrase{negated: negated, exceptOf: exceptOf}
		}
		if curGroup == nil {
			curGroup = &group{}
		}
		if isVerb {
			cur.actionNouns = append(cur.actionNouns, t.key)
		}
		curGroup.words = append(curGroup.words, t.key)
		curGroup.raw = strings.TrimSpace(curGroup.raw + " " + t.raw)
		text = append(text, t.raw)
		prevKind = "object"
	}
	closePhrase()
	return out
}
