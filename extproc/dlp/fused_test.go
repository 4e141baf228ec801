package dlp

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

func sorted(fs []Finding) string {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Start != fs[j].Start {
			return fs[i].Start < fs[j].Start
		}
		return fs[i].Type < fs[j].Type
	})
	return fmt.Sprint(fs)
}

// The separate scanners scanFused replaced, kept as the reference it is
// held to.

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

// scanIBANs finds IBANs: two upper-case letters of a country that issues
// IBANs and two check digits, then the country's registered length of
// alphanumerics, optionally in blocks of four separated by single spaces;
// validate.IBAN confirms the MOD 97-10 checksum.
func scanIBANs(text []byte, dst []Finding) []Finding {
	n := len(text)
	for i := 0; i+4 <= n; i++ {
		if !isUpper(text[i]) || !isUpper(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) || (i > 0 && isAlnum(text[i-1])) {
			continue
		}
		want := validate.IBANLength(text[i], text[i+1])
		if want == 0 {
			continue
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
		if chars != want || (j < n && isAlnum(text[j])) {
			continue
		}
		if validate.IBAN(text[i:j]) {
			dst = append(dst, Finding{Type: "iban", Start: i, End: j})
			i = j - 1
		}
	}
	return dst
}

// scanIPv4 finds dotted-quad IPv4 addresses (any range; the type is an
// address, public or not) not embedded in longer dotted numbers (versions
// such as 1.2.3.4.5), identifiers or IPv6 addresses.
func scanIPv4(text []byte, dst []Finding) []Finding {
	n := len(text)
	for i := 0; i < n; i++ {
		// Preceded by ':' it is the tail of an IPv6 address (::ffff:10.0.0.1),
		// left to an IPv6 detector.
		if !isDigit(text[i]) || (i > 0 && (isAlnum(text[i-1]) || text[i-1] == '.' || text[i-1] == ':')) {
			continue
		}
		j, dots := i, 0
		for j < n && j-i < 15 && (isDigit(text[j]) || text[j] == '.') {
			if text[j] == '.' {
				dots++
			}
			j++
		}
		for j > i && text[j-1] == '.' { // a sentence's full stop
			j--
			dots--
		}
		if dots != 3 || (j < n && (isAlnum(text[j]) || (text[j] == '.' && j+1 < n && isDigit(text[j+1])))) {
			i = j
			continue
		}
		if _, ok := validate.ParseIPv4(text[i:j]); ok {
			dst = append(dst, Finding{Type: "ipv4-address", Start: i, End: j})
		}
		i = j
	}
	return dst
}

// handClass marks the bytes where a hand-written scanner may start: digits
// (digit runs, IPv4) and upper-case letters (IBAN country codes).
var handClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 2
	}
	return t
}()

// scanFused runs the digit-run, IPv4 and IBAN scanners in one pass over
// text, as the engine did before the keyword pass reported their trigger
// bytes; it is held to the separate scanners, and the engine to it.
func scanFused(text []byte, dets []digitDetector, dst []Finding) []Finding {
	n := len(text)
	runEnd := 0  // end of the last digit run examined
	ibanEnd := 0 // end of the last IBAN found
	for i := 0; i < n; {
		switch handClass[text[i]] {
		case 0:
			i++
		case 1:
			var prev byte
			if i > 0 {
				prev = text[i-1]
			}
			if i == 0 || !isAlnum(prev) {
				// A digit run is examined once, from its first digit; an
				// IPv4 address may still start inside it, after one of its
				// space or dash separators.
				if i >= runEnd {
					dst, runEnd = digitRunAt(text, i, dets, dst)
				}
				if prev != '.' && prev != ':' {
					dst = ipv4At(text, i, dst)
				}
			}
			i++
		default:
			// IBANs do not overlap; digit runs inside one are still
			// examined, as by the separate scanners.
			if i >= ibanEnd {
				var ok bool
				if dst, ok = ibanAt(text, i, dst); ok {
					ibanEnd = dst[len(dst)-1].End
				}
			}
			i++
		}
	}
	return dst
}

// FuzzFusedEqualsSeparate holds the one-pass scanner to the three separate
// scanners it replaced on the hot path.
func FuzzFusedEqualsSeparate(f *testing.F) {
	for _, s := range []string{
		"card 4111 1111 1111 1111, ip 10.0.0.1, iban GB82 WEST 1234 5698 7654 32",
		"1.4111111111111111 and 078-05-1123 and ::ffff:10.0.0.1 DE89370400440532013000",
		"x1.2.3.4 1.2.3.4.5 256.1.1.1 GB82WEST12345698765432x",
		"GB82 WEST 1234 5698 7654 32 and 000000000000000000 0.0.0.0",
	} {
		f.Add([]byte(s))
	}
	dets := digitDetectors()
	f.Fuzz(func(t *testing.T, text []byte) {
		want := scanIPv4(text, scanIBANs(text, scanDigits(text, dets, nil)))
		got := scanFused(text, dets, nil)
		if sorted(got) != sorted(want) {
			t.Fatalf("%q: fused %v, separate %v", text, got, want)
		}
	})
}

// Values listed with the separators their groups use are found one by one,
// and a short number before a card does not hide it.
func TestDigitRunLists(t *testing.T) {
	e := testEngine(t)
	for text, want := range map[string][]string{
		"4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881": {"4012888888881881", "4012-8888-8888-1881", "4012 8888 8888 1881"},
		"qty 2 4111 1111 1111 1111 ok":                             {"4111 1111 1111 1111"},
		"536-22-8725 4111111111111111":                             {"536-22-8725", "4111111111111111"},
		"ids 1234 5678 9012 3456 7890":                             nil,
	} {
		var got []string
		for _, f := range e.Scan([]byte(text), nil) {
			got = append(got, text[f.Start:f.End])
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%q: found %q, want %q", text, got, want)
		}
	}
}
