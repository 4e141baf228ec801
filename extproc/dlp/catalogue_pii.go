package dlp

import (
	"regexp"
	"strings"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// piiDetectors are the keyword-windowed detectors for financial, government,
// health, personal and network identifiers, and the generic secrets.
func piiDetectors() []*Detector {
	var dets []*Detector
	dets = append(dets, govIDDetectors()...)
	dets = append(dets, financialDetectors()...)
	dets = append(dets, healthDetectors()...)
	dets = append(dets, personalDetectors()...)
	dets = append(dets, networkDetectors()...)
	return append(dets, genericSecretDetectors()...)
}

// Tag sets.
var (
	gdpr      = []string{TagGDPR}
	pci       = []string{TagPCI}
	hipaa     = []string{TagHIPAA, TagGDPR}
	soc2      = []string{TagSOC2}
	financial = []string{TagGDPR, TagSOC2}
)

// near builds a context detector whose value may sit anywhere in the window
// [hit−before, hit+after) around one of its keywords, bounded by non-word
// bytes, and must pass valid. It suits values with a checksum or a strict
// structure ("078-05-1120 is my SSN", {"bsn":"111222333"}).
func near(id string, cat Category, tags []string, check string, keywords []string, before, after int, value string, valid func([]byte) bool) *Detector {
	keywords = fieldVariants(keywords)
	return &Detector{ID: id, Category: cat, Tags: tags, Check: check, Keywords: keywords, Before: before, After: after,
		Pattern: regexp.MustCompile(`\b(` + value + `)\b`), Group: 1, Validate: valid, Context: true}
}

// nearDigits is near for values that begin with a digit and carry a
// self-checking structure (a birth date and a check character): the value
// may be glued to a preceding letter ("my id code is030594W903B"); only a
// digit may not precede it. The structure and checksum, not a word
// boundary, keep such a value apart from its neighbours.
func nearDigits(id string, cat Category, tags []string, check string, keywords []string, before, after int, value string, valid func([]byte) bool) *Detector {
	d := near(id, cat, tags, check, keywords, before, after, value, valid)
	d.Pattern = regexp.MustCompile(`(?:^|[^0-9])(` + value + `)\b`)
	return d
}

// labelFiller is what may separate a label from its value: punctuation,
// quotes, JSON/YAML syntax, and a few short words ("number is", "no.",
// "n°").
const labelFiller = `(?:[\s"'\x60:=#\-.,()\[\]{}/>*|]{1,6}|(?i:is|are|was|of|number|num|no|nr|n°|nº|id|ids|code|the|my|our|your|a|an|es|est|ist|er|é|de|del|da|du|der|die|am|le|la|el|il|on|at)\b){0,8}`

// labelled builds a context detector whose value must follow one of its
// keywords (a label) within the filler above. The pattern is anchored at
// the window start, which is the keyword hit (Before is 0): an anchored
// pattern fails in a few steps where the label is not followed by a value,
// which keeps keyword-dense bodies cheap. It suits values without a
// checksum, where the label is the evidence ("account number: 12345678").
// suffix lets a label continue ("driver licen" + "se"/"ce").
func labelled(id string, cat Category, tags []string, check string, keywords []string, suffix string, after int, value string, valid func([]byte) bool) *Detector {
	keywords = fieldVariants(keywords)
	return &Detector{ID: id, Category: cat, Tags: tags, Check: check, Keywords: keywords, After: after,
		Pattern: regexp.MustCompile(`^(?i:` + alternation(keywords) + `)(?i:` + suffix + `)` + labelFiller + `(` + value + `)(?:[^0-9A-Za-z]|$)`),
		Group:   1, Validate: valid, Context: true}
}

// fieldVariants adds, for each multi-word keyword ("date of birth"), the
// spellings it takes as a field name in JSON, code and forms
// ("date_of_birth", "date-of-birth", "dateOfBirth" — keywords match ASCII
// case-insensitively), without duplicates.
func fieldVariants(keywords []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if l := strings.ToLower(k); !seen[l] {
			seen[l] = true
			out = append(out, k)
		}
	}
	for _, k := range keywords {
		add(k)
	}
	for _, k := range keywords {
		if t := strings.TrimSpace(k); strings.Contains(t, " ") && t == k {
			add(strings.ReplaceAll(k, " ", "_"))
			add(strings.ReplaceAll(k, " ", "-"))
			add(strings.ReplaceAll(k, " ", ""))
		}
	}
	return out
}

