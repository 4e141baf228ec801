package validate

// NPI reports whether s is a valid US National Provider Identifier (CMS,
// "Requirements for NPI check digit", 45 CFR 162.406): 10 digits, the first
// 1 or 2, whose last digit is the Luhn check digit of the 9-digit identifier
// prefixed with the ISO 7812 card issuer prefix 80840 (equivalently, the
// Luhn sum of the 10 digits plus the constant 24 is ≡ 0 mod 10).
func NPI[T Text](s T) bool {
	var d [10]byte
	n, ok := digits(s, d[:], defaultSeps)
	return ok && n == 10 && (d[0] == 1 || d[0] == 2) && (luhnSum(d[:])+24)%10 == 0
}

// DEANumber reports whether s is a valid US DEA registration number (Drug
// Enforcement Administration, 21 CFR 1301): a registrant-type letter (A, B,
// C, D, E, F, G, H, J, K, L, M, P, R, S, T, U or X), a second letter (the
// registrant's surname initial) or the digit 9, and seven digits whose last
// equals the last digit of (d1+d3+d5) + 2·(d2+d4+d6). Upper case only.
func DEANumber[T Text](s T) bool {
	if len(s) != 9 {
		return false
	}
	switch s[0] {
	case 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'P', 'R', 'S', 'T', 'U', 'X':
	default:
		return false
	}
	if !isUpper(s[1]) && s[1] != '9' {
		return false
	}
	var d [7]int
	for i := 0; i < 7; i++ {
		c := s[2+i]
		if !isDigit(c) {
			return false
		}
		d[i] = int(c - '0')
	}
	return (d[0]+d[2]+d[4]+2*(d[1]+d[3]+d[5]))%10 == d[6]
}

// mbiLetter reports whether c is a letter allowed in a Medicare Beneficiary
// Identifier: A–Z except S, L, O, I, B and Z.
func mbiLetter(c byte) bool {
	return isUpper(c) && c != 'S' && c != 'L' && c != 'O' && c != 'I' && c != 'B' && c != 'Z'
}

// MedicareMBI reports whether s is a structurally valid US Medicare
// Beneficiary Identifier (CMS, "Understanding the MBI format"): 11
// characters C A AN N A AN N A A N N where C is 1–9, N is 0–9, A is a letter
// other than S, L, O, I, B, Z, and AN is either. Dashes after the 4th and 7th
// characters ("1EG4-TE5-MK73") are accepted; case-insensitive. MBI has no
// check digit.
func MedicareMBI[T Text](s T) bool {
	var b [11]byte
	n, ok := alnum(s, b[:], "-")
	if !ok || n != 11 {
		return false
	}
	if len(s) != 11 && (len(s) != 13 || s[4] != '-' || s[8] != '-') {
		return false
	}
	const pattern = "CAXNAXNAANN" // C 1–9, N digit, A letter, X either
	for i := 0; i < 11; i++ {
		c := b[i]
		switch pattern[i] {
		case 'C':
			ok = c >= '1' && c <= '9'
		case 'N':
			ok = isDigit(c)
		case 'A':
			ok = mbiLetter(c)
		default:
			ok = isDigit(c) || mbiLetter(c)
		}
		if !ok {
			return false
		}
	}
	return true
}

// UKNHSNumber reports whether s is a valid NHS number (England, Wales and
// Isle of Man; NHS Data Dictionary "NHS Number"): 10 digits, commonly
// written 3-3-4, where with r = 11 − (Σ dᵢ·(10−i) mod 11) over the first
// nine digits the check digit is r (11 → 0; 10 makes the number invalid).
// Ten identical digits (placeholders such as 0000000000) are rejected.
func UKNHSNumber[T Text](s T) bool {
	var d [10]byte
	n, ok := digits(s, d[:], " -")
	if !ok || n != 10 || allSame(d[:]) {
		return false
	}
	r := 11 - weighted(d[:9], []int{10, 9, 8, 7, 6, 5, 4, 3, 2})%11
	if r == 11 {
		r = 0
	}
	return r != 10 && int(d[9]) == r
}

// GS1 reports whether s is a GS1 identifier with a valid check digit (GS1
// General Specifications §7.9): 8, 12, 13, 14, 17 or 18 digits (GTIN-8,
// GTIN-12/UPC-A, GTIN-13/EAN, GTIN-14, GSIN, SSCC — including the device
// identifier of a GS1 UDI), where, weighting the digits 3,1,3,1,… from the
// right excluding the check digit, check = (10 − Σ mod 10) mod 10.
func GS1[T Text](s T) bool {
	var d [18]byte
	n, ok := digits(s, d[:], " -")
	if !ok {
		return false
	}
	switch n {
	case 8, 12, 13, 14, 17, 18:
	default:
		return false
	}
	sum := 0
	for i := n - 2; i >= 0; i-- {
		w := 1
		if (n-2-i)%2 == 0 {
			w = 3
		}
		sum += int(d[i]) * w
	}
	return int(d[n-1]) == (10-sum%10)%10
}

// vinValue is the ISO 3779 / 49 CFR 565.15 transliteration of a VIN
// character, or -1 for I, O, Q and non-alphanumerics.
func vinValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 1
	case c >= 'J' && c <= 'N':
		return int(c-'J') + 1
	case c == 'P':
		return 7
	case c == 'R':
		return 9
	case c >= 'S' && c <= 'Z':
		return int(c-'S') + 2
	}
	return -1
}

// VINStructure reports whether s has the structure of an ISO 3779 vehicle
// identification number: 17 characters from 0–9 and A–Z without I, O and Q.
// Upper case only. Use it for VINs outside North America, which carry no
// check digit.
func VINStructure[T Text](s T) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		if vinValue(s[i]) < 0 {
			return false
		}
	}
	return true
}

// VIN reports whether s is a VIN (see [VINStructure]) whose 9th character is
// the North-American check digit (49 CFR 565.15): characters are
// transliterated (A=1 … H=8, J=1 … N=5, P=7, R=9, S=2 … Z=9), weighted
// 8,7,6,5,4,3,2,10,0,9,8,7,6,5,4,3,2, and the sum mod 11 is the check
// character, 10 written 'X'. Only vehicles made for the US and Canadian
// markets are required to carry the check digit; European and Asian VINs
// often have an arbitrary 9th character and fail this test although valid,
// so pair a failure with VINStructure and context rather than discard it.
func VIN[T Text](s T) bool {
	if !VINStructure(s) {
		return false
	}
	w := [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += vinValue(s[i]) * w[i]
	}
	want := byte('0' + sum%11)
	if sum%11 == 10 {
		want = 'X'
	}
	return s[8] == want
}
