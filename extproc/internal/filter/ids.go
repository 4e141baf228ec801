package filter

import (
	"bytes"
	"net"
	"strconv"
)

// sameID reports whether two raw JSON-RPC ids denote the same id. Strings
// compare by their bytes, numbers by value (a server may re-serialise 1.0 as
// 1); a string never equals a number.
func sameID(a, b []byte) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if bytes.Equal(a, b) {
		return len(a) > 0
	}
	if len(a) == 0 || len(b) == 0 || a[0] == '"' || b[0] == '"' {
		return false
	}
	fa, errA := strconv.ParseFloat(string(a), 64)
	fb, errB := strconv.ParseFloat(string(b), 64)
	return errA == nil && errB == nil && fa == fb
}

// hostOf strips the port from an address, if any.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