// alternation is the regular-expression alternation of literal keywords.
func alternation(keywords []string) string {
	q := make([]string, len(keywords))
	for i, k := range keywords {
		q[i] = regexp.QuoteMeta(k)
	}
	return strings.Join(q, "|")
}

// all combines validators.
func all(fs ...func([]byte) bool) func([]byte) bool {
	return func(b []byte) bool {
		for _, f := range fs {
			if !f(b) {
				return false
			}
		}
		return true
	}
}

// notRepeated refuses values made of one repeated character or of an
// ascending or descending run ("000000000", "123456789", "987654321"),
// the usual placeholders in forms and documentation.
func notRepeated(v []byte) bool {
	var d []byte
	for _, c := range v {
		if isAlnum(c) {
			d = append(d, c)
		}
	}
	if len(d) < 4 {
		return true
	}
	same, up, down := true, true, true
	for i := 1; i < len(d); i++ {
		same = same && d[i] == d[0]
		up = up && (d[i] == d[i-1]+1 || d[i-1] == '9' && d[i] == '0')
		down = down && (d[i] == d[i-1]-1 || d[i-1] == '0' && d[i] == '9')
	}
	return !same && !up && !down
}

// countDigits counts the ASCII digits of v.
func countDigits(v []byte) int {
	n := 0
	for _, c := range v {
		if isDigit(c) {
			n++
		}
	}
	return n
}

// minDigits accepts values holding at least n digits.
func minDigits(n int) func([]byte) bool {
	return func(v []byte) bool { return countDigits(v) >= n }
}

