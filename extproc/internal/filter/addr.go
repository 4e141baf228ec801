package filter

import (
	"net"
	"strings"
)

// hostOf strips the port from an address (host:port, [v6]:port), if any,
// and the brackets of a bare [v6].
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}
