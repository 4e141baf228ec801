package dlp

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// MinKnownSecretLen is the shortest secret value, and the shortest derived
// form, that KnownSecrets matches: shorter strings occur by chance too often
// to be evidence of a leak. NewKnownSecrets rejects shorter secret values;
// derived forms (the credential after a scheme, a Basic password) that are
// shorter are silently not matched.
const MinKnownSecretLen = 8

// KnownSecret is a credential the gateway itself holds (for example one it
// injects into requests to an upstream) and that agents must never see.
type KnownSecret struct {
	// Name identifies the secret in findings (for example the upstream
	// name); it is never the value.
	Name string
	// Value is the secret as configured: a raw key, or a header value with
	// an authentication scheme ("Bearer X", "Basic dXNlcjpwYXNz").
	Value string
}

// KnownFinding is a known-secret occurrence with the secret that matched.
type KnownFinding struct {
	Finding
	// Name is the matching KnownSecret's Name.
	Name string
	// Form names the encoding that matched: "raw", "json", "percent",
	// "base64", "base64url", "hex".
	Form string
}

// KnownSecrets finds the configured secrets in texts (findings of type
// KnownSecretType), in every form listed below. It is immutable and safe
// for concurrent use.
//
// For each secret value V the matched strings are derived from these bases:
// V; for a value with an authentication scheme ("Bearer X", "Token X", any
// single token followed by spaces) the credential X; for "Basic X" where X is
// base64 of "user:pass", also "user:pass" and the password alone. Bases
// shorter than MinKnownSecretLen are dropped. Each base B is then matched:
//
//   - raw;
//   - JSON-string-escaped as the common encoders write it: '"' and '\\'
//     escaped, control bytes as short escapes or \u00xx; optionally '/' as
//     "\/" or \u002f, '<' '>' '&' as \u003c (Go's default), non-ASCII as
//     \uXXXX (surrogate pairs above the BMP); hex digits all lower or all
//     upper case; and every character escaped as \uXXXX;
//   - percent-encoded with the safe sets of RFC 3986, encodeURIComponent,
//     encodeURI, Go's url.PathEscape, or no safe byte at all, space as %20
//     or '+', hex all upper or all lower case;
//   - base64 with the standard and URL alphabets, padded and unpadded, and
//     inside a larger base64 blob: for each of the 3 alignments of B in the
//     encoded stream the characters that depend only on B are matched (so
//     such a finding may start and end up to 2 characters inside the
//     encoding of B). Standard-alphabet forms are also matched with '/'
//     JSON-escaped and with '+', '/', '=' percent-encoded;
//   - hex, lower and upper case.
//
// Matching is case-sensitive and exact (no mixed escaping within one
// occurrence: a value escaped byte by byte in several styles is not found;
// decode such bodies first). Scanning is one pass over the text whatever the
// number of secrets and forms: every form is at least MinKnownSecretLen
// bytes long, so the 8-byte windows of the text at every step-th position
// (step = shortest form length - 7, at most 8) are hashed and looked up in
// a bit filter of the forms' windows at offsets 0..step-1; only filter hits
// are verified, byte for byte.
type KnownSecrets struct {
	filter  []uint64 // bit set over hash(anchor)
	shift   uint     // 64 - log2(len(filter)*64)
	step    int      // windows checked at every step-th position
	maxLen  int      // longest form
	anchors map[uint64][]knownAnchor
	pats    []knownPattern
}

// knownAnchor is the 8-byte window at off in pattern pat. Every pattern is
// at least 8+step-1 bytes long and registers its windows at offsets
// 0..step-1, so checking the windows at multiples of step finds every
// occurrence exactly once.
type knownAnchor struct {
	pat, off int32
}

type knownPattern struct {
	text   string
	secret int32 // index into names
	name   string
	form   string
}

// Form names reported in KnownFinding.Form.
const (
	formRaw       = "raw"
	formJSON      = "json"
	formPercent   = "percent"
	formBase64    = "base64"
	formBase64URL = "base64url"
	formHex       = "hex"
)

