package persona

import (
	"math"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/registry/catalog"
)

// Field weights: how strongly a word in each part of a tool's definition
// says the tool is about that object.
const (
	weightName   = 3.0 // object words of the tool name, data objects
	weightServer = 2.0 // server name and tags
	weightText   = 1.0 // tool, server and skill descriptions, skill names
)

type toolDoc struct {
	tool    *catalog.Tool
	actions []action // from the verbs in its name, else from its operation
	sink    bool
	fields  map[string]float64 // word → best field weight
	where   map[string]string  // word → field name, for reasons
}

type index struct {
	docs []*toolDoc
	idf  map[string]float64
}

func buildIndex(cat *catalog.Catalog) *index {
	ix := &index{idf: map[string]float64{}}
	for _, t := range cat.Tools() {
		srv := cat.Server(t.Server)
		d := &toolDoc{tool: t, fields: map[string]float64{}, where: map[string]string{},
			sink: slices.Contains(t.Tags, catalog.TagExternalSink) || srv.HasTag(catalog.TagExternalSink)}
		add := func(w float64, where string, ws ...string) {
			for _, x := range ws {
				if w > d.fields[x] {
					d.fields[x] = w
					d.where[x] = where
				}
			}
		}
		for j, w := range words(t.Name) {
			if e, ok := verbs[w]; ok {
				if !slices.Contains(d.actions, e.pos) {
					d.actions = append(d.actions, e.pos)
				}
				if j == 0 {
					continue // the name's leading verb is its action, not its object
				}
			}
			add(weightName, "tool name", w)
		}
		for _, o := range t.DataObjects {
			add(weightName, "data object "+o, words(o)...)
		}
		add(weightServer, "server "+srv.Name, words(srv.Name)...)
		for _, tag := range append(slices.Clone(srv.Tags), t.Tags...) {
			add(weightServer, "tag "+tag, words(tag)...)
		}
		add(weightText, "tool description", words(t.Description)...)
		add(weightText, "server description", words(srv.Description)...)
		for _, sk := range cat.SkillsOf(t.ID()) {
			add(weightText, "skill "+sk.Name, words(sk.Name)...)
			add(weightText, "skill "+sk.Name+" description", words(sk.Description)...)
		}
		// Name verbs decide the action; "read"-type names fall back to the
		// operation kind when the name has no known verb.
		d.actions = normaliseActions(d.actions, t.Operation)
		ix.docs = append(ix.docs, d)
	}
	df := map[string]int{}
	for _, d := range ix.docs {
		for w := range d.fields {
			df[w]++
		}
	}
	n := float64(len(ix.docs))
	for w, c := range df {
		ix.idf[w] = math.Log(1 + n/float64(c))
	}
	return ix
}

// normaliseActions keeps the actions consistent with the operation kind: a
// tool whose name says "get" but that deletes is a delete tool.
func normaliseActions(acts []action, op catalog.Operation) []action {
	switch op {
	case catalog.OpDelete:
		if !slices.Contains(acts, actDelete) {
			acts = append(acts, actDelete)
		}
	case catalog.OpAdmin:
		if !slices.Contains(acts, actAdmin) {
			acts = append(acts, actAdmin)
		}
	}
	if len(acts) == 0 {
		switch op {
		case catalog.OpRead:
			acts = []action{actRead}
		case catalog.OpWrite:
			acts = []action{actUpdate}
		}
	}
	// Plain reads stay plain only if the tool is a read.
	if op != catalog.OpRead {
		acts = slices.DeleteFunc(acts, func(a action) bool { return a == actRead })
		if len(acts) == 0 {
			acts = []action{actUpdate}
		}
	}
	slices.Sort(acts)
	return acts
}

// match is how well an object group matches one tool.
type match struct {
	score float64
	word  string // the best-matching word
	field string
}

// scoreGroup scores g against every tool. The group's last known word is its
// head (weight 1); the words before it are modifiers (weight 0.3).
func (ix *index) scoreGroup(g group) []match {
	out := make([]match, len(ix.docs))
	if g.universal && len(g.words) == 0 {
		for i := range out {
			out[i] = match{score: 1, word: "everything", field: "any"}
		}
		return out
	}
	head := -1
	for i := len(g.words) - 1; i >= 0; i-- {
		if ix.idf[g.words[i]] > 0 {
			head = i
			break
		}
	}
	for i, d := range ix.docs {
		var best float64
		for j, w := range g.words {
			fw := d.fields[w]
			if fw == 0 {
				continue
			}
			m := 0.3
			if j == head {
				m = 1
			}
			s := m * fw * ix.idf[w]
			out[i].score += s
			if s > best {
				best = s
				out[i].word = w
				out[i].field = d.where[w]
			}
		}
	}
	return out
}

// relThreshold: a tool matches a group when it scores at least this share
// of the best-scoring tool; minScore is the floor.
const (
	relThreshold = 0.5
	minScore     = 0.25
)

func (ix *index) matches(g group) []match {
	ms := ix.scoreGroup(g)
	var best float64
	for _, m := range ms {
		best = max(best, m.score)
	}
	for i := range ms {
		if ms[i].score < minScore || ms[i].score < relThreshold*best {
			ms[i] = match{}
		}
	}
	return ms
}

// strongHit reports whether any word of g names tool i outright (tool name,
// data object, server, tag or skill name): the broad test negations use.
func (ix *index) strongHit(g group, i int) (string, string, bool) {
	d := ix.docs[i]
	for _, w := range g.words {
		if d.fields[w] >= weightServer {
			return w, d.where[w], true
		}
	}
	return "", "", false
}

func joinActions(as []action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, "/")
}
