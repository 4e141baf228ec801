package dlp

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/extproc/dlp/dlptest"
)

// presidioTypes maps Presidio entity types to ours. IP_ADDRESS entities
// holding a ':' are IPv6 addresses (see presidioType).
var presidioTypes = map[string]string{
	"CREDIT_CARD":               "credit-card",
	"IBAN_CODE":                 "iban",
	"US_SSN":                    "us-ssn",
	"EMAIL_ADDRESS":             "email",
	"IP_ADDRESS":                "ipv4-address",
	"ABA_ROUTING_NUMBER":        "aba-routing-number",
	"AU_ABN":                    "au-abn",
	"AU_MEDICARE":               "au-medicare",
	"AU_TFN":                    "au-tfn",
	"CA_SIN":                    "ca-sin",
	"CRYPTO":                    "bitcoin-address",
	"DE_HEALTH_INSURANCE":       "de-kvnr",
	"DE_ID_CARD":                "de-id-card",
	"DE_PASSPORT":               "de-id-card",
	"DE_TAX_ID":                 "de-tax-id",
	"DE_VAT_ID":                 "eu-vat-id",
	"ES_NIE":                    "es-nie",
	"ES_NIF":                    "es-dni",
	"ES_PASSPORT":               "passport-number",
	"FI_PERSONAL_IDENTITY_CODE": "fi-hetu",
	"FIN":                       "sg-nric",
	"IN_AADHAAR":                "in-aadhaar",
	"IN_PAN":                    "in-pan",
	"IN_PASSPORT":               "passport-number",
	"IT_FISCAL_CODE":            "it-fiscal-code",
	"KR_RRN":                    "kr-rrn",
	"MAC_ADDRESS":               "mac-address",
	"MEDICAL_LICENSE":           "us-dea-number",
	"PHONE_NUMBER":              "phone-number",
	"PL_PESEL":                  "pl-pesel",
	"SE_PERSONNUMMER":           "se-personnummer",
	"SG_NRIC_FIN":               "sg-nric",
	"TR_NATIONAL_ID":            "tr-tckn",
	"UK_DRIVING_LICENCE":        "uk-driving-licence",
	"UK_NHS":                    "uk-nhs-number",
	"UK_NINO":                   "uk-nino",
	"UK_PASSPORT":               "uk-passport",
	"US_BANK_NUMBER":            "bank-account-number",
	"US_DRIVER_LICENSE":         "us-driver-license",
	"US_ITIN":                   "us-itin",
	"US_MBI":                    "us-mbi",
	"US_NPI":                    "us-npi",
	"US_PASSPORT":               "us-passport",
	"ZA_ID_NUMBER":              "za-id",
}

// presidioType maps one entity (type and value) to our type.
func presidioType(typ, value string) (string, bool) {
	if typ == "IP_ADDRESS" && strings.Contains(value, ":") {
		return "ipv6-address", true
	}
	ours, ok := presidioTypes[typ]
	return ours, ok
}

