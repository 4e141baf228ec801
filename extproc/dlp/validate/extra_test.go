package validate

import "testing"

func TestExtraValidators(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(string) bool
		good []string
		bad  []string
	}{
		{"GermanIDDocument", GermanIDDocument[string],
			[]string{"L01X00T44", "l01x00t44", "T220001293", "C01X00T41"},
			[]string{"123456789", "L01X00T4", "T220001290", "LAAAAAAAA", "A01X00T44"}},
		{"GermanKVNR", GermanKVNR[string],
			[]string{"A123456780", "M123456785", "Z999999997"},
			[]string{"A123456781", "1123456780", "A12345678", "a123456780"}},
		{"AustraliaMedicare", AustraliaMedicare[string],
			[]string{"2123 45670 1", "2123456701", "21234567011"},
			[]string{"2123 45671 1", "1123456701", "21234567010"}},
		{"BCPHN", BCPHN[string],
			[]string{"9698658215", "9698 658 215"},
			[]string{"9698658216", "8698658215"}},
		{"OntarioHealthCard", OntarioHealthCard[string],
			[]string{"4532715861", "4532-715-861", "4532 715 861 AB"},
			[]string{"4532715862", "0000000000", "4532715861 A"}},
		{"UKDrivingLicence", UKDrivingLicence[string],
			[]string{"MORGA607054SM9IJ", "morga657054sm9ij", "SMIT9801015JK2CD"},
			[]string{"MORGA613054SM9IJ", "MORGA601004SM9IJ", "MORGA65705SM9IJ"}},
		{"MexicoRFC", MexicoRFC[string],
			[]string{"GODE561231GR8", "ABC680524P76"},
			[]string{"GODE561331GR8", "GODE561231GRZ", "GO1E561231GR8"}},
		{"USHICN", USHICN[string],
			[]string{"078051123A", "078-05-1123A", "078-05-1123 C1", "078051123T"},
			[]string{"000051123A", "078051123Z", "078051123", "078051123ABC"}},
		{"WIFPrivateKey", WIFPrivateKey[string],
			[]string{"5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", "KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617"},
			[]string{"5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTK", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}},
		{"EUVAT", EUVAT[string],
			[]string{"DE136695976", "DE 136 695 976", "ATU13585627", "IT01333550323", "FR40303265045", "NL004495445B01", "BE0403170701", "PL5260250274", "SE556703748501", "ESB12345678", "GB123456789", "CHE-116.281.710"},
			[]string{"DE136695977", "IT01333550324", "FR41303265045", "XX123456789", "DE12345", "BE1403170701", "PL5260250275", "de136695976"}},
	} {
		for _, s := range tc.good {
			if !tc.f(s) {
				t.Errorf("%s(%q) = false, want true", tc.name, s)
			}
		}
		for _, s := range tc.bad {
			if tc.f(s) {
				t.Errorf("%s(%q) = true, want false", tc.name, s)
			}
		}
	}
}

func TestExtraValidatorsDoNotAllocate(t *testing.T) {
	in := []byte("DE136695976")
	dl := []byte("MORGA607054SM9IJ")
	wif := []byte("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ")
	n := testing.AllocsPerRun(100, func() {
		EUVAT(in)
		UKDrivingLicence(dl)
		WIFPrivateKey(wif)
		GermanKVNR(in)
		USHICN(in)
		MexicoRFC(in)
		GermanIDDocument(in)
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}
