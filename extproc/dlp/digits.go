package dlp

import (
	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// digitDetector is a type found by the digit-run scanner: candidates are
// runs of digits, optionally grouped by single spaces or dashes, bounded by
// non-alphanumeric bytes; no regular expression is involved.
type digitDetector struct {
	id             string
	minLen, maxLen int // digits, separators excluded
	// shape, when set, must accept the run's layout (e.g. 3-2-4 for SSNs).
	shape    func(run []byte) bool
	validate func(run []byte) bool
}

func digitDetectors() []digitDetector {
	return []digitDetector{
		{id: "credit-card", minLen: 13, maxLen: 19, validate: func(b []byte) bool { return validate.PaymentCard(b) != validate.CardNone }},
		{id: "us-ssn", minLen: 9, maxLen: 9, shape: groups(3, 2, 4), validate: validate.USSSN[[]byte]},
	}
}

// groups accepts runs laid out as separated groups of the given sizes.
func groups(sizes ...int) func([]byte) bool {
	return func(run []byte) bool {
		g, n := 0, 0
		for _, c := range run {
			if c >= '0' && c <= '9' {
				n++
				continue
			}
			if g >= len(sizes)-1 || n != sizes[g] {
				return false
			}
			g++
			n = 0
		}
		return g == len(sizes)-1 && n == sizes[g]
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c == '_'
}

// scanDigits finds digit runs and offers each to the digit detectors.
func scanDigits(text []byte, dets []digitDetector, dst []Finding) []Finding {
	n := len(text)
	for i := 0; i < n; {
		if !isDigit(text[i]) || (i > 0 && isAlnum(text[i-1])) {
			i++
			continue
		}
		// Extend the run: digits, and single ' ' or '-' between digits, all
		// separators alike.
		j, digitsN := i, 0
		var sep byte
		for j < n {
			c := text[j]
			if isDigit(c) {
				digitsN++
				j++
				continue
			}
			if (c == ' ' || c == '-') && (sep == 0 || sep == c) && j+1 < n && isDigit(text[j+1]) && digitsN < 19 {
				sep = c
				j++
				continue
			}
			break
		}
		if j < n && isAlnum(text[j]) {
			i = j
			continue
		}
		run := text[i:j]
		for _, d := range dets {
			if digitsN < d.minLen || digitsN > d.maxLen {
				continue
			}
			if d.shape != nil && !d.shape(run) {
				continue
			}
			if d.validate(run) {
				dst = append(dst, Finding{Type: d.id, Start: i, End: j})
			}
		}
		i = j
	}
	return dst
}
