// Package prefilter finds many literal keywords in one pass over a body: an
// Aho–Corasick automaton compiled to a dense DFA over ASCII-case-folded byte
// classes. It is the first stage of sensitive-data detection: detectors run
// their patterns only in small windows around the keywords found here, never
// over a whole body.
package prefilter

import (
	"errors"
	"fmt"
)

// Automaton matches a fixed set of keywords, ASCII case-insensitively. It is
// immutable and safe for concurrent use.
type Automaton struct {
	class  [256]uint8 // byte → equivalence class; 0 is "no keyword has it"
	nclass int
	delta  []int32 // state*nclass+class → next state
	out    [][]int32
	lens   []int

	// The scan loop's tables: states are pre-multiplied by nclass (next
	// state index = row offset) and hit marks which rows have outputs, so
	// the hot loop does one load per byte plus one flag test.
	next []int32
	hit  []bool
}

// MaxKeywords bounds the automaton's size.
const MaxKeywords = 1 << 16

// New compiles keywords. Empty keywords and more than MaxKeywords are errors;
// duplicates (after case folding) are allowed and each reports its own id.
func New(keywords []string) (*Automaton, error) {
	if len(keywords) > MaxKeywords {
		return nil, fmt.Errorf("prefilter: %d keywords, at most %d", len(keywords), MaxKeywords)
	}
	a := &Automaton{lens: make([]int, len(keywords))}
	// Byte classes: every distinct folded byte used by a keyword gets one.
	next := 1
	for i, k := range keywords {
		if k == "" {
			return nil, errors.New("prefilter: empty keyword")
		}
		a.lens[i] = len(k)
		for j := 0; j < len(k); j++ {
			c := fold(k[j])
			if a.class[c] == 0 {
				if next > 255 {
					return nil, errors.New("prefilter: too many distinct bytes")
				}
				a.class[c] = uint8(next)
				next++
			}
		}
	}
	for b := 0; b < 256; b++ {
		a.class[b] = a.class[fold(byte(b))]
	}
	a.nclass = next
	// Trie.
	a.delta = make([]int32, a.nclass)
	for i := range a.delta {
		a.delta[i] = -1
	}
	a.out = [][]int32{nil}
	for id, k := range keywords {
		s := int32(0)
		for j := 0; j < len(k); j++ {
			c := int(a.class[k[j]])
			n := a.delta[int(s)*a.nclass+c]
			if n < 0 {
				n = int32(len(a.out))
				a.out = append(a.out, nil)
				row := make([]int32, a.nclass)
				for i := range row {
					row[i] = -1
				}
				a.delta = append(a.delta, row...)
				a.delta[int(s)*a.nclass+c] = n
			}
			s = n
		}
		a.out[s] = append(a.out[s], int32(id))
	}
	// Failure links by breadth-first search, folded into the DFA.
	fail := make([]int32, len(a.out))
	queue := make([]int32, 0, len(a.out))
	for c := 0; c < a.nclass; c++ {
		n := a.delta[c]
		if n < 0 {
			a.delta[c] = 0
			continue
		}
		fail[n] = 0
		queue = append(queue, n)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[fail[s]]...)
		for c := 0; c < a.nclass; c++ {
			i := int(s)*a.nclass + c
			n := a.delta[i]
			f := a.delta[int(fail[s])*a.nclass+c]
			if n < 0 {
				a.delta[i] = f
				continue
			}
			fail[n] = f
			queue = append(queue, n)
		}
	}
	a.next = make([]int32, len(a.delta))
	a.hit = make([]bool, len(a.delta))
	for i, n := range a.delta {
		a.next[i] = n * int32(a.nclass)
	}
	for st, o := range a.out {
		if len(o) > 0 {
			a.hit[st*a.nclass] = true
		}
	}
	return a, nil
}

func fold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Len is the number of keywords.
func (a *Automaton) Len() int { return len(a.lens) }

// Scan reports every occurrence of every keyword in text, in order of the
// occurrence's end, as (keyword id, start offset). Overlapping occurrences
// are all reported. fn returns false to stop the scan.
func (a *Automaton) Scan(text []byte, fn func(keyword, start int) bool) {
	s := int32(0)
	next, hit, class := a.next, a.hit, &a.class
	for i, b := range text {
		s = next[s+int32(class[b])]
		if hit[s] {
			for _, id := range a.out[int(s)/a.nclass] {
				if !fn(int(id), i+1-a.lens[id]) {
					return
				}
			}
		}
	}
}
