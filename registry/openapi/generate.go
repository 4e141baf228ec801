package openapi

import (
	"context"
	"sort"
	"strings"
)

// generate turns parsed operations into tools. It is pure: no I/O.
func generate(_ context.Context, file string, p *parsedDoc, opts Options) *Document {
	doc := &Document{File: file, Title: p.Title, APIVersion: p.APIVersion, Tools: []Tool{},
		Security: p.Security, Warnings: p.Warnings}
	sel := newSelector(opts.Include, opts.Exclude)
	names := newNamer(opts.NamePrefix)
	total := len(p.Ops)
	for i, op := range p.Ops {
		switch {
		case op.Webhook:
			kind := "webhook"
			if strings.HasPrefix(op.Skip, "callback") {
				kind = "callback"
			}
			doc.Skipped = append(doc.Skipped, Skip{Method: op.Method, Path: op.Path, OperationID: op.ID, Kind: kind, Reason: op.Skip})
			doc.Summary.Skipped++
		default:
			doc.Summary.Operations++
			if !sel.match(&op) {
				break
			}
			doc.Summary.Selected++
			if op.Skip != "" {
				doc.Skipped = append(doc.Skipped, Skip{Method: op.Method, Path: op.Path, OperationID: op.ID, Kind: "operation", Reason: op.Skip})
				doc.Summary.Skipped++
				break
			}
			doc.Tools = append(doc.Tools, buildTool(&op, names, &opts))
			doc.Summary.Tools++
		}
		if opts.Progress != nil {
			opts.Progress(Progress{File: file, Done: i + 1, Operations: total})
		}
	}
	return doc
}

func buildTool(op *operation, names *namer, opts *Options) Tool {
	t := Tool{
		Name:        names.name(op),
		Title:       title(op),
		Description: description(op, opts.maxDescription()),
		OperationID: op.ID,
		Tags:        op.Tags,
		Deprecated:  op.Deprecated,
		Request:     Request{Method: op.Method, Server: op.Server, Path: op.Path},
	}
	props := map[string]any{}
	var required []any
	taken := map[string]bool{}
	for _, p := range op.Params {
		taken[p.Name] = true
	}
	used := map[string]bool{}
	if op.Body != nil {
		used[BodyArg] = true
	}
	for _, p := range op.Params {
		arg := p.Name
		if used[arg] || (arg == BodyArg && op.Body != nil) {
			arg = p.Name + "_" + p.In
		}
		for n := 2; used[arg]; n++ {
			arg = p.Name + "_" + p.In + "_" + itoa(n)
		}
		used[arg] = true
		s := p.Schema
		if s == nil {
			s = map[string]any{}
		}
		if p.Description != "" {
			s = withDescription(s, p.Description)
		}
		if p.Deprecated {
			s["deprecated"] = true
		}
		props[arg] = s
		if p.Required {
			required = append(required, arg)
		}
		t.Request.Params = append(t.Request.Params, ParamBinding{Arg: arg, Name: p.Name, In: p.In,
			Style: p.Style, Explode: p.Explode, Required: p.Required})
	}
	if b := op.Body; b != nil {
		props[BodyArg] = b.Schema
		if b.Required {
			required = append(required, BodyArg)
		}
		t.Request.Body = &BodyBinding{ContentType: b.ContentType, Required: b.Required, Binary: b.Binary}
	}
	sortAny(required)
	t.InputSchema = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		t.InputSchema["required"] = required
	}
	t.Risk = Score(op.Method, op.Path, op.ID, op.Tags, paramNames(op))
	t.RateLimitPerHour = rateLimit(op.Method, t.Name, opts)
	return t
}

func paramNames(op *operation) []string {
	var out []string
	for _, p := range op.Params {
		out = append(out, p.Name)
	}
	if op.Body != nil {
		if props, ok := op.Body.Schema["properties"].(map[string]any); ok {
			for k := range props {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// withDescription copies s and sets its description when it has none.
func withDescription(s map[string]any, d string) map[string]any {
	if _, ok := s["description"]; ok {
		return s
	}
	c := make(map[string]any, len(s)+1)
	for k, v := range s {
		c[k] = v
	}
	c["description"] = d
	return c
}

func sortAny(l []any) {
	sort.Slice(l, func(i, j int) bool { return l[i].(string) < l[j].(string) })
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
