package envoyemu

import (
	"math"
	"strings"
)

// Envoy's PathUtil (source/common/http/path_utility.cc), which the
// connection manager applies to :path before routing (see connmgr.go). Each
// function works on the path part of :path, before the first '?'; the query
// string is kept as it is.

// canonicalPath is PathUtil::canonicalPath, normalize_path: dot and dot-dot
// segments carrying path parameters ("/..;x", "/.;x") lose them
// (stripParametersFromDotSegments, runtime guard
// strip_dotdot_segments_with_parameters, on by default), then the path is
// canonicalized by Chromium's url::CanonicalizePath (canonicalizePath). ok is
// false when the path cannot be canonicalized: Envoy then rejects the
// request.
func canonicalPath(path string) (string, bool) {
	path = stripParametersFromDotSegments(path)
	p, query := splitQuery(path)
	canon, ok := canonicalizePath(p)
	if !ok {
		return "", false
	}
	return canon + query, true
}

// stripParametersFromDotSegments is PathUtil::stripParametersFromDotSegments:
// a segment starting with "..;" becomes "..", one starting with ".;" becomes
// "." (only before the first '?' or '#').
func stripParametersFromDotSegments(path string) string {
	end := strings.IndexAny(path, "?#")
	if end < 0 {
		end = len(path)
	}
	p, rest := path[:end], path[end:]
	if !strings.Contains(p, ".;") {
		return path
	}
	segments := strings.Split(p, "/")
	for i, s := range segments {
		switch {
		case strings.HasPrefix(s, "..;"):
			segments[i] = ".."
		case strings.HasPrefix(s, ".;"):
			segments[i] = "."
		}
	}
	return strings.Join(segments, "/") + rest
}

// mergeSlashes is PathUtil::mergeSlashes: runs of '/' in the path become
// one, keeping a leading and a trailing slash. Like Envoy, "//" stays "//"
// (empty segments are dropped, then the leading and trailing slash are put
// back).
func mergeSlashes(path string) string {
	p, query := splitQuery(path)
	if !strings.Contains(p, "//") {
		return path
	}
	var b strings.Builder
	b.Grow(len(path))
	if strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	first := true
	for s := range strings.SplitSeq(p, "/") {
		if s == "" {
			continue
		}
		if !first {
			b.WriteByte('/')
		}
		first = false
		b.WriteString(s)
	}
	if strings.HasSuffix(p, "/") {
		b.WriteByte('/')
	}
	b.WriteString(query)
	return b.String()
}

// slashUnescaper replaces the escaped slashes of path_with_escaped_slashes_action
// as absl::StrReplaceAll does (leftmost match first, no overlaps).
var slashUnescaper = strings.NewReplacer("%2F", "/", "%2f", "/", "%5C", `\`, "%5c", `\`)

// unescapeSlashes is PathUtil::unescapeSlashes: %2F and %2f become '/', %5C
// and %5c '\'. found reports whether any was replaced.
func unescapeSlashes(path string) (out string, found bool) {
	p, query := splitQuery(path)
	if !strings.Contains(p, "%") {
		return path, false
	}
	u := slashUnescaper.Replace(p)
	return u + query, len(u) != len(p)
}

// splitQuery splits :path before its first '?'.
func splitQuery(path string) (p, query string) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i], path[i:]
	}
	return path, ""
}

// Chromium's path canonicalization (url/url_canon_path.cc in googleurl, the
// copy of Chromium's URL library Envoy links), for 8-bit input. It resolves
// "." and ".." segments (also written %2E, %2e, and followed by '\' as well
// as '/'), turns '\' into '/', decodes percent-encoded unreserved
// characters (ALPHA, DIGIT, '-', '_', '~'; a '.' only as a dot segment's),
// keeps every other escape as written (hex case included), percent-encodes
// the characters below marked escape (upper-case hex), passes invalid escape
// sequences through, and fails on a NUL, raw or escaped (%00). It does not
// merge slashes.

// Character classes of kPathCharLookup.
const (
	pathSpecial  = 1                        // needs a closer look (PASS, 0: copied as it is)
	escapeBit    = 2                        // ESCAPE_BIT
	invalidBit   = 8                        // INVALID_BIT
	pathEscape   = escapeBit | pathSpecial  // percent-encoded in the output
	pathUnescape = 4                        // decoded when percent-encoded
	pathInvalid  = invalidBit | pathSpecial // fails canonicalization
)

// pathCharLookup is kPathCharLookup.
var pathCharLookup = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == 0:
			t[c] = pathInvalid
		case c < 0x20 || c >= 0x7f:
			t[c] = pathEscape
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
			t[c] = pathUnescape
		}
	}
	for _, c := range []byte(" \"#%<>?\\^`{|}") {
		t[c] = pathEscape
	}
	for _, c := range []byte("-_~") {
		t[c] = pathUnescape
	}
	t['.'] = pathSpecial
	return t
}()

