package openapi

import (
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
)

// Validator checks tool arguments against a tool's input schema. It uses
// github.com/google/jsonschema-go, the validator the MCP Go SDK itself uses.
type Validator struct {
	resolved *jsonschema.Resolved
}

// NewValidator compiles a tool's input schema.
func NewValidator(inputSchema map[string]any) (*Validator, error) {
	r, err := compileSchema(inputSchema)
	if err != nil {
		return nil, err
	}
	return &Validator{resolved: r}, nil
}

// Validate checks decoded JSON arguments (map[string]any, float64 numbers).
func (v *Validator) Validate(args map[string]any) error {
	if args == nil {
		args = map[string]any{}
	}
	return v.resolved.Validate(args)
}

func compileSchema(s map[string]any) (*jsonschema.Resolved, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var js jsonschema.Schema
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	return js.Resolve(nil)
}
