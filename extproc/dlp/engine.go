// Package dlp detects sensitive data (credentials, payment cards, personal
// identifiers) in the bodies the filter sees. It is built for the hot path:
// one Aho–Corasick pass finds every detector's keywords, a detector's regular
// expression then runs only inside a small window around each keyword hit
// (never over a whole body), hand-written scanners find digit runs, and
// checksum validators (package validate) confirm candidates.
//
// This is the first stage of the engine (issue 4): the catalogue is a subset,
// and JSON-aware decoding, actions and streaming redaction are still to come.
package dlp

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/portcullis/portcullis/extproc/dlp/prefilter"
	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// Category groups detector types.
type Category string

// Categories.
const (
	CategorySecret    Category = "secret"
	CategoryFinancial Category = "financial"
	CategoryGovID     Category = "government-id"
	CategoryHealth    Category = "health"
	CategoryPersonal  Category = "personal"
	CategoryNetwork   Category = "network"
)

// Info describes a detector type for listings (`portcullis detectors`).
type Info struct {
	ID       string
	Category Category
	Tags     []string
	// Check names the validation beyond the format ("luhn", "mod-97",
	// "keyword+entropy"); empty when the format is the whole test.
	Check string
	// Context reports whether the type is only reported near one of its
	// keywords (a JSON field name counts) because its format alone is
	// ambiguous.
	Context bool
}

// Detector describes one type of sensitive data.
type Detector struct {
	// ID is the stable type id reported in findings ("aws-access-key-id").
	ID       string
	Category Category
	// Tags are compliance labels (PCI-DSS, GDPR, HIPAA, SOC2).
	Tags []string
	// Keywords are literals (matched ASCII case-insensitively) whose
	// occurrence opens a window in which Pattern runs.
	Keywords []string
	// Before and After size the window around a keyword hit, in bytes.
	// Defaults: 0 before, 256 after.
	Before, After int
	// Pattern finds candidates inside the window. Group selects the
	// submatch that is the sensitive value (0: the whole match).
	Pattern *regexp.Regexp
	Group   int
	// Validate, when set, must accept the candidate.
	Validate func([]byte) bool
	// MinEntropy, when set, is the Shannon entropy (bits per byte) the
	// candidate must exceed.
	MinEntropy float64
	// Match, when set, replaces Pattern on the hot path: a hand-written
	// matcher for an anchored pattern, returning the value's range in the
	// window (-1 when there is none). Pattern stays the specification; a
	// test holds the two equal.
	Match func(window []byte) (start, end int)
	// Check names the validation for listings (see Info.Check).
	Check string
	// Context marks a type whose keywords are context words rather than
	// a literal part of the value (see Info.Context).
	Context bool
}

// Finding is one detection: a type and a byte range of the scanned text.
// It never carries the value.
type Finding struct {
	Type       string
	Start, End int
}

// Engine scans texts with a fixed catalogue. It is immutable and safe for
// concurrent use.
type Engine struct {
	dets    []*Detector
	ac      *prefilter.Automaton
	kwOwner []int // keyword id → detector index
	// anchored marks detectors whose pattern starts with '^': it matches
	// only at its window's start, so each keyword hit keeps its own window
	// (a merged window would hide every hit but the first).
	anchored []bool
	digits   []digitDetector
	scratch  sync.Pool // *scanScratch
}