// NewKnownSecrets compiles secrets. Secrets whose value is shorter than
// MinKnownSecretLen are rejected: the error names all of them (never their
// values) and no KnownSecrets is returned. An empty list is valid and
// matches nothing.
func NewKnownSecrets(secrets []KnownSecret) (*KnownSecrets, error) {
	var short []string
	for i, s := range secrets {
		if len(s.Value) < MinKnownSecretLen {
			name := s.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			short = append(short, name)
		}
	}
	if len(short) > 0 {
		return nil, fmt.Errorf("dlp: known secrets shorter than %d bytes: %s", MinKnownSecretLen, strings.Join(short, ", "))
	}
	k := &KnownSecrets{anchors: map[uint64][]knownAnchor{}}
	for i, s := range secrets {
		seen := map[string]bool{}
		for _, f := range knownForms(s.Value) {
			if len(f.text) < MinKnownSecretLen || seen[f.text] {
				continue
			}
			seen[f.text] = true
			k.pats = append(k.pats, knownPattern{text: f.text, secret: int32(i), name: s.Name, form: f.form})
		}
	}
	if len(k.pats) > 1<<24 {
		return nil, errors.New("dlp: too many known-secret forms")
	}
	// The step: up to 8, bounded by the shortest form.
	k.step = knownMaxStep
	for _, p := range k.pats {
		k.step = min(k.step, len(p.text)-7)
		k.maxLen = max(k.maxLen, len(p.text))
	}
	// Filter sized at about 64 bits per anchor (~1.5% of checked windows
	// hit it falsely), between 2^12 and 2^22 bits.
	logBits := 12
	for logBits < 22 && 1<<logBits < 64*k.step*len(k.pats) {
		logBits++
	}
	k.filter = make([]uint64, 1<<(logBits-6))
	k.shift = uint(64 - logBits)
	for i, p := range k.pats {
		for off := 0; off < k.step; off++ {
			a := binary.LittleEndian.Uint64([]byte(p.text[off : off+8]))
			h := (a * knownHashMul) >> k.shift
			k.filter[h>>6] |= 1 << (h & 63)
			k.anchors[a] = append(k.anchors[a], knownAnchor{int32(i), int32(off)})
		}
	}
	return k, nil
}

const knownMaxStep = 8

const knownHashMul = 0x9E3779B97F4A7C15

// Len is the number of distinct strings matched (all forms of all secrets).
func (k *KnownSecrets) Len() int { return len(k.pats) }

