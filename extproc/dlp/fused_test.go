package dlp

import (
	"fmt"
	"sort"
	"testing"
)

func sorted(fs []Finding) string {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Start != fs[j].Start {
			return fs[i].Start < fs[j].Start
		}
		return fs[i].Type < fs[j].Type
	})
	return fmt.Sprint(fs)
}

// FuzzFusedEqualsSeparate holds the one-pass scanner to the three separate
// scanners it replaced on the hot path.
func FuzzFusedEqualsSeparate(f *testing.F) {
	for _, s := range []string{
		"card 4111 1111 1111 1111, ip 10.0.0.1, iban GB82 WEST 1234 5698 7654 32",
		"1.4111111111111111 and 078-05-1123 and ::ffff:10.0.0.1 DE89370400440532013000",
		"x1.2.3.4 1.2.3.4.5 256.1.1.1 GB82WEST12345698765432x",
		"GB82 WEST 1234 5698 7654 32 and 000000000000000000 0.0.0.0",
	} {
		f.Add([]byte(s))
	}
	dets := digitDetectors()
	f.Fuzz(func(t *testing.T, text []byte) {
		want := scanIPv4(text, scanIBANs(text, scanDigits(text, dets, nil)))
		got := scanFused(text, dets, nil)
		if sorted(got) != sorted(want) {
			t.Fatalf("%q: fused %v, separate %v", text, got, want)
		}
	})
}
