package openapi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
)

func fromV3(d libopenapi.Document, opts Options) (*parsedDoc, error) {
	m, err := d.BuildV3Model()
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
	legacy := strings.HasPrefix(d.GetVersion(), "3.0")
	if doc.Info != nil {
		out.Title, out.APIVersion = doc.Info.Title, doc.Info.Version
	}
	if doc.Components != nil && doc.Components.SecuritySchemes != nil {
		for name, s := range doc.Components.SecuritySchemes.FromOldest() {
			if s != nil {
				out.Security = append(out.Security, SecurityScheme{Name: name, Type: s.Type, In: s.In, Param: s.Name, Scheme: s.Scheme})
			}
		}
	}
	if doc.Paths != nil && doc.Paths.PathItems != nil {
		for path, pi := range doc.Paths.PathItems.FromOldest() {
			if pi == nil {
				continue
			}
			for method, op := range pathOps(pi) {
				o := v3Operation(path, method, pi, op, doc.Servers, legacy, &opts)
				out.Ops = append(out.Ops, o)
				out.Ops = append(out.Ops, v3Callbacks(op)...)
			}
		}
	}
	if doc.Webhooks != nil {
		for name, pi := range doc.Webhooks.FromOldest() {
			if pi == nil {
				continue
			}
			for method, op := range pathOps(pi) {
				out.Ops = append(out.Ops, operation{ID: op.OperationId, Method: method, Path: name, Webhook: true,
					Skip: "webhook: the API calls the subscriber, agents do not call it"})
			}
		}
	}
	return out, nil
}

// pathOps yields a path item's operations in a fixed method order.
func pathOps(pi *v3.PathItem) func(func(string, *v3.Operation) bool) {
	return func(yield func(string, *v3.Operation) bool) {
		ops := pi.GetOperations()
		if ops == nil {
			return
		}
		for method, op := range ops.FromOldest() {
			if op == nil {
				continue
			}
			if !yield(strings.ToUpper(method), op) {
				return
			}
		}
	}
}

func v3Callbacks(op *v3.Operation) []operation {
	if op.Callbacks == nil {
		return nil
	}
	var out []operation
	for name, cb := range op.Callbacks.FromOldest() {
		if cb == nil || cb.Expression == nil {
			continue
		}
		for expr, pi := range cb.Expression.FromOldest() {
			if pi == nil {
				continue
			}
			for method := range pathOps(pi) {
				out = append(out, operation{ID: op.OperationId + "." + name, Method: method, Path: expr, Webhook: true,
					Skip: "callback: the API calls the subscriber, agents do not call it"})
			}
		}
	}
	return out
}

