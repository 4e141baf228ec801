package validate

// IndiaAadhaar reports whether s is a valid Aadhaar number (UIDAI): 12
// digits, optionally in groups separated by spaces or dashes, the first not 0
// or 1, whose last digit is a Verhoeff check digit.
func IndiaAadhaar[T Text](s T) bool {
	var d [12]byte
	n, ok := digits(s, d[:], " -")
	return ok && n == 12 && d[0] >= 2 && verhoeffOK(d[:])
}

// IndiaPAN reports whether s has the structure of an Indian Permanent Account
// Number (Income Tax Department, Rule 114): 5 letters, 4 digits, 1 letter,
// where the 4th letter is the holder type — A (association of persons), B
// (body of individuals), C (company), F (firm/LLP), G (government), H (Hindu
// undivided family), J (artificial juridical person), L (local authority),
// P (individual) or T (trust). The last letter is a check character whose
// algorithm is not published, so it is not verified. Upper case only.
func IndiaPAN[T Text](s T) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		c := s[i]
		if (i >= 5 && i <= 8) != isDigit(c) || (!isDigit(c) && !isUpper(c)) {
			return false
		}
	}
	switch s[3] {
	case 'A', 'B', 'C', 'F', 'G', 'H', 'J', 'L', 'P', 'T':
		return true
	}
	return false
}

// AustraliaTFN reports whether s is a valid Australian Tax File Number
// (Australian Taxation Office): 9 digits with Σ dᵢ·wᵢ ≡ 0 (mod 11) for
// weights 1,4,3,7,5,8,6,9,10, or a legacy 8-digit TFN with weights
// 10,7,8,4,6,3,5,1. Spaces may group the digits.
func AustraliaTFN[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], " ")
	if !ok || allSame(d[:n]) && d[0] == 0 {
		return false
	}
	switch n {
	case 9:
		return weighted(d[:9], []int{1, 4, 3, 7, 5, 8, 6, 9, 10})%11 == 0
	case 8:
		return weighted(d[:8], []int{10, 7, 8, 4, 6, 3, 5, 1})%11 == 0
	}
	return false
}

// AustraliaABN reports whether s is a valid Australian Business Number
// (Australian Business Register, "ABN format"): 11 digits, the first not 0;
// subtract 1 from the first digit, weight the digits 10,1,3,5,7,9,11,13,15,
// 17,19, and the sum must be ≡ 0 (mod 89). Spaces may group the digits.
func AustraliaABN[T Text](s T) bool {
	var d [11]byte
	n, ok := digits(s, d[:], " ")
	if !ok || n != 11 || d[0] == 0 {
		return false
	}
	d[0]--
	return weighted(d[:], []int{10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19})%89 == 0
}

// SingaporeNRIC reports whether s is a valid Singapore NRIC or FIN
// (Immigration & Checkpoints Authority): a prefix S or T (citizens and
// permanent residents, born before / from 2000), F or G (foreigners, issued
// before / from 2000) or M (foreigners, from 2022), seven digits and a check
// letter. With r = (Σ dᵢ·(2,7,6,5,4,3,2) + offset) mod 11, offset 0 for S/F,
// 4 for T/G and 3 for M, the letter is "JZIHGFEDCBA"[r] for S/T,
// "XWUTRQPNMLK"[r] for F/G and "XWUTRQPNJLK"[r] for M. Case-insensitive.
func SingaporeNRIC[T Text](s T) bool {
	if len(s) != 9 {
		return false
	}
	var b [9]byte
	n, ok := alnum(s, b[:], "")
	if !ok || n != 9 || !allDigits(b[1:8]) {
		return false
	}
	sum := 0
	for i, w := range [7]int{2, 7, 6, 5, 4, 3, 2} {
		sum += int(b[1+i]-'0') * w
	}
	var table string
	switch b[0] {
	case 'S':
		table = "JZIHGFEDCBA"
	case 'T':
		table, sum = "JZIHGFEDCBA", sum+4
	case 'F':
		table = "XWUTRQPNMLK"
	case 'G':
		table, sum = "XWUTRQPNMLK", sum+4
	case 'M':
		table, sum = "XWUTRQPNJLK", sum+3
	default:
		return false
	}
	return table[sum%11] == b[8]
}

// ChinaResidentID reports whether s is a valid 18-character resident identity
// card number of the People's Republic of China (GB 11643-1999): a 6-digit
// administrative division code whose first digit is 1–8, a real birth date
// YYYYMMDD from 1800 on, a 3-digit sequence number, and an ISO/IEC 7064
// MOD 11-2 check character (0–9 or X, either case). The 15-digit cards of
// before 1999 carry no check digit and are not accepted.
func ChinaResidentID[T Text](s T) bool {
	if len(s) != 18 || s[0] < '1' || s[0] > '8' || !Mod11_2(s) {
		return false
	}
	var b [8]byte
	for i := 0; i < 8; i++ {
		b[i] = s[6+i]
	}
	y, _ := asciiNum(b[0:4])
	m, _ := asciiNum(b[4:6])
	d, _ := asciiNum(b[6:8])
	return y >= 1800 && validDate(y, m, d)
}

