package filter

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
)

// checkOrigin protects agents' sessions from browsers (MCP's DNS rebinding
// rule: servers must validate Origin). A request is refused with 403 when
//   - it carries an Origin the policy does not allow (limits.allowed_origins)
//     — a loopback origin is accepted on a loopback listener, where the
//     browser and the gateway share a machine;
//   - it arrived on a loopback listener (Envoy's destination.address) with a
//     Host that is not a loopback name: a rebound DNS name pointing at
//     127.0.0.1.
//
// Requests without Origin are not affected (agents are not browsers); on
// other listeners Envoy's virtual host domains decide which Host is served.
func (x *Exchange) checkOrigin(h Headers) *Response {
	loopback := isLoopbackHost(hostOf(x.info.LocalAddress))
	if loopback {
		if host := hostOf(h.Get(":authority")); !isLoopbackHost(host) {
			return originRefusal(fmt.Sprintf("host %q is not served on this loopback listener (DNS rebinding protection)", truncateValue(host)))
		}
	}
	origins := headerValues(h, "origin")
	if len(origins) == 0 {
		return nil
	}
	if len(origins) > 1 {
		return originRefusal("more than one Origin header")
	}
	o := origins[0]
	if x.policy.AllowsOrigin(o) {
		return nil
	}
	if loopback {
		if u, err := url.Parse(o); err == nil && (u.Scheme == "http" || u.Scheme == "https") && isLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return originRefusal(fmt.Sprintf("origin %q is not allowed", truncateValue(o)))
}

func originRefusal(msg string) *Response {
	return &Response{
		Status:  403,
		Headers: Headers{{"content-type", "application/json"}},
		Body:    mcp.ErrorResponse(nil, mcp.CodeForbidden, msg, nil),
		Details: "portcullis_origin_refused",
	}
}

func headerValues(h Headers, key string) []string {
	var vals []string
	for _, kv := range h {
		if kv.Key == key {
			vals = append(vals, kv.Value)
		}
	}
	return vals
}

// isLoopbackHost reports whether host is "localhost" (or a name under it)
// or a loopback IP address.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
