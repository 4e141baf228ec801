package validate

// CardBrand is the payment-card scheme identified from a card number's
// issuer identification number (IIN) prefix.
type CardBrand uint8

// Card brands. CardNone means "not a valid card number".
const (
	CardNone CardBrand = iota
	CardVisa
	CardMastercard
	CardAmex
	CardDiscover
	CardJCB
	CardDinersClub
	CardUnionPay
	CardMaestro
	CardMir
	CardDankort
	CardUATP
)

var cardBrandNames = [...]string{
	CardNone:       "none",
	CardVisa:       "visa",
	CardMastercard: "mastercard",
	CardAmex:       "amex",
	CardDiscover:   "discover",
	CardJCB:        "jcb",
	CardDinersClub: "diners",
	CardUnionPay:   "unionpay",
	CardMaestro:    "maestro",
	CardMir:        "mir",
	CardDankort:    "dankort",
	CardUATP:       "uatp",
}

// String returns the lower-case brand name.
func (b CardBrand) String() string {
	if int(b) < len(cardBrandNames) {
		return cardBrandNames[b]
	}
	return "unknown"
}

// PaymentCard validates a primary account number (PAN) and returns its
// brand, or CardNone when s is not a valid PAN. Rules: 12–19 digits
// (ISO/IEC 7812-1), optionally grouped by spaces or dashes; a valid Luhn
// check digit; an IIN prefix of a known scheme; and a length that scheme
// issues:
//
//	Visa        4                                      13, 16, 19
//	Mastercard  51–55, 2221–2720                       16
//	Amex        34, 37                                 15
//	Discover    6011, 644–649, 65                      16–19
//	JCB         3528–3589                              16–19
//	Diners      300–305, 3095, 36, 38, 39              14–19
//	UnionPay    62                                     16–19
//	Maestro     50 (not 5019), 56–58, 6304, 6759,      12–19
//	            6761–6763
//	Mir         2200–2204                              16–19
//	Dankort     5019                                   16
//	UATP        1                                      15
//
// Sources: ISO/IEC 7812, the schemes' published IIN ranges (Mastercard 2-series
// 2016, Discover/Diners/JCB global acceptance tables). Well-known test PANs
// are valid numbers and are accepted; excluding them is a policy decision.
func PaymentCard[T Text](s T) CardBrand {
	var buf [19]byte
	n, ok := digits(s, buf[:], " -")
	if !ok || n < 12 {
		return CardNone
	}
	d := buf[:n]
	b := cardIIN(d)
	if b == CardNone || !cardLengthOK(b, n) || !luhnOK(d) {
		return CardNone
	}
	return b
}

// CardIIN returns the brand implied by the IIN prefix of the digits of s,
// without checking length or the Luhn digit; CardNone when no brand matches or
// s is not a digit string (separators as for [PaymentCard]).
func CardIIN[T Text](s T) CardBrand {
	var buf [19]byte
	n, ok := digits(s, buf[:], " -")
	if !ok || n < 6 {
		return CardNone
	}
	return cardIIN(buf[:n])
}

func cardIIN(d []byte) CardBrand {
	p2 := num(d[:2])
	p3 := num(d[:3])
	p4 := num(d[:4])
	switch {
	case d[0] == 4:
		return CardVisa
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return CardMastercard
	case p4 >= 2200 && p4 <= 2204:
		return CardMir
	case p2 == 34 || p2 == 37:
		return CardAmex
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65:
		return CardDiscover
	case p4 >= 3528 && p4 <= 3589:
		return CardJCB
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39:
		return CardDinersClub
	case p2 == 62:
		return CardUnionPay
	case p4 == 5019:
		return CardDankort
	case p2 == 50, p2 >= 56 && p2 <= 58, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763:
		return CardMaestro
	case d[0] == 1:
		return CardUATP
	}
	return CardNone
}

func cardLengthOK(b CardBrand, n int) bool {
	switch b {
	case CardVisa:
		return n == 13 || n == 16 || n == 19
	case CardMastercard, CardDankort:
		return n == 16
	case CardAmex, CardUATP:
		return n == 15
	case CardDiscover, CardJCB, CardUnionPay, CardMir:
		return n >= 16 && n <= 19
	case CardDinersClub:
		return n >= 14 && n <= 19
	case CardMaestro:
		return n >= 12 && n <= 19
	}
	return false
}
