package validate

import (
	"crypto/sha3"
	"encoding/hex"
	"math"
	"testing"
)

func TestPaymentCard(t *testing.T) {
	cases := []struct {
		in   string
		want CardBrand
	}{
		// Public test PANs (Stripe, Adyen, PayPal developer documentation).
		{"4111111111111111", CardVisa},
		{"4012 8888 8888 1881", CardVisa},
		{"4222222222222", CardVisa},
		{"5555555555554444", CardMastercard},
		{"2223003122003222", CardMastercard},
		{"378282246310005", CardAmex},
		{"371449635398431", CardAmex},
		{"6011111111111117", CardDiscover},
		{"6011000400000000", CardDiscover},
		{"3530111333300000", CardJCB},
		{"3528000700000000", CardJCB},
		{"30569309025904", CardDinersClub},
		{"36227206271667", CardDinersClub},
		{"6200000000000005", CardUnionPay},
		{"6759649826438453", CardMaestro},
		{"5019717010103742", CardDankort},
		{"122000000000003", CardUATP},
		{"2200" + "00000000000" + refLuhnDigit("220000000000000"), CardMir},
		// Invalid: wrong Luhn digit, wrong length for the brand, unknown IIN,
		// bad characters, mixed separators, too short/long.
		{"4111111111111112", CardNone},
		{"4012-8888-8888-1882", CardNone},
		{"3782822463100" + refLuhnDigit("3782822463100"), CardNone}, // Amex prefix, 14 digits
		{"3782822463100050", CardNone},
		{"555555555555444" + refLuhnDigit("555555555555444") + "0", CardNone},
		{"9111111111111" + refLuhnDigit("9111111111111"), CardNone},
		{"7111111111111111", CardNone},
		{"4111-1111 1111-1111", CardNone},
		{"4111111111111111x", CardNone},
		{"41111111111", CardNone},
		{"41111111111111111111", CardNone},
		{"1748503543012", CardNone},
		{"", CardNone},
	}
	for _, c := range cases {
		if got := PaymentCard(c.in); got != c.want {
			t.Errorf("PaymentCard(%q) = %v, want %v", c.in, got, c.want)
		}
		if got := PaymentCard([]byte(c.in)); got != c.want {
			t.Errorf("PaymentCard([]byte %q) = %v, want %v", c.in, got, c.want)
		}
	}
	if CardIIN("510510") != CardMastercard || CardIIN("27209") != CardNone || CardIIN("2721000000") != CardNone {
		t.Error("CardIIN prefix rules")
	}
	if CardVisa.String() != "visa" || CardBrand(200).String() != "unknown" {
		t.Error("CardBrand.String")
	}
}

func TestIBANLength(t *testing.T) {
	for _, c := range []struct {
		cc   string
		want int
	}{{"NO", 15}, {"BE", 16}, {"DE", 22}, {"GB", 22}, {"FR", 27}, {"MT", 31}, {"LC", 32}, {"RU", 33}, {"XK", 20}, {"US", 0}, {"ZZ", 0}} {
		if got := IBANLength(c.cc[0], c.cc[1]); got != c.want {
			t.Errorf("IBANLength(%s) = %d, want %d", c.cc, got, c.want)
		}
	}
}

func TestISOCountry(t *testing.T) {
	if len(isoCountries) != 2*249 {
		t.Fatalf("isoCountries holds %d codes, want 249", len(isoCountries)/2)
	}
	for i := 2; i < len(isoCountries); i += 2 {
		if isoCountries[i-2:i] >= isoCountries[i:i+2] {
			t.Fatalf("isoCountries not sorted at %s", isoCountries[i:i+2])
		}
	}
	for i := 0; i < len(isoCountries); i += 2 {
		if !ISOCountry(isoCountries[i], isoCountries[i+1]) {
			t.Errorf("ISOCountry(%s) = false", isoCountries[i:i+2])
		}
	}
	for _, c := range []string{"XK", "UK", "ZZ", "AA", "EU"} {
		if ISOCountry(c[0], c[1]) {
			t.Errorf("ISOCountry(%s) = true", c)
		}
	}
}

func TestWeightedMod11(t *testing.T) {
	w := []int{10, 9, 8, 7, 6, 5, 4, 3, 2}
	for _, c := range []struct {
		in     string
		rem    int
		wantOK bool
	}{{"401023213", (4*10 + 1*8 + 2*6 + 3*5 + 2*4 + 1*3 + 3*2) % 11, true}, {"000000000", 0, true}, {"111111111", 54 % 11, true},
		{"40102321", 0, false}, {"4010232130", 0, false}, {"40102321x", 0, false}} {
		rem, ok := WeightedMod11(c.in, w)
		if ok != c.wantOK || (ok && rem != c.rem) {
			t.Errorf("WeightedMod11(%q) = %d,%v want %d,%v", c.in, rem, ok, c.rem, c.wantOK)
		}
	}
}

