package validate

// ABARouting reports whether s is a valid US ABA routing transit number
// (American Bankers Association, "Key to Routing Numbers"): nine digits
// (separators as in the package rules) whose first two digits are 00–12
// (Federal Reserve routing), 21–32 (thrift), 61–72 (electronic) or 80
// (traveller's cheques), not all zero, with
// 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
func ABARouting[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], defaultSeps)
	if !ok || n != 9 || allSame(d[:]) && d[0] == 0 {
		return false
	}
	if !abaPrefix(num(d[:2])) {
		return false
	}
	sum := 3*int(d[0]+d[3]+d[6]) + 7*int(d[1]+d[4]+d[7]) + int(d[2]+d[5]+d[8])
	return sum%10 == 0
}

// abaPrefix reports whether p is an assigned first-two-digit range.
func abaPrefix(p int) bool {
	switch {
	case p <= 12, p >= 21 && p <= 32, p >= 61 && p <= 72, p == 80:
		return true
	}
	return false
}

// cusipValue maps a CUSIP/ISIN character to its value: digits 0–9, letters
// A–Z 10–35, and for CUSIP '*' 36, '@' 37, '#' 38. ok is false otherwise.
func cusipValue(c byte, specials bool) (int, bool) {
	switch {
	case isDigit(c):
		return int(c - '0'), true
	case isUpper(c):
		return int(c-'A') + 10, true
	case specials && c == '*':
		return 36, true
	case specials && c == '@':
		return 37, true
	case specials && c == '#':
		return 38, true
	}
	return 0, false
}

// CUSIP reports whether s is a valid 9-character CUSIP (ANSI X9.6): eight
// characters from 0–9, A–Z, '*', '@', '#' followed by a check digit computed
// by "modulus 10 double-add-double": values (digit, A=10 … Z=35, *=36, @=37,
// #=38) at even positions (2nd, 4th, …) are doubled, the decimal digits of
// all products are summed, and check = (10 − sum mod 10) mod 10.
// Upper-case only; no separators.
func CUSIP[T Text](s T) bool {
	if len(s) != 9 || !isDigit(s[8]) {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		v, ok := cusipValue(s[i], true)
		if !ok {
			return false
		}
		if i%2 == 1 {
			v *= 2
		}
		sum += v/10 + v%10
	}
	return int(s[8]-'0') == (10-sum%10)%10
}

// ISIN reports whether s is a valid International Securities Identification
// Number (ISO 6166): a two-letter prefix that is an ISO 3166-1 country or one
// of the ISO 6166 special prefixes XS, EU, XA, XB, XC, XD, XK; a 9-character
// alphanumeric NSIN; and a check digit such that, with every letter replaced
// by its two-digit value (A=10 … Z=35), the whole digit string passes the
// Luhn test. Upper-case only; no separators.
func ISIN[T Text](s T) bool {
	if len(s) != 12 || !isDigit(s[11]) || !isUpper(s[0]) || !isUpper(s[1]) {
		return false
	}
	a, b := s[0], s[1]
	if !ISOCountry(a, b) && !isinSpecial(a, b) {
		return false
	}
	var d [24]byte
	n := 0
	for i := 0; i < 12; i++ {
		v, ok := cusipValue(s[i], false)
		if !ok {
			return false
		}
		if v >= 10 {
			d[n] = byte(v / 10)
			n++
		}
		d[n] = byte(v % 10)
		n++
	}
	return luhnOK(d[:n])
}

func isinSpecial(a, b byte) bool {
	switch cc(a, b) {
	case cc('X', 'S'), cc('E', 'U'), cc('X', 'A'), cc('X', 'B'), cc('X', 'C'), cc('X', 'D'), cc('X', 'K'):
		return true
	}
	return false
}

// SWIFTBIC reports whether s has the structure of a SWIFT Business
// Identifier Code (ISO 9362): 4 letters (institution), a 2-letter ISO 3166-1
// country code (or XK), a 2-character alphanumeric location code whose first
// character is not '0' or '1' and whose second is not the letter 'O', and an
// optional 3-character alphanumeric branch code that, if it starts with 'X',
// is "XXX". Upper-case only. BIC has no check digit, so structure alone
// matches many upper-case words; require context before reporting.
func SWIFTBIC[T Text](s T) bool {
	if len(s) != 8 && len(s) != 11 {
		return false
	}
	for i := 0; i < 6; i++ {
		if !isUpper(s[i]) {
			return false
		}
	}
	if !ISOCountry(s[4], s[5]) && cc(s[4], s[5]) != cc('X', 'K') {
		return false
	}
	for i := 6; i < len(s); i++ {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	if s[6] == '0' || s[6] == '1' || s[7] == 'O' {
		return false
	}
	if len(s) == 11 && s[8] == 'X' && (s[9] != 'X' || s[10] != 'X') {
		return false
	}
	return true
}
