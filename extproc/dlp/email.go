package dlp

// emailAt reports the e-mail address around the '@' at text[at], found
// without a regular expression: it extends left over local-part characters
// and right over domain labels, then checks the shape (non-empty local part
// starting with an alphanumeric, at least two labels, an alphabetic
// top-level label of 2–24 letters, no label starting or ending with '-').
// Addresses do not contain '@', so each '@' is examined on its own.
func emailAt(text []byte, at int, dst []Finding) []Finding {
	n := len(text)
	l, lim := at, max(at-64, 0)
	for l > lim && emailClass[text[l-1]]&cLocal != 0 {
		l--
	}
	if l > 0 && emailClass[text[l-1]]&cLocal != 0 {
		return dst // local part longer than 64: not an address
	}
	for l < at && emailClass[text[l]]&cAlnum == 0 {
		l++
	}
	if l == at {
		return dst
	}
	// Domain labels, each scanned once; the name stops growing 253 bytes
	// after the '@'.
	r, labels, tldOK := at+1, 0, false
	for {
		ls, letters := r, uint8(cLetter)
		for r < n && r-at <= 253 {
			c := emailClass[text[r]]
			if c&cDomain == 0 {
				break
			}
			letters &= c
			r++
		}
		if r == ls || text[ls] == '-' || text[r-1] == '-' || r-ls > 63 {
			break
		}
		labels++
		tldOK = r-ls >= 2 && r-ls <= 24 && letters != 0
		if r+1 < n && text[r] == '.' && emailClass[text[r+1]]&cDomain != 0 {
			r++
			continue
		}
		break
	}
	if labels < 2 || !tldOK {
		return dst
	}
	end := r
	for end < n && emailClass[text[end]]&cDomain != 0 {
		end++
	}
	if end < n && emailClass[text[end]]&(cAlnum|cAt) != 0 {
		return dst
	}
	return append(dst, Finding{Type: "email", Start: l, End: end})
}

// Byte classes of e-mail addresses.
const (
	cLocal  = 1 << iota // isLocalChar
	cDomain             // isDomainChar
	cAlnum              // isAlnum
	cLetter             // an ASCII letter
	cAt                 // '@'
)

var emailClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if isLocalChar(b) {
			t[c] |= cLocal
		}
		if isDomainChar(b) {
			t[c] |= cDomain
		}
		if isAlnum(b) {
			t[c] |= cAlnum
		}
		if b|0x20 >= 'a' && b|0x20 <= 'z' {
			t[c] |= cLetter
		}
	}
	t['@'] |= cAt
	return t
}()

func isLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '%' || c == '+' || c == '-'
}

func isDomainChar(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c == '-'
}
