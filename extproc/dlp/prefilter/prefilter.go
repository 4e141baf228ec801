// Package prefilter finds many literal keywords in one pass over a body: an
// Aho–Corasick automaton compiled to a dense DFA over ASCII-case-folded byte
// classes. It is the first stage of sensitive-data detection: detectors run
// their patterns only in small windows around the keywords found here, never
// over a whole body.
//
// The same pass can report trigger bytes (Triggers): the places where a
// hand-written scanner may start (a digit that begins a number, an '@'), so
// that those scanners need no pass of their own.
//
// Speed: the scan follows one DFA transition per byte, and a transition is a
// dependent load, so a single walk is bound by load latency (~2 ns/byte).
// Find therefore walks a long text as four interleaved streams (independent
// dependency chains the CPU overlaps), each started a longest keyword's
// length early so that its state is exact where its part begins; every
// transition that needs attention (a keyword ends, a trigger byte) carries a
// flag in its sign bit, so the loop tests one sign per four bytes.
package prefilter

import (
	"errors"
	"fmt"
)

// Automaton matches a fixed set of keywords, ASCII case-insensitively, and
// optionally reports trigger bytes. It is immutable and safe for concurrent
// use.
type Automaton struct {
	class  [256]uint8 // byte → scan class (≥ 1; column 0 of a row is not a transition)
	nclass int
	lens   []int
	maxLen int

	// next is the scan table: row r (the state pre-multiplied by nclass)
	// holds at r+c the next row for class c, complemented (negative) when
	// the transition needs attention; at r+0 it holds the index into outs
	// of the row's keywords (0: none).
	next []int32
	outs [][]int32

	// byteFlags marks bytes as trigger starts, word bytes and anywhere
	// triggers (see Triggers).
	byteFlags [256]uint8
	triggers  bool
}

const (
	flagStart = 1 << iota
	flagWord
	flagAny
)

// Triggers selects bytes that Find reports as Match{Keyword: Trigger}.
type Triggers struct {
	// Start bytes are reported where they begin a word: at the start of
	// the text or after a byte that is not in Word.
	Start []byte
	// Word bytes are those that continue a word (see Start).
	Word []byte
	// Anywhere bytes are reported wherever they occur.
	Anywhere []byte
}

// Trigger is the Keyword of a Match that reports a trigger byte (at Start).
const Trigger = -1

// Match is a keyword occurrence (Keyword is its index in the list given to
// New, Start its offset) or, when Keyword is Trigger, a trigger byte at
// Start.
type Match struct {
	Keyword, Start int
}

// MaxKeywords bounds the automaton's size.
const MaxKeywords = 1 << 16

// maxStates keeps pre-multiplied rows, complemented, inside an int32.
const maxStates = 1 << 31 / 256

// New compiles keywords. Empty keywords and more than MaxKeywords are errors;
// duplicates (after case folding) are allowed and each reports its own id.
func New(keywords []string) (*Automaton, error) {
	return NewWithTriggers(keywords, Triggers{})
}

