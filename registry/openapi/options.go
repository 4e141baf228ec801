package openapi

// Options configure an import. The zero value imports every operation with
// the documented defaults.
type Options struct {
	// Include selects operations; empty selects all. Each entry is one of
	//   - an operationId ("listPets"),
	//   - "tag:NAME" (any operation carrying that tag),
	//   - "METHOD PATHGLOB" ("GET /pets/*", "* /admin/**"; * matches one path
	//     segment or part of one, ** any number of segments, METHOD may be *).
	Include []string
	// Exclude removes operations that Include selected, same syntax.
	Exclude []string
	// NamePrefix is prepended to every tool name (e.g. "petstore_"); default
	// none. It counts towards the 64-character limit.
	NamePrefix string
	// RateLimits overrides the default calls-per-hour budget by HTTP method
	// (upper case). Defaults: GET, HEAD, OPTIONS 1000; POST, PUT, PATCH 100;
	// DELETE 10; any other method 100.
	RateLimits map[string]int
	// ToolRateLimits overrides the budget of single tools by tool name; it wins
	// over RateLimits.
	ToolRateLimits map[string]int
	// MaxSchemaDepth bounds schema nesting; defaults to 12.
	MaxSchemaDepth int
	// MaxSchemaNodes bounds the number of schema nodes of one tool; defaults
	// to 5000.
	MaxSchemaNodes int
	// MaxDescription bounds tool descriptions in runes; defaults to 1024.
	MaxDescription int
	// Progress, if set, is called after each operation of each document, from
	// the importing goroutine. Defaults to none.
	Progress func(Progress)
}

// Progress reports how far an import has got.
type Progress struct {
	File       string `json:"file"`
	Done       int    `json:"done"`
	Operations int    `json:"operations"`
}

func (o *Options) maxSchemaDepth() int {
	if o.MaxSchemaDepth > 0 {
		return o.MaxSchemaDepth
	}
	return 12
}

func (o *Options) maxSchemaNodes() int {
	if o.MaxSchemaNodes > 0 {
		return o.MaxSchemaNodes
	}
	return 5000
}

func (o *Options) maxDescription() int {
	if o.MaxDescription > 0 {
		return o.MaxDescription
	}
	return 1024
}
