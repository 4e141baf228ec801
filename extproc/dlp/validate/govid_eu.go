package validate

// UKNINO reports whether s is a structurally valid UK National Insurance
// number (HMRC National Insurance Manual NIM39110): two prefix letters, six
// digits and a suffix letter A–D. Neither prefix letter may be D, F, I, Q, U
// or V, the second may not be O, and the prefixes BG, GB, KN, NK, NT, TN and
// ZZ are never issued. Case-insensitive; single spaces may group the parts
// ("AB 12 34 56 C"). NINO has no check digit.
func UKNINO[T Text](s T) bool {
	var b [9]byte
	n, ok := alnum(s, b[:], " ")
	if !ok || n != 9 || !isUpper(b[0]) || !isUpper(b[1]) || !allDigits(b[2:8]) {
		return false
	}
	if b[8] < 'A' || b[8] > 'D' {
		return false
	}
	bad := func(c byte) bool {
		return c == 'D' || c == 'F' || c == 'I' || c == 'Q' || c == 'U' || c == 'V'
	}
	if bad(b[0]) || bad(b[1]) || b[1] == 'O' {
		return false
	}
	switch cc(b[0], b[1]) {
	case cc('B', 'G'), cc('G', 'B'), cc('K', 'N'), cc('N', 'K'), cc('N', 'T'), cc('T', 'N'), cc('Z', 'Z'):
		return false
	}
	return true
}

// UKUTR reports whether s is a valid UK Unique Taxpayer Reference: 10 digits
// (or 13, of which the last 10 are the UTR), optionally with a leading or
// trailing 'K'/'k' and spaces. The first of the 10 digits is a check digit:
// with r = Σ d[i]·w[i] mod 11 over the other nine digits and weights
// 6,7,8,9,10,5,4,3,2, it must equal "21987654321"[r]. Reference: HMRC
// self-assessment specification (as implemented in HMRC's open-source
// frontends).
func UKUTR[T Text](s T) bool {
	lo, hi := 0, len(s)
	if hi > 0 && (s[0] == 'K' || s[0] == 'k') {
		lo++
	} else if hi > 0 && (s[hi-1] == 'K' || s[hi-1] == 'k') {
		hi--
	}
	var d [13]byte
	n, ok := digits(s[lo:hi], d[:], " ")
	if !ok || (n != 10 && n != 13) {
		return false
	}
	u := d[n-10 : n]
	r := weighted(u[1:], []int{6, 7, 8, 9, 10, 5, 4, 3, 2}) % 11
	return "21987654321"[r]-'0' == u[0]
}

// GermanySteuerID reports whether s is a valid German tax identification
// number (steuerliche Identifikationsnummer, §139b AO; BZSt): 11 digits, the
// first not 0; among the first ten digits exactly one digit occurs two or
// three times, every other digit at most once, and a digit occurring three
// times does not do so in three adjacent positions; the eleventh digit is
// the ISO/IEC 7064 MOD 11,10 check digit of the first ten.
func GermanySteuerID[T Text](s T) bool {
	var d [11]byte
	n, ok := digits(s, d[:], " ")
	if !ok || n != 11 || d[0] == 0 {
		return false
	}
	var count [10]int
	for _, v := range d[:10] {
		count[v]++
	}
	multi := 0
	for v, c := range count {
		switch {
		case c == 2:
			multi++
		case c == 3:
			multi++
			for i := 0; i+2 < 10; i++ {
				if int(d[i]) == v && d[i+1] == d[i] && d[i+2] == d[i] {
					return false
				}
			}
		case c > 3:
			return false
		}
	}
	return multi == 1 && int(d[10]) == mod11_10Check(d[:10])
}

