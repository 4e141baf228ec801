// Package mcpserver serves generated OpenAPI tools as an MCP server (official
// Go SDK, Streamable HTTP). Each call is validated against the tool's input
// schema, turned into a REST request with the injected backend credential,
// and the REST response is mapped to a CallToolResult.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portcullis/portcullis/registry/openapi"
)

// NewServer returns an MCP server exposing cfg.Tools.
func NewServer(cfg Config) (*mcp.Server, error) {
	if cfg.Credential.Header != "" && cfg.Credential.Query != "" {
		return nil, errors.New("mcpserver: set only one of Credential.Header and Credential.Query")
	}
	name, version := cfg.Name, cfg.Version
	if name == "" {
		name = "portcullis-openapi"
	}
	if version == "" {
		version = "0.0.0"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: version}, nil)
	for i := range cfg.Tools {
		t := withoutCredential(cfg.Tools[i], cfg.Credential)
		if cfg.BaseURL == "" && !strings.Contains(t.Request.Server, "://") {
			return nil, fmt.Errorf("mcpserver: tool %s has no absolute server URL; set BaseURL", t.Name)
		}
		v, err := openapi.NewValidator(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("mcpserver: tool %s: %w", t.Name, err)
		}
		c := &caller{cfg: &cfg, tool: t, validator: v}
		s.AddTool(&mcp.Tool{
			Name:        t.Name,
			Title:       t.Title,
			Description: t.Description,
			InputSchema: t.InputSchema,
			Annotations: annotations(t),
		}, c.call)
	}
	return s, nil
}

// NewHandler returns the Streamable HTTP handler of NewServer(cfg); opts may
// be nil.
func NewHandler(cfg Config, opts *mcp.StreamableHTTPOptions) (http.Handler, error) {
	s, err := NewServer(cfg)
	if err != nil {
		return nil, err
	}
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, opts), nil
}

func annotations(t openapi.Tool) *mcp.ToolAnnotations {
	ro := t.Request.Method == http.MethodGet || t.Request.Method == http.MethodHead
	destructive := t.Request.Method == http.MethodDelete || t.Request.Method == http.MethodPut
	idempotent := ro || t.Request.Method == http.MethodPut || t.Request.Method == http.MethodDelete
	openWorld := true
	return &mcp.ToolAnnotations{ReadOnlyHint: ro, DestructiveHint: &destructive, IdempotentHint: idempotent, OpenWorldHint: &openWorld}
}

// withoutCredential drops the parameter the injected credential occupies.
func withoutCredential(t openapi.Tool, c Credential) openapi.Tool {
	in, name := "header", c.Header
	if c.Query != "" {
		in, name = "query", c.Query
	}
	if name == "" {
		return t
	}
	var keep []openapi.ParamBinding
	var drop []string
	for _, p := range t.Request.Params {
		if p.In == in && strings.EqualFold(p.Name, name) {
			drop = append(drop, p.Arg)
			continue
		}
		keep = append(keep, p)
	}
	if len(drop) == 0 {
		return t
	}
	t.Request.Params = keep
	schema := make(map[string]any, len(t.InputSchema))
	for k, v := range t.InputSchema {
		schema[k] = v
	}
	props := map[string]any{}
	if old, ok := t.InputSchema["properties"].(map[string]any); ok {
		for k, v := range old {
			props[k] = v
		}
	}
	var req []any
	if old, ok := t.InputSchema["required"].([]any); ok {
		req = append(req, old...)
	}
	for _, a := range drop {
		delete(props, a)
		for i := 0; i < len(req); i++ {
			if req[i] == a {
				req = append(req[:i], req[i+1:]...)
				i--
			}
		}
	}
	schema["properties"] = props
	if len(req) > 0 {
		schema["required"] = req
	} else {
		delete(schema, "required")
	}
	t.InputSchema = schema
	return t
}

type caller struct {
	cfg       *Config
	tool      openapi.Tool
	validator *openapi.Validator
}

func errorResult(format string, a ...any) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, a...)}}}
}

func (c *caller) call(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	raw := req.Params.Arguments
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	var plain map[string]any
	if err := json.Unmarshal(raw, &plain); err != nil {
		return errorResult("invalid arguments: not a JSON object"), nil
	}
	if err := c.validator.Validate(plain); err != nil {
		return errorResult("invalid arguments: %v", err), nil
	}
	// Decode again keeping numbers exact for serialisation.
	var args map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		return errorResult("invalid arguments: not a JSON object"), nil
	}
	built, err := c.tool.Request.Build(c.cfg.BaseURL, args)
	if err != nil {
		return errorResult("invalid arguments: %v", err), nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	hreq, err := c.httpRequest(ctx, built)
	if err != nil {
		return errorResult("cannot build the REST request: %v", err), nil
	}
	resp, err := c.cfg.client().Do(hreq)
	if err != nil {
		// url.Error carries the URL, which may hold the credential: unwrap it.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return errorResult("REST call %s %s failed: %v", c.tool.Request.Method, c.tool.Request.Path, err), nil
	}
	defer resp.Body.Close()
	return c.result(resp)
}

func (c *caller) httpRequest(ctx context.Context, b *openapi.HTTPRequest) (*http.Request, error) {
	u, err := url.Parse(b.URL)
	if err != nil {
		return nil, err
	}
	if c.cfg.Credential.Query != "" {
		q := u.Query()
		q.Set(c.cfg.Credential.Query, c.cfg.Credential.Value)
		u.RawQuery = q.Encode()
	}
	var body *bytes.Reader
	if b.Body != nil {
		body = bytes.NewReader(b.Body)
	}
	var hreq *http.Request
	if body != nil {
		hreq, err = http.NewRequestWithContext(ctx, b.Method, u.String(), body)
	} else {
		hreq, err = http.NewRequestWithContext(ctx, b.Method, u.String(), nil)
	}
	if err != nil {
		return nil, err
	}
	for k, v := range b.Header {
		hreq.Header[k] = v
	}
	if c.cfg.Credential.Header != "" {
		hreq.Header.Set(c.cfg.Credential.Header, c.cfg.Credential.Value)
	}
	if hreq.Header.Get("Accept") == "" {
		hreq.Header.Set("Accept", "application/json, */*;q=0.5")
	}
	return hreq, nil
}
