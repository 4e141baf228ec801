package validate

// USSSN reports whether s is a structurally valid US Social Security number
// (SSA, "Social Security Number Randomization", 2011; SSA POMS RM 10201.035):
// 9 digits AAA-GG-SSSS where the area is not 000, 666 or 900–999, the group
// is not 00, the serial is not 0000, and the number is not one of the
// published never-valid numbers 078-05-1120 (Woolworth wallet card),
// 219-09-9999 (SSA advertising) or 123-45-6789, nor nine identical digits.
func USSSN[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], defaultSeps)
	if !ok || n != 9 || allSame(d[:]) {
		return false
	}
	area, group, serial := num(d[0:3]), num(d[3:5]), num(d[5:9])
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return false
	}
	switch num(d[:]) {
	case 78051120, 219099999, 123456789:
		return false
	}
	return true
}

// USITIN reports whether s is a structurally valid US Individual Taxpayer
// Identification Number (IRS, "ITIN range expansion", 2011): 9 digits
// 9XX-GG-SSSS whose group GG is 50–65, 70–88, 90–92 or 94–99, and whose
// serial is not 0000.
func USITIN[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], defaultSeps)
	if !ok || n != 9 || d[0] != 9 || num(d[5:9]) == 0 {
		return false
	}
	g := num(d[3:5])
	return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94
}

// USEIN reports whether s is a structurally valid US Employer Identification
// Number: 9 digits written XX-XXXXXXX (or without the dash) whose 2-digit
// prefix is one the IRS assigns ("How EINs are assigned and valid EIN
// prefixes"): 01–06, 10–16, 20–27, 30–48, 50–68, 71–77, 80–88, 90–95, 98, 99.
// EIN has no check digit.
func USEIN[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], "-")
	if !ok || n != 9 {
		return false
	}
	if len(s) != 9 && (len(s) != 10 || s[2] != '-') {
		return false
	}
	p := num(d[:2])
	switch {
	case p >= 1 && p <= 6, p >= 10 && p <= 16, p >= 20 && p <= 27, p >= 30 && p <= 48,
		p >= 50 && p <= 68, p >= 71 && p <= 77, p >= 80 && p <= 88, p >= 90 && p <= 95, p >= 98:
		return true
	}
	return false
}

// CanadaSIN reports whether s is a valid Canadian Social Insurance Number
// (Employment and Social Development Canada): 9 digits passing the Luhn test,
// whose first digit is not 0 (unassigned) or 8 (business numbers).
func CanadaSIN[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], defaultSeps)
	return ok && n == 9 && d[0] != 0 && d[0] != 8 && luhnOK(d[:])
}

// brazilCheck returns the Receita Federal mod-11 check digit for d with the
// given weights: r = Σ dᵢ·wᵢ mod 11; digit = 0 if r < 2, else 11 − r.
func brazilCheck(d []byte, w []int) byte {
	r := weighted(d, w) % 11
	if r < 2 {
		return 0
	}
	return byte(11 - r)
}

// BrazilCPF reports whether s is a valid Brazilian individual taxpayer number
// (CPF, Receita Federal, IN RFB 1548/2015): 11 digits, optionally formatted
// "ddd.ddd.ddd-dd", not all the same digit, with two mod-11 check digits
// (weights 10…2 over the first nine, then 11…2 over the first ten; a
// remainder below 2 gives 0, otherwise 11 − remainder).
func BrazilCPF[T Text](s T) bool {
	var d [11]byte
	n, ok := digitsMixed(s, d[:], ".- ")
	if !ok || n != 11 || allSame(d[:]) {
		return false
	}
	return d[9] == brazilCheck(d[:9], []int{10, 9, 8, 7, 6, 5, 4, 3, 2}) &&
		d[10] == brazilCheck(d[:10], []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2})
}