// HongKongID reports whether s is a valid Hong Kong identity card number
// (Immigration Department): one or two letters, six digits and a check
// character 0–9 or A, optionally in parentheses ("A123456(3)"). With letters
// valued A=10 … Z=35 and a missing first letter valued 36, the weighted sum
// of the 8 positions with weights 9…2 plus the check value (A = 10) must be
// ≡ 0 (mod 11). Upper case only.
func HongKongID[T Text](s T) bool {
	n := len(s)
	if n >= 3 && s[n-1] == ')' && s[n-3] == '(' {
		// "X123456(7)": check character in parentheses.
		return hkid(s[:n-3], s[n-2])
	}
	if n < 8 {
		return false
	}
	return hkid(s[:n-1], s[n-1])
}

func hkid[T Text](body T, check byte) bool {
	var v [8]int
	switch len(body) {
	case 7:
		v[0] = 36
		if !isUpper(body[0]) {
			return false
		}
		v[1] = int(body[0]-'A') + 10
	case 8:
		if !isUpper(body[0]) || !isUpper(body[1]) {
			return false
		}
		v[0] = int(body[0]-'A') + 10
		v[1] = int(body[1]-'A') + 10
	default:
		return false
	}
	for i := 0; i < 6; i++ {
		c := body[len(body)-6+i]
		if !isDigit(c) {
			return false
		}
		v[2+i] = int(c - '0')
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += v[i] * (9 - i)
	}
	var cv int
	switch {
	case isDigit(check):
		cv = int(check - '0')
	case check == 'A':
		cv = 10
	default:
		return false
	}
	return (sum+cv)%11 == 0
}

// taiwanLetter is the Ministry of the Interior's two-digit code for each
// leading letter A–Z.
var taiwanLetter = [26]byte{10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33}

// TaiwanID reports whether s is a valid Taiwan (ROC) national identification
// number or new-format resident certificate number (Ministry of the
// Interior): an upper-case letter, a digit 1 or 2 (sex; 8 or 9 for the 2021
// resident certificate), seven digits and a check digit. With the letter's
// two-digit code xy (A=10, B=11, …, I=34, O=35, W=32, Z=33), the sum
// x + 9y + Σ dᵢ·(8,7,6,5,4,3,2,1) + check must be ≡ 0 (mod 10).
func TaiwanID[T Text](s T) bool {
	if len(s) != 10 || !isUpper(s[0]) {
		return false
	}
	switch s[1] {
	case '1', '2', '8', '9':
	default:
		return false
	}
	code := int(taiwanLetter[s[0]-'A'])
	sum := code/10 + 9*(code%10)
	for i := 1; i < 10; i++ {
		if !isDigit(s[i]) {
			return false
		}
		w := 9 - i
		if i == 9 {
			w = 1
		}
		sum += int(s[i]-'0') * w
	}
	return sum%10 == 0
}

// KoreaRRN reports whether s has the structure of a South Korean resident
// registration number (주민등록번호, Ministry of the Interior and Safety):
// YYMMDD-GBBBBBB (dash optional) with a real birth date and a gender/century
// digit G of 1–4 (citizens born in the 1900s/2000s). Numbers assigned since
// the October 2020 reform end in random digits, and older numbers are
// re-issued under the new scheme, so the legacy check digit is not required
// here; [KoreaRRNChecksum] tests it as a confidence signal. Foreigner
// registration numbers (G = 5–8) and 1800s births (9, 0) are rejected.
func KoreaRRN[T Text](s T) bool {
	_, ok := koreaRRN(s)
	return ok
}

// KoreaRRNChecksum reports whether s is a [KoreaRRN] whose 13th digit is also
// the pre-2020 check digit C = (11 − Σ dᵢ·(2,3,4,5,6,7,8,9,2,3,4,5) mod 11)
// mod 10. A random post-2020 number passes by chance one time in ten.
func KoreaRRNChecksum[T Text](s T) bool {
	d, ok := koreaRRN(s)
	if !ok {
		return false
	}
	sum := weighted(d[:12], []int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5})
	return int(d[12]) == (11-sum%11)%10
}

func koreaRRN[T Text](s T) (d [13]byte, ok bool) {
	n, ok := digits(s, d[:], "-")
	if !ok || n != 13 {
		return d, false
	}
	if len(s) != 13 && (len(s) != 14 || s[6] != '-') {
		return d, false
	}
	yy := num(d[0:2])
	var y int
	switch d[6] {
	case 1, 2:
		y = 1900 + yy
	case 3, 4:
		y = 2000 + yy
	default:
		return d, false
	}
	return d, validDate(y, num(d[2:4]), num(d[4:6]))
}

// JapanMyNumber reports whether s is a valid Japanese individual number (マイ
// ナンバー; Ordinance of the Ministry of Internal Affairs and Communications
// No. 85 of 2014, art. 5): 12 digits whose last is a check digit; with
// Pₙ the n-th digit counted from the right excluding the check digit and
// Qₙ = n + 1 for n ≤ 6, n − 5 otherwise, r = Σ Pₙ·Qₙ mod 11 and the check
// digit is 0 when r ≤ 1, else 11 − r. Spaces or dashes may group the digits.
func JapanMyNumber[T Text](s T) bool {
	var d [12]byte
	n, ok := digits(s, d[:], " -")
	if !ok || n != 12 {
		return false
	}
	sum := 0
	for k := 1; k <= 11; k++ {
		q := k + 1
		if k > 6 {
			q = k - 5
		}
		sum += int(d[11-k]) * q
	}
	r := sum % 11
	c := 0
	if r > 1 {
		c = 11 - r
	}
	return int(d[11]) == c
}
