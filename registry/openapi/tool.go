package openapi

// Tool is one generated MCP tool. It is JSON-serialisable; the mcpserver
// package serves it.
type Tool struct {
	// Name is unique in its document and matches ^[a-zA-Z0-9_-]{1,64}$.
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	// InputSchema is a JSON Schema (draft 2020-12) object: one property per
	// parameter, plus "body" for the request body.
	InputSchema map[string]any `json:"inputSchema"`
	Risk        Risk           `json:"risk"`
	// RateLimitPerHour is the default call budget per hour (see
	// [Options.RateLimits]).
	RateLimitPerHour int      `json:"rateLimitPerHour"`
	Request          Request  `json:"request"`
	OperationID      string   `json:"operationId,omitempty"`
	Tags             []string `json:"tags,omitempty"`
	Deprecated       bool     `json:"deprecated,omitempty"`
}

// Request says how to build the HTTP request of a tool call.
type Request struct {
	Method string `json:"method"`
	// Server is the server URL from the document, with server variables
	// replaced by their defaults. It may be relative ("/api/v3") or empty;
	// the runtime's base URL overrides it.
	Server string `json:"server,omitempty"`
	// Path is the path template, e.g. /pets/{petId}.
	Path   string         `json:"path"`
	Params []ParamBinding `json:"params,omitempty"`
	Body   *BodyBinding   `json:"body,omitempty"`
}

// ParamBinding maps one tool argument to one HTTP parameter.
type ParamBinding struct {
	// Arg is the input-schema property name (usually Name; suffixed with
	// "_<in>" when two parameters share a name).
	Arg  string `json:"arg"`
	Name string `json:"name"`
	In   string `json:"in"`
	// Style and Explode follow OpenAPI 3 serialisation (Swagger 2.0
	// collectionFormat is mapped onto them; "tabDelimited" is the 2.0 tsv).
	Style    string `json:"style"`
	Explode  bool   `json:"explode"`
	Required bool   `json:"required,omitempty"`
}

// BodyArg is the input-schema property that carries the request body.
const BodyArg = "body"

// BodyBinding says how the "body" argument is encoded.
type BodyBinding struct {
	ContentType string `json:"contentType"`
	Required    bool   `json:"required,omitempty"`
	// Binary lists top-level body properties that are files (multipart);
	// "." means the whole body is binary (octet-stream). Their argument values
	// are base64 strings.
	Binary []string `json:"binary,omitempty"`
}
