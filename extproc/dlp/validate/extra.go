package validate

// GermanIDDocument reports whether s has the structure of the serial number
// of a German identity card (Personalausweis, since 2010) or passport
// (Reisepass, since 2007): nine characters from the alphabet
// "CFGHJKLMNPRTVWXYZ" and digits, the first a letter from that alphabet
// (older passports: a letter C–K), optionally followed by the ICAO 9303
// check digit (weights 7-3-1, see [MRZCheckDigit]), which is verified when
// present. Case-insensitive.
func GermanIDDocument[T Text](s T) bool {
	if len(s) != 9 && len(s) != 10 {
		return false
	}
	var b [10]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if !isDigit(c) && !germanDocLetter(c) {
			return false
		}
		b[i] = c
	}
	if isDigit(b[0]) {
		return false
	}
	digitsN := 0
	for _, c := range b[:9] {
		if isDigit(c) {
			digitsN++
		}
	}
	if digitsN < 4 {
		return false
	}
	if len(s) == 10 {
		return MRZField(b[:10])
	}
	return true
}

func germanDocLetter(c byte) bool {
	switch c {
	case 'C', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'T', 'V', 'W', 'X', 'Y', 'Z':
		return true
	}
	return false
}

// GermanKVNR reports whether s is a valid German health insurance number
// (Krankenversichertennummer, unveränderbarer Teil; GKV-Spitzenverband,
// "Richtlinien zur Vergabe der Krankenversichertennummer" Anlage 1): an
// upper-case letter, eight digits and a check digit. The letter becomes its
// two-digit position (A = 01 … Z = 26); the ten digits are weighted
// 1,2,1,2,…, two-digit products are replaced by their digit sum, and the
// check digit is the sum mod 10.
func GermanKVNR[T Text](s T) bool {
	if len(s) != 10 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	var d [10]byte
	p := s[0] - 'A' + 1
	d[0], d[1] = p/10, p%10
	for i := 1; i < 9; i++ {
		if !isDigit(s[i]) {
			return false
		}
		d[i+1] = s[i] - '0'
	}
	if !isDigit(s[9]) {
		return false
	}
	sum := 0
	for i, v := range d {
		x := int(v) * (1 + i%2)
		sum += x/10 + x%10
	}
	return int(s[9]-'0') == sum%10
}

// AustraliaMedicare reports whether s is a valid Australian Medicare card
// number (Services Australia): 10 digits (an 11th, the individual reference
// number 1–9, may follow), the first 2–6, whose 9th digit equals
// Σ dᵢ·(1,3,7,9,1,3,7,9) mod 10 over the first eight. Spaces may group the
// digits ("2123 45670 1").
func AustraliaMedicare[T Text](s T) bool {
	var d [11]byte
	n, ok := digits(s, d[:], " -")
	if !ok || (n != 10 && n != 11) || d[0] < 2 || d[0] > 6 {
		return false
	}
	if n == 11 && d[10] == 0 {
		return false
	}
	return int(d[8]) == weighted(d[:8], []int{1, 3, 7, 9, 1, 3, 7, 9})%10
}

// BCPHN reports whether s is a valid British Columbia Personal Health Number
// (BC Ministry of Health, "Personal Health Number check digit"): 10 digits
// starting with 9, where with r = Σ dᵢ·(2,4,8,5,10,9,7,3) mod 11 over the
// 2nd to 9th digits the 10th digit is 11 − r (r = 0 or 1 is invalid).
// Spaces may group the digits ("9876 543 210").
func BCPHN[T Text](s T) bool {
	var d [10]byte
	n, ok := digits(s, d[:], " -")
	if !ok || n != 10 || d[0] != 9 {
		return false
	}
	r := weighted(d[1:9], []int{2, 4, 8, 5, 10, 9, 7, 3}) % 11
	return r > 1 && int(d[9]) == 11-r
}

// OntarioHealthCard reports whether s is a valid Ontario health card number
// (OHIP, Ontario Ministry of Health): 10 digits, optionally grouped 4-3-3
// and followed by a two-letter version code, the first not 0, passing the
// Luhn test.
func OntarioHealthCard[T Text](s T) bool {
	n := len(s)
	for n > 0 && (s[n-1] >= 'A' && s[n-1] <= 'Z' || s[n-1] >= 'a' && s[n-1] <= 'z') {
		n--
	}
	if n != len(s) && len(s)-n != 2 {
		return false
	}
	for n > 0 && (s[n-1] == ' ' || s[n-1] == '-') {
		n--
	}
	var d [10]byte
	m, ok := digits(s[:n], d[:], " -")
	return ok && m == 10 && d[0] != 0 && !allSame(d[:]) && luhnOK(d[:])
}

