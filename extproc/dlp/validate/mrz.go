package validate

// mrzValue maps an ICAO 9303 MRZ character to its check-digit value:
// digits 0–9, letters A–Z 10–35, filler '<' 0; -1 for anything else.
func mrzValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case isUpper(c):
		return int(c-'A') + 10
	case c == '<':
		return 0
	}
	return -1
}

// MRZCheckDigit returns the ICAO Doc 9303 Part 3 §4.9 check digit of field:
// character values (0–9, A–Z = 10–35, '<' = 0) weighted 7,3,1 repeating,
// summed, mod 10. ok is false when field holds another character.
func MRZCheckDigit[T Text](field T) (digit byte, ok bool) {
	sum := 0
	for i := 0; i < len(field); i++ {
		v := mrzValue(field[i])
		if v < 0 {
			return 0, false
		}
		sum += v * [3]int{7, 3, 1}[i%3]
	}
	return byte('0' + sum%10), true
}

// MRZField reports whether the last character of s is the ICAO 9303 check
// digit (see [MRZCheckDigit]) of the preceding characters. A '<' check
// character is accepted only for an all-filler field, as Doc 9303 allows for
// empty optional data.
func MRZField[T Text](s T) bool {
	if len(s) < 2 {
		return false
	}
	body, c := s[:len(s)-1], s[len(s)-1]
	want, ok := MRZCheckDigit(body)
	if !ok {
		return false
	}
	if c == '<' {
		for i := 0; i < len(body); i++ {
			if body[i] != '<' {
				return false
			}
		}
		return true
	}
	return c == want
}

// MRZPassportLine2 reports whether s is a valid second line of a TD3
// (passport) machine-readable zone, ICAO Doc 9303 Part 4: 44 characters from
// 0–9 A–Z '<' holding document number (1–9) + check (10), nationality
// (11–13), birth date YYMMDD (14–19) + check (20), sex M/F/< (21), expiry
// YYMMDD (22–27) + check (28), optional data (29–42) + check (43) and a
// composite check digit (44) over positions 1–10, 14–20 and 22–43.
func MRZPassportLine2[T Text](s T) bool {
	if len(s) != 44 {
		return false
	}
	for i := 0; i < 44; i++ {
		if mrzValue(s[i]) < 0 {
			return false
		}
	}
	if !MRZField(s[0:10]) || !MRZField(s[13:20]) || !MRZField(s[21:28]) || !MRZField(s[28:43]) {
		return false
	}
	if c := s[20]; c != 'M' && c != 'F' && c != '<' {
		return false
	}
	sum, k := 0, 0
	for _, r := range [3][2]int{{0, 10}, {13, 20}, {21, 43}} {
		for i := r[0]; i < r[1]; i++ {
			sum += mrzValue(s[i]) * [3]int{7, 3, 1}[k%3]
			k++
		}
	}
	return s[43] == byte('0'+sum%10)
}
