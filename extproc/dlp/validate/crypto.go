package validate

import "crypto/sha256"

// maxBase58Bytes bounds decoded base58 payloads (a BIP-32 extended key, the
// longest common base58check object, is 82 bytes).
const maxBase58Bytes = 82

// base58Value maps a character of the Bitcoin base58 alphabet
// "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz" (no 0, O, I, l)
// to its value, or -1.
func base58Value(c byte) int {
	switch {
	case c >= '1' && c <= '9':
		return int(c - '1')
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 9
	case c >= 'J' && c <= 'N':
		return int(c-'J') + 17
	case c >= 'P' && c <= 'Z':
		return int(c-'P') + 22
	case c >= 'a' && c <= 'k':
		return int(c-'a') + 33
	case c >= 'm' && c <= 'z':
		return int(c-'m') + 44
	}
	return -1
}

// base58Decode decodes s into out (big-endian bytes, one zero byte per
// leading '1'). It fails on a character outside the alphabet or when the
// result does not fit in out or in maxBase58Bytes.
func base58Decode[T Text](s T, out []byte) (int, bool) {
	if len(s) == 0 || len(s) > 2*maxBase58Bytes {
		return 0, false
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	var b [maxBase58Bytes]byte // little-endian magnitude
	size := 0
	for i := zeros; i < len(s); i++ {
		carry := base58Value(s[i])
		if carry < 0 {
			return 0, false
		}
		for j := 0; j < size; j++ {
			carry += int(b[j]) * 58
			b[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			if size == len(b) {
				return 0, false
			}
			b[size] = byte(carry)
			size++
			carry >>= 8
		}
	}
	n := zeros + size
	if n > len(out) {
		return 0, false
	}
	for i := 0; i < zeros; i++ {
		out[i] = 0
	}
	for j := 0; j < size; j++ {
		out[zeros+j] = b[size-1-j]
	}
	return n, true
}

// Base58CheckDecode decodes the base58check string s (Bitcoin base58 alphabet;
// payload followed by the first four bytes of SHA-256(SHA-256(payload))) into
// dst and returns the payload length. ok is false on a bad character, a
// payload that does not fit in dst (at most 78 payload bytes are supported),
// or a checksum mismatch. Reference: Bitcoin Core base58.cpp, Bitcoin wiki
// "Base58Check encoding".
func Base58CheckDecode[T Text](dst []byte, s T) (n int, ok bool) {
	var raw [maxBase58Bytes]byte
	m, ok := base58Decode(s, raw[:])
	if !ok || m < 5 || m-4 > len(dst) {
		return 0, false
	}
	h1 := sha256.Sum256(raw[:m-4])
	h2 := sha256.Sum256(h1[:])
	if h2[0] != raw[m-4] || h2[1] != raw[m-3] || h2[2] != raw[m-2] || h2[3] != raw[m-1] {
		return 0, false
	}
	return copy(dst, raw[:m-4]), true
}

// BitcoinKind classifies a Bitcoin mainnet address.
type BitcoinKind uint8

// Bitcoin address kinds; BitcoinNone means invalid.
const (
	BitcoinNone   BitcoinKind = iota
	BitcoinP2PKH              // base58check, version 0x00, leading '1'
	BitcoinP2SH               // base58check, version 0x05, leading '3'
	BitcoinSegwit             // bech32 (v0) or bech32m (v1+), "bc1"
)

// BitcoinAddress validates a Bitcoin mainnet address and returns its kind:
//   - P2PKH / P2SH: 25–35 base58 characters decoding (base58check, see
//     [Base58CheckDecode]) to 21 bytes with version byte 0x00 or 0x05;
//   - segwit: a BIP-173/BIP-350 address with HRP "bc" (see [SegwitAddress]).
//
// Testnet addresses are rejected.
func BitcoinAddress[T Text](s T) BitcoinKind {
	if len(s) >= 3 && (s[0] == 'b' || s[0] == 'B') {
		if SegwitAddress(s, "bc") {
			return BitcoinSegwit
		}
		return BitcoinNone
	}
	if len(s) < 25 || len(s) > 35 {
		return BitcoinNone
	}
	var p [21]byte
	n, ok := Base58CheckDecode(p[:], s)
	if !ok || n != 21 {
		return BitcoinNone
	}
	switch p[0] {
	case 0x00:
		return BitcoinP2PKH
	case 0x05:
		return BitcoinP2SH
	}
	return BitcoinNone
}

// Bech32Variant is the checksum flavour of a bech32 string.
type Bech32Variant uint8

// Bech32 variants; Bech32Invalid means the string is not valid bech32.
const (
	Bech32Invalid Bech32Variant = iota
	Bech32                      // BIP-173, constant 1
	Bech32m                     // BIP-350, constant 0x2bc830a3
)

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

func bech32Value(c byte) int {
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	for i := 0; i < len(bech32Charset); i++ {
		if bech32Charset[i] == c {
			return i
		}
	}
	return -1
}

func bech32Polymod(chk uint32, v byte) uint32 {
	b := chk >> 25
	chk = (chk&0x1ffffff)<<5 ^ uint32(v)
	for i, g := range [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3} {
		if (b>>uint(i))&1 == 1 {
			chk ^= g
		}
	}
	return chk
}

// Bech32Check verifies the checksum of the bech32 string s (BIP-173):
// at most 90 characters from US-ASCII 33–126, not mixed case, a human-readable
// part of at least one character before the last '1', and a data part of at
// least six characters from the bech32 alphabet. It returns which constant
// the checksum matches (1 → Bech32, 0x2bc830a3 → Bech32m, BIP-350) or
// Bech32Invalid. The separator position is returned as hrpLen.
func Bech32Check[T Text](s T) (v Bech32Variant, hrpLen int) {
	if len(s) < 8 || len(s) > 90 {
		return Bech32Invalid, 0
	}
	lower, upper := false, false
	sep := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			return Bech32Invalid, 0
		}
		if c >= 'a' && c <= 'z' {
			lower = true
		} else if c >= 'A' && c <= 'Z' {
			upper = true
		}
		if c == '1' {
			sep = i
		}
	}
	if (lower && upper) || sep < 1 || len(s)-sep-1 < 6 {
		return Bech32Invalid, 0
	}
	chk := uint32(1)
	for i := 0; i < sep; i++ {
		chk = bech32Polymod(chk, toLower(s[i])>>5)
	}
	chk = bech32Polymod(chk, 0)
	for i := 0; i < sep; i++ {
		chk = bech32Polymod(chk, toLower(s[i])&31)
	}
	for i := sep + 1; i < len(s); i++ {
		d := bech32Value(s[i])
		if d < 0 {
			return Bech32Invalid, 0
		}
		chk = bech32Polymod(chk, byte(d))
	}
	switch chk {
	case 1:
		return Bech32, sep
	case 0x2bc830a3:
		return Bech32m, sep
	}
	return Bech32Invalid, 0
}

func toLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// SegwitAddress reports whether s is a valid segregated-witness address for
// the human-readable part hrp (lower case, e.g. "bc" mainnet, "tb" testnet):
// a valid bech32 string ([Bech32Check]) with that HRP, a witness version
// 0–16, a witness program of 2–40 bytes after 5→8-bit regrouping with zero
// padding of at most 4 bits, version 0 using bech32 with a 20- or 32-byte
// program, and versions 1–16 using bech32m. References: BIP-173, BIP-350.
func SegwitAddress[T Text](s T, hrp string) bool {
	v, sep := Bech32Check(s)
	if v == Bech32Invalid || sep != len(hrp) {
		return false
	}
	for i := 0; i < sep; i++ {
		if toLower(s[i]) != hrp[i] {
			return false
		}
	}
	data := s[sep+1 : len(s)-6]
	if len(data) < 1 {
		return false
	}
	ver := bech32Value(data[0])
	if ver > 16 {
		return false
	}
	// 5→8 regrouping: count bytes and check the padding.
	acc, nbits, progLen := 0, 0, 0
	for i := 1; i < len(data); i++ {
		acc = (acc<<5 | bech32Value(data[i])) & 0xfff
		nbits += 5
		if nbits >= 8 {
			nbits -= 8
			progLen++
		}
	}
	if nbits > 4 || acc&((1<<nbits)-1) != 0 {
		return false
	}
	if progLen < 2 || progLen > 40 {
		return false
	}
	if ver == 0 {
		return v == Bech32 && (progLen == 20 || progLen == 32)
	}
	return v == Bech32m
}

// EthAddress is the result of [EthereumAddress].
type EthAddress uint8

// Ethereum address results.
const (
	EthInvalid     EthAddress = iota // not an address, or mixed case with a wrong checksum
	EthNoChecksum                    // valid, all hex letters the same case (no EIP-55 information)
	EthChecksummed                   // valid, mixed case matching the EIP-55 checksum
)

// EthereumAddress validates "0x" followed by 40 hex digits. When the letters
// are of mixed case they must match the EIP-55 checksum: the i-th hex letter is
// upper case iff nibble i of Keccak-256(lower-case hex address, ASCII) is ≥ 8.
// All-lower or all-upper addresses carry no checksum and return
// EthNoChecksum. Reference: EIP-55 (Buterin, Van de Sande, 2016).
func EthereumAddress[T Text](s T) EthAddress {
	if len(s) != 42 || s[0] != '0' || s[1] != 'x' {
		return EthInvalid
	}
	var lower [40]byte
	hasLower, hasUpper := false, false
	for i := 0; i < 40; i++ {
		c := s[i+2]
		switch {
		case isDigit(c):
		case c >= 'a' && c <= 'f':
			hasLower = true
		case c >= 'A' && c <= 'F':
			hasUpper = true
			c += 'a' - 'A'
		default:
			return EthInvalid
		}
		lower[i] = c
	}
	if !hasLower || !hasUpper {
		return EthNoChecksum
	}
	h := keccak256(lower[:])
	for i := 0; i < 40; i++ {
		c := s[i+2]
		if isDigit(c) {
			continue
		}
		nib := h[i/2] >> 4
		if i%2 == 1 {
			nib = h[i/2] & 0x0f
		}
		if (nib >= 8) != (c >= 'A' && c <= 'F') {
			return EthInvalid
		}
	}
	return EthChecksummed
}