func TestBitcoinAddress(t *testing.T) {
	cases := []struct {
		in   string
		want BitcoinKind
	}{
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BitcoinP2PKH}, // genesis block
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", BitcoinP2PKH},
		{"16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ", BitcoinP2PKH},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", BitcoinP2SH},
		// BIP-173 and BIP-350 test vectors.
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", BitcoinSegwit},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", BitcoinSegwit},
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", BitcoinSegwit},
		{"BC1SW50QGDZ25J", BitcoinSegwit},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", BitcoinSegwit},
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", BitcoinSegwit},
		// Invalid.
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", BitcoinNone},                             // checksum
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", BitcoinNone},                             // '0' not base58
		{"16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ2", BitcoinNone},                            // too long
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", BitcoinNone},                     // checksum
		{"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", BitcoinNone},                     // testnet
		{"bc1zw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", BitcoinNone},                     // v2 with bech32 checksum
		{"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", BitcoinNone},                           // v0 program length 16
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", BitcoinNone}, // v1 with bech32
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8f3t4", BitcoinNone},                     // mixed case
		{"8f953371d3e85eddb89b05ed6b9e680791055315c73e1025ab5dba7bb2aee189", BitcoinNone},
		{"", BitcoinNone},
	}
	for _, c := range cases {
		if got := BitcoinAddress(c.in); got != c.want {
			t.Errorf("BitcoinAddress(%q) = %v, want %v", c.in, got, c.want)
		}
		if got := BitcoinAddress([]byte(c.in)); got != c.want {
			t.Errorf("BitcoinAddress([]byte %q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestBech32Check(t *testing.T) {
	cases := []struct {
		in   string
		want Bech32Variant
	}{
		// BIP-173 valid checksums.
		{"A12UEL5L", Bech32},
		{"a12uel5l", Bech32},
		{"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs", Bech32},
		{"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", Bech32},
		{"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", Bech32},
		// BIP-350 valid checksums.
		{"A1LQFN3A", Bech32m},
		{"a1lqfn3a", Bech32m},
		{"abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx", Bech32m},
		// Invalid.
		{"A1G7SGD8", Bech32Invalid},  // checksum computed with upper-case HRP
		{"1nwldj5", Bech32Invalid},   // empty HRP
		{"x1b4n0q5v", Bech32Invalid}, // invalid data character
		{"li1dgmt3", Bech32Invalid},  // checksum too short
		{"A12uEL5L", Bech32Invalid},  // mixed case
		{"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", Bech32Invalid}, // > 90
	}
	for _, c := range cases {
		if got, _ := Bech32Check(c.in); got != c.want {
			t.Errorf("Bech32Check(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if !SegwitAddress("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "tb") {
		t.Error("SegwitAddress testnet vector")
	}
	if SegwitAddress("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "bc") {
		t.Error("SegwitAddress accepted the wrong HRP")
	}
}

func TestBase58CheckDecode(t *testing.T) {
	var buf [40]byte
	n, ok := Base58CheckDecode(buf[:], "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
	want, _ := hex.DecodeString("0062e907b15cbf27d5425399ebf6f0fb50ebb88f18")
	if !ok || hex.EncodeToString(buf[:n]) != hex.EncodeToString(want) {
		t.Errorf("decode genesis address = %x,%v want %x", buf[:n], ok, want)
	}
	// WIF private key from the Bitcoin wiki ("Wallet import format").
	n, ok = Base58CheckDecode(buf[:], "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ")
	if !ok || n != 33 || buf[0] != 0x80 {
		t.Errorf("decode WIF = %d,%v", n, ok)
	}
	var small [4]byte
	for _, in := range []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "", "0OIl", "1111"} {
		if _, ok := Base58CheckDecode(buf[:], in); ok {
			t.Errorf("Base58CheckDecode(%q) ok", in)
		}
	}
	if _, ok := Base58CheckDecode(small[:], "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"); ok {
		t.Error("Base58CheckDecode into a too-small buffer succeeded")
	}
}

func TestKeccak256(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
		{"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
	} {
		h := keccak256([]byte(c.in))
		if got := hex.EncodeToString(h[:]); got != c.want {
			t.Errorf("keccak256(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	// The same permutation with the FIPS 202 domain byte must agree with the
	// standard library's SHA3-256 for every length around the rate boundary.
	msg := make([]byte, 3*keccak256Rate+1)
	for i := range msg {
		msg[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(msg); n++ {
		if got, want := keccakSum256(msg[:n], 0x06), sha3.Sum256(msg[:n]); got != want {
			t.Fatalf("SHA3-256 of %d bytes: got %x want %x", n, got, want)
		}
	}
}

func TestEthereumAddress(t *testing.T) {
	cases := []struct {
		in   string
		want EthAddress
	}{
		// EIP-55 test vectors.
		{"0x52908400098527886E0F7030069857D2E4169EE7", EthNoChecksum},
		{"0x8617E340B3D01FA5F11F306F4090FD50E238070D", EthNoChecksum},
		{"0xde709f2102306220921060314715629080e2fb77", EthNoChecksum},
		{"0x27b1fdb04752bbc536007a920d24acb045561c26", EthNoChecksum},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", EthChecksummed},
		{"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", EthChecksummed},
		{"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", EthChecksummed},
		{"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", EthChecksummed},
		// Invalid.
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", EthInvalid},
		{"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", EthInvalid},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", EthInvalid},
		{"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", EthInvalid},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", EthInvalid},
	}
	for _, c := range cases {
		if got := EthereumAddress(c.in); got != c.want {
			t.Errorf("EthereumAddress(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestShannonEntropy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{{"", 0}, {"aaaa", 0}, {"ab", 1}, {"abcd", 2}, {"aabb", 1}, {"0123456789abcdef", 4}} {
		if got := ShannonEntropy(c.in); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("ShannonEntropy(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	b64 := []string{"AKIAxR8vQ2mZ7pLk3NbW9tYc5HdJfG1s4Ue6", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u", "kT3+fQ9/xW2zLmP8vR5bY7cN1hJ4gD6sA0eU"}
	for _, s := range b64 {
		if !EntropyBase64(s) {
			t.Errorf("EntropyBase64(%q) = false (H=%.2f)", s, ShannonEntropy(s))
		}
	}
	for _, s := range []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "password", "abcabcabcabcabcabcabcabc", "not base64 at all!"} {
		if EntropyBase64(s) {
			t.Errorf("EntropyBase64(%q) = true", s)
		}
	}
	for _, s := range []string{"8f953371d3e85eddb89b05ed6b9e680791055315c73e1025ab5dba7bb2aee189", "2b7e151628aed2a6abf7158809cf4f3c", "DEADBEEFCAFEBABE0123456789"} {
		if !EntropyHex(s) {
			t.Errorf("EntropyHex(%q) = false (H=%.2f)", s, ShannonEntropy(s))
		}
	}
	for _, s := range []string{"0123456789", "deadbeef", "", "0x1234", "1111111111111111"} {
		if EntropyHex(s) {
			t.Errorf("EntropyHex(%q) = true", s)
		}
	}
}

func TestClassifyIPv4(t *testing.T) {
	for _, c := range []struct {
		in   string
		want IPv4Class
	}{
		{"8.8.8.8", IPv4Public}, {"0.0.0.0", IPv4ThisNetwork}, {"10.1.2.3", IPv4Private}, {"172.16.0.1", IPv4Private},
		{"172.31.255.255", IPv4Private}, {"172.32.0.1", IPv4Public}, {"192.168.0.1", IPv4Private},
		{"100.64.0.1", IPv4SharedCGNAT}, {"100.127.255.255", IPv4SharedCGNAT}, {"100.128.0.0", IPv4Public},
		{"127.0.0.1", IPv4Loopback}, {"169.254.1.1", IPv4LinkLocal}, {"192.0.0.8", IPv4ProtocolAssign},
		{"192.0.2.1", IPv4Documentation}, {"198.51.100.7", IPv4Documentation}, {"203.0.113.9", IPv4Documentation},
		{"198.18.0.1", IPv4Benchmarking}, {"198.19.255.255", IPv4Benchmarking}, {"198.20.0.1", IPv4Public},
		{"224.0.0.1", IPv4Multicast}, {"239.255.255.250", IPv4Multicast}, {"240.0.0.1", IPv4Reserved},
		{"255.255.255.255", IPv4Broadcast},
	} {
		ip, ok := ParseIPv4(c.in)
		if !ok {
			t.Errorf("ParseIPv4(%q) failed", c.in)
			continue
		}
		if got := ClassifyIPv4(ip); got != c.want {
			t.Errorf("ClassifyIPv4(%s) = %d, want %d", c.in, got, c.want)
		}
	}
	for _, in := range []string{"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1.2.3.1000", ".1.2.3"} {
		if _, ok := ParseIPv4(in); ok {
			t.Errorf("ParseIPv4(%q) ok", in)
		}
	}
}

func TestMRZCheckDigit(t *testing.T) {
	// ICAO Doc 9303 Part 3 worked examples and the Part 4 specimen passport.
	for _, c := range []struct {
		in   string
		want byte
	}{{"L898902C3", '6'}, {"740812", '2'}, {"120415", '9'}, {"ZE184226B<<<<<", '1'}, {"520727", '3'}} {
		if got, ok := MRZCheckDigit(c.in); !ok || got != c.want {
			t.Errorf("MRZCheckDigit(%q) = %c,%v want %c", c.in, got, ok, c.want)
		}
	}
	if _, ok := MRZCheckDigit("abc"); ok {
		t.Error("MRZCheckDigit accepted lower case")
	}
}