// TestPresidioCorpus scores the covered PII types on Presidio's recognizer
// test cases, span-overlap based, on the rows written for each type (its
// positives and the rows where it must not fire). Floors are the figures
// measured when written. Most of these rows are bare values ("121000358")
// while our context types require a keyword near the value: their recall
// here measures the rows that carry context, and is low by design (see
// presidioFloors).
//
// Bare values are deliberately not detected for the ambiguous formats: a
// row that is only "121000358", "130692544", "AB1234567" or "S2740116C"
// holds no evidence that it is a routing number, a SIN, a passport or an
// NRIC rather than an order id, a phone extension or a product code, and a
// checksum of one decimal digit passes one random number in ten. Presidio
// scores such bare matches low too (its context enhancer raises them). The
// types found without context are those whose format is its own evidence:
// payment cards (Luhn + IIN), IBANs (mod 97), dashed SSNs (area/group
// rules), e-mail, IPv4 and IPv6 addresses, MAC addresses. The "in
// sentences" figure is recall on the rows that hold more than the value;
// it is the one that compares with labelled sets of written text.
func TestPresidioCorpus(t *testing.T) {
	type corpusRow struct {
		Text     string `json:"text"`
		Entities []struct {
			Type       string `json:"type"`
			Start, End int
			Value      string `json:"value"`
		} `json:"entities"`
		ExpectedTypes []string `json:"expected_types"`
		ExpectedCount int      `json:"expected_count"`
		NegativeFor   []string `json:"negative_for"`
	}
	rows, err := dlptest.ReadJSONL[corpusRow]("corpora/pii/presidio_recognizer_tests.jsonl")
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	e, err := NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	// sgold and stp count the rows that are sentences (hold a space),
	// where a context word can occur, apart from bare values.
	type score struct{ gold, tp, pred, fp, sgold, stp int }
	scores := map[string]*score{}
	for _, typ := range presidioTypes {
		scores[typ] = &score{}
	}
	scores["ipv6-address"] = &score{}
	for _, row := range rows {
		if len(row.Entities) == 0 && len(row.ExpectedTypes) > 0 {
			// A count-only row ("span not given"): predictions of the
			// expected type are matched by number, not by position.
			found := e.Scan([]byte(row.Text), nil)
			for _, ty := range row.ExpectedTypes {
				ours, ok := presidioTypes[ty]
				if !ok {
					continue
				}
				if ty == "IP_ADDRESS" && strings.Count(row.Text, ":") >= 2 { // an IPv6 address has two colons or more
					ours = "ipv6-address"
				}
				want := max(row.ExpectedCount, 1)
				if len(row.ExpectedTypes) > 1 {
					want = 1
				}
				k := 0
				for _, fd := range found {
					if fd.Type == ours {
						k++
					}
				}
				s := scores[ours]
				if strings.Contains(strings.TrimSpace(row.Text), " ") {
					s.sgold += want
					s.stp += min(k, want)
				}
				s.gold += want
				s.pred += k
				s.tp += min(k, want)
				s.fp += max(0, k-want)
				if os.Getenv("DLP_DEBUG") != "" && k != want {
					t.Logf("COUNT %s want %d got %d in %q", ours, want, k, row.Text)
				}
			}
			continue
		}
		// Python character offsets → byte offsets.
		byteAt := make([]int, 0, len(row.Text)+1)
		for i := range row.Text {
			byteAt = append(byteAt, i)
		}
		byteAt = append(byteAt, len(row.Text))
		about := map[string]bool{}
		for _, ty := range append(row.ExpectedTypes, row.NegativeFor...) {
			if ours, ok := presidioTypes[ty]; ok {
				about[ours] = true
			}
			if ty == "IP_ADDRESS" {
				about["ipv6-address"] = true
			}
		}
		type span struct{ lo, hi int }
		gold := map[string][]span{}
		for _, en := range row.Entities {
			ours, ok := presidioType(en.Type, en.Value)
			if !ok {
				continue
			}
			if en.Start < 0 || en.End >= len(byteAt) || en.Start >= en.End {
				t.Fatalf("bad span in %q", row.Text)
			}
			gold[ours] = append(gold[ours], span{byteAt[en.Start], byteAt[en.End]})
			about[ours] = true
		}
		found := e.Scan([]byte(row.Text), nil)
		for typ := range about {
			s := scores[typ]
			matched := make([]bool, len(gold[typ]))
			for _, fd := range found {
				if fd.Type != typ {
					continue
				}
				s.pred++
				hit := false
				for gi, g := range gold[typ] {
					if fd.Start < g.hi && g.lo < fd.End {
						hit, matched[gi] = true, true
					}
				}
				if !hit {
					s.fp++
					if os.Getenv("DLP_DEBUG") != "" {
						t.Logf("FP %s %q in %q", typ, row.Text[fd.Start:fd.End], row.Text)
					}
				}
			}
			s.gold += len(gold[typ])
			sentence := strings.Contains(strings.TrimSpace(row.Text), " ")
			for gi, m := range matched {
				if sentence {
					s.sgold++
				}
				if m && sentence {
					s.stp++
				}
				if m {
					s.tp++
				} else if os.Getenv("DLP_DEBUG") != "" {
					g := gold[typ][gi]
					t.Logf("FN %s %q in %q", typ, row.Text[g.lo:g.hi], row.Text)
				}
			}
		}
	}
	var types, lines []string
	for typ := range scores {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		s := scores[typ]
		p, r := ratio(s.pred-s.fp, s.pred), ratio(s.tp, s.gold)
		lines = append(lines, fmt.Sprintf("%-20s precision %.3f (%d/%d)  recall %.3f (%d/%d)  in sentences %.3f (%d/%d)",
			typ, p, s.pred-s.fp, s.pred, r, s.tp, s.gold, ratio(s.stp, s.sgold), s.stp, s.sgold))
		if floor := presidioFloors[typ]; p < floor[0] || r < floor[1] {
			t.Errorf("%s: precision %.3f / recall %.3f below the floors %.2f / %.2f", typ, p, r, floor[0], floor[1])
		}
	}
	t.Logf("Presidio recognizer cases:\n%s", strings.Join(lines, "\n"))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// presidioFloors: {precision, recall} measured when written. Recall is
// below 0.95 for every context type because most rows of Presidio's
// recognizer tests are bare values ("121000358", "AAAAAA00B11C333Y") and
// these types are reported only near a keyword (a JSON field name counts):
// without one a 9–13 digit number is as likely an order id, a timestamp or
// a phone number, and Presidio itself scores such bare matches low. The
// recall they reach here is the share of rows that carry a context word.
// Precision is held at 1.00 where measured so, and the remaining misses are
// listed in the comments.
var presidioFloors = map[string][2]float64{
	"credit-card":         {1.00, 1.00}, // 16/16, 16/16
	"iban":                {1.00, 0.99}, // 157/157, 157/158 (dash-separated IBAN)
	"us-ssn":              {1.00, 0.61}, // 8/8, 8/13 (was 7/13; partly dashed "078-051121" next to "ssn" now counts): bare undashed, dotted and odd-grouped SSNs without context ("078-051121 07805-1121"); "078051120" is the Woolworth wallet SSN the SSA voided
	"email":               {1.00, 0.85}, // 6/6, 6/7
	"ipv4-address":        {1.00, 0.88}, // 24/24, 24/27: the IPv4 tail of "text::ffff:192.0.2.1" and "foo2001:db8::10.0.0.1", "192.168.1.1.1"
	"ipv6-address":        {1.00, 0.93}, // 61/61, 61/65: "::" alone is refused (type annotations "x :: Int", C++ scopes; reported as "::/0"); one uncompressed address whose colons all sit between decimal digits opens no window (see ipv6Keywords)
	"aba-routing-number":  {1.00, 0.20}, // 1/1, 1/5: bare rows
	"au-abn":              {1.00, 0.00}, // 0/0, 0/2: bare rows only ("51 824 753 556" with no "ABN")
	"au-medicare":         {1.00, 0.00}, // 0/0, 0/2: bare rows only (no "Medicare")
	"au-tfn":              {1.00, 0.00}, // 0/0, 0/2: bare rows only (no "TFN"/"tax file")
	"bank-account-number": {1.00, 0.66}, // 2/2, 2/3
	"bitcoin-address":     {1.00, 0.42}, // 3/3, 3/7: bare legacy addresses ("16Yeky… 3J98…") have no literal to key on; bech32 keys on "bc1" without context
	"ca-sin":              {1.00, 0.22}, // 2/2, 2/9: bare "130 692 544"-style rows (a nine-digit Luhn number is one in ten)
	"de-id-card":          {1.00, 0.12}, // 4/4, 4/32 (ID card and passport rows)
	"de-kvnr":             {1.00, 0.11}, // 2/2, 2/18
	"de-tax-id":           {1.00, 0.00}, // 0/0, 0/6: every test id (12345678903, 98765432106, …) breaks the digit-repetition rule of the IdNr (§139b AO, StIdV: one digit twice or thrice in the first ten), so a real IdNr never looks like them
	"es-dni":              {1.00, 0.00}, // 0/0, 0/8: bare rows only
	"es-nie":              {1.00, 0.30}, // 3/3, 3/10
	"eu-vat-id":           {1.00, 0.09}, // 3/3, 3/31 (was 2/31; "Rechnung"/"invoice" are VAT context now): the rest are bare "DE 136 695 976"-style values ("de" is a word in half of Europe's languages)
	"fi-hetu":             {1.00, 0.15}, // 4/4, 4/26 (was 3/26; a value glued to a word, "is030594W903B", now counts): the rest are bare rows
	"in-aadhaar":          {1.00, 0.11}, // 1/1, 1/9: bare rows ("3123 4567 8909" with no "Aadhaar")
	"in-pan":              {1.00, 0.12}, // 1/1, 1/8: DJPMS1234Z has no valid holder-type letter (Income Tax Dept.: A B C F G H J L P T); "… known as PAN in India …" holds no PAN at all
	"it-fiscal-code":      {1.00, 0.00}, // 0/0, 0/4: bare rows only ("AAAAAA00B11C333Y and AAAAAA00B11C333N"): no literal prefix to key a context-free finder on
	"kr-rrn":              {1.00, 0.20}, // 2/2, 2/10
	"mac-address":         {1.00, 1.00}, // 16/16, 16/16
	"passport-number":     {1.00, 0.33}, // 6/6, 6/18: values before "pasaporte" ("AAA123456 es mi número de pasaporte") are not read: a label-anchored finder sees only what follows its keyword, and the engine takes one keyword finder per type
	"phone-number":        {0.95, 0.95}, // 39/41, 39/41: the corpus labels "… one is +91 4155 550132" and "… one is 91-415-555-0132" both ways (two leniency settings), so one row of each pair counts against us; "US: 415-555-0132" has no context word and "is415-555-0132" no word boundary
	"pl-pesel":            {1.00, 0.14}, // 1/1, 1/7
	"se-personnummer":     {1.00, 0.38}, // 5/5, 5/13 (was 4/13; a value glued to a word, "is199003052397", now counts): the rest are bare rows
	"sg-nric":             {1.00, 0.16}, // 2/2, 2/12: bare rows ("S9108268C T7572225C"); "my fin is g3300299L" fails the FIN check letter (N)
	"tr-tckn":             {1.00, 0.30}, // 4/4, 4/13: "Birinci kişi: 10000000146, ikinci kişi: …" has no id word
	"uk-driving-licence":  {1.00, 0.09}, // 1/1, 1/11
	"uk-nhs-number":       {1.00, 0.00}, // 0/0, 0/3: bare rows only ("221 395 1837" is a US phone number's shape)
	"uk-nino":             {1.00, 0.40}, // 2/2, 2/5: bare rows ("AA 12 34 56 B")
	"uk-passport":         {1.00, 0.33}, // 2/2, 2/6: the second value of "Passports: AB1234567 and XY9876543" (a label-anchored finder reads the value right after its label)
	"us-dea-number":       {1.00, 0.25}, // 1/1, 1/4 (was 0/4; "certificate number"/"medical license" are context now): "GL0285191 EU4488929" is bare
	"us-driver-license":   {1.00, 0.36}, // 4/4, 4/11: a row of six bare numbers; "AA1B2**9ABA7" is masked
	"us-itin":             {0.75, 0.33}, // 3/4, 3/9: a count-only row holds two valid ITIN forms but counts one; "911-701234 91170-1234" is bare
	"us-mbi":              {1.00, 0.50}, // 4/4, 4/8
	"us-npi":              {1.00, 0.44}, // 4/4, 4/9: bare rows ("1234 567 893")
	"us-passport":         {1.00, 0.50}, // 5/5, 5/10: "my passport number is hi bye hello 912803456" (words between label and value)
	"za-id":               {1.00, 0.33}, // 4/4, 4/12 (was 3/12; "permanent resident" is context now): the rest are bare rows
}
