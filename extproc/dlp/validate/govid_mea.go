package validate

// SouthAfricaID reports whether s is a valid South African identity number
// (Department of Home Affairs; Identification Act 68 of 1997): 13 digits
// YYMMDD SSSS C A Z, where the date exists in the 1900s or 2000s, C (the
// 11th digit) is 0 (citizen), 1 (permanent resident) or 2 (refugee), and Z is
// a Luhn check digit over all 13 digits.
func SouthAfricaID[T Text](s T) bool {
	var d [13]byte
	n, ok := digits(s, d[:], " ")
	if !ok || n != 13 || d[10] > 2 {
		return false
	}
	yy, m, day := num(d[0:2]), num(d[2:4]), num(d[4:6])
	if !validDate(1900+yy, m, day) && !validDate(2000+yy, m, day) {
		return false
	}
	return luhnOK(d[:])
}

// IsraelID reports whether s is a valid Israeli identity number (Teudat
// Zehut, Population and Immigration Authority): up to 9 digits (left-padded
// with zeros; at least 5 given), not all zero, whose weighted sum with
// weights 1,2,1,2,… from the left over the 9-digit form, digits of each
// product added, is ≡ 0 (mod 10) — the Luhn test on the padded number.
func IsraelID[T Text](s T) bool {
	var d [9]byte
	n, ok := digits(s, d[:], "-")
	if !ok || n < 5 {
		return false
	}
	if allSame(d[:n]) && d[0] == 0 {
		return false
	}
	return luhnOK(d[:n]) // leading zeros do not change a Luhn sum
}
