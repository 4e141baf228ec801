package filter

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
	"github.com/portcullis/portcullis/extproc/internal/policy"
)

// upstreamViews reads a forwarded body as two upstreams would: Go's
// encoding/json (member names matched case-insensitively, last duplicate
// wins) and an exact-key parser (JavaScript). It returns, per message and
// per view, the method and the params.name.
func upstreamViews(body []byte) (methods, tools []string, ok bool) {
	var raws []json.RawMessage
	if trimmed := strings.TrimLeft(string(body), " \t\r\n"); strings.HasPrefix(trimmed, "[") {
		if json.Unmarshal(body, &raws) != nil {
			return nil, nil, false
		}
	} else {
		raws = []json.RawMessage{body}
	}
	for _, raw := range raws {
		// Go: a struct, so member names match case-insensitively.
		var g struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(raw, &g) == nil {
			var gp struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(g.Params, &gp)
			methods, tools = append(methods, g.Method), append(tools, gp.Name)
		}
		// JavaScript: a map, so member names match exactly.
		var m, p map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			var method, name string
			_ = json.Unmarshal(m["method"], &method)
			if json.Unmarshal(m["params"], &p) == nil {
				_ = json.Unmarshal(p["name"], &name)
			}
			methods, tools = append(methods, method), append(tools, name)
		}
	}
	return methods, tools, true
}

// FuzzExchangeRequest sends an arbitrary body with arbitrary Mcp-Method,
// Mcp-Name and MCP-Protocol-Version headers through an exchange of the
// support persona (grants get_ticket and add_comment, forbids
// resources/read). The exchange must never panic; a refusal must answer
// locally with a JSON-RPC error and mutate nothing; a body it forwards must
// be JSON whose every tools/call, as the upstream decodes it, names a
// granted tool, and which calls no forbidden method.
func FuzzExchangeRequest(f *testing.F) {
	var (
		once sync.Once
		p    *policy.Policy
	)
	f.Fuzz(func(t *testing.T, body []byte, mcpMethod, mcpName, version string) {
		once.Do(func() { p = testPolicy(t) })
		e := NewEngine(p, Options{})
		x := e.NewExchange(StreamInfo{})
		h := postHeaders(testKey)
		for _, kv := range []Header{{"mcp-method", mcpMethod}, {"mcp-name", mcpName}, {"mcp-protocol-version", version}} {
			if kv.Value != "" {
				h = append(h, kv)
			}
		}
		if act := x.RequestHeaders(h, false); act.Respond != nil {
			t.Fatalf("refused at headers: %s", act.Respond.Body)
		}
		act := x.RequestBody(body, true)
		d := x.Finish()
		if act.Respond != nil {
			if act.ReplaceBody || len(act.SetHeaders) != 0 {
				t.Fatalf("refusal also mutates the request: %+v", act)
			}
			var r struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(act.Respond.Body, &r); err != nil || r.JSONRPC != "2.0" || r.Error.Code == 0 || r.Error.Message == "" || len(r.ID) == 0 {
				t.Fatalf("refusal %q is not a JSON-RPC error: %v", act.Respond.Body, err)
			}
			if d.Outcome == OutcomeAllowed {
				t.Fatalf("refused, decision says allowed: %+v", d)
			}
			return
		}
		if d.Outcome != OutcomeAllowed {
			t.Fatalf("forwarded, decision says %d", d.Outcome)
		}
		if act.SetHeaders.Get("authorization") != "Bearer backend-secret" {
			t.Fatalf("forwarded without the backend credential: %+v", act)
		}
		forwarded := body
		if act.ReplaceBody {
			forwarded = act.Body
		}
		if !json.Valid(forwarded) {
			t.Fatalf("forwarded a body the upstream cannot parse: %q", forwarded)
		}
		methods, tools, ok := upstreamViews(forwarded)
		if !ok {
			t.Fatalf("forwarded %q: not readable as JSON-RPC", forwarded)
		}
		persona := p.Persona("support")
		for i, m := range methods {
			switch {
			case m == mcp.MethodToolsCall && !persona.Grants(tools[i]):
				t.Fatalf("forwarded tools/call of %q: %q", tools[i], forwarded)
			case persona.Forbids(m):
				t.Fatalf("forwarded forbidden method %q: %q", m, forwarded)
			case m != mcp.MethodToolsCall && strings.EqualFold(strings.TrimSpace(m), mcp.MethodToolsCall):
				t.Fatalf("forwarded a variant %q of tools/call: %q", m, forwarded)
			}
		}
		if mcpMethod != "" || mcpName != "" {
			// Headers describe a single message only; it must agree.
			msg, err := mcp.ParseBody(forwarded, mcp.Limits{})
			if err != nil || msg.Batch {
				t.Fatalf("forwarded %q with Mcp-* headers: batch=%v err=%v", forwarded, msg.Batch, err)
			}
			m := msg.Messages[0]
			if mcpMethod != "" && mcpMethod != m.Method {
				t.Fatalf("forwarded method %q under Mcp-Method %q", m.Method, mcpMethod)
			}
			if mcpName != "" && m.Method == mcp.MethodToolsCall && mcpName != m.Tool {
				t.Fatalf("forwarded tool %q under Mcp-Name %q", m.Tool, mcpName)
			}
		}
	})
}