// FranceNIR reports whether s is a valid French social security number
// (NIR, numéro d'inscription au répertoire, INSEE): 13 characters — sex 1,
// 2, 7 or 8; two-digit year; month 01–12, 20, 30–42 or 50–99 (INSEE codes
// for unknown or fictitious months); a department that is two digits or
// 2A/2B (Corsica); a three-digit commune; a three-digit order number — and
// a two-digit key equal to 97 − (N mod 97), where N is the 13 characters as
// a number with 2A read as 19 and 2B as 18. Upper- or lower-case; spaces
// may group the parts.
func FranceNIR[T Text](s T) bool {
	var b [15]byte
	n, ok := alnum(s, b[:], " ")
	if !ok || n != 15 {
		return false
	}
	if b[0] != '1' && b[0] != '2' && b[0] != '7' && b[0] != '8' {
		return false
	}
	switch {
	case b[5] == '2' && b[6] == 'A':
		b[6] = '9'
		b[5] = '1'
	case b[5] == '2' && b[6] == 'B':
		b[6] = '8'
		b[5] = '1'
	}
	v, ok := asciiNum(b[:13])
	if !ok {
		return false
	}
	key, ok := asciiNum(b[13:15])
	if !ok {
		return false
	}
	m, _ := asciiNum(b[3:5])
	return nirMonth(m) && key == 97-v%97
}

// nirMonth reports whether m is a month code INSEE issues.
func nirMonth(m int) bool {
	switch {
	case m >= 1 && m <= 12, m == 20, m >= 30 && m <= 42, m >= 50:
		return true
	}
	return false
}

// Italian codice fiscale odd-position values for 0–9 and A–Z (DM 23/12/1976).
var cfOdd = [36]byte{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // A-J
	2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, // K-Z
}

// ItalyCodiceFiscale reports whether s is a valid Italian fiscal code for a
// natural person (DM 23/12/1976, Agenzia delle Entrate): 6 letters (surname,
// name), 2-digit year, a month letter from ABCDEHLMPRST, a 2-digit day 01–31
// (41–71 for women), a cadastral code (letter + 3 digits) and a check letter.
// Omocodia substitutions (digits replaced by L M N P Q R S T U V) are
// accepted in the seven numeric positions. Check: odd positions (1st, 3rd,
// …) are mapped through the official odd table, even positions to 0–9 / 0–25,
// and the letter is 'A' + (sum mod 26). Case-insensitive, no separators.
func ItalyCodiceFiscale[T Text](s T) bool {
	if len(s) != 16 {
		return false
	}
	var b [16]byte
	n, ok := alnum(s, b[:], "")
	if !ok || n != 16 {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 4, 5, 8, 11, 15} {
		if !isUpper(b[i]) {
			return false
		}
	}
	var num [7]int
	for k, i := range [...]int{6, 7, 9, 10, 12, 13, 14} {
		c := b[i]
		switch {
		case isDigit(c):
			num[k] = int(c - '0')
		default:
			v := omocodia(c)
			if v < 0 {
				return false
			}
			num[k] = v
		}
	}
	if !isMonthLetter(b[8]) {
		return false
	}
	day := num[2]*10 + num[3]
	if day > 40 {
		day -= 40
	}
	if day < 1 || day > 31 {
		return false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := b[i]
		idx := int(c - '0')
		if isUpper(c) {
			idx = int(c-'A') + 10
		}
		if i%2 == 0 {
			sum += int(cfOdd[idx])
		} else if idx >= 10 {
			sum += idx - 10
		} else {
			sum += idx
		}
	}
	return b[15] == byte('A'+sum%26)
}

func omocodia(c byte) int {
	const letters = "LMNPQRSTUV"
	for i := 0; i < len(letters); i++ {
		if letters[i] == c {
			return i
		}
	}
	return -1
}

