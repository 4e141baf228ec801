// Package validate is the checksum and structure layer of the sensitive-data
// detection engine.
//
// Every function is pure, has no global mutable state and does not allocate:
// candidates are passed as string or []byte (see [Text]), separators are
// skipped in place and intermediate digits live in fixed-size stack arrays.
// Functions answer "is this candidate structurally valid"; they never search
// text. Callers find candidates with their own scanners and call the matching
// validator on each candidate span.
//
// Unless a function's documentation says otherwise, a digit validator accepts
// the bare digits or the digits grouped by one kind of separator (space, '-'
// or '.'): separators may not lead, trail, repeat or be mixed, so
// "078-05-1123" and "078 05 1123" are accepted but "693-09.4444" is not.
package validate

// Text is the set of input types accepted by the validators. Both forms are
// read byte-by-byte without conversion, so neither allocates.
type Text interface {
	~string | ~[]byte
}

// separators accepted by the digit validators by default.
const defaultSeps = " -."

// isSep reports whether c is in seps.
func isSep(c byte, seps string) bool {
	for i := 0; i < len(seps); i++ {
		if seps[i] == c {
			return true
		}
	}
	return false
}

// digits copies the decimal digit values (0–9, not ASCII) of s into dst,
// skipping separators listed in seps. It fails when s holds any other byte,
// when there are more digits than fit in dst, or when separators lead, trail,
// are adjacent or are not all the same byte.
func digits[T Text](s T, dst []byte, seps string) (int, bool) {
	return scanDigits(s, dst, seps, uniformSeps)
}

// digitsMixed is [digits] but lets different separators appear in one
// string, for formats such as "123.456.789-09" or "85.07.30-033.28".
func digitsMixed[T Text](s T, dst []byte, seps string) (int, bool) {
	return scanDigits(s, dst, seps, mixedSeps)
}

// sepPolicy says whether one string may use more than one separator byte.
type sepPolicy uint8

const (
	uniformSeps sepPolicy = iota
	mixedSeps
)

func scanDigits[T Text](s T, dst []byte, seps string, policy sepPolicy) (int, bool) {
	n := 0
	var sep byte
	prevSep := true // forbids a leading separator
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(dst) {
				return 0, false
			}
			dst[n] = c - '0'
			n++
			prevSep = false
		case isSep(c, seps):
			if prevSep || (policy == uniformSeps && sep != 0 && sep != c) {
				return 0, false
			}
			sep = c
			prevSep = true
		default:
			return 0, false
		}
	}
	if prevSep && len(s) > 0 {
		return 0, false
	}
	return n, true
}

// alnum copies the ASCII letters (upper-cased) and digits (as ASCII) of s into
// dst with the same separator rules as [digits].
func alnum[T Text](s T, dst []byte, seps string) (int, bool) {
	return scanAlnum(s, dst, seps, uniformSeps)
}

// alnumMixed is [alnum] allowing different separators in one string.
func alnumMixed[T Text](s T, dst []byte, seps string) (int, bool) {
	return scanAlnum(s, dst, seps, mixedSeps)
}

func scanAlnum[T Text](s T, dst []byte, seps string, policy sepPolicy) (int, bool) {
	n := 0
	var sep byte
	prevSep := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
			fallthrough
		case (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'):
			if n == len(dst) {
				return 0, false
			}
			dst[n] = c
			n++
			prevSep = false
		case isSep(c, seps):
			if prevSep || (policy == uniformSeps && sep != 0 && sep != c) {
				return 0, false
			}
			sep = c
			prevSep = true
		default:
			return 0, false
		}
	}
	if prevSep && len(s) > 0 {
		return 0, false
	}
	return n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// allDigits reports whether every byte of b is an ASCII digit.
func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// allSame reports whether every element of d equals d[0].
func allSame(d []byte) bool {
	for _, v := range d {
		if v != d[0] {
			return false
		}
	}
	return true
}

// num converts the digit values d (0–9) to an integer.
func num(d []byte) int {
	v := 0
	for _, x := range d {
		v = v*10 + int(x)
	}
	return v
}

// asciiNum converts ASCII digits to an integer; ok is false on a non-digit.
func asciiNum(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// weighted returns Σ d[i]·w[i] over the shorter of the two slices.
func weighted(d []byte, w []int) int {
	s := 0
	for i := 0; i < len(d) && i < len(w); i++ {
		s += int(d[i]) * w[i]
	}
	return s
}

// validDate reports whether y-m-d is a real proleptic Gregorian date.
func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isoCountries is every ISO 3166-1 alpha-2 code assigned as of 2024, sorted.
const isoCountries = "" +
	"ADAEAFAGAIALAMAOAQARASATAUAWAXAZ" +
	"BABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ" +
	"CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ" +
	"DEDJDKDMDODZ" +
	"ECEEEGEHERESET" +
	"FIFJFKFMFOFR" +
	"GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY" +
	"HKHMHNHRHTHU" +
	"IDIEILIMINIOIQIRISIT" +
	"JEJMJOJP" +
	"KEKGKHKIKMKNKPKRKWKYKZ" +
	"LALBLCLILKLRLSLTLULVLY" +
	"MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ" +
	"NANCNENFNGNINLNONPNRNUNZ" +
	"OM" +
	"PAPEPFPGPHPKPLPMPNPRPSPTPWPY" +
	"QA" +
	"RERORSRURW" +
	"SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ" +
	"TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ" +
	"UAUGUMUSUYUZ" +
	"VAVCVEVGVIVNVU" +
	"WFWS" +
	"YEYT" +
	"ZAZMZW"

// ISOCountry reports whether a and b (upper-case ASCII letters) form an
// officially assigned ISO 3166-1 alpha-2 country code. User-assigned codes
// such as XK (Kosovo) are not included; callers add them where an authority
// uses them.
func ISOCountry(a, b byte) bool {
	lo, hi := 0, len(isoCountries)/2
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		x, y := isoCountries[2*mid], isoCountries[2*mid+1]
		switch {
		case x == a && y == b:
			return true
		case x < a || (x == a && y < b):
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return false
}
