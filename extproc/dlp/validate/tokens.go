package validate

import "math"

// base62Value maps a character to its value in the digit order GitHub uses
// for token checksums (0–9, A–Z, a–z; the default of the widely used
// "base62" encoders), or -1.
func base62Value(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}

// GitHubToken reports whether s is a GitHub token in the 2021 format with a
// valid checksum: one of the prefixes ghp_ (personal access token, classic),
// gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server) or ghr_
// (refresh), then 30 base62 characters of entropy and 6 base62 characters
// (0–9A–Za–z, most significant first, zero-padded) encoding the CRC-32
// (IEEE 802.3 polynomial) of those 30 characters. Reference: GitHub
// engineering blog, "Behind GitHub's new authentication token formats"
// (2021-04-05). Fine-grained github_pat_ tokens carry no public checksum and
// are not handled here.
func GitHubToken[T Text](s T) bool {
	if len(s) != 40 || s[0] != 'g' || s[1] != 'h' || s[3] != '_' {
		return false
	}
	switch s[2] {
	case 'p', 'o', 'u', 's', 'r':
	default:
		return false
	}
	var body [30]byte
	for i := 0; i < 30; i++ {
		c := s[4+i]
		if base62Value(c) < 0 {
			return false
		}
		body[i] = c
	}
	var want uint64
	for i := 34; i < 40; i++ {
		v := base62Value(s[i])
		if v < 0 {
			return false
		}
		want = want*62 + uint64(v)
	}
	return uint64(crc32IEEE(body[:])) == want
}

// ShannonEntropy returns the Shannon entropy of the bytes of s in bits per
// byte: −Σ p(b)·log2 p(b) over the byte frequencies. It is 0 for an empty
// input. Counts live in a 256-entry array on the stack.
func ShannonEntropy[T Text](s T) float64 {
	if len(s) == 0 {
		return 0
	}
	var counts [256]uint32
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c != 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// Entropy limits used by detect-secrets (Yelp, Apache-2.0) for its
// Base64HighEntropyString and HexHighEntropyString plugins.
const (
	Base64EntropyLimit = 4.5
	HexEntropyLimit    = 3.0
)

// EntropyBase64 reports whether s consists only of base64 characters
// (A–Z a–z 0–9 + / = and the URL-safe - _) and its Shannon entropy exceeds
// [Base64EntropyLimit] (4.5 bits/char, detect-secrets'
// Base64HighEntropyString default). The limit is only reachable for strings
// of at least 23 distinct characters; short strings never qualify.
func EntropyBase64[T Text](s T) bool {
	for i := 0; i < len(s); i++ {
		if !isBase64Char(s[i]) {
			return false
		}
	}
	return ShannonEntropy(s) > Base64EntropyLimit
}

// isBase64Char reports whether c belongs to the standard or URL-safe base64
// alphabet, padding included.
func isBase64Char(c byte) bool {
	switch {
	case isDigit(c), isUpper(c), c >= 'a' && c <= 'z':
		return true
	}
	return c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
}

// EntropyHex reports whether s consists only of hex digits and its Shannon
// entropy exceeds [HexEntropyLimit] (3.0 bits/char, detect-secrets'
// HexHighEntropyString default). As in detect-secrets, an all-decimal string
// is penalised by 1.2/log2(len(s)) first, because digit-only runs (ids,
// timestamps) are far more common than digit-only secrets.
func EntropyHex[T Text](s T) bool {
	if len(s) == 0 {
		return false
	}
	decimal := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
		case (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'):
			decimal = false
		default:
			return false
		}
	}
	h := ShannonEntropy(s)
	if decimal && len(s) > 1 {
		h -= 1.2 / math.Log2(float64(len(s)))
	}
	return h > HexEntropyLimit
}

// crc32IEEE is the bitwise CRC-32 of IEEE 802.3 (reflected polynomial
// 0xEDB88320), identical to hash/crc32.ChecksumIEEE. It is written out
// because the standard library's dispatching implementation makes its
// argument escape, which would cost an allocation per token.
func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for k := 0; k < 8; k++ {
			crc = crc>>1 ^ 0xEDB88320&-(crc&1)
		}
	}
	return ^crc
}