func isMonthLetter(c byte) bool {
	const months = "ABCDEHLMPRST"
	for i := 0; i < len(months); i++ {
		if months[i] == c {
			return true
		}
	}
	return false
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// SpainDNI reports whether s is a valid Spanish DNI/NIF for a natural person
// (Real Decreto 1553/2005, Ministerio del Interior): 8 digits (7 accepted for
// old numbers written without the leading zero) followed by the letter
// "TRWAGMYFPDXBNJZSQVHLCKE"[number mod 23]; an optional dash or space may
// precede the letter; case-insensitive.
func SpainDNI[T Text](s T) bool {
	var b [9]byte
	n, ok := alnum(s, b[:], " -")
	if !ok || (n != 8 && n != 9) || !isUpper(b[n-1]) {
		return false
	}
	v, ok := asciiNum(b[:n-1])
	return ok && dniLetters[v%23] == b[n-1]
}

// SpainNIE reports whether s is a valid Spanish foreigner identity number
// (NIE, Orden INT/2058/2008): X, Y or Z, 7 digits and a control letter
// computed as for the DNI after replacing X/Y/Z by 0/1/2. An optional dash or
// space may precede the letter; case-insensitive.
func SpainNIE[T Text](s T) bool {
	var b [9]byte
	n, ok := alnum(s, b[:], " -")
	if !ok || n != 9 || b[0] < 'X' || b[0] > 'Z' || !isUpper(b[8]) {
		return false
	}
	v, ok := asciiNum(b[1:8])
	return ok && dniLetters[(int(b[0]-'X')*10000000+v)%23] == b[8]
}

// NetherlandsBSN reports whether s is a valid Dutch citizen service number
// (burgerservicenummer, Wet algemene bepalingen burgerservicenummer): 9 digits
// (8 accepted, read with a leading zero), not all zero, passing the
// "11-proef": 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11).
func NetherlandsBSN[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], " .-")
	if !ok || (n != 8 && n != 9) {
		return false
	}
	if n == 8 {
		copy(d[1:], d[:8])
		d[0] = 0
	}
	sum := weighted(d[:8], []int{9, 8, 7, 6, 5, 4, 3, 2}) - int(d[8])
	return sum > 0 && sum%11 == 0
}

// BelgiumNationalNumber reports whether s is a valid Belgian national
// register number (Rijksregisternummer / numéro de registre national, Wet van
// 8 augustus 1983): 11 digits YYMMDD SSS CC, where CC = 97 − (YYMMDDSSS mod 97)
// for people born before 2000 and 97 − ((2·10⁹ + YYMMDDSSS) mod 97) for those
// born from 2000; the month may be 00 (unknown) or raised by 20 or 40 (BIS
// numbers), the day 00–31. Dots, dashes and spaces may separate the groups
// ("85.07.30-033.28").
func BelgiumNationalNumber[T Text](s T) bool {
	var d [11]byte
	n, ok := digitsMixed(s, d[:], " .-")
	if !ok || n != 11 {
		return false
	}
	m := num(d[2:4]) % 20
	if num(d[2:4]) > 52 || m > 12 || num(d[4:6]) > 31 {
		return false
	}
	body := num(d[:9])
	cc := num(d[9:11])
	return cc == 97-body%97 || cc == 97-(2000000000+body)%97
}

// PolandPESEL reports whether s is a valid Polish PESEL (Ustawa o ewidencji
// ludności): 11 digits YYMMDDZZZXC with a real birth date, the century encoded
// in the month (+80 → 1800s, +0 → 1900s, +20 → 2000s, +40 → 2100s,
// +60 → 2200s), and C = (10 − Σ dᵢ·wᵢ mod 10) mod 10 with weights
// 1,3,7,9,1,3,7,9,1,3.
func PolandPESEL[T Text](s T) bool {
	var d [11]byte
	n, ok := digits(s, d[:], "")
	if !ok || n != 11 {
		return false
	}
	y, m, day := num(d[0:2]), num(d[2:4]), num(d[4:6])
	switch {
	case m > 80:
		y, m = 1800+y, m-80
	case m > 60:
		y, m = 2200+y, m-60
	case m > 40:
		y, m = 2100+y, m-40
	case m > 20:
		y, m = 2000+y, m-20
	default:
		y += 1900
	}
	if !validDate(y, m, day) {
		return false
	}
	sum := weighted(d[:10], []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3})
	return int(d[10]) == (10-sum%10)%10
}

