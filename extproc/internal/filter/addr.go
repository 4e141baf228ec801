package filter

import (
	"net"
)

// hostOf strips the port from an address, if any.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
