package dlp

import (
	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// digitDetector is a type found by the digit-run scanner: candidates are
// runs of digits, optionally grouped by single spaces or dashes, bounded by
// non-alphanumeric bytes; no regular expression is involved.
type digitDetector struct {
	id             string
	info           Info
	minLen, maxLen int // digits, separators excluded
	// shape, when set, must accept the run's layout (e.g. 3-2-4 for SSNs).
	shape    func(run []byte) bool
	validate func(run []byte) bool
}

func digitDetectors() []digitDetector {
	dets := []digitDetector{
		{id: "credit-card", minLen: 13, maxLen: 19, validate: func(b []byte) bool { return validate.PaymentCard(b) != validate.CardNone },
			info: Info{Category: CategoryFinancial, Tags: []string{TagPCI}, Check: "luhn+iin"}},
		{id: "us-ssn", minLen: 9, maxLen: 9, shape: groups(3, 2, 4), validate: validate.USSSN[[]byte],
			info: Info{Category: CategoryGovID, Tags: []string{TagGDPR}, Check: "area-group-serial"}},
	}
	for i := range dets {
		dets[i].info.ID = dets[i].id
	}
	return dets
}

// scannerInfos describe the types found by the other hand-written scanners.
var scannerInfos = []Info{
	{ID: "email", Category: CategoryPersonal, Tags: []string{TagGDPR}, Check: "shape"},
	{ID: "iban", Category: CategoryFinancial, Tags: []string{TagGDPR}, Check: "mod-97+country-length"},
	{ID: "ipv4-address", Category: CategoryNetwork, Tags: []string{TagGDPR}, Check: "dotted-quad"},
}

// groups accepts runs laid out as separated groups of the given sizes.
func groups(sizes ...int) func([]byte) bool {
	return func(run []byte) bool {
		g, n := 0, 0
		for _, c := range run {
			if c >= '0' && c <= '9' {
				n++
				continue
			}
			if g >= len(sizes)-1 || n != sizes[g] {
				return false
			}
			g++
			n = 0
		}
		return g == len(sizes)-1 && n == sizes[g]
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') || c == '_'
}
