package validate

import "testing"

// The fuzz targets cover the validators that take free-form input. Each
// asserts that the validator does not panic, is deterministic, and gives the
// same answer for the string and []byte forms of the input.

func FuzzIBAN(f *testing.F) {
	for _, s := range []string{"GB82WEST12345698765432", "gb82 west 1234 5698 7654 32", "AL47-2121-1009-0000-0002-3569-8741", "", "GB", "XX00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b, c := IBAN(s), IBAN(s), IBAN([]byte(s))
		if a != b || a != c {
			t.Fatalf("IBAN(%q) not deterministic: %v %v %v", s, a, b, c)
		}
	})
}

func FuzzPaymentCard(f *testing.F) {
	for _, s := range []string{"4111111111111111", "4111 1111 1111 1111", "378282246310005", "6200000000000005", "", "1-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b, c := PaymentCard(s), PaymentCard(s), PaymentCard([]byte(s))
		if a != b || a != c {
			t.Fatalf("PaymentCard(%q) not deterministic: %v %v %v", s, a, b, c)
		}
		if a != CardNone && !Luhn(s) {
			t.Fatalf("PaymentCard(%q) = %v but Luhn fails", s, a)
		}
	})
}

func FuzzBase58Check(f *testing.F) {
	for _, s := range []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
		"5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", "", "1111111111", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b1, b2 [maxBase58Bytes]byte
		n1, ok1 := Base58CheckDecode(b1[:], s)
		n2, ok2 := Base58CheckDecode(b2[:], []byte(s))
		if ok1 != ok2 || n1 != n2 || b1 != b2 {
			t.Fatalf("Base58CheckDecode(%q) not deterministic", s)
		}
		k1, k2 := BitcoinAddress(s), BitcoinAddress([]byte(s))
		if k1 != k2 {
			t.Fatalf("BitcoinAddress(%q) not deterministic", s)
		}
	})
}

func FuzzBech32(f *testing.F) {
	for _, s := range []string{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "BC1SW50QGDZ25J", "A12UEL5L", "a1lqfn3a",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "", "1", "bc1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v1, p1 := Bech32Check(s)
		v2, p2 := Bech32Check([]byte(s))
		if v1 != v2 || p1 != p2 {
			t.Fatalf("Bech32Check(%q) not deterministic", s)
		}
		w1, w2 := SegwitAddress(s, "bc"), SegwitAddress([]byte(s), "bc")
		if w1 != w2 || (w1 && v1 == Bech32Invalid) {
			t.Fatalf("SegwitAddress(%q) = %v inconsistent with Bech32Check %v", s, w1, v1)
		}
	})
}

func FuzzMRZ(f *testing.F) {
	for _, s := range []string{"L898902C36UTO7408122F1204159ZE184226B<<<<<10", "L898902C36", "<<<<", "", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if MRZPassportLine2(s) != MRZPassportLine2([]byte(s)) || MRZField(s) != MRZField([]byte(s)) {
			t.Fatalf("MRZ validators disagree on %q", s)
		}
		d1, ok1 := MRZCheckDigit(s)
		d2, ok2 := MRZCheckDigit(s)
		if d1 != d2 || ok1 != ok2 {
			t.Fatalf("MRZCheckDigit(%q) not deterministic", s)
		}
	})
}