// UKDrivingLicence reports whether s has the structure of a DVLA driving
// licence number (Great Britain): 16 characters — five of the surname
// (letters, padded with 9), the decade digit of the birth year, the birth
// month (01–12, 51–62 for women), the day 01–31, the year digit, two
// initials (letters, padded with 9), an arbitrary digit and two check
// characters (letters or digits). Case-insensitive. The check characters are
// computed by an unpublished algorithm and are not verified.
func UKDrivingLicence[T Text](s T) bool {
	if len(s) != 16 {
		return false
	}
	var b [16]byte
	for i := 0; i < 16; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	if !isUpper(b[0]) {
		return false
	}
	for i := 1; i < 5; i++ {
		if !isUpper(b[i]) && b[i] != '9' {
			return false
		}
	}
	if !allDigits(b[5:11]) || !isDigit(b[13]) {
		return false
	}
	m, _ := asciiNum(b[6:8])
	d, _ := asciiNum(b[8:10])
	month := m >= 1 && m <= 12 || m >= 51 && m <= 62
	if !month || d < 1 || d > 31 {
		return false
	}
	if !isUpper(b[11]) || (!isUpper(b[12]) && b[12] != '9') {
		return false
	}
	for _, c := range b[14:16] {
		if !isUpper(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

// MexicoRFC reports whether s has the structure of a Mexican Registro
// Federal de Contribuyentes (SAT): three (companies) or four (people)
// upper-case letters ('&' and 'Ñ' excepted, ASCII only), a real date
// YYMMDD and a three-character alphanumeric homoclave whose last character
// is a digit or 'A'. The homoclave check is not verified.
func MexicoRFC[T Text](s T) bool {
	n := len(s)
	if n != 12 && n != 13 {
		return false
	}
	k := n - 9
	for i := 0; i < k; i++ {
		if !isUpper(s[i]) && s[i] != '&' {
			return false
		}
	}
	var dt [6]byte
	for i := 0; i < 6; i++ {
		if !isDigit(s[k+i]) {
			return false
		}
		dt[i] = s[k+i] - '0'
	}
	yy, m, d := num(dt[0:2]), num(dt[2:4]), num(dt[4:6])
	if !validDate(1900+yy, m, d) && !validDate(2000+yy, m, d) {
		return false
	}
	for i := k + 6; i < n; i++ {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return isDigit(s[n-1]) || s[n-1] == 'A'
}

// USHICN reports whether s has the structure of a US Medicare Health
// Insurance Claim Number (CMS, retired for claims in 2020 but still held in
// records): nine digits that are a structurally valid SSN (see [USSSN]),
// optionally grouped 3-2-4, followed (optionally after a space or dash) by a
// beneficiary identification code — a letter from A, B, C, D, E, F, G, H, J,
// K, M, T, W, optionally followed by a digit or letter. Upper case only.
func USHICN[T Text](s T) bool {
	i := 0
	for i < len(s) && !isUpper(s[i]) {
		i++
	}
	if i < 9 || i == len(s) {
		return false
	}
	body, suf := s[:i], s[i:]
	if c := body[len(body)-1]; c == ' ' || c == '-' {
		body = body[:len(body)-1]
	}
	if len(suf) > 2 {
		return false
	}
	switch suf[0] {
	case 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'T', 'W':
	default:
		return false
	}
	if len(suf) == 2 && !isDigit(suf[1]) && !isUpper(suf[1]) {
		return false
	}
	return USSSN(body)
}

// WIFPrivateKey reports whether s is a Bitcoin private key in wallet import
// format (Bitcoin wiki "Wallet import format"): base58check (see
// [Base58CheckDecode]) of version byte 0x80 (mainnet) or 0xEF (testnet), 32
// key bytes and, for a compressed key, a trailing 0x01.
func WIFPrivateKey[T Text](s T) bool {
	if len(s) < 51 || len(s) > 52 {
		return false
	}
	var p [34]byte
	n, ok := Base58CheckDecode(p[:], s)
	if !ok || (p[0] != 0x80 && p[0] != 0xEF) {
		return false
	}
	return n == 33 || (n == 34 && p[33] == 0x01)
}
