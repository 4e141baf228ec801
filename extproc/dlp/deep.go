package dlp

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
)

// Deep scanning: values hidden behind an encoding are decoded and scanned
// again, and their findings mapped back onto the raw bytes.
//
//   - JSON string escapes ("\u0041KIA…", "\/"): every string holding a
//     backslash is decoded; findings map byte-exactly to the raw escapes.
//   - Percent-encoding ("AKIA%49…"): every run holding a %XX sequence is
//     decoded; findings map byte-exactly.
//   - Base64 (standard or URL alphabet, padded or not): runs of at least
//     MinBase64 characters whose decoding is printable text are scanned;
//     a finding covers the whole encoded run, which is what a redaction
//     must replace.
//
// Decoding nests to depth 2 (a base64 value inside an escaped string is
// found; a third layer is not). The decoded text is scanned with up to
// contextBytes of the text before it, so that a JSON field name still
// counts as a keyword.

// MinBase64 is the shortest base64 run that is decoded (15 bytes decoded).
const MinBase64 = 20

const (
	maxDepth     = 2
	contextBytes = 48
)

// ScanDeep is Scan plus the decoding described above. Findings are ordered
// by start offset and unique. The common case (no backslash, no %XX, no
// long base64 run) costs one Scan and a few memchr calls.
func (e *Engine) ScanDeep(text []byte, dst []Finding) []Finding {
	return e.ScanDeepWith(text, dst)
}

// Scanner is anything that reports findings in a text, such as
// KnownSecrets.
type Scanner interface {
	Scan(text []byte, dst []Finding) []Finding
}

// ScanDeepWith is ScanDeep with more scanners run on the raw text and on
// every decoded region, so that, for instance, a known secret hidden by a
// mix of escapes ("secr\u0065t") is found too.
func (e *Engine) ScanDeepWith(text []byte, dst []Finding, extra ...Scanner) []Finding {
	start := len(dst)
	r := deepRun{e: e, extra: extra}
	dst = r.scan(text, dst)
	n := len(dst)
	dst = r.deep(text, nil, 1, dst)
	if len(dst) == n && len(extra) == 0 {
		return dst
	}
	return sortFindings(dst, start)
}

// deepRun is one ScanDeepWith call.
type deepRun struct {
	e     *Engine
	extra []Scanner
}

func (r deepRun) scan(text []byte, dst []Finding) []Finding {
	dst = r.e.Scan(text, dst)
	for _, s := range r.extra {
		dst = s.Scan(text, dst)
	}
	return dst
}

// deep scans the encoded regions of text. offs maps text positions to raw
// positions (nil: identity); len(offs) == len(text)+1.
func (r deepRun) deep(text []byte, offs []int, depth int, dst []Finding) []Finding {
	if depth > maxDepth {
		return dst
	}
	raw := func(i int) int {
		if offs == nil {
			return i
		}
		return offs[i]
	}
	// JSON escapes: each string holding a backslash, once.
	for i := 0; i < len(text); {
		j := bytes.IndexByte(text[i:], '\\')
		if j < 0 {
			break
		}
		open, close := stringAround(text, i+j)
		if open < 0 {
			i += j + 2
			continue
		}
		dec, doffs := unescapeJSON(text[open+1:close], open+1)
		dst = r.scanDecoded(text, offs, open+1, dec, doffs, depth, dst)
		i = close + 1
	}
	// Percent-encoding: each token holding a valid %XX, once.
	for i := 0; i < len(text); {
		j := bytes.IndexByte(text[i:], '%')
		if j < 0 {
			break
		}
		p := i + j
		if p+2 >= len(text) || unhex(text[p+1]) < 0 || unhex(text[p+2]) < 0 {
			i = p + 1
			continue
		}
		lo, hi := p, p+3
		for lo > 0 && isURLByte(text[lo-1]) {
			lo--
		}
		for hi < len(text) && isURLByte(text[hi]) {
			hi++
		}
		dec, doffs := unpercent(text[lo:hi], lo)
		dst = r.scanDecoded(text, offs, lo, dec, doffs, depth, dst)
		i = hi
	}
	// Base64: sample every MinBase64-th byte; a run at least that long
	// always covers a sample.
	var buf []byte
	for i := MinBase64 - 1; i < len(text); {
		if b64Class[text[i]] == 0 {
			i += MinBase64
			continue
		}
		lo, hi := i, i+1
		for lo > 0 && b64Class[text[lo-1]] != 0 {
			lo--
		}
		for hi < len(text) && b64Class[text[hi]] != 0 {
			hi++
		}
		i = hi + MinBase64
		if hi-lo < MinBase64 {
			continue
		}
		var ok bool
		if buf, ok = decodeB64(text[lo:hi], buf[:0]); !ok {
			continue
		}
		mark := len(dst)
		dst = r.scanDecoded(text, offs, lo, buf, nil, depth, dst)
		// Decoded bytes do not map one to one: every finding covers the
		// whole encoded run.
		for k := mark; k < len(dst); k++ {
			dst[k].Start, dst[k].End = raw(lo), raw(hi)
		}
	}
	return dst
}

