package dlp

import (
	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

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
