package validate

// IBANLength returns the IBAN length registered for the ISO 3166 country code
// cc (two upper-case letters), or 0 when the country does not issue IBANs.
// The table follows the SWIFT IBAN Registry (ISO 13616) as of 2025: all
// SEPA members plus every other registered country, including XK (Kosovo).
func IBANLength(a, b byte) int {
	switch uint16(a)<<8 | uint16(b) {
	case cc('N', 'O'):
		return 15
	case cc('B', 'E'):
		return 16
	case cc('D', 'K'), cc('F', 'I'), cc('F', 'K'), cc('F', 'O'), cc('G', 'L'), cc('N', 'L'), cc('S', 'D'):
		return 18
	case cc('M', 'K'), cc('S', 'I'):
		return 19
	case cc('A', 'T'), cc('B', 'A'), cc('E', 'E'), cc('K', 'Z'), cc('L', 'T'), cc('L', 'U'), cc('M', 'N'), cc('X', 'K'):
		return 20
	case cc('C', 'H'), cc('H', 'R'), cc('L', 'I'), cc('L', 'V'):
		return 21
	case cc('B', 'G'), cc('B', 'H'), cc('C', 'R'), cc('D', 'E'), cc('G', 'B'), cc('G', 'E'), cc('I', 'E'), cc('M', 'E'),
		cc('R', 'S'), cc('V', 'A'):
		return 22
	case cc('A', 'E'), cc('G', 'I'), cc('I', 'L'), cc('I', 'Q'), cc('O', 'M'), cc('S', 'O'), cc('T', 'L'):
		return 23
	case cc('A', 'D'), cc('C', 'Z'), cc('E', 'S'), cc('M', 'D'), cc('P', 'K'), cc('R', 'O'), cc('S', 'A'), cc('S', 'E'),
		cc('S', 'K'), cc('T', 'N'), cc('V', 'G'):
		return 24
	case cc('L', 'Y'), cc('P', 'T'), cc('S', 'T'):
		return 25
	case cc('I', 'S'), cc('T', 'R'):
		return 26
	case cc('B', 'I'), cc('D', 'J'), cc('F', 'R'), cc('G', 'R'), cc('I', 'T'), cc('M', 'C'), cc('M', 'R'), cc('S', 'M'):
		return 27
	case cc('A', 'L'), cc('A', 'Z'), cc('B', 'Y'), cc('C', 'Y'), cc('D', 'O'), cc('G', 'T'), cc('H', 'N'), cc('H', 'U'),
		cc('L', 'B'), cc('N', 'I'), cc('P', 'L'), cc('S', 'V'):
		return 28
	case cc('B', 'R'), cc('E', 'G'), cc('P', 'S'), cc('Q', 'A'), cc('U', 'A'):
		return 29
	case cc('J', 'O'), cc('K', 'W'), cc('M', 'U'), cc('Y', 'E'):
		return 30
	case cc('M', 'T'), cc('S', 'C'):
		return 31
	case cc('L', 'C'):
		return 32
	case cc('R', 'U'):
		return 33
	}
	return 0
}

func cc(a, b byte) uint16 { return uint16(a)<<8 | uint16(b) }

// maxIBAN is the longest registered IBAN (Russia, 33).
const maxIBAN = 34

// IBAN reports whether s is a valid International Bank Account Number
// (ISO 13616-1): a registered country code, check digits 02–98, an
// alphanumeric BBAN, the registry length for that country (see [IBANLength])
// and, after moving the first four characters to the end and replacing
// letters by 10–35, a value ≡ 1 (mod 97) (ISO/IEC 7064 MOD 97-10).
// Letters may be all upper case or all lower case, not mixed. The paper
// format's grouping into blocks of four by single spaces (or dashes) is
// accepted; any separator must then follow every fourth character. The
// national BBAN structure is not checked.
func IBAN[T Text](s T) bool {
	if !ibanShape(s) {
		return false
	}
	var buf [maxIBAN]byte
	n, ok := alnum(s, buf[:], " -")
	if !ok || n < 15 {
		return false
	}
	b := buf[:n]
	if !isUpper(b[0]) || !isUpper(b[1]) || !isDigit(b[2]) || !isDigit(b[3]) {
		return false
	}
	if IBANLength(b[0], b[1]) != n {
		return false
	}
	if ck := int(b[2]-'0')*10 + int(b[3]-'0'); ck < 2 || ck > 98 {
		return false
	}
	r := 0
	for i := 4; i < n+4; i++ {
		c := b[i%n]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r == 1
}

// ibanShape checks letter case consistency and, when s is grouped, that
// separators sit exactly between blocks of four characters.
func ibanShape[T Text](s T) bool {
	lower, upper, grouped := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c == ' ' || c == '-':
			grouped = true
		}
	}
	if lower && upper {
		return false
	}
	if !grouped {
		return true
	}
	for i := 0; i < len(s); i++ {
		isSepPos := i%5 == 4
		if (s[i] == ' ' || s[i] == '-') != isSepPos {
			return false
		}
	}
	return s[len(s)-1] != ' ' && s[len(s)-1] != '-'
}