// scanDecoded scans dec, the decoding of the region of text starting at
// at, preceded by up to contextBytes of text as context. doffs maps dec
// positions to text positions (nil: the findings are remapped by the
// caller). Findings lying wholly in the context are dropped: the
// enclosing scan reported them.
func (r deepRun) scanDecoded(text []byte, offs []int, at int, dec []byte, doffs []int, depth int, dst []Finding) []Finding {
	ctx := max(0, at-contextBytes)
	// Never cut the context in the middle of a UTF-8 sequence.
	for ctx < at && !utf8.RuneStart(text[ctx]) {
		ctx++
	}
	buf := make([]byte, 0, at-ctx+len(dec))
	buf = append(buf, text[ctx:at]...)
	buf = append(buf, dec...)
	pre := at - ctx
	// m maps buf positions to raw positions.
	var m []int
	if doffs != nil {
		m = make([]int, len(buf)+1)
		for k := 0; k < pre; k++ {
			m[k] = ctx + k
		}
		for k := 0; k <= len(dec); k++ {
			m[pre+k] = doffs[k]
		}
		if offs != nil {
			for k := range m {
				m[k] = offs[m[k]]
			}
		}
	}
	mark := len(dst)
	dst = r.scan(buf, dst)
	out := dst[:mark]
	for _, f := range dst[mark:] {
		if f.End <= pre {
			continue
		}
		if m != nil {
			f.Start, f.End = m[f.Start], m[f.End]
		}
		out = append(out, f)
	}
	if m != nil {
		// Nested findings come back in raw positions already.
		out = r.deep(buf, m, depth+1, out)
	}
	return out
}

// stringAround returns the quotes enclosing the JSON string that holds the
// backslash at b: the nearest unescaped '"' before it and after it, or
// -1 when there is none (the text is not JSON there).
func stringAround(text []byte, b int) (open, close int) {
	open = -1
	for k := b - 1; k >= 0; k-- {
		if text[k] == '"' && !escaped(text, k) {
			open = k
			break
		}
		if text[k] == '\n' {
			return -1, -1 // JSON strings hold no raw newline
		}
	}
	if open < 0 {
		return -1, -1
	}
	for k := b; k < len(text); k++ {
		switch text[k] {
		case '\\':
			k++
		case '"':
			return open, k
		case '\n':
			return -1, -1
		}
	}
	return -1, -1
}

