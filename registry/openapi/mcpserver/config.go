package mcpserver

import (
	"net/http"
	"time"

	"github.com/portcullis/portcullis/registry/openapi"
)

// Config configures a generated server. Zero values are the documented
// defaults.
type Config struct {
	// Name and Version identify the server to clients; default
	// "portcullis-openapi" and "0.0.0".
	Name, Version string
	// Tools are the generated tools to serve.
	Tools []openapi.Tool
	// BaseURL replaces every tool's server URL (scheme, host and base path,
	// e.g. "https://api.example.com/v1"). Required when a tool's document
	// server URL is relative or missing.
	BaseURL string
	// Credential is the backend credential injected into every REST request.
	// The agent never supplies it: a tool parameter with the same name and
	// location is removed from the input schema and always overwritten.
	// Default none.
	Credential Credential
	// HTTPClient sends the REST requests; defaults to a client with no
	// redirects followed (a redirect is returned as the response, so a
	// credential never follows it to another host).
	HTTPClient *http.Client
	// Timeout bounds one REST call including reading the body; defaults to 30s.
	Timeout time.Duration
	// MaxResponseBytes bounds the REST response body read; a larger body is an
	// error result. Defaults to 1 MiB.
	MaxResponseBytes int64
	// MaxErrorExcerpt bounds the body excerpt in a non-2xx result; defaults
	// to 1024 bytes.
	MaxErrorExcerpt int
}

// Credential says where the backend credential goes. Set exactly one of
// Header and Query.
type Credential struct {
	// Header is a header name, e.g. "X-API-Key" or "Authorization" (Value
	// then carries the scheme, "Bearer ...").
	Header string
	// Query is a query parameter name, e.g. "api_key".
	Query string
	Value string
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 30 * time.Second
}

func (c *Config) maxResponse() int64 {
	if c.MaxResponseBytes > 0 {
		return c.MaxResponseBytes
	}
	return 1 << 20
}

func (c *Config) maxExcerpt() int {
	if c.MaxErrorExcerpt > 0 {
		return c.MaxErrorExcerpt
	}
	return 1024
}

func (c *Config) client() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
