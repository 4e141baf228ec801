package dlp

import (
	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// handState carries the hand-written scanners' state from one trigger byte
// to the next; triggers arrive in text order.
type handState struct {
	runEnd  int // end of the last digit run examined
	ibanEnd int // end of the last IBAN found
}

// at runs the scanners that may start at text[i], a trigger byte (see
// scanTriggers): a digit or upper-case letter not preceded by an
// alphanumeric, or an '@'. Together over all triggers, it reports exactly
// what the separate digit-run, IPv4, IBAN and e-mail scanners report; fuzz
// tests hold it to that.
func (h *handState) at(text []byte, i int, dets []digitDetector, dst []Finding) []Finding {
	switch c := text[i]; {
	case isDigit(c):
		// A digit run is examined once, from its first digit; an IPv4
		// address may still start inside it, after one of its space or
		// dash separators.
		if i >= h.runEnd {
			dst, h.runEnd = digitRunAt(text, i, dets, dst)
		}
		if i == 0 || text[i-1] != '.' && text[i-1] != ':' {
			dst = ipv4At(text, i, dst)
		}
	case c == '@':
		dst = emailAt(text, i, dst)
	case i >= h.ibanEnd:
		// IBANs do not overlap; digit runs inside one are still examined,
		// as by the separate scanners.
		var ok bool
		if dst, ok = ibanAt(text, i, dst); ok {
			h.ibanEnd = dst[len(dst)-1].End
		}
	}
	return dst
}

// minRunDigits is the fewest digits a digit detector in dets accepts
// (separators excluded); a large number when there is none.
func minRunDigits(dets []digitDetector) int {
	m := 1 << 30
	for k := range dets {
		m = min(m, dets[k].minLen)
	}
	return m
}

// shortNumber reports that nothing starts at the digit text[i]: its digit
// run has fewer than minRun digits and ends where neither the digit-run
// scanner (a ' ' or '-' before another digit) nor the IPv4 scanner (a '.')
// would go on. Most numbers in JSON (ids, counts) end so, and skipping them
// here spares the calls of handState.at. The run holds no other trigger (a
// digit after a digit does not begin a word), so handState needs no update.
func shortNumber(text []byte, i, minRun int) bool {
	j := i + 1
	for j < len(text) && isDigit(text[j]) {
		j++
	}
	if j-i >= minRun || j == len(text) {
		return j-i < minRun
	}
	switch text[j] {
	case '.':
		return false
	case ' ', '-':
		return j+1 == len(text) || !isDigit(text[j+1])
	}
	return true
}

// digitRunAt examines the digit run starting at text[i] (a digit not
// preceded by an alphanumeric) and returns where it ends.
func digitRunAt(text []byte, i int, dets []digitDetector, dst []Finding) ([]Finding, int) {
	n := len(text)
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
		return dst, j
	}
	n0 := len(dst)
	dst = digitRunMatch(text[i:j], i, digitsN, dets, dst)
	if len(dst) > n0 || sep == 0 {
		return dst, j
	}
	// Nothing in the whole run: it may be several values separated like
	// groups ("4012888888881881 4012-8888-8888-1881"). Try the prefixes
	// that end at a separator, longest first; when none matches, resume
	// after the first group so that every later group is examined from
	// its own start.
	first := -1
	for k := j - 1; k > i; k-- {
		if text[k] != sep {
			continue
		}
		first = k
		sub := text[i:k]
		if dst = digitRunMatch(sub, i, countDigits(sub), dets, dst); len(dst) > n0 {
			return dst, k
		}
	}
	return dst, first
}

// digitRunMatch reports the detectors that accept run (at offset i).
func digitRunMatch(run []byte, i, digitsN int, dets []digitDetector, dst []Finding) []Finding {
	for k := range dets {
		d := &dets[k] // not a copy: a detector carries its Info
		if digitsN < d.minLen || digitsN > d.maxLen {
			continue
		}
		if d.shape != nil && !d.shape(run) {
			continue
		}
		if d.validate(run) {
			dst = append(dst, Finding{Type: d.id, Start: i, End: i + len(run)})
		}
	}
	return dst
}

// ipv4At reports a dotted-quad IPv4 address starting at text[i] (a digit not
// preceded by an alphanumeric, '.' or ':').
func ipv4At(text []byte, i int, dst []Finding) []Finding {
	n := len(text)
	j, dots := i, 0
	for j < n && j-i < 15 && (isDigit(text[j]) || text[j] == '.') {
		if text[j] == '.' {
			dots++
		}
		j++
	}
	for j > i && text[j-1] == '.' {
		j--
		dots--
	}
	if dots != 3 || (j < n && (isAlnum(text[j]) || (text[j] == '.' && j+1 < n && isDigit(text[j+1])))) {
		return dst
	}
	if _, ok := validate.ParseIPv4(text[i:j]); ok {
		dst = append(dst, Finding{Type: "ipv4-address", Start: i, End: j})
	}
	return dst
}

// ibanAt reports an IBAN starting at text[i] (an upper-case letter).
func ibanAt(text []byte, i int, dst []Finding) ([]Finding, bool) {
	n := len(text)
	if i+4 > n || !isUpper(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) || (i > 0 && isAlnum(text[i-1])) {
		return dst, false
	}
	want := validate.IBANLength(text[i], text[i+1])
	if want == 0 {
		return dst, false
	}
	j, chars := i, 0
	for j < n && chars < want {
		c := text[j]
		if isDigit(c) || isUpper(c) {
			chars++
			j++
			continue
		}
		if c == ' ' && chars%4 == 0 && j+1 < n && (isDigit(text[j+1]) || isUpper(text[j+1])) {
			j++
			continue
		}
		break
	}
	if chars != want || (j < n && isAlnum(text[j])) || !validate.IBAN(text[i:j]) {
		return dst, false
	}
	return append(dst, Finding{Type: "iban", Start: i, End: j}), true
}
