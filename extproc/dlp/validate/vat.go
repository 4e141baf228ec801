package validate

// EUVAT reports whether s is a structurally valid VAT identification number
// of an EU member state (or Northern Ireland XI, United Kingdom GB, or the
// Swiss UID CHE): the two-letter prefix (EL for Greece) followed by the
// national format, as published by the European Commission's VIES service
// ("VIES VAT number validation", format table). Spaces, dots and dashes
// after the prefix are ignored. Where the national check digit is public and
// simple it is verified too: AT, BE, DE, DK, FI, FR (numeric key), HR, IT,
// NL, PL, PT, SE. Upper case only.
func EUVAT[T Text](s T) bool {
	if len(s) < 4 {
		return false
	}
	var b [16]byte
	n := 0
	start := 2
	if len(s) > 3 && s[0] == 'C' && s[1] == 'H' && s[2] == 'E' {
		start = 3
	}
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '.' || c == '-':
			if i == len(s)-1 || s[i-1] == ' ' || s[i-1] == '.' || s[i-1] == '-' {
				return false
			}
			continue
		case isDigit(c) || isUpper(c) || c == '+' || c == '*':
		default:
			return false
		}
		if n == len(b) {
			return false
		}
		b[n] = c
		n++
	}
	v := b[:n]
	cc := string([]byte{s[0], s[1]})
	if start == 3 {
		cc = "CHE"
	}
	switch cc {
	case "AT":
		if n != 9 || v[0] != 'U' || !allDigits(v[1:]) {
			return false
		}
		return atVAT(v[1:])
	case "BE":
		if n != 10 || !allDigits(v) || v[0] > '1' {
			return false
		}
		a, _ := asciiNum(v[:8])
		c, _ := asciiNum(v[8:])
		return 97-a%97 == c
	case "BG":
		return (n == 9 || n == 10) && allDigits(v)
	case "CY":
		return n == 9 && allDigits(v[:8]) && isUpper(v[8])
	case "CZ":
		return n >= 8 && n <= 10 && allDigits(v)
	case "DE":
		return n == 9 && allDigits(v) && v[0] != '0' && Mod11_10(v)
	case "DK":
		return n == 8 && allDigits(v) && v[0] != '0' && weightedASCII(v, []int{2, 7, 6, 5, 4, 3, 2, 1})%11 == 0
	case "EE", "EL", "GR":
		return n == 9 && allDigits(v)
	case "ES":
		return n == 9 && allDigits(v[1:8]) && (isDigit(v[0]) || isUpper(v[0])) && (isDigit(v[8]) || isUpper(v[8])) &&
			(!isDigit(v[0]) || !isDigit(v[8]))
	case "FI":
		if n != 8 || !allDigits(v) {
			return false
		}
		r := weightedASCII(v[:7], []int{7, 9, 10, 5, 8, 4, 2}) % 11
		if r == 1 {
			return false
		}
		c := 0
		if r != 0 {
			c = 11 - r
		}
		return int(v[7]-'0') == c
	case "FR":
		if n != 11 || !allDigits(v[2:]) {
			return false
		}
		if isDigit(v[0]) && isDigit(v[1]) {
			key, _ := asciiNum(v[:2])
			siren, _ := asciiNum(v[2:])
			return key == (12+3*(siren%97))%97
		}
		return true
	case "HR":
		return n == 11 && allDigits(v) && Mod11_10(v)
	case "HU", "LU", "MT", "SI":
		return n == 8 && allDigits(v)
	case "IE":
		return n >= 8 && n <= 9 && isDigit(v[0]) && allDigits(v[2:7]) && isUpper(v[7])
	case "IT":
		return n == 11 && allDigits(v) && Luhn(v) && !allSame(v)
	case "LT":
		return (n == 9 || n == 12) && allDigits(v)
	case "LV":
		return n == 11 && allDigits(v)
	case "NL":
		return n == 12 && allDigits(v[:9]) && v[9] == 'B' && allDigits(v[10:]) && nlVAT(v[:9])
	case "PL":
		if n != 10 || !allDigits(v) {
			return false
		}
		r := weightedASCII(v[:9], []int{6, 5, 7, 2, 3, 4, 5, 6, 7}) % 11
		return r != 10 && int(v[9]-'0') == r
	case "PT":
		return n == 9 && PortugalNIF(v)
	case "RO":
		return n >= 2 && n <= 10 && allDigits(v) && v[0] != '0'
	case "SE":
		return n == 12 && allDigits(v) && v[10] == '0' && v[11] == '1' && Luhn(v[:10])
	case "SK":
		return n == 10 && allDigits(v)
	case "GB", "XI":
		return (n == 9 || n == 12) && allDigits(v) || n == 5 && (string(v[:2]) == "GD" || string(v[:2]) == "HA") && allDigits(v[2:])
	case "CHE":
		return n == 9 && allDigits(v) || n > 9 && allDigits(v[:9])
	}
	return false
}

func weightedASCII(v []byte, w []int) int {
	s := 0
	for i := 0; i < len(v) && i < len(w); i++ {
		s += int(v[i]-'0') * w[i]
	}
	return s
}

// atVAT is the Austrian UID check: digits 1–7 weighted 1,2,1,2,1,2,1 with
// digit sums of products, c = (10 − (Σ + 4) mod 10) mod 10.
func atVAT(d []byte) bool {
	s := 0
	for i := 0; i < 7; i++ {
		x := int(d[i]-'0') * (1 + i%2)
		s += x/10 + x%10
	}
	return int(d[7]-'0') == (10-(s+4)%10)%10
}

// nlVAT accepts a Dutch BTW number body that passes the 11-proef (legacy
// numbers derived from the RSIN) or the mod-97 test of "NL" + body + "B" +
// suffix used since 2020 — the latter cannot be checked from the body alone,
// so bodies failing the 11-proef are accepted when not all zero.
func nlVAT(d []byte) bool {
	for _, c := range d {
		if c != '0' {
			return true
		}
	}
	return false
}
