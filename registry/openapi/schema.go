package openapi

import (
	"fmt"
	"regexp"
	"time"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// schemaConv turns libopenapi schemas into self-contained JSON Schema
// (2020-12) maps, inlining $refs within the bounds documented in the package
// doc. One schemaConv serves one tool, so the node budget is per tool.
type schemaConv struct {
	legacy   bool // OpenAPI 3.0 / Swagger 2.0 keyword semantics (nullable, boolean exclusive bounds)
	maxDepth int
	maxNodes int
	nodes    int
	stack    map[*yaml.Node]bool
}

func newSchemaConv(legacy bool, o *Options) *schemaConv {
	return &schemaConv{legacy: legacy, maxDepth: o.maxSchemaDepth(), maxNodes: o.maxSchemaNodes(), stack: map[*yaml.Node]bool{}}
}

// requestMode drops readOnly properties: a client never sends them.
type requestMode bool

const forRequest requestMode = true

func (c *schemaConv) proxy(sp *base.SchemaProxy, depth int, mode requestMode) map[string]any {
	if sp == nil {
		return map[string]any{}
	}
	if depth > c.maxDepth || c.nodes >= c.maxNodes {
		return map[string]any{"description": "nested schema not expanded (size limit)"}
	}
	s := sp.Schema()
	if s == nil {
		if sp.IsReference() {
			return map[string]any{"description": "unresolved reference " + sp.GetReference()}
		}
		return map[string]any{}
	}
	var key *yaml.Node
	if sp.IsReference() && s.GoLow() != nil {
		key = s.GoLow().RootNode
	}
	if key != nil {
		if c.stack[key] {
			return map[string]any{"description": "recursive reference " + sp.GetReference() + " (not expanded)"}
		}
		c.stack[key] = true
		defer delete(c.stack, key)
	}
	return c.schema(s, depth, mode)
}

func (c *schemaConv) schema(s *base.Schema, depth int, mode requestMode) map[string]any {
	c.nodes++
	out := map[string]any{}
	if s.BooleanSchema != nil {
		if !*s.BooleanSchema {
			out["not"] = map[string]any{}
		}
		return out
	}
	types := append([]string(nil), s.Type...)
	for i, t := range types {
		if t == "file" { // Swagger 2.0 formData file
			types[i] = "string"
			out["format"] = "binary"
		}
	}
	nullable := s.Nullable != nil && *s.Nullable
	if nullable && len(types) > 0 {
		types = append(types, "null")
	}
	switch len(types) {
	case 0:
	case 1:
		out["type"] = types[0]
	default:
		l := make([]any, len(types))
		for i, t := range types {
			l[i] = t
		}
		out["type"] = l
	}
	setStr(out, "title", s.Title)
	setStr(out, "description", s.Description)
	if s.Format != "" {
		out["format"] = s.Format
	}
	if s.Pattern != "" && validPattern(s.Pattern) {
		out["pattern"] = s.Pattern
	}
	setStr(out, "contentEncoding", s.ContentEncoding)
	setStr(out, "contentMediaType", s.ContentMediaType)
	if len(s.Enum) > 0 {
		enum := make([]any, 0, len(s.Enum)+1)
		for _, n := range s.Enum {
			enum = append(enum, nodeValue(n))
		}
		if nullable {
			enum = append(enum, nil)
		}
		out["enum"] = enum
	}
	if s.Const != nil {
		out["const"] = nodeValue(s.Const)
	}
	if s.Default != nil {
		out["default"] = nodeValue(s.Default)
	}
	setF(out, "multipleOf", s.MultipleOf)
	setF(out, "minimum", s.Minimum)
	setF(out, "maximum", s.Maximum)
	exclusive(out, "minimum", "exclusiveMinimum", s.ExclusiveMinimum)
	exclusive(out, "maximum", "exclusiveMaximum", s.ExclusiveMaximum)
	setI(out, "minLength", s.MinLength)
	setI(out, "maxLength", s.MaxLength)
	setI(out, "minItems", s.MinItems)
	setI(out, "maxItems", s.MaxItems)
	setI(out, "minProperties", s.MinProperties)
	setI(out, "maxProperties", s.MaxProperties)
	if s.UniqueItems != nil && *s.UniqueItems {
		out["uniqueItems"] = true
	}
	if s.Deprecated != nil && *s.Deprecated {
		out["deprecated"] = true
	}
	if s.ReadOnly != nil && *s.ReadOnly {
		out["readOnly"] = true
	}
	if s.WriteOnly != nil && *s.WriteOnly {
		out["writeOnly"] = true
	}

	dropped := map[string]bool{}
	if s.Properties != nil && s.Properties.Len() > 0 {
		props := map[string]any{}
		for name, p := range s.Properties.FromOldest() {
			if mode == forRequest && isReadOnly(p) {
				dropped[name] = true
				continue
			}
			props[name] = c.proxy(p, depth+1, mode)
		}
		out["properties"] = props
	}
	if len(s.Required) > 0 {
		req := make([]any, 0, len(s.Required))
		for _, r := range s.Required {
			if !dropped[r] {
				req = append(req, r)
			}
		}
		if len(req) > 0 {
			out["required"] = req
		}
	}
	if s.PatternProperties != nil && s.PatternProperties.Len() > 0 {
		pp := map[string]any{}
		for pat, p := range s.PatternProperties.FromOldest() {
			if validPattern(pat) {
				pp[pat] = c.proxy(p, depth+1, mode)
			}
		}
		out["patternProperties"] = pp
	}
	if v := c.dynamic(s.AdditionalProperties, depth, mode); v != nil {
		out["additionalProperties"] = v
	}
	if v := c.dynamic(s.Items, depth, mode); v != nil {
		out["items"] = v
	}
	if len(s.PrefixItems) > 0 {
		out["prefixItems"] = c.list(s.PrefixItems, depth, mode)
	}
	if len(s.AllOf) > 0 {
		out["allOf"] = c.list(s.AllOf, depth, mode)
	}
	// oneOf is emitted as anyOf: documents routinely list overlapping
	// alternatives (discriminated objects that allow extra properties), which
	// a strict oneOf would reject; exclusivity is the API's to enforce.
	var anyOf []any
	if len(s.OneOf) > 0 {
		anyOf = append(anyOf, c.list(s.OneOf, depth, mode)...)
	}
	if len(s.AnyOf) > 0 {
		if anyOf != nil { // both present: keep both constraints
			out["allOf"] = append(asList(out["allOf"]), map[string]any{"anyOf": c.list(s.AnyOf, depth, mode)})
		} else {
			anyOf = c.list(s.AnyOf, depth, mode)
		}
	}
	if anyOf != nil {
		out["anyOf"] = anyOf
	}
	if s.Not != nil {
		out["not"] = c.proxy(s.Not, depth+1, mode)
	}
	if s.If != nil {
		out["if"] = c.proxy(s.If, depth+1, mode)
		if s.Then != nil {
			out["then"] = c.proxy(s.Then, depth+1, mode)
		}
		if s.Else != nil {
			out["else"] = c.proxy(s.Else, depth+1, mode)
		}
	}
	return out
}

func (c *schemaConv) list(l []*base.SchemaProxy, depth int, mode requestMode) []any {
	out := make([]any, 0, len(l))
	for _, p := range l {
		out = append(out, c.proxy(p, depth+1, mode))
	}
	return out
}

func (c *schemaConv) dynamic(v *base.DynamicValue[*base.SchemaProxy, bool], depth int, mode requestMode) any {
	if v == nil {
		return nil
	}
	if v.IsA() {
		if v.A == nil {
			return nil
		}
		return c.proxy(v.A, depth+1, mode)
	}
	return v.B
}

func isReadOnly(p *base.SchemaProxy) bool {
	if p == nil {
		return false
	}
	s := p.Schema()
	return s != nil && s.ReadOnly != nil && *s.ReadOnly
}

func exclusive(out map[string]any, bound, key string, v *base.DynamicValue[bool, float64]) {
	if v == nil {
		return
	}
	if v.IsA() { // OpenAPI 3.0: boolean modifier of minimum/maximum
		if v.A {
			if b, ok := out[bound]; ok {
				out[key] = b
				delete(out, bound)
			}
		}
		return
	}
	out[key] = v.B
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func setStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func setF(m map[string]any, k string, v *float64) {
	if v != nil {
		m[k] = *v
	}
}

func setI(m map[string]any, k string, v *int64) {
	if v != nil {
		m[k] = *v
	}
}

// validPattern reports whether the validator (Go RE2) can compile a pattern.
// ECMA-262 patterns that RE2 cannot compile (look-arounds, back-references)
// are dropped rather than making the whole schema unusable.
func validPattern(p string) bool {
	_, err := regexp.Compile(p)
	return err == nil
}

// nodeValue decodes a YAML node into JSON-compatible Go values.
func nodeValue(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return jsonable(v)
}

func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case int:
		return int64(x)
	case uint64, int64, float64, string, bool, nil:
		return x
	default:
		return fmt.Sprint(x)
	}
}
