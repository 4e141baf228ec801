package openapi

// Result is the outcome of [Import]: one entry per OpenAPI document found.
// It is JSON-serialisable; the CLI prints it.
type Result struct {
	Documents []*Document `json:"documents"`
	Totals    Summary     `json:"totals"`
	// Ignored lists files of an imported directory that are not OpenAPI root
	// documents (fragments reached through $ref, other YAML/JSON).
	Ignored []string `json:"ignored,omitempty"`
}

// Document is one imported OpenAPI document: one generated MCP server.
type Document struct {
	File string `json:"file"`
	// Spec is the OpenAPI/Swagger version ("2.0", "3.0.3", "3.1.0").
	Spec       string           `json:"spec"`
	Title      string           `json:"title,omitempty"`
	APIVersion string           `json:"apiVersion,omitempty"`
	Summary    Summary          `json:"summary"`
	Tools      []Tool           `json:"tools"`
	Skipped    []Skip           `json:"skipped,omitempty"`
	Security   []SecurityScheme `json:"security,omitempty"`
	// Warnings are non-fatal findings (parser notes, dropped optional bodies).
	Warnings []string `json:"warnings,omitempty"`
}

// Summary counts what an import found and produced.
type Summary struct {
	// Operations are the callable operations under paths.
	Operations int `json:"operations"`
	// Selected are the operations that passed Include/Exclude.
	Selected int `json:"selected"`
	Tools    int `json:"tools"`
	// Skipped counts selected operations that produced no tool, plus webhooks
	// and callbacks (never tools: the API calls them).
	Skipped int `json:"skipped"`
}

func (s *Summary) add(o Summary) {
	s.Operations += o.Operations
	s.Selected += o.Selected
	s.Tools += o.Tools
	s.Skipped += o.Skipped
}

// Skip is an operation that produced no tool, with the reason.
type Skip struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	OperationID string `json:"operationId,omitempty"`
	// Kind is "operation", "webhook" or "callback".
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// SecurityScheme describes how the API expects credentials, so an operator
// can configure the runtime's injected credential.
type SecurityScheme struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	In     string `json:"in,omitempty"`
	Param  string `json:"param,omitempty"`
	Scheme string `json:"scheme,omitempty"`
}