// NewEngine compiles a catalogue; nil means Catalogue().
func NewEngine(dets []*Detector) (*Engine, error) {
	if dets == nil {
		dets = Catalogue()
	}
	e := &Engine{dets: dets, digits: digitDetectors(), anchored: make([]bool, len(dets))}
	for i, d := range dets {
		e.anchored[i] = d.Pattern != nil && strings.HasPrefix(d.Pattern.String(), "^")
	}
	var keywords []string
	seen := map[string]bool{}
	var errs []error
	for i, d := range dets {
		switch {
		case d.ID == "":
			errs = append(errs, fmt.Errorf("detector %d: empty id", i))
		case seen[d.ID]:
			errs = append(errs, fmt.Errorf("detector %s: duplicate id", d.ID))
		case d.Pattern == nil || len(d.Keywords) == 0:
			errs = append(errs, fmt.Errorf("detector %s: needs keywords and a pattern", d.ID))
		}
		seen[d.ID] = true
		for _, k := range d.Keywords {
			keywords = append(keywords, k)
			e.kwOwner = append(e.kwOwner, i)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ac, err := prefilter.NewWithTriggers(keywords, scanTriggers)
	if err != nil {
		return nil, err
	}
	e.ac = ac
	return e, nil
}

// extendSameIdentifier reports whether the last window of detector di
// starts in the identifier (letters, digits, '_', '-') that continues to
// w.lo, and then extends that window to w.hi.
func extendSameIdentifier(text []byte, wins []window, di int, w window) bool {
	for j := len(wins) - 1; j >= 0 && j >= len(wins)-8; j-- {
		if wins[j].det != di {
			continue
		}
		p := wins[j].lo
		if p >= w.lo || w.lo-p > 256 {
			return false
		}
		for k := p; k < w.lo; k++ {
			if !isIdentByte(text[k]) {
				return false
			}
		}
		wins[j].hi = max(wins[j].hi, w.hi)
		return true
	}
	return false
}

// accept reports text[lo:hi] as d's value when it passes d's checks.
func accept(d *Detector, text []byte, lo, hi int, dst []Finding) []Finding {
	v := text[lo:hi]
	if d.Validate != nil && !d.Validate(v) {
		return dst
	}
	if d.MinEntropy > 0 && validate.ShannonEntropy(v) <= d.MinEntropy {
		return dst
	}
	return append(dst, Finding{Type: d.ID, Start: lo, End: hi})
}

// Types lists the type ids the engine reports, sorted.
func (e *Engine) Types() []string {
	infos := e.Detectors()
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.ID
	}
	return out
}

// Detectors describes every type the engine reports, sorted by id.
func (e *Engine) Detectors() []Info {
	var out []Info
	for _, d := range e.dets {
		out = append(out, Info{ID: d.ID, Category: d.Category, Tags: d.Tags, Check: d.Check, Context: d.Context})
	}
	for _, d := range e.digits {
		out = append(out, d.info)
	}
	out = append(out, scannerInfos...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	// A type found by two finders (the digit scanner, and a keyword
	// detector for the forms only context makes safe) is listed once.
	merged := out[:0]
	for _, in := range out {
		if k := len(merged) - 1; k >= 0 && merged[k].ID == in.ID {
			m := &merged[k]
			m.Context = m.Context && in.Context
			if in.Check != m.Check {
				m.Check += "/" + in.Check
			}
			continue
		}
		merged = append(merged, in)
	}
	return merged
}

type window struct{ det, lo, hi int }

// scanScratch is one Scan's working memory, pooled by the engine so that a
// scan in steady state allocates nothing of its own.
type scanScratch struct {
	matches []prefilter.Match
	pf      prefilter.Scratch
	wins    []window
}

// maxPooledMatches bounds the stage-1 buffer a pooled scratch keeps (16 B a
// match; ~30 000 on a 1 MiB body).
const maxPooledMatches = 1 << 16

// scanTriggers are the bytes where the hand-written scanners start, reported
// by the keyword pass: a digit or an upper-case letter that begins a word
// (digit runs, IPv4 addresses, IBANs) and every '@' (e-mail addresses).
// Word bytes are isAlnum's.
var scanTriggers = prefilter.Triggers{
	Start:    []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
	Word:     []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"),
	Anywhere: []byte("@"),
}

// Scan appends the findings in text to dst, ordered by start offset, and
// returns it. Identical (type, range) findings are reported once.
func (e *Engine) Scan(text []byte, dst []Finding) []Finding {
	start := len(dst)
	sc, _ := e.scratch.Get().(*scanScratch)
	if sc == nil {
		sc = new(scanScratch)
	}
	// Stage 1: one pass finds the keywords and the hand-written scanners'
	// trigger bytes. A keyword hit opens a window for its detector, merged
	// with a recent one when they overlap so that no byte is examined twice
	// by the same pattern; a trigger runs its scanner (stage 3) in place.
	sc.matches = e.ac.Find(text, sc.matches[:0], &sc.pf)
	wins := sc.wins[:0]
	var hs handState
	minRun := minRunDigits(e.digits)
	for _, m := range sc.matches {
		if m.Keyword == prefilter.Trigger {
			if !isDigit(text[m.Start]) || !shortNumber(text, m.Start, minRun) {
				dst = hs.at(text, m.Start, e.digits, dst)
			}
			continue
		}
		di := e.kwOwner[m.Keyword]
		d := e.dets[di]
		before, after := d.Before, d.After
		if after == 0 {
			after = 256
		}
		w := window{det: di, lo: max(0, m.Start-before), hi: min(len(text), m.Start+after)}
		if d.Match != nil && extendSameIdentifier(text, wins, di, w) {
			// A hand-written matcher reads the identifier its window
			// starts in to its end: a second keyword inside the same
			// identifier ("access_token_secret_key") finds the same value
			// in the first window, extended to the second one's end.
			continue
		}
		merged := false
		for j := len(wins) - 1; j >= 0 && j >= len(wins)-8 && !e.anchored[di]; j-- {
			if wins[j].det == di && w.lo <= wins[j].hi {
				wins[j].lo, wins[j].hi = min(wins[j].lo, w.lo), max(wins[j].hi, w.hi)
				merged = true
				break
			}
		}
		if !merged {
			wins = append(wins, w)
		}
	}
	sc.wins = wins
	// Stage 2: each detector's pattern inside its windows.
	for _, w := range wins {
		d := e.dets[w.det]
		if d.Match != nil {
			if lo, hi := d.Match(text[w.lo:w.hi]); lo >= 0 {
				dst = accept(d, text, w.lo+lo, w.lo+hi, dst)
			}
			continue
		}
		for _, m := range d.Pattern.FindAllSubmatchIndex(text[w.lo:w.hi], -1) {
			if lo, hi := m[2*d.Group], m[2*d.Group+1]; lo >= 0 {
				dst = accept(d, text, w.lo+lo, w.lo+hi, dst)
			}
		}
	}
	if cap(sc.matches) <= maxPooledMatches {
		e.scratch.Put(sc) // a huge body's buffers are left to the GC
	}
	return sortFindings(dst, start)
}

// sortFindings orders dst[start:] by (Start, End, Type) and drops duplicates
// (merged windows can overlap at their seams). Findings mostly arrive in
// order already; then it only checks.
func sortFindings(dst []Finding, start int) []Finding {
	found := dst[start:]
	for i := 1; i < len(found); i++ {
		if compareFindings(found[i-1], found[i]) >= 0 {
			slices.SortFunc(found, compareFindings)
			return dst[:start+len(slices.Compact(found))]
		}
	}
	return dst
}

func compareFindings(a, b Finding) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(a.End, b.End); c != 0 {
		return c
	}
	return strings.Compare(a.Type, b.Type)
}