// escaped reports whether text[k] is preceded by an odd number of
// backslashes.
func escaped(text []byte, k int) bool {
	n := 0
	for k--; k >= 0 && text[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

// unescapeJSON decodes the content of a JSON string. offs[i] is the
// position (in the enclosing text, the content starting at base) of the
// escape or byte that produced decoded byte i; offs[len] is the end. An
// invalid escape is kept literally.
func unescapeJSON(s []byte, base int) ([]byte, []int) {
	dec := make([]byte, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dec = append(dec, c)
			offs = append(offs, base+i)
			i++
			continue
		}
		width, r := 2, rune(-1)
		switch s[i+1] {
		case '"', '\\', '/':
			r = rune(s[i+1])
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			if u, ok := hex4(s[i+2:]); ok {
				width, r = 6, u
				if utf16IsHigh(u) {
					if lo, ok := hex4(s[min(len(s), i+8):]); ok && i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' && utf16IsLow(lo) {
						width, r = 12, 0x10000+(u-0xD800)<<10+(lo-0xDC00)
					}
				}
			}
		}
		if r < 0 {
			dec = append(dec, c)
			offs = append(offs, base+i)
			i++
			continue
		}
		n := len(dec)
		dec = utf8.AppendRune(dec, r)
		for range len(dec) - n {
			offs = append(offs, base+i)
		}
		i += width
	}
	return dec, append(offs, base+len(s))
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		v := unhex(c)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}

// isURLByte reports bytes that may belong to a percent-encoded token (a
// URL, a form body, a query value): anything but controls, space, quotes
// and JSON structure.
func isURLByte(c byte) bool {
	return c > ' ' && c < 0x7f && c != '"' && c != '\'' && c != ',' && c != '{' && c != '}' && c != '[' && c != ']' && c != '\\' && c != '<' && c != '>'
}

// unpercent decodes %XX sequences ('+' stays '+': it is a space only in
// forms, and a literal '+' is commoner in tokens).
func unpercent(s []byte, base int) ([]byte, []int) {
	dec := make([]byte, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		if s[i] == '%' && i+2 < len(s) && unhex(s[i+1]) >= 0 && unhex(s[i+2]) >= 0 {
			dec = append(dec, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			offs = append(offs, base+i)
			i += 3
			continue
		}
		dec = append(dec, s[i])
		offs = append(offs, base+i)
		i++
	}
	return dec, append(offs, base+len(s))
}

// b64Class marks base64 bytes: 1 in both alphabets, 2 standard only
// ('+', '/'), 3 URL only ('-', '_'), 4 padding.
var b64Class = func() (t [256]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c], t[c+32] = 1, 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	t['+'], t['/'], t['-'], t['_'], t['='] = 2, 2, 3, 3, 4
	return t
}()

// decodeB64 decodes a base64 run into buf when it is plausibly an encoding
// of text: one alphabet, padding only at the end, mixed character classes
// (not a word or a hex digest), and a decoding that is at least 90%
// printable UTF-8.
func decodeB64(run []byte, buf []byte) ([]byte, bool) {
	var std, url, pad, upper, lower, digit bool
	end := len(run)
	same := 0
	for i, c := range run {
		// Encoded text never repeats one character 12 times (that is
		// padding, a separator line or encoded zero bytes): reject early
		// instead of classifying a long filler.
		if i > 0 && c == run[i-1] {
			if same++; same >= 11 {
				return buf, false
			}
		} else {
			same = 0
		}
		switch b64Class[c] {
		case 2:
			std = true
		case 3:
			url = true
		case 4:
			if !pad {
				end = i
			}
			pad = true
		default:
			if pad {
				return buf, false
			}
			switch {
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= 'a' && c <= 'z':
				lower = true
			default:
				digit = true
			}
		}
	}
	if std && url || !upper || !lower || !digit && !std && !url || len(run)-end > 2 {
		return buf, false
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	body := run[:end]
	if len(body)%4 == 1 {
		body = body[:len(body)-1]
	}
	n := enc.DecodedLen(len(body))
	buf = append(buf[:0], make([]byte, n)...)
	n, err := enc.Decode(buf, body)
	if err != nil {
		return buf, false
	}
	buf = buf[:n]
	return buf, printable(buf)
}

// printable reports whether at least 90% of b's runes are printable text
// (tabs and newlines count).
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	bad, total := 0, 0
	for _, r := range string(b) {
		total++
		if r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r == utf8.RuneError {
			bad++
		}
	}
	return total > 0 && bad*10 <= total
}