// BrazilCNPJ reports whether s is a valid Brazilian company registry number
// (CNPJ, Receita Federal): 14 characters, optionally formatted
// "dd.ddd.ddd/dddd-dd", not all the same, whose last two are mod-11 check
// digits (weights 5,4,3,2,9,8,7,6,5,4,3,2 then 6,5,4,3,2,9,8,7,6,5,4,3,2; a
// remainder below 2 gives 0, otherwise 11 − remainder). The first twelve
// characters may be upper-case letters, valued ASCII − 48, as in the
// alphanumeric CNPJ (IN RFB 2229/2024, issued from July 2026).
func BrazilCNPJ[T Text](s T) bool {
	var b [14]byte
	n, ok := alnumMixed(s, b[:], "./- ")
	if !ok || n != 14 || !isDigit(b[12]) || !isDigit(b[13]) || allSame(b[:]) {
		return false
	}
	var d [14]byte
	for i, c := range b {
		d[i] = c - '0' // letters become 17–42
	}
	w1 := []int{5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	w2 := []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	return d[12] == brazilCheck(d[:12], w1) && d[13] == brazilCheck(d[:13], w2)
}

// curpValue maps a CURP character to its value in
// "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ" (Ñ, never present in ASCII, is 24).
func curpValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'A' && c <= 'N':
		return int(c-'A') + 10
	case c >= 'O' && c <= 'Z':
		return int(c-'O') + 25
	}
	return -1
}

// MexicoCURP reports whether s is a valid Mexican Clave Única de Registro de
// Población (RENAPO, normative instructions for assigning the CURP):
// 4 letters, a real birth date YYMMDD, sex H, M or X, a 2-letter state code
// (one of the 32 entities or NE, born abroad), 3 consonants, a homoclave
// character (digit for births before 2000, letter from 2000) and a check
// digit (10 − Σ value(cᵢ)·(18−i) mod 10) mod 10 over the first 17
// characters, with values from "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ".
// Upper case only.
func MexicoCURP[T Text](s T) bool {
	if len(s) != 18 {
		return false
	}
	for i := 0; i < 4; i++ {
		if !isUpper(s[i]) {
			return false
		}
	}
	var dt [6]byte
	for i := 0; i < 6; i++ {
		if !isDigit(s[4+i]) {
			return false
		}
		dt[i] = s[4+i] - '0'
	}
	if s[10] != 'H' && s[10] != 'M' && s[10] != 'X' {
		return false
	}
	if !mexicoState(s[11], s[12]) {
		return false
	}
	for i := 13; i < 16; i++ {
		if !isUpper(s[i]) || isVowel(s[i]) {
			return false
		}
	}
	yy := num(dt[0:2])
	var y int
	switch {
	case isDigit(s[16]):
		y = 1900 + yy
	case isUpper(s[16]):
		y = 2000 + yy
	default:
		return false
	}
	if !validDate(y, num(dt[2:4]), num(dt[4:6])) || !isDigit(s[17]) {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += curpValue(s[i]) * (18 - i)
	}
	return int(s[17]-'0') == (10-sum%10)%10
}

func isVowel(c byte) bool { return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' }

func mexicoState(a, b byte) bool {
	const states = "ASBCBSCCCLCMCSCHDFDGGTGRHGJCMCMNMSNTNLOCPLQTQRSPSLSRTCTSTLVZYNZSNE"
	for i := 0; i < len(states); i += 2 {
		if states[i] == a && states[i+1] == b {
			return true
		}
	}
	return false
}

// ChileRUT reports whether s is a valid Chilean RUT/RUN (Servicio de
// Impuestos Internos): a 7–8 digit body (optionally grouped by dots) and a
// verifier, optionally after a dash, computed with weights 2,3,4,5,6,7
// repeating from the right: v = 11 − (Σ mod 11), 11 → '0', 10 → 'K'
// (either case).
func ChileRUT[T Text](s T) bool {
	if len(s) < 8 {
		return false
	}
	last := s[len(s)-1]
	body := s[:len(s)-1]
	if len(body) > 0 && body[len(body)-1] == '-' {
		body = body[:len(body)-1]
	}
	var d [8]byte
	n, ok := digits(body, d[:], ".")
	if !ok || n < 7 {
		return false
	}
	sum := 0
	for i := 0; i < n; i++ {
		sum += int(d[n-1-i]) * (2 + i%6)
	}
	var want byte
	switch v := 11 - sum%11; v {
	case 11:
		want = '0'
	case 10:
		want = 'K'
	default:
		want = byte('0' + v)
	}
	if last == 'k' {
		last = 'K'
	}
	return last == want
}