// canonicalizePath is url::CanonicalizePath (DoPath and DoPartialPath) on a
// path without query or fragment. ok is false when the input holds a NUL or
// an escaped NUL; the output is then still complete, as Chromium's.
func canonicalizePath(spec string) (out string, ok bool) {
	if spec == "" {
		return "/", true
	}
	o := make([]byte, 0, len(spec)+1)
	// DoPath: a path that does not start with a slash gets one.
	if !isURLSlash(spec[0]) {
		o = append(o, '/')
	}
	const begin = 0 // path_begin_in_output
	// lastInvalidPercent is the output index of the last '%' that did not
	// start a valid escape sequence (INT_MIN: none).
	lastInvalidPercent := math.MinInt
	ok = true
	end := len(spec)
	for i := 0; i < end; i++ {
		ch := spec[i]
		flags := pathCharLookup[ch]
		if flags&pathSpecial == 0 {
			o = append(o, ch)
			continue
		}
		if dotLen := isDot(spec, i); dotLen > 0 {
			if len(o) > begin && o[len(o)-1] == '/' {
				// A dot right after a slash: maybe a dot segment.
				disp, consumed := classifyAfterDot(spec, i+dotLen)
				switch disp {
				case notADirectory:
					o = append(o, '.')
					i += dotLen - 1
				case directoryCur:
					i += dotLen + consumed - 1
				case directoryUp:
					o = backUpToPreviousSlash(begin, o)
					if lastInvalidPercent >= len(o) {
						lastInvalidPercent = math.MinInt
					}
					i += dotLen + consumed - 1
				}
			} else {
				o = append(o, '.')
				i += dotLen - 1
			}
			continue
		}
		switch {
		case ch == '\\':
			o = append(o, '/')
		case ch == '%':
			v, valid := decodeEscaped(spec, i)
			if !valid {
				// Passed through, as browsers other than IE do.
				lastInvalidPercent = len(o)
				o = append(o, '%')
				continue
			}
			i += 2
			if vf := pathCharLookup[v]; vf&pathUnescape != 0 {
				o = append(o, v)
				if lastInvalidPercent >= len(o)-3 {
					o = checkForNestedEscapes(spec, i+1, lastInvalidPercent, o)
				}
			} else {
				// Kept exactly as written, hex case included.
				o = append(o, '%', spec[i-1], spec[i])
				if vf&invalidBit != 0 {
					ok = false
				}
			}
		case flags&invalidBit != 0:
			o = appendEscaped(o, ch)
			ok = false
		case flags&escapeBit != 0:
			o = appendEscaped(o, ch)
		}
	}
	return string(o), ok
}

func isURLSlash(c byte) bool { return c == '/' || c == '\\' }

// isDot returns the length of the dot at spec[i]: 1 for '.', 3 for "%2e" or
// "%2E", 0 when there is none.
func isDot(spec string, i int) int {
	switch {
	case spec[i] == '.':
		return 1
	case spec[i] == '%' && i+3 <= len(spec) && spec[i+1] == '2' && (spec[i+2] == 'e' || spec[i+2] == 'E'):
		return 3
	}
	return 0
}

type dotDisposition int

const (
	notADirectory dotDisposition = iota // part of a file name
	directoryCur                        // "."
	directoryUp                         // ".."
)

// classifyAfterDot is ClassifyAfterDot: what the dot ending just before
// afterDot is, and how many input characters after it belong to it.
func classifyAfterDot(spec string, afterDot int) (dotDisposition, int) {
	end := len(spec)
	if afterDot == end {
		return directoryCur, 0
	}
	if isURLSlash(spec[afterDot]) {
		return directoryCur, 1
	}
	if second := isDot(spec, afterDot); second > 0 {
		after := afterDot + second
		if after == end {
			return directoryUp, second
		}
		if isURLSlash(spec[after]) {
			return directoryUp, second + 1
		}
	}
	return notADirectory, 0
}

// backUpToPreviousSlash is BackUpToPreviousSlash: o ends with a slash; drop
// the last segment before it, never going above begin.
func backUpToPreviousSlash(begin int, o []byte) []byte {
	i := len(o) - 1
	if i == begin {
		return o
	}
	for {
		i--
		if o[i] == '/' || i <= begin {
			break
		}
	}
	return o[:i+1]
}

// checkForNestedEscapes is CheckForNestedEscapes: after an unescape within
// two characters of an invalid '%', an output that now reads as an escape
// sequence ("%%30%30" would become "%00") gets its '%' escaped as "%25".
func checkForNestedEscapes(spec string, next, lastInvalidPercent int, o []byte) []byte {
	length := len(o)
	lastUnescaped := o[length-1]
	appendNext := lastInvalidPercent == length-2
	if appendNext {
		if next == len(spec) || spec[next] >= 0x80 {
			return o
		}
		o = append(o, spec[next])
	}
	if _, valid := decodeEscaped(string(o), lastInvalidPercent); valid {
		if !appendNext {
			o = append(o, o[lastInvalidPercent+1])
		}
		o[lastInvalidPercent+1] = '2'
		o[lastInvalidPercent+2] = '5'
		o = append(o, lastUnescaped)
	} else if appendNext {
		o = o[:length]
	}
	return o
}

// decodeEscaped is DecodeEscaped for the '%' at s[i].
func decodeEscaped(s string, i int) (byte, bool) {
	if i+3 > len(s) {
		return 0, false
	}
	hi, ok1 := hexValue(s[i+1])
	lo, ok2 := hexValue(s[i+2])
	if !ok1 || !ok2 {
		return 0, false
	}
	return hi<<4 | lo, true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendEscaped is AppendEscapedChar: '%' and two upper-case hex digits.
func appendEscaped(o []byte, c byte) []byte {
	const hex = "0123456789ABCDEF"
	return append(o, '%', hex[c>>4], hex[c&0xf])
}