// SwedenPersonnummer reports whether s is a valid Swedish personal identity
// number (Skatteverket, SKV 704): YYMMDD-NNNC (10 digits; '-' or '+' for
// people aged 100 or more, or no separator) or YYYYMMDD[-]NNNC (12 digits).
// The date must exist (the day may be raised by 60 for a coordination
// number, samordningsnummer) in some century consistent with the form, and C
// is the Luhn check digit over the 10-digit form YYMMDDNNNC.
func SwedenPersonnummer[T Text](s T) bool {
	var d [12]byte
	n := 0
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if n == len(d) {
				return false
			}
			d[n] = c - '0'
			n++
		case (c == '-' || c == '+') && i == len(s)-5 && n >= 6:
			plus = c == '+'
		default:
			return false
		}
	}
	var ten []byte
	var year int
	switch n {
	case 10:
		ten = d[:10]
		year = -1
	case 12:
		ten = d[2:12]
		year = num(d[:4])
		if plus {
			return false
		}
	default:
		return false
	}
	m, day := num(ten[2:4]), num(ten[4:6])
	if day > 60 {
		day -= 60
	}
	yy := num(ten[0:2])
	if year < 0 {
		// Any century works for the date check except Feb 29; try the
		// candidates the form allows.
		ok := validDate(1900+yy, m, day) || validDate(2000+yy, m, day) ||
			(plus && validDate(1800+yy, m, day))
		if !ok {
			return false
		}
	} else if year < 1800 || !validDate(year, m, day) {
		return false
	}
	return luhnOK(ten)
}

// DenmarkCPR reports whether s is a structurally valid Danish CPR number
// (CPR-kontoret, "Personnummeret i CPR-systemet"): DDMMYY-SSSS (the dash is
// optional) whose date exists in the century given by the 7th digit and the
// year: 0–3 → 1900s; 4 and 9 → 2000s for YY ≤ 36, else 1900s; 5–8 → 2000s
// for YY ≤ 57, else 1800s. The modulus-11 check was abandoned in 2007 and is
// not applied.
func DenmarkCPR[T Text](s T) bool {
	var d [10]byte
	n, ok := digits(s, d[:], "-")
	if !ok || n != 10 || (len(s) != 10 && (len(s) != 11 || s[6] != '-')) {
		return false
	}
	day, m, yy := num(d[0:2]), num(d[2:4]), num(d[4:6])
	var y int
	switch c := d[6]; {
	case c <= 3:
		y = 1900 + yy
	case c == 4 || c == 9:
		if yy <= 36 {
			y = 2000 + yy
		} else {
			y = 1900 + yy
		}
	default:
		if yy <= 57 {
			y = 2000 + yy
		} else {
			y = 1800 + yy
		}
	}
	return validDate(y, m, day)
}

const hetuCheck = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// FinlandHETU reports whether s is a valid Finnish personal identity code
// (henkilötunnus, Digital and Population Data Services Agency DVV; century
// signs per Act 128/2022): DDMMYY, a century sign ('+' 1800s; '-', Y, X, W,
// V, U 1900s; A, B, C, D, E, F 2000s), a 3-digit individual number 002–999
// (900–999 are temporary/test numbers) and the check character
// "0123456789ABCDEFHJKLMNPRSTUVWXY"[DDMMYYNNN mod 31]. The date must exist.
// Upper case only.
func FinlandHETU[T Text](s T) bool {
	if len(s) != 11 {
		return false
	}
	var d [9]byte
	for i, j := 0, 0; i < 10; i++ {
		if i == 6 {
			continue
		}
		if !isDigit(s[i]) {
			return false
		}
		d[j] = s[i] - '0'
		j++
	}
	var century int
	switch s[6] {
	case '+':
		century = 1800
	case '-', 'Y', 'X', 'W', 'V', 'U':
		century = 1900
	case 'A', 'B', 'C', 'D', 'E', 'F':
		century = 2000
	default:
		return false
	}
	if !validDate(century+num(d[4:6]), num(d[2:4]), num(d[0:2])) || num(d[6:9]) < 2 {
		return false
	}
	return hetuCheck[num(d[:])%31] == s[10]
}

