package mcpserver

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// result maps a REST response: 2xx JSON becomes structured content (objects
// as they are, other JSON values under "result") plus the JSON text; other
// 2xx text becomes text content; non-2xx becomes isError with the status and
// a bounded body excerpt; a body over the size limit is an error.
func (c *caller) result(resp *http.Response) (*mcp.CallToolResult, error) {
	limit := c.cfg.maxResponse()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return errorResult("reading the REST response failed: %v", err), nil
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if int64(len(data)) > limit {
		if !ok {
			return errorResult("HTTP %s: %s", resp.Status, excerpt(data, c.cfg.maxExcerpt())), nil
		}
		return errorResult("HTTP %s: response body exceeds the %d-byte limit", resp.Status, limit), nil
	}
	if !ok {
		return errorResult("HTTP %s: %s", resp.Status, excerpt(data, c.cfg.maxExcerpt())), nil
	}
	if len(data) == 0 {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "HTTP " + resp.Status}}}, nil
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if isJSON || (mt == "" && json.Valid(data)) {
		var v any
		if err := json.Unmarshal(data, &v); err == nil {
			structured, isObj := v.(map[string]any)
			if !isObj {
				structured = map[string]any{"result": v}
			}
			return &mcp.CallToolResult{StructuredContent: structured, Content: []mcp.Content{&mcp.TextContent{Text: string(data)}}}, nil
		}
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "xml") || (mt == "" && utf8.Valid(data)) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(data)}}}, nil
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "HTTP " + resp.Status + ": " + mt + " body of " + itoa(len(data)) + " bytes (binary, not shown)"}}}, nil
}

func excerpt(data []byte, max int) string {
	if len(data) <= max {
		return strings.ToValidUTF8(string(data), "?")
	}
	cut := data[:max]
	for len(cut) > 0 && !utf8.Valid(cut) {
		cut = cut[:len(cut)-1]
	}
	return string(cut) + "… (truncated)"
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
