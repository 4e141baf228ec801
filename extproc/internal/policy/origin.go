package policy

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NormalizeOrigin returns an Origin value as scheme://host[:port], lower
// case, with the scheme's default port removed, or an error when it is not a
// serialised origin (RFC 6454: no path, query, fragment or user info).
func NormalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", o, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("origin %q: scheme must be http or https", o)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", errors.New("origin " + fmt.Sprintf("%q", o) + ": want scheme://host[:port] only")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := strings.ToLower(u.Scheme) + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// AllowsOrigin reports whether the policy lists origin (any form
// NormalizeOrigin accepts) among its allowed origins.
func (p *Policy) AllowsOrigin(origin string) bool {
	norm, err := NormalizeOrigin(origin)
	if err != nil {
		return false
	}
	_, ok := p.origins[norm]
	return ok
}