func v3Operation(path, method string, pi *v3.PathItem, op *v3.Operation, docServers []*v3.Server, legacy bool, opts *Options) operation {
	o := operation{
		ID: op.OperationId, Method: method, Path: path,
		Summary: op.Summary, Description: op.Description, Tags: op.Tags,
		Deprecated: op.Deprecated != nil && *op.Deprecated,
	}
	if o.Summary == "" && o.Description == "" {
		o.Summary, o.Description = pi.Summary, pi.Description
	}
	switch {
	case len(op.Servers) > 0:
		o.Server = serverURL(op.Servers[0])
	case len(pi.Servers) > 0:
		o.Server = serverURL(pi.Servers[0])
	case len(docServers) > 0:
		o.Server = serverURL(docServers[0])
	}
	conv := newSchemaConv(legacy, opts)
	// Operation parameters override path-item parameters with the same name and location.
	params := map[string]*v3.Parameter{}
	var order []string
	for _, list := range [][]*v3.Parameter{pi.Parameters, op.Parameters} {
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
	for _, k := range order {
		p := params[k]
		switch p.In {
		case "path", "query", "header", "cookie":
		default:
			o.Skip = fmt.Sprintf("parameter %q has unsupported location %q", p.Name, p.In)
			return o
		}
		pr := param{Name: p.Name, In: p.In, Description: p.Description, Deprecated: p.Deprecated,
			Required: p.In == "path" || (p.Required != nil && *p.Required)}
		pr.Style, pr.Explode = p.Style, defaultExplode(p.In, p.Style)
		if p.Explode != nil {
			pr.Explode = *p.Explode
		}
		if pr.Style == "" {
			pr.Style = defaultStyle(p.In)
		}
		switch {
		case p.Schema != nil:
			pr.Schema = conv.proxy(p.Schema, 0, forRequest)
		case p.Content != nil && p.Content.Len() > 0:
			for _, mt := range p.Content.FromOldest() {
				pr.Schema = conv.proxy(mt.Schema, 0, forRequest)
				pr.Style = StyleJSON
				break
			}
		default:
			pr.Schema = map[string]any{}
		}
		o.Params = append(o.Params, pr)
	}
	if rb := op.RequestBody; rb != nil && rb.Content != nil && rb.Content.Len() > 0 {
		required := rb.Required != nil && *rb.Required
		ct, mt := pickContent(rb.Content)
		if mt == nil {
			types := make([]string, 0, rb.Content.Len())
			for k := range rb.Content.FromOldest() {
				types = append(types, k)
			}
			sort.Strings(types)
			if required {
				o.Skip = "unsupported request content type: " + strings.Join(types, ", ")
				return o
			}
			o.Description = strings.TrimSpace(o.Description + "\n\n(The optional request body is not exposed: unsupported content type " + strings.Join(types, ", ") + ".)")
		} else {
			o.Body = mediaBody(ct, mt.Schema, required, rb.Description, conv)
		}
	}
	return o
}

// Content types the runtime can encode, in order of preference.
func contentRank(ct string) int {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	switch {
	case ct == "application/json":
		return 1
	case strings.HasSuffix(ct, "+json") || strings.HasSuffix(ct, "/json"):
		return 2
	case ct == "application/x-www-form-urlencoded":
		return 3
	case ct == "multipart/form-data":
		return 4
	case ct == "text/plain":
		return 5
	case strings.HasPrefix(ct, "text/") && ct != "text/xml":
		return 6
	case ct == "application/octet-stream":
		return 7
	case ct == "*/*" || ct == "application/*":
		return 8
	}
	return 0
}

func pickContent(content *orderedmap.Map[string, *v3.MediaType]) (string, *v3.MediaType) {
	best, bestRank := "", 0
	var bestMT *v3.MediaType
	for ct, mt := range content.FromOldest() {
		if r := contentRank(ct); r > 0 && (bestRank == 0 || r < bestRank) && mt != nil {
			best, bestRank, bestMT = ct, r, mt
		}
	}
	return best, bestMT
}

// mediaBody builds the body for a chosen content type; schema may be nil.
func mediaBody(ct string, schema *base.SchemaProxy, required bool, desc string, conv *schemaConv) *body {
	b := &body{ContentType: ct, Required: required, Description: desc}
	if ct == "*/*" || ct == "application/*" {
		b.ContentType = "application/json"
	}
	switch r := contentRank(ct); r {
	case 5, 6:
		b.Schema = map[string]any{"type": "string"}
	case 7:
		b.Schema = map[string]any{"type": "string", "contentEncoding": "base64", "description": "file content, base64-encoded"}
		b.Binary = []string{"."}
	default:
		b.Schema = conv.proxy(schema, 0, forRequest)
		if r == 4 {
			b.Binary = markBinary(b.Schema)
		}
	}
	if desc != "" {
		if _, ok := b.Schema["description"]; !ok {
			b.Schema["description"] = desc
		}
	}
	return b
}

// markBinary finds top-level multipart properties that are files and
// rewrites them to base64 strings (or arrays of them).
func markBinary(s map[string]any) []string {
	props, _ := s["properties"].(map[string]any)
	var names []string
	for name, p := range props {
		ps, _ := p.(map[string]any)
		if isBinary(ps) {
			props[name] = base64Schema(ps)
			names = append(names, name)
			continue
		}
		if items, _ := ps["items"].(map[string]any); ps["type"] == "array" && isBinary(items) {
			ps["items"] = base64Schema(items)
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func isBinary(s map[string]any) bool {
	if s == nil {
		return false
	}
	f, _ := s["format"].(string)
	return f == "binary" || f == "byte" || s["contentMediaType"] == "application/octet-stream"
}

func base64Schema(s map[string]any) map[string]any {
	d, _ := s["description"].(string)
	return map[string]any{"type": "string", "contentEncoding": "base64",
		"description": strings.TrimSpace(d + " (file content, base64-encoded)")}
}

func serverURL(s *v3.Server) string {
	if s == nil {
		return ""
	}
	u := s.URL
	if s.Variables != nil {
		for name, v := range s.Variables.FromOldest() {
			if v != nil {
				u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
			}
		}
	}
	return u
}

// StyleJSON marks a parameter defined with "content" instead of "schema":
// its value is sent as JSON text.
const StyleJSON = "json"

func defaultStyle(in string) string {
	switch in {
	case "query", "cookie":
		return "form"
	}
	return "simple"
}

func defaultExplode(in, style string) bool {
	if style == "" {
		style = defaultStyle(in)
	}
	return style == "form"
}