// Government identifiers. Each type needs one of its context words in the
// window: the formats alone (9–13 digits, short alphanumerics) collide with
// order numbers and ids everywhere, even when a checksum holds.
func govIDDetectors() []*Detector {
	const b, a = 48, 96 // window before and after a keyword
	g := CategoryGovID
	ssnLike := `\d{3}[- .]?\d{2}[- .]?\d{4}`
	return []*Detector{
		// United States.
		near("us-ein", g, financial, "irs-prefix", []string{"ein:", "ein ", "ein#", "ein\"", "(ein)", "ein-", "ein_", "employer identification", "fein", "federal tax id", "tax id number"}, b, a,
			`\d{2}-\d{7}`, validate.USEIN[[]byte]),
		labelled("us-passport", g, gdpr, "format+keyword", []string{"passport", "travel document"}, `[a-z]{0,2}`, 96,
			`[A-Z]\d{8}|\d{9}`, notRepeated),
		labelled("us-driver-license", g, gdpr, "format+keyword", []string{"driver licen", "driver's licen", "drivers licen", "driving licen", "dl#", "dl number", "dl no", "licence number", "license number", "license no", "licence no"}, `[a-z]{0,2}`, 96,
			`[A-Z]{0,2}\d{5,14}|[A-Z]\d{3}[- ]\d{3}[- ]\d{2}[- ]\d{3}[- ]\d|[A-Z]{1,2}\d{2,4}[A-Z]{1,3}\d{2,6}`, all(minDigits(5), notRepeated)),
		// United Kingdom.
		near("uk-nino", g, gdpr, "prefix-rules", []string{"national insurance", "nino", "ni number", "ni no", "nin:", "insurance number"}, b, a,
			`(?i:[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D])`, validate.UKNINO[[]byte]),
		labelled("uk-passport", g, gdpr, "format+keyword", []string{"passport"}, `[a-z]{0,2}`, 96,
			`[A-Za-z]{2}\d{7}`, notRepeated),
		near("uk-driving-licence", g, gdpr, "dvla-structure", []string{"licence", "license", "dvla", "driving", "driver"}, b, a,
			`(?i:[A-Z][A-Z9]{4}\d{6}[A-Z][A-Z9]\d[A-Z0-9]{2})`, validate.UKDrivingLicence[[]byte]),
		near("uk-utr", g, financial, "mod-11", []string{"utr", "unique taxpayer", "taxpayer reference", "self assessment", "tax reference"}, b, a,
			`(?:\d{3} ?)?\d{5} ?\d{5}K?`, validate.UKUTR[[]byte]),
		// Canada.
		near("ca-sin", g, gdpr, "luhn", []string{"social insurance", "assurance sociale", "sin number", "s.i.n", "nas:", "nas ", "n.a.s", "sin:", "sin#", "sin no", "sin number", "sin is", "\"sin\"", "'sin'", "sin\":", "my sin", "(sin)"}, b, a,
			`\d{3}[- ]?\d{3}[- ]?\d{3}`, validate.CanadaSIN[[]byte]),
		// Europe.
		near("de-tax-id", g, gdpr, "iso-7064-mod-11-10", []string{"steuer", "idnr", "identifikationsnummer", "tax id", "tin:", "tax identification"}, b, a,
			`\d{2} ?\d{3} ?\d{3} ?\d{3}`, validate.GermanySteuerID[[]byte]),
		near("de-id-card", g, gdpr, "icao-7-3-1", []string{"ausweis", "reisepass", "id card", "identity card", "idkarte", "pass-nr", "passnummer", "dokumentennummer", "document number"}, b, a,
			`(?i:[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\d?)`, validate.GermanIDDocument[[]byte]),
		near("fr-nir", g, gdpr, "mod-97", []string{"nir", "sécurité sociale", "securite sociale", "sécu", "insee", "social security", "carte vitale", "n° ss"}, b, a,
			`[1278] ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}`, validate.FranceNIR[[]byte]),
		near("it-fiscal-code", g, gdpr, "mod-26", []string{"codice fiscale", "cod. fisc", "cod.fisc", "fiscal code", "c.f", "cf:", "cf ", "\"cf\"", "tax code", "codicefiscale", "codice_fiscale", "tessera sanitaria"}, b, a,
			`(?i:[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z])`, validate.ItalyCodiceFiscale[[]byte]),
		near("es-dni", g, gdpr, "mod-23", []string{"dni", "nif", "documento nacional", "d.n.i", "n.i.f"}, b, a,
			`(?i:\d{7,8}[- ]?[A-Z])`, validate.SpainDNI[[]byte]),
		near("es-nie", g, gdpr, "mod-23", []string{"nie", "extranjero", "n.i.e", "nif", "foreigner"}, b, a,
			`(?i:[XYZ]\d{7}[- ]?[A-Z])`, validate.SpainNIE[[]byte]),
		near("nl-bsn", g, gdpr, "11-proef", []string{"bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "citizen service number"}, b, a,
			`\d{4}[ .]?\d{2}[ .]?\d{3}|\d{3}[ .]\d{3}[ .]\d{3}|\d{8}`, validate.NetherlandsBSN[[]byte]),
		near("be-national-number", g, gdpr, "mod-97", []string{"rijksregister", "registre national", "national number", "nationaal nummer", "insz", "niss", "national register", "numéro national"}, b, a, //nolint:misspell // Dutch
			`\d{2}[ .]?\d{2}[ .]?\d{2}[ .-]?\d{3}[ .-]?\d{2}`, validate.BelgiumNationalNumber[[]byte]),
		near("pl-pesel", g, gdpr, "weighted-mod-10", []string{"pesel"}, b, a,
			`\d{11}`, validate.PolandPESEL[[]byte]),
		nearDigits("se-personnummer", g, gdpr, "luhn+date", []string{"personnummer", "personnr", "person nr", "pnr", "personal identity", "samordningsnummer", "personal number", "identity code", "swedish id", "swedish personal", "svenskt id"}, b, a,
			`(?:\d{2})?\d{6}[-+]?\d{4}`, validate.SwedenPersonnummer[[]byte]),
		near("dk-cpr", g, gdpr, "date", []string{"cpr", "personnummer", "sygesikring"}, b, a,
			`\d{6}-?\d{4}`, validate.DenmarkCPR[[]byte]),
		nearDigits("fi-hetu", g, gdpr, "mod-31", []string{"hetu", "henkilötunnus", "henkilotunnus", "personal identity code", "identity code", "sosiaaliturvatunnus", "personbeteckning", "social security", "finnish id", "finnish personal"}, b, a,
			`\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]`, validate.FinlandHETU[[]byte]),
		near("no-fodselsnummer", g, gdpr, "double-mod-11", []string{"fødselsnummer", "fodselsnummer", "fødselsnr", "personnummer", "d-nummer", "national identity number", "birth number"}, b, a,
			`\d{6} ?\d{5}`, validate.NorwayFodselsnummer[[]byte]),
		near("pt-nif", g, financial, "mod-11", []string{"nif", "contribuinte", "número fiscal", "numero fiscal", "nipc"}, b, a,
			`\d{3} ?\d{3} ?\d{3}`, validate.PortugalNIF[[]byte]),
		near("ie-ppsn", g, gdpr, "mod-23", []string{"ppsn", "pps number", "pps no", "personal public service", "pps:"}, b, a,
			`(?i:\d{7}[A-W][ABHW]?)`, validate.IrelandPPSN[[]byte]),
		near("tr-tckn", g, gdpr, "mod-10", []string{"kimlik", "tckn", "tc no", "t.c. no", "tc kimlik", "turkish id", "vatandaşlık"}, b, a,
			`[1-9]\d{10}`, validate.TurkeyTCKN[[]byte]),
		// Asia-Pacific.
		near("in-aadhaar", g, gdpr, "verhoeff", []string{"aadhaar", "aadhar", "uidai", "आधार"}, b, a,
			`[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}`, validate.IndiaAadhaar[[]byte]),
		near("in-pan", g, financial, "structure", []string{"pan:", "pan ", "pan#", "pan\"", "pan_", "pan-", "pan card", "permanent account", "income tax"}, b, a,
			`[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z]`, validate.IndiaPAN[[]byte]),
		near("au-tfn", g, financial, "mod-11", []string{"tfn", "tax file"}, b, a,
			`\d{3} ?\d{3} ?\d{2,3}`, validate.AustraliaTFN[[]byte]),
		near("au-abn", g, financial, "mod-89", []string{"abn", "australian business number"}, b, a,
			`\d{2} ?\d{3} ?\d{3} ?\d{3}`, validate.AustraliaABN[[]byte]),
		near("sg-nric", g, gdpr, "mod-11", []string{"nric", "fin:", "fin ", "fin#", "fin no", "fin number", "\"fin\"", "identity card", "i/c", "ic no", "ic number", "foreign identification"}, b, a,
			`(?i:[STFGM]\d{7}[A-Z])`, validate.SingaporeNRIC[[]byte]),
		near("jp-my-number", g, gdpr, "mod-11", []string{"my number", "mynumber", "マイナンバー", "個人番号", "individual number"}, b, a,
			`\d{4}[ -]?\d{4}[ -]?\d{4}`, validate.JapanMyNumber[[]byte]),
		near("kr-rrn", g, gdpr, "date+sex-digit", []string{"rrn", "resident registration", "주민등록번호", "주민번호", "registration number"}, b, a,
			`\d{6}-?[1-4]\d{6}`, validate.KoreaRRN[[]byte]),
		near("cn-resident-id", g, gdpr, "iso-7064-mod-11-2", []string{"身份证", "公民身份", "resident id", "identity card", "id card", "id number", "citizen id", "national id", "idcard", "id_card"}, b, a,
			`[1-8]\d{16}[\dXx]`, validate.ChinaResidentID[[]byte]),
		{ID: "hk-id", Category: g, Tags: gdpr, Check: "mod-11", Context: true, Before: b, After: a,
			Keywords: []string{"hkid", "hong kong id", "identity card", "身份證", "hkic", "id card"},
			Pattern:  regexp.MustCompile(`\b([A-Z]{1,2}\d{6}(?:\([0-9A]\)|[0-9A]))`), Group: 1, Validate: validate.HongKongID[[]byte]},
		near("tw-id", g, gdpr, "mod-10", []string{"身分證", "national id", "taiwan id", "id number", "identity card", "id no"}, b, a,
			`[A-Z][1289]\d{8}`, validate.TaiwanID[[]byte]),
		// Americas.
		near("br-cpf", g, gdpr, "mod-11", []string{"cpf", "cadastro de pessoa"}, b, a,
			`\d{3}\.?\d{3}\.?\d{3}-?\d{2}`, validate.BrazilCPF[[]byte]),
		near("br-cnpj", g, financial, "mod-11", []string{"cnpj"}, b, a,
			`[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2}`, validate.BrazilCNPJ[[]byte]),
		near("mx-curp", g, gdpr, "mod-10+date", []string{"curp", "clave única", "clave unica"}, b, a,
			`[A-Z]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d`, validate.MexicoCURP[[]byte]),
		near("mx-rfc", g, financial, "structure+date", []string{"rfc", "registro federal de contribuyentes"}, b, a,
			`[A-Z&]{3,4}\d{6}[A-Z0-9]{3}`, validate.MexicoRFC[[]byte]),
		near("cl-rut", g, gdpr, "mod-11", []string{"rut:", "rut ", "rut#", "rut\"", "r.u.t", "rol único", "rol unico", "run:", "r.u.n"}, b, a,
			`\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK]`, validate.ChileRUT[[]byte]),
		labelled("ar-dni", g, gdpr, "format+keyword", []string{"dni", "documento nacional de identidad", "d.n.i"}, ``, 64,
			`\d{1,2}\.?\d{3}\.?\d{3}`, notRepeated),
		// Middle East and Africa.
		near("za-id", g, gdpr, "luhn+date", []string{"south african id", "id number", "identity number", "rsa id", "sa id", "za id", "identity document", "id no", "permanent resident", "identiteitsnommer", "id-nommer", "id nommer"}, b, a,
			`\d{6} ?\d{4} ?\d{3}`, validate.SouthAfricaID[[]byte]),
		near("il-id", g, gdpr, "luhn", []string{"teudat zehut", "תעודת זהות", "israeli id", "israel id", "ת.ז", "ת\"ז"}, b, a,
			`\d{9}|\d{8}-\d`, validate.IsraelID[[]byte]),
		// Travel documents.
		{ID: "passport-mrz", Category: g, Tags: gdpr, Check: "icao-7-3-1", Context: false, Before: 120, After: 120,
			Keywords: []string{"<<"},
			Pattern:  regexp.MustCompile(`([A-Z0-9<]{9}[0-9][A-Z<]{3}\d{6}[0-9][MFX<]\d{6}[0-9][A-Z0-9<]{14}[0-9<][0-9])`), Group: 1,
			Validate: validate.MRZPassportLine2[[]byte]},
		labelled("passport-number", g, gdpr, "format+keyword", []string{"passport", "pasaporte", "passeport", "passaporto", "paspoort", "reisepass", "travel document"}, `[a-z]{0,2}`, 96,
			`[A-Za-z]{3}\d{6}|[A-Za-z]\d{7}|[A-Za-z]\d{3}[A-Za-z]\d{4}|[A-Za-z]{2}\d{6}`, notRepeated),
		// Undashed and partly dashed SSNs ("078051121", "078-051121")
		// are nine digits that only a keyword makes safe to report (the
		// digit scanner takes the full 3-2-4 forms without context).
		near("us-ssn", g, gdpr, "area-group-serial", []string{"ssn", "social security", "social-security", "ss#", "ss #", "soc sec"}, b, a,
			ssnLike, validate.USSSN[[]byte]),
		near("us-itin", g, financial, "irs-ranges", []string{"itin", "taxpayer", "tax id", "tax identification", "tax number"}, b, a,
			ssnLike, validate.USITIN[[]byte]),
	}
}