// NewWithTriggers is New with trigger bytes reported by Find.
func NewWithTriggers(keywords []string, tr Triggers) (*Automaton, error) {
	if len(keywords) > MaxKeywords {
		return nil, fmt.Errorf("prefilter: %d keywords, at most %d", len(keywords), MaxKeywords)
	}
	a := &Automaton{lens: make([]int, len(keywords))}
	for _, b := range tr.Start {
		a.byteFlags[b] |= flagStart
	}
	for _, b := range tr.Word {
		a.byteFlags[b] |= flagWord
	}
	for _, b := range tr.Anywhere {
		a.byteFlags[b] |= flagAny
	}
	a.triggers = len(tr.Start) > 0 || len(tr.Anywhere) > 0

	// Keyword classes: every distinct folded byte used by a keyword gets
	// one; 0 is "no keyword has it".
	var kclass [256]int
	nk := 1
	for i, k := range keywords {
		if k == "" {
			return nil, errors.New("prefilter: empty keyword")
		}
		a.lens[i] = len(k)
		a.maxLen = max(a.maxLen, len(k))
		for j := 0; j < len(k); j++ {
			if c := fold(k[j]); kclass[c] == 0 {
				kclass[c] = nk
				nk++
			}
		}
	}
	for b := 0; b < 256; b++ {
		kclass[b] = kclass[fold(byte(b))]
	}

	// Trie and Aho–Corasick failure links over keyword classes, folded into
	// a DFA (delta).
	delta := make([]int32, nk)
	for i := range delta {
		delta[i] = -1
	}
	out := [][]int32{nil}
	inByte := []int{-1} // a byte on the trie edge into each state
	for id, k := range keywords {
		s := int32(0)
		for j := 0; j < len(k); j++ {
			c := kclass[k[j]]
			n := delta[int(s)*nk+c]
			if n < 0 {
				n = int32(len(out))
				if int(n) >= maxStates-1 {
					return nil, errors.New("prefilter: too many states")
				}
				out = append(out, nil)
				inByte = append(inByte, int(k[j]))
				for range nk {
					delta = append(delta, -1)
				}
				delta[int(s)*nk+c] = n
			}
			s = n
		}
		out[s] = append(out[s], int32(id))
	}
	fail := make([]int32, len(out))
	queue := make([]int32, 0, len(out))
	for c := 0; c < nk; c++ {
		if n := delta[c]; n < 0 {
			delta[c] = 0
		} else {
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out[s] = append(out[s], out[fail[s]]...)
		for c := 0; c < nk; c++ {
			i := int(s)*nk + c
			n, f := delta[i], delta[int(fail[s])*nk+c]
			if n < 0 {
				delta[i] = f
				continue
			}
			fail[n] = f
			queue = append(queue, n)
		}
	}

	// Scan classes: bytes alike for the keywords and for the triggers.
	type key struct{ kc, flags int }
	classOf := map[key]uint8{}
	rep := []int{-1} // a byte of each scan class
	for b := 0; b < 256; b++ {
		k := key{kclass[b], int(a.byteFlags[b])}
		c, ok := classOf[k]
		if !ok {
			if len(rep) > 255 {
				return nil, errors.New("prefilter: too many distinct bytes")
			}
			c = uint8(len(rep))
			classOf[k] = c
			rep = append(rep, b)
		}
		a.class[b] = c
	}
	a.nclass = len(rep)

	// Scan states: the DFA's, plus a second root (the last state) entered
	// after a word byte, so that every state knows whether the byte before
	// may be a word byte. A state inside a keyword knows from its trie
	// edge; when the bytes folding to that edge differ (a Word set that is
	// not case-symmetric), it assumes "not a word byte", which only flags
	// more transitions.
	nstates := len(out) + 1
	wordRoot := len(out)
	afterWord := make([]bool, nstates)
	afterWord[wordRoot] = true
	allWord := make([]bool, nk) // every byte of the keyword class is a word byte
	for i := range allWord {
		allWord[i] = true
	}
	for b := 0; b < 256; b++ {
		if a.byteFlags[b]&flagWord == 0 {
			allWord[kclass[b]] = false
		}
	}
	for s := 1; s < len(out); s++ {
		afterWord[s] = allWord[kclass[inByte[s]]]
	}
	outIdx := make([]int32, nstates)
	a.outs = [][]int32{nil}
	for s, o := range out {
		if len(o) > 0 {
			outIdx[s] = int32(len(a.outs))
			a.outs = append(a.outs, o)
		}
	}
	a.next = make([]int32, nstates*a.nclass)
	for s := 0; s < nstates; s++ {
		ds := s
		if s == wordRoot {
			ds = 0
		}
		row := a.next[s*a.nclass : (s+1)*a.nclass]
		row[0] = outIdx[ds]
		for c := 1; c < a.nclass; c++ {
			b := rep[c]
			f := a.byteFlags[b]
			t := int(delta[ds*nk+kclass[b]])
			if t == 0 && f&flagWord != 0 {
				t = wordRoot
			}
			flag := outIdx[t] != 0 || f&flagAny != 0 || f&flagStart != 0 && !afterWord[s]
			v := int32(t * a.nclass)
			if flag {
				v = ^v
			}
			row[c] = v
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
// are all reported. fn returns false to stop the scan. Triggers are not
// reported.
func (a *Automaton) Scan(text []byte, fn func(keyword, start int) bool) {
	s := 0
	next, class := a.next, &a.class
	for i, b := range text {
		s = int(next[s+int(class[b])])
		if s < 0 {
			s = ^s
			for _, id := range a.outs[next[s]] {
				if !fn(int(id), i+1-a.lens[id]) {
					return
				}
			}
		}
	}
}

// streams is the number of interleaved walks in Find.
const streams = 4

// Scratch is Find's working memory. Reusing one (per goroutine) makes Find
// allocation-free once its buffers have grown. The zero value is ready.
type Scratch struct {
	part [streams][]Match
	ev   []uint64 // flagged transitions of the interleaved walk
}

// Find appends to dst every keyword occurrence and trigger byte in text and
// returns it. The order is that of a single left-to-right walk: by the byte
// at which the match completes (a keyword's last byte, a trigger's own
// byte); keywords ending at the same byte by start, then id, each before a
// trigger on that byte. s may be nil.
func (a *Automaton) Find(text []byte, dst []Match, s *Scratch) []Match {
	// Short texts are not worth the streams' overlap; texts of 4 GiB and
	// more do not fit run4's event encoding.
	if w := max(a.maxLen, 1); len(text) < 16*w+256 || uint64(len(text)) >= 1<<32 {
		return a.walk(text, 0, 0, 0, dst)
	}
	if s == nil {
		s = new(Scratch)
	}
	return a.interleaved(text, dst, s)
}

// interleaved is Find's walk in streams; len(text) must be at least
// max(longest keyword's length, 1) + streams and below 4 GiB.
func (a *Automaton) interleaved(text []byte, dst []Match, s *Scratch) []Match {
	w := max(a.maxLen, 1)
	// Stream k reports matches completing in [b_k, b_k+1) and starts w
	// bytes early (stream 0 at 0) so that its state is exact at b_k; all
	// run l bytes in the interleaved loop, the last finishes alone.
	l := (len(text) + (streams-1)*w) / streams
	var lo [streams]int // first byte reported by each stream
	var at [streams]int // first byte walked by each stream
	for k := 1; k < streams; k++ {
		lo[k] = l + (k-1)*(l-w)
		at[k] = lo[k] - w
	}
	for k := range s.part {
		s.part[k] = s.part[k][:0]
	}
	t0, t1, t2, t3 := text[:l], text[at[1]:at[1]+l], text[at[2]:at[2]+l], text[at[3]:at[3]+l]
	if len(s.ev) == 0 {
		s.ev = make([]uint64, 256)
	}
	var s0, s1, s2, s3 int
	for i := uint(0); i < uint(l); {
		var n int
		i, n, s0, s1, s2, s3 = run4(a.next, &a.class, t0, t1, t2, t3, i, s.ev, s0, s1, s2, s3)
		for _, e := range s.ev[:n] {
			k, j, row := e>>32&3, int(e>>34), int(uint32(e))
			i := at[k] + j
			if a.next[row] != 0 || i < lo[k] || i == 0 {
				s.part[k] = a.flagged(text, i, row, lo[k], s.part[k])
				continue
			}
			// Most events are a trigger byte alone: flagged's work, inline.
			if f := a.byteFlags[text[i]]; f&flagAny != 0 || f&flagStart != 0 && a.byteFlags[text[i-1]]&flagWord == 0 {
				s.part[k] = append(s.part[k], Match{Keyword: Trigger, Start: i})
			}
		}
	}
	s.part[3] = a.walk(text, at[3]+l, s3, lo[3], s.part[3])
	for _, p := range s.part {
		dst = append(dst, p...)
	}
	return dst
}

// run4 walks four streams of equal length from byte i and rows s0…s3,
// recording each flagged transition in ev as byte<<34 | stream<<32 | row,
// until the streams end or ev is nearly full (len(ev) must be at least
// streams). It returns the next byte, the number of events and the rows. It
// is kept apart from its caller, and free of calls, so that the compiler
// keeps the rows in registers.
func run4(next []int32, class *[256]uint8, t0, t1, t2, t3 []byte, i uint, ev []uint64, s0, s1, s2, s3 int) (uint, int, int, int, int, int) {
	t1, t2, t3 = t1[:len(t0)], t2[:len(t0)], t3[:len(t0)]
	n := 0
	for ; i < uint(len(t0)); i++ {
		s0 = int(next[s0+int(class[t0[i]])])
		s1 = int(next[s1+int(class[t1[i]])])
		s2 = int(next[s2+int(class[t2[i]])])
		s3 = int(next[s3+int(class[t3[i]])])
		if s0|s1|s2|s3 < 0 {
			if s0 < 0 {
				s0 = ^s0
				ev[n] = uint64(i)<<34 | uint64(s0)
				n++
			}
			if s1 < 0 {
				s1 = ^s1
				ev[n] = uint64(i)<<34 | 1<<32 | uint64(s1)
				n++
			}
			if s2 < 0 {
				s2 = ^s2
				ev[n] = uint64(i)<<34 | 2<<32 | uint64(s2)
				n++
			}
			if s3 < 0 {
				s3 = ^s3
				ev[n] = uint64(i)<<34 | 3<<32 | uint64(s3)
				n++
			}
			if n+streams > len(ev) {
				return i + 1, n, s0, s1, s2, s3
			}
		}
	}
	return i, n, s0, s1, s2, s3
}

// walk continues a single walk over text[i:] from row s, reporting matches
// that complete at or after byte lo.
func (a *Automaton) walk(text []byte, i, s, lo int, dst []Match) []Match {
	next, class := a.next, &a.class
	for ; i < len(text); i++ {
		s = int(next[s+int(class[text[i]])])
		if s < 0 {
			s = ^s
			dst = a.flagged(text, i, s, lo, dst)
		}
	}
	return dst
}

// flagged reports what completes at text[i], the walk being in row s, if i
// is at or after lo.
func (a *Automaton) flagged(text []byte, i, s, lo int, dst []Match) []Match {
	if i < lo {
		return dst
	}
	for _, id := range a.outs[a.next[s]] {
		dst = append(dst, Match{Keyword: int(id), Start: i + 1 - a.lens[id]})
	}
	if !a.triggers {
		return dst
	}
	f := a.byteFlags[text[i]]
	if f&flagAny != 0 || f&flagStart != 0 && (i == 0 || a.byteFlags[text[i-1]]&flagWord == 0) {
		dst = append(dst, Match{Keyword: Trigger, Start: i})
	}
	return dst
}
