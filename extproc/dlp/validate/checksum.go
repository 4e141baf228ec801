package validate

// maxGeneric is the most digits the generic check-digit functions accept.
const maxGeneric = 64

// Luhn reports whether s is a digit string of at least two digits whose last
// digit is a valid Luhn (ISO/IEC 7812-1 Annex B, "mod 10") check digit: from
// the right, every second digit is doubled (subtracting 9 when above 9) and
// the total must be ≡ 0 (mod 10). Spaces, dashes and dots are skipped (see
// the package rules); at most 64 digits are accepted.
func Luhn[T Text](s T) bool {
	var buf [maxGeneric]byte
	n, ok := digits(s, buf[:], defaultSeps)
	return ok && n >= 2 && luhnOK(buf[:n])
}

// luhnSum returns the Luhn weighted sum of digit values d, where d's last
// element is the check digit position (undoubled).
func luhnSum(d []byte) int {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum
}

func luhnOK(d []byte) bool { return luhnSum(d)%10 == 0 }

// Verhoeff tables (Verhoeff 1969; dihedral group D5).
var verhoeffD = [10][10]byte{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
	{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
	{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
	{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
	{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
	{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
	{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
	{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
	{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
}

var verhoeffP = [8][10]byte{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
	{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
	{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
	{9, 4, 5, 3, 1, 2, 8, 7, 6, 0},
	{4, 2, 8, 6, 5, 7, 1, 3, 0, 9},
	{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
	{7, 0, 4, 6, 9, 1, 3, 2, 8, 5},
}

// Verhoeff reports whether s (at least two digits, separators as for [Luhn])
// ends in a valid Verhoeff check digit: folding the digits from the right
// through the D5 multiplication table d and permutation table p
// (c = d[c][p[i mod 8][digit]]) must yield 0. Reference: J. Verhoeff,
// "Error Detecting Decimal Codes" (1969); used by India's Aadhaar (UIDAI).
func Verhoeff[T Text](s T) bool {
	var buf [maxGeneric]byte
	n, ok := digits(s, buf[:], defaultSeps)
	return ok && n >= 2 && verhoeffOK(buf[:n])
}

func verhoeffOK(d []byte) bool {
	c := byte(0)
	for i := 0; i < len(d); i++ {
		c = verhoeffD[c][verhoeffP[i%8][d[len(d)-1-i]]]
	}
	return c == 0
}

// Damm quasigroup of order 10 (H. M. Damm, 2004).
var dammT = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// Damm reports whether s (at least two digits, separators as for [Luhn]) ends
// in a valid Damm check digit: interim = T[interim][digit] over all digits,
// starting at 0, must end at 0, where T is the weakly totally anti-symmetric
// quasigroup of H. M. Damm, "Totally anti-symmetric quasigroups for all
// orders n ≠ 2, 6" (2007).
func Damm[T Text](s T) bool {
	var buf [maxGeneric]byte
	n, ok := digits(s, buf[:], defaultSeps)
	if !ok || n < 2 {
		return false
	}
	c := byte(0)
	for _, v := range buf[:n] {
		c = dammT[c][v]
	}
	return c == 0
}

// Mod11_10 reports whether s (at least two digits, separators as for [Luhn])
// ends in a valid ISO/IEC 7064 MOD 11,10 (hybrid) check digit: with p = 10,
// for each digit s = (p + d) mod 10 (0 → 10), p = 2s mod 11; the total is
// valid when the final (p + check) mod 10 == 1. Used by the German
// Steuer-IdNr and the Croatian OIB.
func Mod11_10[T Text](s T) bool {
	var buf [maxGeneric]byte
	n, ok := digits(s, buf[:], defaultSeps)
	return ok && n >= 2 && int(buf[n-1]) == mod11_10Check(buf[:n-1])
}

// mod11_10Check computes the ISO 7064 MOD 11,10 check digit for d.
func mod11_10Check(d []byte) int {
	p := 10
	for _, v := range d {
		s := (p + int(v)) % 10
		if s == 0 {
			s = 10
		}
		p = (2 * s) % 11
	}
	c := 11 - p
	if c == 10 {
		c = 0
	}
	return c
}

// Mod11_2 reports whether s ends in a valid ISO/IEC 7064 MOD 11-2 check
// character: the digits are weighted 2^(n-i) mod 11 from the left and the
// check character c (0–9 or 'X'/'x' for 10) satisfies (Σ + c) ≡ 1 (mod 11).
// Used by the Chinese resident identity card (GB 11643-1999) and ISNI/ORCID.
// Separators are not accepted.
func Mod11_2[T Text](s T) bool {
	n := len(s)
	if n < 2 || n > maxGeneric {
		return false
	}
	var buf [maxGeneric]byte
	for i := 0; i < n-1; i++ {
		if !isDigit(s[i]) {
			return false
		}
		buf[i] = s[i] - '0'
	}
	c, ok := checkX(s[n-1])
	return ok && mod11_2Check(buf[:n-1]) == c
}

// checkX converts a check character 0–9 or X/x (10).
func checkX(c byte) (int, bool) {
	switch {
	case isDigit(c):
		return int(c - '0'), true
	case c == 'X' || c == 'x':
		return 10, true
	}
	return 0, false
}

// mod11_2Check returns the MOD 11-2 check value (0–10) for d.
func mod11_2Check(d []byte) int {
	p := 0
	for _, v := range d {
		p = ((p + int(v)) * 2) % 11
	}
	return (12 - p) % 11
}

// Mod97_10 reports whether the digits of s (at least two, separators as for
// [Luhn]) read as a decimal integer are ≡ 1 (mod 97): ISO/IEC 7064 MOD 97-10,
// the check used by IBAN (ISO 13616) after letter expansion.
func Mod97_10[T Text](s T) bool {
	var buf [maxGeneric]byte
	n, ok := digits(s, buf[:], defaultSeps)
	if !ok || n < 2 {
		return false
	}
	r := 0
	for _, v := range buf[:n] {
		r = (r*10 + int(v)) % 97
	}
	return r == 1
}

// WeightedMod11 returns Σ digit[i]·weights[i] mod 11 for the digits of s
// (separators as for [Luhn]). ok is false when s holds anything else or when
// the digit count differs from len(weights). It is the building block of the
// many national "weights, mod 11" schemes; callers map the remainder to a
// check digit by their own rule.
func WeightedMod11[T Text](s T, weights []int) (rem int, ok bool) {
	var buf [maxGeneric]byte
	n, ok := digits(s, buf[:], defaultSeps)
	if !ok || n != len(weights) {
		return 0, false
	}
	return weighted(buf[:n], weights) % 11, true
}
