package persona

import (
	"strings"
	"unicode"
)

// stem is a small, deterministic suffix stripper (a light Porter variant).
// It need not produce words, only map inflections of a word to one key;
// it is applied to the description and the catalog alike.
func stem(w string) string {
	w = strings.ToLower(w)
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ied") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	for _, suf := range []string{"ing", "ed"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 && hasVowel(w[:len(w)-len(suf)]) {
			w = w[:len(w)-len(suf)]
			if n := len(w); n > 3 && w[n-1] == w[n-2] && !strings.ContainsRune("lsz", rune(w[n-1])) {
				w = w[:n-1]
			}
			break
		}
	}
	if strings.HasSuffix(w, "e") && len(w) > 3 {
		w = w[:len(w)-1]
	}
	return w
}

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

// canon stems w and maps it through the synonym table.
func canon(w string) string {
	s := stem(w)
	if c, ok := synonyms[s]; ok {
		return c
	}
	return s
}

// phraseRewrites normalise multi-word expressions before tokenising.
var phraseRewrites = []struct{ from, to string }{
	{"e-mail", "email"},
	{"read-only", " readonly only "},
	{"read only", " readonly only "},
	{"readonly", " readonly only "},
	{"view-only", " readonly only "},
	{"view only", " readonly only "},
	{"look up", "lookup"},
	{"looks up", "lookup"},
	{"looking up", "lookup"},
	{"full access", "fullaccess"},
	{"full control", "fullaccess"},
	{"unrestricted access", "fullaccess"},
	{"full rights", "fullaccess"},
	{"can't", "cannot"},
	{"can not", "cannot"},
	{"won't", "will not"},
	{"n't", " not"},
	{"other than", "except"},
	{"apart from", "except"},
	{"with the exception of", "except"},
	{"end to end", ""},
	{"end-to-end", ""},
	{"on-call", "oncall"},
}

// token is one word of the description with its stem and its place.
type token struct {
	raw  string // lower-case surface form
	key  string // canonical stem
	punc bool   // a clause-ending punctuation mark
}

func tokenize(desc string) []token {
	s := " " + strings.ToLower(desc) + " "
	s = strings.NewReplacer("’", "'", "‘", "'").Replace(s)
	for _, r := range phraseRewrites {
		s = strings.ReplaceAll(s, r.from, r.to)
	}
	var out []token
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			w := strings.Trim(cur.String(), "'-")
			if w != "" {
				out = append(out, token{raw: w, key: canon(w)})
			}
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			cur.WriteRune(r)
		case r == '-' || r == '_':
			flush()
		case strings.ContainsRune(".,;:!?()[]\n", r):
			flush()
			out = append(out, token{raw: string(r), punc: true})
		case r == '&':
			flush()
			out = append(out, token{raw: "and", key: "and"})
		default:
			flush()
		}
	}
	flush()
	return out
}

// words splits an identifier or text into canonical content words.
func words(s string) []string {
	var out []string
	for _, t := range tokenize(camelSplit(s)) {
		if t.punc || stopwords[t.raw] || conjunctions[t.raw] || prepositions[t.raw] || len(t.key) < 2 {
			continue
		}
		out = append(out, t.key)
	}
	return out
}

func camelSplit(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(rs[i-1]) {
			b.WriteRune(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
