package dlp

import (
	"regexp"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// Financial identifiers beyond the card and IBAN scanners.
func financialDetectors() []*Detector {
	f := CategoryFinancial
	return []*Detector{
		// Magnetic-stripe track data: track 1 starts "%B", track 2 ";" and
		// a PAN (IIN 2–6); the PAN must pass the card validator and the
		// expiry month must exist.
		{ID: "card-track-data", Category: f, Tags: pci, Check: "luhn+expiry", Keywords: []string{"%B", ";2", ";3", ";4", ";5", ";6"}, After: 120,
			Pattern: regexp.MustCompile(`^(%B\d{13,19}\^[^^\n]{2,26}\^\d{4}[0-9 ]{0,40}\??|;\d{13,19}=\d{4}\d{0,30}\??)`), Group: 1,
			Validate: validTrack},
		labelled("card-cvv", f, pci, "keyword", []string{"cvv", "cvc", "cvn", "card verification", "security code", "card code", "código de seguridad", "kartenprüfnummer"}, `[a-z0-9]{0,6}`, 48,
			`\d{3,4}`, nil),
		labelled("card-expiry", f, pci, "keyword+month", []string{"expiry", "expiration", "exp date", "exp:", "exp.", "exp ", "expires", "valid thru", "valid through", "good thru", "gültig bis", "vencimiento", "date d'expiration"}, `[a-z ]{0,8}`, 48,
			`(?:0[1-9]|1[0-2]) ?[/\-.] ?(?:20)?\d{2}`, nil),
		near("swift-bic", f, financial, "structure", []string{"swift", "bic:", "bic ", "bic\"", "bic code", "bic/", "/bic", "(bic)", "bic_", "bic-", "bic=", "bank identifier code"}, 32, 64,
			`[A-Z]{4}[A-Z]{2}[A-Z2-9][A-NP-Z0-9](?:[A-Z0-9]{3})?`, validate.SWIFTBIC[[]byte]),
		near("aba-routing-number", f, financial, "3-7-1-mod-10", []string{"routing", "aba:", "aba ", "aba#", "aba no", "aba number", "\"aba\"", "rtn", "transit number", "abartn"}, 48, 96,
			`\d{4}-?\d{4}-?\d|\d{9}`, all(validate.ABARouting[[]byte], notRepeated)),
		labelled("bank-account-number", f, financial, "keyword", []string{"account number", "account no", "account #", "acct", "bank account", "a/c", "kontonummer", "numéro de compte", "numero de compte", "número de cuenta", "numero de cuenta", "conto corrente", "rekeningnummer", "checking account", "savings account", "account:", "iban account"}, `[a-z_]{0,10}`, 80,
			`\d{6,17}|\d{2,6}[- ]\d{2,10}(?:[- ]\d{1,10})?`, all(minDigits(6), notRepeated)),
		labelled("uk-sort-code", f, financial, "keyword", []string{"sort code", "sortcode", "sort-code", "sort_code"}, ``, 48,
			`\d{2}[- ]?\d{2}[- ]?\d{2}`, notRepeated),
		near("cusip", f, soc2, "mod-10", []string{"cusip"}, 32, 64, `[0-9]{3}[0-9A-Z]{5}[0-9]`, validate.CUSIP[[]byte]),
		near("isin", f, soc2, "luhn", []string{"isin"}, 32, 64, `[A-Z]{2}[A-Z0-9]{9}[0-9]`, validate.ISIN[[]byte]),
		// Crypto-currency addresses: base58check / bech32 and EIP-55 are
		// strong checksums; the legacy base58 form has no literal prefix,
		// so it needs a context word. A 32-bit checksum leaves no room for
		// chance matches, so the context words can be the broad ones of
		// payment requests ("send it to", "deposit", "donations").
		{ID: "bitcoin-address", Category: f, Tags: financial, Check: "base58check/bech32", Context: true, Before: 64, After: 128,
			Keywords: []string{"bitcoin", "btc", "wallet", "bc1", "crypto", "address", "coin", "satoshi", "send", "deposit", "donat", "pay to"},
			Pattern:  regexp.MustCompile(`\b([13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71})\b`), Group: 1,
			Validate: func(v []byte) bool { return validate.BitcoinAddress(v) != validate.BitcoinNone }},
		{ID: "ethereum-address", Category: f, Tags: financial, Check: "eip-55", Keywords: []string{"0x"}, Before: 1, After: 44,
			Pattern: regexp.MustCompile(`\b(0x[0-9a-fA-F]{40})\b`), Group: 1,
			Validate: func(v []byte) bool { return validate.EthereumAddress(v) != validate.EthInvalid && notRepeated(v[2:]) }},
		near("eu-vat-id", f, financial, "format+checksum", []string{"vat", "ust-id", "ustid", "ust.-id", "ust-idnr", "umsatzsteuer", "tva", "iva", "btw", "mwst", "moms", "partita", "alv", "dph", "nip:", "vies", "invoice", "rechnung", "facture", "fattura", "factura", "faktura", "factuur"}, 48, 96,
			`(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|GR|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI|GB)[ ]?[0-9A-Z+*](?:[0-9A-Z]|[ .\-]\d){6,14}|CHE[- ]?\d{3}\.?\d{3}\.?\d{3}`, validate.EUVAT[[]byte]),
	}
}

// validTrack accepts track 1 or 2 data whose PAN passes the card validator
// and whose expiry (YYMM) has a real month.
func validTrack(v []byte) bool {
	start := 1
	if v[0] == '%' {
		start = 2
	}
	end := start
	for end < len(v) && isDigit(v[end]) {
		end++
	}
	if validate.PaymentCard(v[start:end]) == validate.CardNone {
		return false
	}
	// Expiry: after the second '^' (track 1) or the '=' (track 2).
	i := end + 1
	if v[0] == '%' {
		for i < len(v) && v[i] != '^' {
			i++
		}
		i++
	}
	if i+4 > len(v) {
		return false
	}
	m := int(v[i+2]-'0')*10 + int(v[i+3]-'0')
	return m >= 1 && m <= 12
}
