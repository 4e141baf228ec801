package openapi

// operation is one HTTP operation of a document, independent of the OpenAPI
// version and of the parser. The loaders produce it; the generator consumes it.
type operation struct {
	ID          string
	Method      string // upper case
	Path        string
	Summary     string
	Description string
	Tags        []string
	Deprecated  bool
	Server      string
	Params      []param
	Body        *body
	// Skip, when set, is why the operation cannot become a tool.
	Skip string
	// Webhook marks an operation the API calls (webhooks), never a tool.
	Webhook bool
}

// param is one parameter with its schema already converted.
type param struct {
	Name        string
	In          string // path, query, header, cookie
	Description string
	Required    bool
	Deprecated  bool
	Style       string
	Explode     bool
	Schema      map[string]any
}

// body is the request body chosen for the tool.
type body struct {
	ContentType string
	Required    bool
	Description string
	Schema      map[string]any
	// Binary lists top-level properties sent as files (multipart) or the
	// whole body (octet-stream, Binary = ["."]); tool arguments carry them
	// base64-encoded.
	Binary []string
}
