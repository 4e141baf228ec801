package dlp

import (
	"bytes"
	"regexp"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// phoneKeywords open a phone-number window: the international prefix "+"
// with a country-code digit, a parenthesised area code, and context words:
// the words for a telephone, a call or a contact in several languages,
// and "number" after a possessive, a line type or a country ("her number",
// "home number", "my Japanese number"), never "number" alone, which
// labels order, account and invoice numbers as often.
var phoneKeywords = func() []string {
	kws := []string{
		"+1", "+2", "+3", "+4", "+5", "+6", "+7", "+8", "+9",
		"(2", "(3", "(4", "(5", "(6", "(7", "(8", "(9", "(0",
		"phone", "tel:", "tel.", "tel ", "telephone", "mobile", "cell", "call me", "call at", "fax", "whatsapp", "sms",
		"contact", "reach me", "telefon", "teléfono", "telefono", "téléphone", "telefone", "handy", "móvil", "movil",
		"celular", "portable", "mob:", "ph:", "ph.", "msisdn", "tlf", "puhelin", "tel\"", "landline", "hotline",
		"call ", "dial ", "text me", "ring me", "numéro de téléphone", "rufnummer", "direct line", "reach her", "reach him",
	}
	// "<qualifier> number": possessives, line types, and countries or
	// nationalities as people name their numbers ("my Israeli number is").
	for _, q := range []string{
		"my", "her", "his", "their", "your", "our", "home", "work", "office", "business", "private", "personal",
		"local", "international", "landline", "emergency", "backup", "alternate", "alternative", "daytime", "evening",
		"us", "uk", "cn", "eu", "american", "british", "canadian", "mexican", "brazilian", "argentinian", "chilean",
		"colombian", "german", "french", "italian", "spanish", "portuguese", "dutch", "belgian", "swiss", "austrian",
		"irish", "swedish", "norwegian", "danish", "finnish", "polish", "czech", "greek", "turkish", "russian",
		"ukrainian", "israeli", "egyptian", "nigerian", "kenyan", "south african", "indian", "pakistani", "chinese",
		"japanese", "korean", "taiwanese", "singaporean", "singapore", "malaysian", "indonesian", "thai", "vietnamese",
		"filipino", "philippine", "australian", "hong kong", "emirati", "saudi",
	} {
		kws = append(kws, q+" number")
	}
	return kws
}()

// Contact and personal data.
func personalDetectors() []*Detector {
	p := CategoryPersonal
	return []*Detector{
		{ID: "phone-number", Category: p, Tags: gdpr, Check: "e164-length", Context: true, Before: 1, After: 64,
			Keywords: phoneKeywords,
			Pattern: regexp.MustCompile(`(?:^|[^0-9A-Za-z+_/=.-])((?:` +
				`\+[1-9]\d{0,3}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d{1,5}){2,6}` + // international
				`|\(\d{2,5}\)[ .\-]?\d{2,5}(?:[ .\-]?\d{2,5}){0,3}` + // (area) local
				`|0\d{1,4}[ .\-/]?\d{2,5}(?:[ .\-]?\d{2,5}){0,3}` + // national trunk prefix, or 00 + country code
				`|(?:[1-9]\d{0,2}-)?[2-9]\d{2}[ .\-]?\d{3}[ .\-]?\d{4}|[2-9]\d{2}[ .\-]\d{7}` + // NANP, "1-" or a country code before it
				`|1[3-9]\d{9}` + // Chinese mobile numbers (11 digits, 13x–19x)
				`)(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?)` + // extension ("x1234", "ext. 12")
				`(?:[^0-9A-Za-z]|$)`), Group: 1, Validate: validPhone},
		labelled("date-of-birth", p, gdpr, "date+keyword", []string{"dob", "d.o.b", "date of birth", "birth date", "birthdate", "birthday", "born on", "born", "geburtsdatum", "geboren", "fecha de nacimiento", "nacido el", "date de naissance", "né le", "née le", "data di nascita", "nato il", "geboortedatum", "birth_date", "date_of_birth"}, `[a-z_]{0,6}`, 64,
			`\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\.?\s(?:of\s)?`+months+`,?\s\d{4}|`+months+`\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4}`, validDate),
		{ID: "street-address", Category: p, Tags: gdpr, Check: "structure+keyword", Context: true, Before: 64, After: 24,
			Keywords: []string{"street", "avenue", "road", "boulevard", "blvd", "lane", "drive", "court", "terrace", "parkway", "highway", "st.", "ave.", "rd.", "dr.", "straße", "strasse", "str.", "gasse", "allee", "platz", "weg "},
			Pattern: regexp.MustCompile(`(?:^|[^0-9A-Za-z])(` +
				`\d{1,5}[A-Za-z]?,?\s(?:[A-Z][A-Za-z'\-]+\.?\s){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Terrace|Ter|Parkway|Pkwy|Highway|Hwy)\b\.?` +
				`|(?:[A-ZÄÖÜ][a-zäöüß\-]+(?:straße|strasse|str\.|gasse|allee|platz|weg)|[A-ZÄÖÜ][a-zäöüß]+\s(?:Straße|Strasse|Str\.|Gasse|Allee|Platz|Weg))\s\d{1,4}[a-z]?)\b`),
			Group: 1},
		labelled("postal-code", p, gdpr, "format+keyword", []string{"zip code", "zipcode", "zip:", "zip ", "\"zip\"", "postal code", "postal_code", "postalcode", "postcode", "post code", "plz", "postleitzahl", "code postal", "código postal", "codigo postal", "cap:", "c.p."}, ``, 48,
			`\d{5}(?:-\d{4})?|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d|\d{4}(?: ?[A-Za-z]{2})?|\d{3}-\d{4}|\d{2}-\d{3}|\d{6}`, nil),
		near("vin", p, gdpr, "iso-3779", []string{"vin:", "vin ", "vin#", "vin\"", "vin_", "vin-", "vin=", "vin number", "vehicle identification", "chassis", "fahrgestell"}, 32, 64,
			`[A-HJ-NPR-Z0-9]{17}`, func(v []byte) bool {
				return validate.VIN(v) || (validate.VINStructure(v) && countDigits(v) >= 4 && countDigits(v) <= 14)
			}),
	}
}

const months = `(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre)`

// validPhone bounds the digit count (E.164: at most 15) and refuses
// dates and version-like runs the loose national formats also match.
func validPhone(v []byte) bool {
	if i := bytes.IndexAny(v, "xe"); i > 0 { // an extension is not part of the number
		v = bytes.TrimRight(v[:i], " ")
	}
	n := countDigits(v)
	intl := v[0] == '+'
	if n > 15 || (intl && n < 8) || (!intl && n < 9) {
		return false
	}
	if !notRepeated(v) {
		return false
	}
	// YYYY-MM-DD, DD.MM.YYYY and the like.
	seps, groups := byte(0), []int{0}
	for _, c := range v {
		switch {
		case isDigit(c):
			groups[len(groups)-1]++
		case c == '.' || c == '/' || c == '-':
			if seps == 0 {
				seps = c
			}
			groups = append(groups, 0)
		case c == ' ':
			groups = append(groups, 0)
		}
	}
	if !intl && len(groups) == 3 && (groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2 || groups[2] == 4 && groups[0] <= 2 && groups[1] <= 2) {
		return false
	}
	return true
}

// validDate accepts a written date whose numbers form a plausible birth
// date: a month 1–12 (or a month name), a day 1–31 and a year 1900–2099
// (two-digit years accepted).
func validDate(v []byte) bool {
	var nums []int
	var lens []int
	cur, l := 0, 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && isDigit(v[i]) {
			cur = cur*10 + int(v[i]-'0')
			l++
			continue
		}
		if l > 0 {
			nums, lens = append(nums, cur), append(lens, l)
		}
		cur, l = 0, 0
	}
	switch len(nums) {
	case 2: // month name: day and year
		d, y := nums[0], nums[1]
		return d >= 1 && d <= 31 && y >= 1900 && y <= 2099
	case 3:
		y, m, d := nums[2], nums[1], nums[0]
		if lens[0] == 4 {
			y, m, d = nums[0], nums[1], nums[2]
		} else if m > 12 { // US order MM/DD/YYYY
			m, d = d, m
		}
		if lens[len(lens)-1] == 2 && lens[0] != 4 {
			y += 1900
		}
		return y >= 1900 && y <= 2099 && m >= 1 && m <= 12 && d >= 1 && d <= 31
	}
	return false
}