// Scan appends to dst the occurrences of any secret in text, as findings of
// type KnownSecretType with byte offsets into text, ordered by Start (then
// longest first). An occurrence contained in another one (a secret's
// credential part inside its full header value, say) is not reported
// separately; overlapping occurrences that are not nested are.
func (k *KnownSecrets) Scan(text []byte, dst []Finding) []Finding {
	base := len(dst)
	for i := k.next(text, 0); i >= 0; i = k.next(text, i+k.step) {
		for _, a := range k.anchors[binary.LittleEndian.Uint64(text[i:])] {
			p, at := k.pats[a.pat].text, i-int(a.off)
			if at >= 0 && hasPrefixString(text[at:], p) {
				dst = append(dst, Finding{Type: KnownSecretType, Start: at, End: at + len(p)})
			}
		}
	}
	out := dst[base:]
	if len(out) < 2 {
		return dst
	}
	slices.SortFunc(out, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	n, maxEnd := 0, -1
	for _, f := range out {
		if f.End <= maxEnd {
			continue // nested in (or equal to) a kept finding
		}
		out[n] = f
		n++
		maxEnd = f.End
	}
	return dst[:base+n]
}

// ScanNamed is Scan reporting which secret matched and in which form. The
// nesting rule applies per secret name: an occurrence of one secret nested
// in an occurrence of another is reported for both.
func (k *KnownSecrets) ScanNamed(text []byte, dst []KnownFinding) []KnownFinding {
	base := len(dst)
	for i := k.next(text, 0); i >= 0; i = k.next(text, i+k.step) {
		for _, a := range k.anchors[binary.LittleEndian.Uint64(text[i:])] {
			p, at := &k.pats[a.pat], i-int(a.off)
			if at >= 0 && hasPrefixString(text[at:], p.text) {
				dst = append(dst, KnownFinding{
					Finding: Finding{Type: KnownSecretType, Start: at, End: at + len(p.text)},
					Name:    p.name, Form: p.form,
				})
			}
		}
	}
	out := dst[base:]
	slices.SortFunc(out, func(a, b KnownFinding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.End != b.End {
			return b.End - a.End
		}
		return strings.Compare(a.Name, b.Name)
	})
	n := 0
outer:
	for _, f := range out {
		// Kept findings that could contain f start at or before it; scan
		// back while they can still reach f's end (no form is longer than
		// maxLen).
		for j := n - 1; j >= 0 && out[j].Start+k.maxLen >= f.End; j-- {
			if g := out[j]; g.Name == f.Name && g.End >= f.End {
				continue outer
			}
		}
		out[n] = f
		n++
	}
	return dst[:base+n]
}

// next returns the first position from, from+step, ... whose 8-byte window
// passes the anchor filter, or -1.
func (k *KnownSecrets) next(text []byte, from int) int {
	if len(k.pats) == 0 {
		return -1
	}
	filter, shift, step := k.filter, k.shift, k.step
	for i := from; i+8 <= len(text); i += step {
		h := (binary.LittleEndian.Uint64(text[i:]) * knownHashMul) >> shift
		if filter[h>>6]&(1<<(h&63)) != 0 {
			return i
		}
	}
	return -1
}

func hasPrefixString(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// knownForm is one derived string to match.
type knownForm struct {
	text string
	form string
}

// knownForms derives every matched string of a secret value (see
// KnownSecrets). Duplicates and too-short strings are removed by the caller.
func knownForms(v string) []knownForm {
	var out []knownForm
	for _, b := range knownBases(v) {
		if len(b) < MinKnownSecretLen {
			continue
		}
		out = append(out, knownForm{b, formRaw})
		for _, j := range jsonVariants(b) {
			out = append(out, knownForm{j, formJSON})
		}
		for _, p := range percentVariants(b) {
			out = append(out, knownForm{p, formPercent})
		}
		out = append(out, knownForm{hex.EncodeToString([]byte(b)), formHex},
			knownForm{strings.ToUpper(hex.EncodeToString([]byte(b))), formHex})
		for _, enc := range []struct {
			e    *base64.Encoding
			form string
		}{{base64.StdEncoding, formBase64}, {base64.URLEncoding, formBase64URL}} {
			for _, s := range base64Forms(enc.e, b) {
				out = append(out, knownForm{s, enc.form})
				if enc.e == base64.StdEncoding {
					// '/' escaped in JSON, "+/=" in URLs.
					for _, j := range jsonVariants(s) {
						out = append(out, knownForm{j, enc.form})
					}
					for _, p := range percentVariants(s) {
						out = append(out, knownForm{p, enc.form})
					}
				}
			}
		}
	}
	return out
}

// knownBases returns the value, its credential part after a scheme, and for
// Basic credentials the decoded "user:pass" and the password.
func knownBases(v string) []string {
	bases := []string{v}
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok || !isSchemeToken(scheme) {
		return bases
	}
	cred = strings.TrimLeft(cred, " ")
	if cred == "" {
		return bases
	}
	bases = append(bases, cred)
	if !strings.EqualFold(scheme, "basic") {
		return bases
	}
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		dec, err := e.DecodeString(cred)
		if err != nil {
			continue
		}
		up := string(dec)
		if _, pass, ok := strings.Cut(up, ":"); ok {
			bases = append(bases, up, pass)
		}
		break
	}
	return bases
}

func isSchemeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// base64Forms returns the full encodings of b (padded and unpadded) and, for
// each alignment of b after 0, 1 or 2 preceding bytes, the characters that
// depend only on b.
func base64Forms(e *base64.Encoding, b string) []string {
	full := e.EncodeToString([]byte(b))
	out := []string{full, strings.TrimRight(full, "=")}
	buf := make([]byte, 2+len(b))
	for a := 0; a < 3; a++ {
		copy(buf[a:], b)
		enc := e.EncodeToString(buf[:a+len(b)])
		lo := (8*a + 5) / 6        // first char whose bits all come from b
		hi := (8*a + 8*len(b)) / 6 // chars [lo, hi) are all from b
		if hi-lo >= MinKnownSecretLen {
			out = append(out, enc[lo:hi])
		}
	}
	return out
}

// jsonVariants returns the JSON-string escapings of s that differ from s.
func jsonVariants(s string) []string {
	var out []string
	for slash := 0; slash < 4; slash++ { // raw, \/, \u002f, \u002F
		for html := 0; html < 2; html++ {
			for nonASCII := 0; nonASCII < 2; nonASCII++ {
				for upper := 0; upper < 2; upper++ {
					j := jsonEscape(s, jsonStyle{slash: slash, html: html == 1, nonASCII: nonASCII == 1, upper: upper == 1})
					if j != s {
						out = append(out, j)
					}
				}
			}
		}
	}
	for upper := 0; upper < 2; upper++ {
		out = append(out, jsonEscape(s, jsonStyle{all: true, upper: upper == 1}))
	}
	return out
}

type jsonStyle struct {
	slash    int  // 0 raw, 1 "\/", 2 \u002f (hex case per upper)
	html     bool // '<' '>' '&' U+2028 U+2029 as \u00XX / \u20XX
	nonASCII bool // runes >= 0x80 as \uXXXX
	upper    bool // upper-case hex digits
	all      bool // every rune as \uXXXX
}

func jsonEscape(s string, st jsonStyle) string {
	hexd := "0123456789abcdef"
	if st.upper {
		hexd = "0123456789ABCDEF"
	}
	u := func(sb *strings.Builder, r rune) {
		sb.WriteString(`\u`)
		for sh := 12; sh >= 0; sh -= 4 {
			sb.WriteByte(hexd[(r>>sh)&0xF])
		}
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if st.all || c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				sb.WriteByte(c) // invalid UTF-8: left as is
			case st.all && r > 0xFFFF:
				r1, r2 := surrogates(r)
				u(&sb, r1)
				u(&sb, r2)
			case st.all:
				u(&sb, r)
			case st.html && (r == '\u2028' || r == '\u2029'):
				u(&sb, r)
			case st.nonASCII && r > 0xFFFF:
				r1, r2 := surrogates(r)
				u(&sb, r1)
				u(&sb, r2)
			case st.nonASCII:
				u(&sb, r)
			default:
				sb.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\b':
			sb.WriteString(`\b`)
		case c == '\f':
			sb.WriteString(`\f`)
		case c < 0x20:
			u(&sb, rune(c))
		case c == '/' && st.slash == 1:
			sb.WriteString(`\/`)
		case c == '/' && st.slash >= 2:
			u(&sb, '/')
		case st.html && (c == '<' || c == '>' || c == '&'):
			u(&sb, rune(c))
		default:
			sb.WriteByte(c)
		}
		i++
	}
	return sb.String()
}