// NorwayFodselsnummer reports whether s is a valid Norwegian national
// identity number (fødselsnummer, Skatteetaten): 11 digits DDMMYYIIIKK with
// two check digits, k1 = 11 − (3,7,6,1,8,9,4,5,2 · first nine) mod 11 and
// k2 = 11 − (5,4,3,2,7,6,5,4,3,2 · first ten) mod 11 (11 → 0; 10 makes the
// number invalid). The birth date must exist; D-numbers (day + 40), H-numbers
// (month + 40) and synthetic test numbers (month + 80) are accepted. The
// century follows from the individual number: 000–499 → 1900s; 500–749 with
// YY ≥ 54 → 1800s; 500–999 with YY ≤ 39 → 2000s; 900–999 with YY ≥ 40 →
// 1900s.
func NorwayFodselsnummer[T Text](s T) bool {
	var d [11]byte
	n, ok := digits(s, d[:], " ")
	if !ok || n != 11 {
		return false
	}
	k1 := 11 - weighted(d[:9], []int{3, 7, 6, 1, 8, 9, 4, 5, 2})%11
	k2 := 11 - weighted(d[:10], []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})%11
	if k1 == 11 {
		k1 = 0
	}
	if k2 == 11 {
		k2 = 0
	}
	if k1 != int(d[9]) || k2 != int(d[10]) {
		return false
	}
	day, m, yy, ind := num(d[0:2]), num(d[2:4]), num(d[4:6]), num(d[6:9])
	if day > 40 {
		day -= 40
	}
	switch {
	case m > 80:
		m -= 80
	case m > 40:
		m -= 40
	}
	var y int
	switch {
	case ind <= 499:
		y = 1900 + yy
	case ind <= 749 && yy >= 54:
		y = 1800 + yy
	case yy <= 39:
		y = 2000 + yy
	case ind >= 900:
		y = 1900 + yy
	default:
		return false
	}
	return validDate(y, m, day)
}

// PortugalNIF reports whether s is a valid Portuguese tax number (NIF,
// Autoridade Tributária): 9 digits starting with 1, 2, 3, 5, 6, 8 or one of
// 45, 70, 71, 72, 74, 75, 77, 79, 90, 91, 98, 99, whose last digit is
// 11 − (Σ dᵢ·(9−i) mod 11) over the first eight (weights 9…2), or 0 when
// that remainder is 0 or 1.
func PortugalNIF[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], " ")
	if !ok || n != 9 {
		return false
	}
	switch d[0] {
	case 1, 2, 3, 5, 6, 8:
	default:
		switch num(d[:2]) {
		case 45, 70, 71, 72, 74, 75, 77, 79, 90, 91, 98, 99:
		default:
			return false
		}
	}
	r := weighted(d[:8], []int{9, 8, 7, 6, 5, 4, 3, 2}) % 11
	c := 0
	if r >= 2 {
		c = 11 - r
	}
	return int(d[8]) == c
}

// IrelandPPSN reports whether s is a valid Irish Personal Public Service
// Number (Department of Social Protection): 7 digits, a check letter and an
// optional second letter W, A, B or H (W = 0, other letters A = 1 … Z = 26).
// The check letter is 'W' for remainder 0, otherwise 'A' + r − 1, where
// r = (Σ dᵢ·(8−i) + 9·second) mod 23. Case-insensitive; no separators.
func IrelandPPSN[T Text](s T) bool {
	var b [9]byte
	n, ok := alnum(s, b[:], "")
	if !ok || (n != 8 && n != 9) || !allDigits(b[:7]) || !isUpper(b[7]) {
		return false
	}
	sum := 0
	for i := 0; i < 7; i++ {
		sum += int(b[i]-'0') * (8 - i)
	}
	if n == 9 {
		switch b[8] {
		case 'W':
		case 'A', 'B', 'H':
			sum += 9 * int(b[8]-'A'+1)
		default:
			return false
		}
	}
	r := sum % 23
	want := byte('W')
	if r != 0 {
		want = byte('A' + r - 1)
	}
	return b[7] == want
}

// TurkeyTCKN reports whether s is a valid Turkish identity number (T.C.
// Kimlik No, Nüfus ve Vatandaşlık İşleri): 11 digits, the first not 0, with
// d10 = ((d1+d3+d5+d7+d9)·7 − (d2+d4+d6+d8)) mod 10 and
// d11 = (d1 + … + d10) mod 10.
func TurkeyTCKN[T Text](s T) bool {
	var d [11]byte
	n, ok := digits(s, d[:], "")
	if !ok || n != 11 || d[0] == 0 {
		return false
	}
	odd := int(d[0] + d[2] + d[4] + d[6] + d[8])
	even := int(d[1] + d[3] + d[5] + d[7])
	if int(d[9]) != ((odd*7-even)%10+10)%10 {
		return false
	}
	return int(d[10]) == (odd+even+int(d[9]))%10
}
