package openapi

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxToolName is the longest tool name generated. MCP (2025-11-25) allows
// 128 characters of [A-Za-z0-9_.-]; 64 characters of [A-Za-z0-9_-] also fit
// the function-name rules of the common LLM APIs, which agents pass the
// names to.
const MaxToolName = 64

// ToolNamePattern is the rule every generated name satisfies.
var ToolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

type namer struct {
	prefix string
	used   map[string]bool
}

func newNamer(prefix string) *namer {
	return &namer{prefix: sanitizeName(prefix, true), used: map[string]bool{}}
}

// name derives a tool name from the operationId, else from method and path,
// and makes it unique: names longer than 64 characters keep 55 characters
// and end in "_" plus 8 hex digits of the SHA-256 of the full name; a
// repeated name gets "_2", "_3", ... in document order.
func (n *namer) name(op *operation) string {
	base := sanitizeName(op.ID, false)
	if base == "" {
		base = methodPathName(op.Method, op.Path)
	}
	base = fit(n.prefix+base, MaxToolName)
	name := base
	for i := 2; n.used[name]; i++ {
		suffix := "_" + itoa(i)
		name = fit(base, MaxToolName-len(suffix)) + suffix
	}
	n.used[name] = true
	return name
}

func fit(s string, max int) string {
	if len(s) <= max {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return strings.TrimRight(s[:max-9], "_-") + "_" + hex.EncodeToString(sum[:4])
}

// sanitizeName keeps [A-Za-z0-9_-], turns every other run into one "_", and
// trims separators at the ends (except a trailing one for a prefix).
func sanitizeName(s string, keepTrailing bool) string {
	var b strings.Builder
	lastSep := true
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_'):
			if r == '_' || r == '-' {
				if lastSep {
					continue
				}
				lastSep = true
			} else {
				lastSep = false
			}
			b.WriteRune(r)
		default:
			if !lastSep {
				b.WriteByte('_')
				lastSep = true
			}
		}
	}
	out := b.String()
	if keepTrailing {
		return strings.TrimLeft(out, "_-")
	}
	return strings.Trim(out, "_-")
}

// methodPathName is "get_pets_petId" for GET /pets/{petId}.
func methodPathName(method, path string) string {
	name := sanitizeName(strings.ToLower(method)+"_"+path, false)
	if name == "" {
		return "operation"
	}
	return name
}

func title(op *operation) string {
	return clip(oneLine(op.Summary), 120)
}

// description is summary and description joined, with control characters
// removed, cut at a word boundary to max runes with an ellipsis.
func description(op *operation, max int) string {
	parts := []string{}
	if s := strings.TrimSpace(op.Summary); s != "" {
		parts = append(parts, s)
	}
	if d := strings.TrimSpace(op.Description); d != "" && d != strings.TrimSpace(op.Summary) {
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		parts = append(parts, op.Method+" "+op.Path)
	}
	text := strings.Join(parts, "\n\n")
	if op.Deprecated {
		text = "[deprecated] " + text
	}
	return clip(stripControl(text), max)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func stripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := string(r)
	if i := strings.LastIndexAny(cut, " \n\t"); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " \n\t.,;:") + "…"
}
