package openapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pb33f/libopenapi"
	v2 "github.com/pb33f/libopenapi/datamodel/high/v2"
)

func fromV2(d libopenapi.Document, opts Options) (*parsedDoc, error) {
	m, err := d.BuildV2Model()
	if m == nil {
		if err == nil {
			err = fmt.Errorf("empty model")
		}
		return nil, err
	}
	out := &parsedDoc{}
	if err != nil {
		out.Warnings = append(out.Warnings, err.Error())
	}
	doc := &m.Model
	if doc.Info != nil {
		out.Title, out.APIVersion = doc.Info.Title, doc.Info.Version
	}
	if doc.SecurityDefinitions != nil && doc.SecurityDefinitions.Definitions != nil {
		for name, s := range doc.SecurityDefinitions.Definitions.FromOldest() {
			if s != nil {
				out.Security = append(out.Security, SecurityScheme{Name: name, Type: s.Type, In: s.In, Param: s.Name})
			}
		}
	}
	server := v2Server(doc)
	if doc.Paths != nil && doc.Paths.PathItems != nil {
		for path, pi := range doc.Paths.PathItems.FromOldest() {
			if pi == nil {
				continue
			}
			ops := pi.GetOperations()
			if ops == nil {
				continue
			}
			for method, op := range ops.FromOldest() {
				if op == nil {
					continue
				}
				out.Ops = append(out.Ops, v2Operation(path, strings.ToUpper(method), pi, op, doc, server, &opts))
			}
		}
	}
	return out, nil
}

func v2Server(doc *v2.Swagger) string {
	base := doc.BasePath
	if doc.Host == "" {
		return base
	}
	scheme := "https"
	if len(doc.Schemes) > 0 && !slices.Contains(doc.Schemes, "https") {
		scheme = doc.Schemes[0]
	}
	return scheme + "://" + doc.Host + base
}

func v2Operation(path, method string, pi *v2.PathItem, op *v2.Operation, doc *v2.Swagger, server string, opts *Options) operation {
	o := operation{
		ID: op.OperationId, Method: method, Path: path, Server: server,
		Summary: op.Summary, Description: op.Description, Tags: op.Tags, Deprecated: op.Deprecated,
	}
	conv := newSchemaConv(true, opts)
	params := map[string]*v2.Parameter{}
	var order []string
	for _, list := range [][]*v2.Parameter{pi.Parameters, op.Parameters} {
		for _, p := range list {
			if p == nil || p.Name == "" {
				continue
			}
			k := p.In + "\x00" + p.Name
			if _, seen := params[k]; !seen {
				order = append(order, k)
			}
			params[k] = p
		}
	}
	consumes := op.Consumes
	if len(consumes) == 0 {
		consumes = doc.Consumes
	}
	var form []*v2.Parameter
	for _, k := range order {
		p := params[k]
		required := p.Required != nil && *p.Required
		switch p.In {
		case "body":
			ct := "application/json"
			if len(consumes) > 0 {
				ct = ""
				best := 0
				for _, c := range consumes {
					if r := contentRank(c); r > 0 && r != 3 && r != 4 && (best == 0 || r < best) {
						ct, best = c, r
					}
				}
			}
			if ct == "" {
				if required {
					o.Skip = "unsupported request content type: " + strings.Join(consumes, ", ")
					return o
				}
				continue
			}
			o.Body = mediaBody(ct, p.Schema, required, p.Description, conv)
		case "formData":
			form = append(form, p)
		case "path", "query", "header":
			pr := param{Name: p.Name, In: p.In, Description: p.Description, Required: p.In == "path" || required,
				Schema: v2ParamSchema(p)}
			pr.Style, pr.Explode = collectionStyle(p.In, p.CollectionFormat)
			o.Params = append(o.Params, pr)
		default:
			o.Skip = fmt.Sprintf("parameter %q has unsupported location %q", p.Name, p.In)
			return o
		}
	}
	if len(form) > 0 {
		ct := "application/x-www-form-urlencoded"
		props := map[string]any{}
		var req []any
		var binary []string
		for _, p := range form {
			s := v2ParamSchema(p)
			if p.Type == "file" {
				ct = "multipart/form-data"
				s = base64Schema(map[string]any{"description": p.Description})
				binary = append(binary, p.Name)
			}
			props[p.Name] = s
			if p.Required != nil && *p.Required {
				req = append(req, p.Name)
			}
		}
		if slices.Contains(consumes, "multipart/form-data") && !slices.Contains(consumes, "application/x-www-form-urlencoded") {
			ct = "multipart/form-data"
		}
		s := map[string]any{"type": "object", "properties": props}
		if len(req) > 0 {
			s["required"] = req
		}
		o.Body = &body{ContentType: ct, Required: len(req) > 0, Schema: s, Binary: binary}
	}
	return o
}

// collectionStyle maps Swagger 2.0 collectionFormat onto OpenAPI 3 style.
func collectionStyle(in, format string) (style string, explode bool) {
	switch format {
	case "multi":
		return "form", true
	case "ssv":
		return "spaceDelimited", false
	case "pipes":
		return "pipeDelimited", false
	case "tsv":
		return "tabDelimited", false
	}
	if in == "query" {
		return "form", false // csv, the 2.0 default
	}
	return "simple", false
}

func v2ParamSchema(p *v2.Parameter) map[string]any {
	s := map[string]any{}
	t := p.Type
	if t == "file" {
		t = "string"
		s["format"] = "binary"
	}
	if t != "" {
		s["type"] = t
	}
	setStr(s, "description", p.Description)
	if p.Format != "" {
		s["format"] = p.Format
	}
	if p.Pattern != "" && validPattern(p.Pattern) {
		s["pattern"] = p.Pattern
	}
	if len(p.Enum) > 0 {
		enum := make([]any, len(p.Enum))
		for i, n := range p.Enum {
			enum[i] = nodeValue(n)
		}
		s["enum"] = enum
	}
	if p.Default != nil {
		s["default"] = nodeValue(p.Default)
	}
	bound := func(k, ek string, v *int, excl *bool) {
		if v == nil {
			return
		}
		if excl != nil && *excl {
			s[ek] = *v
		} else {
			s[k] = *v
		}
	}
	bound("minimum", "exclusiveMinimum", p.Minimum, p.ExclusiveMinimum)
	bound("maximum", "exclusiveMaximum", p.Maximum, p.ExclusiveMaximum)
	for k, v := range map[string]*int{"minLength": p.MinLength, "maxLength": p.MaxLength, "minItems": p.MinItems, "maxItems": p.MaxItems, "multipleOf": p.MultipleOf} {
		if v != nil {
			s[k] = *v
		}
	}
	if p.UniqueItems != nil && *p.UniqueItems {
		s["uniqueItems"] = true
	}
	if t == "array" {
		s["items"] = v2Items(p.Items, 0)
	}
	return s
}

func v2Items(it *v2.Items, depth int) map[string]any {
	s := map[string]any{}
	if it == nil || depth > 8 {
		return s
	}
	if it.Type != "" {
		s["type"] = it.Type
	}
	setStr(s, "format", it.Format)
	if it.Pattern != "" && validPattern(it.Pattern) {
		s["pattern"] = it.Pattern
	}
	if len(it.Enum) > 0 {
		enum := make([]any, len(it.Enum))
		for i, n := range it.Enum {
			enum[i] = nodeValue(n)
		}
		s["enum"] = enum
	}
	if it.Type == "array" {
		s["items"] = v2Items(it.Items, depth+1)
	}
	return s
}
