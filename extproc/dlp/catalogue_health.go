package dlp

import (
	"regexp"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// Health identifiers (PHI under HIPAA, special-category data under GDPR).
func healthDetectors() []*Detector {
	const b, a = 48, 96
	h := CategoryHealth
	return []*Detector{
		near("us-npi", h, hipaa, "luhn-80840", []string{"npi", "national provider", "provider id", "provider identifier", "provider number", "prescriber"}, b, a,
			`[12]\d{3}[- ]?\d{3}[- ]?\d{3}`, all(validate.NPI[[]byte], notRepeated)),
		near("us-dea-number", h, hipaa, "dea-check-digit", []string{"dea", "drug enforcement", "medical licen", "medical registration", "prescriber", "certificate number", "certificate no", "certificate #", "registration certificate"}, b, a,
			`[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}`, validate.DEANumber[[]byte]),
		near("us-mbi", h, hipaa, "position-rules", []string{"mbi", "medicare", "beneficiary", "patient"}, b, a,
			`(?i:[1-9][A-Z][A-Z0-9]\d-?[A-Z][A-Z0-9]\d-?[A-Z]{2}\d{2})`, validate.MedicareMBI[[]byte]),
		near("us-hicn", h, hipaa, "ssn+bic", []string{"hicn", "medicare", "health insurance claim", "claim number"}, b, a,
			`\d{3}-?\d{2}-?\d{4}[ -]?[A-HJKMTW][0-9A-Z]?`, validate.USHICN[[]byte]),
		near("ndc-code", h, hipaa, "format", []string{"ndc", "national drug code"}, 16, 64,
			`\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2}|\d{11}`, notRepeated),
		labelled("icd10-code", h, hipaa, "format+keyword", []string{"icd-10", "icd10", "icd 10", "icd", "diagnosis", "diagnostic code", "dx code", "dx:"}, `[a-z\-]{0,10}`, 64,
			`[A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?`, nil),
		labelled("medical-record-number", h, hipaa, "keyword", []string{"mrn", "medical record", "patient id", "patient number", "patient no", "chart number", "chart no", "health record", "hospital number", "patient id number"}, `[a-z_]{0,8}`, 64,
			`[A-Z]{0,3}-?\d{4,12}(?:-\d{1,4})?`, all(minDigits(5), notRepeated)),
		labelled("health-plan-member-id", h, hipaa, "keyword", []string{"member id", "member number", "member no", "subscriber id", "subscriber number", "policy number", "policy no", "insurance id", "insurance number", "group number", "health plan", "beneficiary id"}, `[a-z_]{0,8}`, 64,
			`[A-Z]{0,4}-?\d{5,14}[A-Z]{0,2}|[A-Z0-9]{2,4}-?\d{3,6}-?\d{2,6}`, all(minDigits(5), notRepeated)),
		near("uk-nhs-number", h, hipaa, "mod-11", []string{"nhs", "health service", "chi number", "community health index"}, b, a,
			`\d{3}[- ]?\d{3}[- ]?\d{4}`, validate.UKNHSNumber[[]byte]),
		near("ca-ohip", h, hipaa, "luhn", []string{"ohip", "health card", "ontario health", "health number"}, b, a,
			`\d{4}[- ]?\d{3}[- ]?\d{3}(?:[- ]?[A-Z]{2})?`, validate.OntarioHealthCard[[]byte]),
		near("ca-bc-phn", h, hipaa, "mod-11", []string{"phn", "personal health number", "bc services card", "carecard", "care card"}, b, a,
			`9\d{3} ?\d{3} ?\d{3}`, validate.BCPHN[[]byte]),
		near("de-kvnr", h, hipaa, "mod-10", []string{"kvnr", "krankenversicherungsnummer", "krankenversichertennummer", "versichertennummer", "versicherten-nr", "krankenkasse", "gesundheitskarte", "egk", "health insurance number"}, b, a,
			`[A-Z]\d{9}`, validate.GermanKVNR[[]byte]),
		near("au-medicare", h, hipaa, "weighted-mod-10", []string{"medicare"}, b, a,
			`[2-6]\d{3} ?\d{5} ?\d{1,2}`, validate.AustraliaMedicare[[]byte]),
		{ID: "medical-device-udi", Category: h, Tags: hipaa, Check: "gs1-mod-10", Before: 48, After: 96,
			Keywords: []string{"(01)", "udi", "gtin", "device identifier"}, Context: true,
			Pattern: regexp.MustCompile(`(?:\(01\)|\b)(\d{14})\b`), Group: 1, Validate: all(validate.GS1[[]byte], notRepeated)},
		labelled("ehic-number", h, hipaa, "keyword", []string{"ehic", "european health insurance card", "tarjeta sanitaria europea", "carte européenne d'assurance maladie", "europäische krankenversicherungskarte", "tessera europea"}, `[a-z ]{0,12}`, 96,
			`\d{20}|[A-Z0-9]{8,20}`, all(minDigits(8), notRepeated)),
	}
}
