package dlp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
)

// Outcome is the result of applying a plan to one message.
type Outcome struct {
	// Body is the rewritten message; the input itself when nothing changed
	// (Changed false) or when the message is blocked.
	Body    []byte
	Changed bool
	// Blocked, when set, is the finding whose rule blocks the message.
	Blocked *Finding
}

// ErrUnredactable means a finding to rewrite lies across JSON structure
// (not inside one string or number), so no rewrite keeps the document
// valid. Callers fail closed: they block the message.
var ErrUnredactable = errors.New("dlp: finding spans JSON structure and cannot be rewritten in place")

// Apply rewrites body per the plan's rule for each finding (as returned by
// Scan or ScanDeep on body). Overlapping findings are rewritten once, by
// the strongest rule among them. When isJSON is set, body is a JSON
// document and stays one with the same structure: values are replaced
// inside their strings, a number is replaced by a string. Apply never
// modifies body.
func (p *Plan) Apply(body []byte, findings []Finding, isJSON bool) (Outcome, error) {
	out := Outcome{Body: body}
	if len(findings) == 0 {
		return out, nil
	}
	fs := make([]Finding, len(findings))
	copy(fs, findings)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Start < fs[j].Start })
	for i := range fs {
		if p.Rule(fs[i].Type).Action == ActionBlock {
			f := fs[i]
			out.Blocked = &f
			return out, nil
		}
	}
	var strs []span
	if isJSON {
		strs = jsonStrings(body)
	}
	var b bytes.Buffer
	last := 0 // end of the input already copied
	for i := 0; i < len(fs); {
		// A group: findings overlapping the first one, transitively.
		s, e := fs[i].Start, fs[i].End
		lead := fs[i]
		j := i + 1
		for ; j < len(fs) && fs[j].Start < e; j++ {
			e = max(e, fs[j].End)
			if stronger(p.Rule(fs[j].Type).Action, p.Rule(lead.Type).Action, fs[j], lead) {
				lead = fs[j]
			}
		}
		i = j
		rule := p.Rule(lead.Type)
		if rule.Action == ActionAllow || s < last {
			continue
		}
		quote := false
		if isJSON {
			var ok bool
			if s, e, quote, ok = jsonTarget(body, strs, s, e); !ok {
				return Outcome{Body: body}, fmt.Errorf("%w (type %s at %d)", ErrUnredactable, lead.Type, s)
			}
			if s < last {
				continue
			}
		}
		value := body[s:e]
		if isJSON && !quote {
			value, _ = unescapeJSON(value, 0)
		}
		if b.Len() == 0 {
			b.Grow(len(body) + 64)
		}
		b.Write(body[last:s])
		if quote {
			b.WriteByte('"')
		}
		p.replacement(&b, lead.Type, rule, value, isJSON)
		if quote {
			b.WriteByte('"')
		}
		last = e
		out.Changed = true
	}
	if !out.Changed {
		return out, nil
	}
	b.Write(body[last:])
	out.Body = b.Bytes()
	return out, nil
}

// Value returns the value a finding covers in body, as the receiver of
// body reads it: JSON string escapes resolved when isJSON is set.
func Value(body []byte, f Finding, isJSON bool) []byte {
	if f.Start < 0 || f.End > len(body) || f.Start > f.End {
		return nil
	}
	v := body[f.Start:f.End]
	if isJSON && bytes.IndexByte(v, '\\') >= 0 {
		v, _ = unescapeJSON(v, 0)
	}
	return v
}

// stronger orders the findings of a group: the stronger action leads; on a
// tie, the longer finding.
func stronger(a, b Action, fa, fb Finding) bool {
	if a != b {
		return a > b
	}
	return fa.End-fa.Start > fb.End-fb.Start
}

// replacement writes what replaces value. In JSON, the text is written
// escaped for a string.
func (p *Plan) replacement(b *bytes.Buffer, typ string, r Rule, value []byte, isJSON bool) {
	switch r.Action {
	case ActionMask:
		keep := r.keep()
		masked := make([]byte, len(value))
		copy(masked, value)
		for k := len(masked) - 1; k >= 0; k-- {
			if !isAlnum(masked[k]) || masked[k] == '_' {
				continue
			}
			if keep > 0 {
				keep--
				continue
			}
			masked[k] = '*'
		}
		if isJSON {
			writeJSONEscaped(b, masked)
		} else {
			b.Write(masked)
		}
	case ActionTokenise:
		b.WriteString("[TOKEN:")
		b.WriteString(typ)
		b.WriteByte(':')
		b.WriteString(Token(p.tokenKey, typ, value))
		b.WriteByte(']')
	default:
		b.WriteString("[REDACTED:")
		b.WriteString(typ)
		b.WriteByte(']')
	}
}

// Token is the keyed hash ActionTokenise writes: the first 8 bytes, in hex,
// of HMAC-SHA256(key, type || 0 || normalised value). Values are
// normalised by dropping spaces, dashes and dots between letters and
// digits and upper-casing letters, so "4111 1111 1111 1111" and
// "4111-1111-1111-1111" get the same token.
func Token(key []byte, typ string, value []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(typ))
	m.Write([]byte{0})
	m.Write(Normalise(value))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Normalise is the canonical form of a value for tokens and fingerprints:
// when the value is only letters, digits and separators (space, '-', '.',
// '/'), the separators are dropped and letters upper-cased; anything else
// is kept as is.
func Normalise(v []byte) []byte {
	for _, c := range v {
		if !isAlnum(c) && c != ' ' && c != '-' && c != '.' && c != '/' {
			return v
		}
	}
	out := make([]byte, 0, len(v))
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			out = append(out, c-32)
		case isAlnum(c):
			out = append(out, c)
		}
	}
	return out
}

// span is a half-open byte range.
type span struct{ lo, hi int }

// jsonStrings lists the content ranges (quotes excluded) of the strings of
// a JSON document, keys included, in order.
func jsonStrings(doc []byte) []span {
	var out []span
	for i := 0; i < len(doc); {
		j := bytes.IndexByte(doc[i:], '"')
		if j < 0 {
			break
		}
		open := i + j
		k := open + 1
		for k < len(doc) {
			c := doc[k]
			if c == '\\' {
				k += 2
				continue
			}
			if c == '"' {
				break
			}
			k++
		}
		if k >= len(doc) {
			break // unterminated: not JSON from here
		}
		out = append(out, span{open + 1, k})
		i = k + 1
	}
	return out
}

// jsonTarget fits the range [s, e) of a finding to the JSON token that
// holds its start: clipped to the string, or widened to the whole number
// (which is then replaced by a string: quote). ok is false when s lies in
// neither.
func jsonTarget(doc []byte, strs []span, s, e int) (int, int, bool, bool) {
	k := sort.Search(len(strs), func(k int) bool { return strs[k].hi > s })
	if k < len(strs) && strs[k].lo <= s {
		return s, min(e, strs[k].hi), false, true
	}
	if s < len(doc) && isNumberByte(doc[s]) {
		lo, hi := s, s
		for lo > 0 && isNumberByte(doc[lo-1]) {
			lo--
		}
		for hi < len(doc) && isNumberByte(doc[hi]) {
			hi++
		}
		if hi >= e {
			return lo, hi, true, true
		}
	}
	return s, e, false, false
}

func isNumberByte(c byte) bool {
	return isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// writeJSONEscaped writes s escaped for the inside of a JSON string.
func writeJSONEscaped(b *bytes.Buffer, s []byte) {
	const hexDigits = "0123456789abcdef"
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
}
