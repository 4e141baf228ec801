package dlp

import "bytes"

// scanEmails finds e-mail addresses without a regular expression: from each
// '@' it extends left over local-part characters and right over domain
// labels, then checks the shape (non-empty local part starting with an
// alphanumeric, at least two labels, an alphabetic top-level label of 2–24
// letters, no label starting or ending with '-').
func scanEmails(text []byte, dst []Finding) []Finding {
	for i := 0; i < len(text); {
		j := bytes.IndexByte(text[i:], '@')
		if j < 0 {
			break
		}
		at := i + j
		i = at + 1
		l := at
		for l > 0 && at-l < 64 && isLocalChar(text[l-1]) {
			l--
		}
		if l > 0 && isLocalChar(text[l-1]) {
			continue // local part longer than 64: not an address
		}
		for l < at && !isAlnum(text[l]) {
			l++
		}
		if l == at {
			continue
		}
		r, labelStart, labels, tldOK := at+1, at+1, 0, false
		for r <= len(text) {
			if r < len(text) && isDomainChar(text[r]) && r-at <= 253 {
				r++
				continue
			}
			// end of a label at r
			label := text[labelStart:r]
			if len(label) == 0 || label[0] == '-' || label[len(label)-1] == '-' || len(label) > 63 {
				break
			}
			labels++
			tldOK = len(label) >= 2 && len(label) <= 24 && allLetters(label)
			if r < len(text) && text[r] == '.' && r+1 < len(text) && isDomainChar(text[r+1]) {
				r++
				labelStart = r
				continue
			}
			break
		}
		if labels < 2 || !tldOK {
			continue
		}
		end := labelStart
		for end < len(text) && isDomainChar(text[end]) {
			end++
		}
		if end < len(text) && (isAlnum(text[end]) || text[end] == '@') {
			continue
		}
		dst = append(dst, Finding{Type: "email", Start: l, End: end})
		i = end
	}
	return dst
}

func isLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '%' || c == '+' || c == '-'
}

func isDomainChar(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c == '-'
}

func allLetters(b []byte) bool {
	for _, c := range b {
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	return true
}
