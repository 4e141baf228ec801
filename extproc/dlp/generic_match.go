package dlp

// matchGenericAssignment is the hand-written form of generic-api-key's
// pattern (catalogue_generic.go), which Go's backtracking regexp runs at
// ~30 ns a byte — the whole cost of scanning a body whose field names all
// say token/secret/key. At the window's start:
//
//	identifier ending in token|secret|key|cred|credential|auth, optional s
//	assignment: ["'`]? [ \t]* ( [:?.|+!]{0,3}= | => | : )   or   ["'`] [ \t]* ,   or   >
//	[ \t]* ["'`]?
//	value: [A-Za-z0-9_\-+/=.~]{16,} (the longest run)
func matchGenericAssignment(w []byte) (int, int) {
	e := 0
	for e < len(w) && isIdentByte(w[e]) {
		e++
	}
	if !endsWithSecretWord(w[:e]) {
		return -1, -1
	}
	p := e
	// Alternative 1: optional quote, blanks, then an assignment operator.
	q := p
	if q < len(w) && isQuote(w[q]) {
		q++
	}
	q = skipBlanks(w, q)
	for n := 3; n >= 0; n-- { // [:?.|+!]{0,n}=, greedy first
		if q+n < len(w) && w[q+n] == '=' && allAssignOps(w[q:q+n]) {
			if lo, hi := genericValue(w, q+n+1); lo >= 0 {
				return lo, hi
			}
		}
	}
	if q+1 < len(w) && w[q] == '=' && w[q+1] == '>' {
		if lo, hi := genericValue(w, q+2); lo >= 0 {
			return lo, hi
		}
	}
	if q < len(w) && w[q] == ':' {
		if lo, hi := genericValue(w, q+1); lo >= 0 {
			return lo, hi
		}
	}
	// Alternative 2: a quote, blanks, a comma ("key", "value" pairs).
	if p < len(w) && isQuote(w[p]) {
		r := skipBlanks(w, p+1)
		if r < len(w) && w[r] == ',' {
			if lo, hi := genericValue(w, r+1); lo >= 0 {
				return lo, hi
			}
		}
	}
	// Alternative 3: '>' (XML-ish <key>value).
	if p < len(w) && w[p] == '>' {
		return genericValue(w, p+1)
	}
	return -1, -1
}

// genericValue matches [ \t]* ["'`]? and a value run of at least 16 bytes
// from i.
func genericValue(w []byte, i int) (int, int) {
	i = skipBlanks(w, i)
	for _, skipQuote := range []bool{true, false} {
		j := i
		if skipQuote {
			if j >= len(w) || !isQuote(w[j]) {
				continue
			}
			j++
		}
		k := j
		for k < len(w) && isGenericValueByte(w[k]) {
			k++
		}
		if k-j >= 16 {
			return j, k
		}
	}
	return -1, -1
}

func endsWithSecretWord(id []byte) bool {
	if n := len(id); n > 0 && id[n-1]|0x20 == 's' && hasSecretSuffix(id[:n-1]) {
		return true
	}
	return hasSecretSuffix(id)
}

func hasSecretSuffix(id []byte) bool {
	for _, w := range [...]string{"token", "secret", "key", "credential", "cred", "auth"} {
		if len(id) >= len(w) && equalFoldASCII(id[len(id)-len(w):], w) {
			return true
		}
	}
	return false
}

func equalFoldASCII(b []byte, lower string) bool {
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func skipBlanks(w []byte, i int) int {
	for i < len(w) && (w[i] == ' ' || w[i] == '\t') {
		i++
	}
	return i
}

func allAssignOps(b []byte) bool {
	for _, c := range b {
		switch c {
		case ':', '?', '.', '|', '+', '!':
		default:
			return false
		}
	}
	return true
}

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

func isIdentByte(c byte) bool { return isAlnum(c) || c == '-' }

func isGenericValueByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '+' || c == '/' || c == '=' || c == '.' || c == '~'
}