func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

// Percent-encoding safe sets, beyond which every byte is %XX.
const (
	safeRFC3986   = "-._~"
	safeComponent = "-_.!~*'()"
	safeURI       = "-_.!~*'();/?:@&=+$,#"
	safePath      = "-._~$&+,:;=@"
)

// percentVariants returns the percent-encodings of s that differ from s.
func percentVariants(s string) []string {
	var out []string
	for _, safe := range []string{safeRFC3986, safeComponent, safeURI, safePath} {
		for plus := 0; plus < 2; plus++ {
			for upper := 0; upper < 2; upper++ {
				if p := percentEscape(s, safe, true, plus == 1, upper == 1); p != s {
					out = append(out, p)
				}
			}
		}
	}
	for upper := 0; upper < 2; upper++ {
		out = append(out, percentEscape(s, "", false, false, upper == 1))
	}
	return out
}

func percentEscape(s, safe string, alnum, plus, upper bool) string {
	hexd := "0123456789abcdef"
	if upper {
		hexd = "0123456789ABCDEF"
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case alnum && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'),
			alnum && strings.IndexByte(safe, c) >= 0:
			sb.WriteByte(c)
		case plus && c == ' ':
			sb.WriteByte('+')
		default:
			sb.WriteByte('%')
			sb.WriteByte(hexd[c>>4])
			sb.WriteByte(hexd[c&0xF])
		}
	}
	return sb.String()
}
