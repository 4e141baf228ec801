package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
	"github.com/portcullis/portcullis/extproc/internal/policy"
	"github.com/portcullis/portcullis/extproc/internal/verdict"
)

const testKey = "agent-key-1"

func testPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	doc := fmt.Sprintf(`
environment: test
limits: {max_body_bytes: 4096}
upstreams:
  - name: tickets
    credential: {header: authorization, value: "Bearer backend-secret"}
  - name: other
    credential: {header: x-api-key, value: "other-secret"}
personas:
  - name: support
    upstream: tickets
    tools: [get_ticket, add_comment]
    deny_methods: [resources/read]
  - name: reporter
    upstream: other
    tools: [report]
agents:
  - {id: agent-1, subject: alice, persona: support, key_sha256: %s}
  - {id: agent-2, persona: reporter, key_sha256: %s}
`, policy.HashKey(testKey), policy.HashKey("agent-key-2"))
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Millisecond); return c.t }

func newEngine(t testing.TB) (*Engine, *clock) {
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	return NewEngine(testPolicy(t), Options{Now: c.now}), c
}

func postHeaders(key string) Headers {
	h := Headers{{":method", "POST"}, {":path", "/mcp"}, {"content-type", "application/json"}, {"x-request-id", "req-1"}}
	if key != "" {
		h = append(h, Header{"authorization", "Bearer " + key})
	}
	return h
}

type rpcError struct {
	ID    json.RawMessage `json:"id"`
	Error struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Data    map[string]string `json:"data"`
	} `json:"error"`
}

func decodeError(t *testing.T, body []byte) rpcError {
	t.Helper()
	var r rpcError
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	return r
}

func TestAuthentication(t *testing.T) {
	e, _ := newEngine(t)
	for _, tc := range []struct {
		name      string
		headers   Headers
		reason    Reason
		challenge string
	}{
		{"missing", postHeaders(""), ReasonMissingCredential, `Bearer realm="portcullis"`},
		{"unknown", postHeaders("nope"), ReasonUnknownCredential, `error="invalid_token"`},
		{"wrong scheme", append(postHeaders("")[:4:4], Header{"authorization", "Basic " + testKey}), ReasonUnknownCredential, `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := e.NewExchange(StreamInfo{})
			act := x.RequestHeaders(tc.headers, false)
			if act.Respond == nil || act.Respond.Status != 401 {
				t.Fatalf("want 401, got %+v", act)
			}
			if !strings.Contains(act.Respond.Headers.Get("www-authenticate"), tc.challenge) {
				t.Errorf("WWW-Authenticate %q lacks %q", act.Respond.Headers.Get("www-authenticate"), tc.challenge)
			}
			if r := decodeError(t, act.Respond.Body); r.Error.Code != mcp.CodeUnauthorized || string(r.ID) != "null" {
				t.Errorf("body %s", act.Respond.Body)
			}
			d := x.Finish()
			if d.Outcome != OutcomeDenied || d.Reason != tc.reason || d.HTTPStatus != 401 || d.Agent != "" {
				t.Errorf("decision %+v", d)
			}
		})
	}
}

func TestCredentialInjection(t *testing.T) {
	e, _ := newEngine(t)
	call := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}}`)
	// POST: the key goes at the headers, the credential comes with the
	// authorised body, so an unbuffered body never carries it upstream.
	x := e.NewExchange(StreamInfo{ClientAddress: "10.0.0.1:5555"})
	act := x.RequestHeaders(postHeaders(testKey), false)
	if act.Respond != nil || len(act.SetHeaders) != 0 || len(act.RemoveHeaders) != 1 || act.RemoveHeaders[0] != "authorization" {
		t.Fatalf("headers action %+v", act)
	}
	if act := x.RequestBody(call, true); act.Respond != nil || act.SetHeaders.Get("authorization") != "Bearer backend-secret" {
		t.Fatalf("body action %+v", act)
	}
	// A denied body gets no credential (and is answered locally anyway).
	d := e.NewExchange(StreamInfo{})
	d.RequestHeaders(postHeaders(testKey), false)
	if act := d.RequestBody([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}`), true); act.Respond == nil || len(act.SetHeaders) != 0 {
		t.Fatalf("denied body action %+v", act)
	}
	// GET (no body): credential at the headers; same header overwritten.
	g := e.NewExchange(StreamInfo{})
	act = g.RequestHeaders(Headers{{":method", "GET"}, {"authorization", "Bearer " + testKey}}, true)
	if act.Respond != nil || act.SetHeaders.Get("authorization") != "Bearer backend-secret" || len(act.RemoveHeaders) != 0 {
		t.Fatalf("GET action %+v", act)
	}
	// A persona whose upstream takes another header: the agent's key header
	// is removed and the backend header set.
	x2 := e.NewExchange(StreamInfo{})
	act2 := x2.RequestHeaders(postHeaders("agent-key-2"), false)
	if len(act2.RemoveHeaders) != 1 || act2.RemoveHeaders[0] != "authorization" {
		t.Fatalf("got %+v", act2)
	}
	if act := x2.RequestBody([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"report"}}`), true); act.SetHeaders.Get("x-api-key") != "other-secret" {
		t.Fatalf("body action %+v", act)
	}
}

func TestToolsCallAuthorisation(t *testing.T) {
	e, _ := newEngine(t)
	tests := []struct {
		name    string
		body    string
		allowed bool
		reason  Reason
		status  int
	}{
		{"granted", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":1}}}`, true, ReasonToolGranted, 0},
		{"not granted", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"send_email"}}`, false, ReasonToolNotGranted, 200},
		{"case differs", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"Get_Ticket"}}`, false, ReasonToolNotGranted, 200},
		{"forbidden method", `{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"x"}}`, false, ReasonMethodForbidden, 200},
		{"passthrough", `{"jsonrpc":"2.0","id":5,"method":"prompts/list"}`, true, ReasonMethodPassthrough, 0},
		{"batch with a denied element", `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_all"}}]`, false, ReasonToolNotGranted, 403},
		{"batch all granted", `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}},{"jsonrpc":"2.0","method":"notifications/initialized"}]`, true, ReasonToolGranted, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := e.NewExchange(StreamInfo{})
			x.RequestHeaders(postHeaders(testKey), false)
			act := x.RequestBody([]byte(tt.body), true)
			d := x.Finish()
			if tt.allowed {
				if act.Respond != nil {
					t.Fatalf("refused: %s", act.Respond.Body)
				}
				if d.Outcome != OutcomeAllowed || d.Reason != tt.reason {
					t.Fatalf("decision %+v", d)
				}
				return
			}
			if act.Respond == nil || act.Respond.Status != tt.status {
				t.Fatalf("want local reply %d, got %+v", tt.status, act)
			}
			r := decodeError(t, act.Respond.Body)
			if r.Error.Code != mcp.CodeForbidden {
				t.Errorf("code %d", r.Error.Code)
			}
			if tt.status == 200 && string(r.ID) != "5" {
				t.Errorf("id %s not echoed", r.ID)
			}
			if d.Outcome != OutcomeDenied || d.Reason != tt.reason || d.Agent != "agent-1" || d.Persona != "support" || d.Upstream != "tickets" {
				t.Errorf("decision %+v", d)
			}
		})
	}
}

func TestMalformedAndOversized(t *testing.T) {
	e, _ := newEngine(t)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   int
		reason Reason
	}{
		{"parse error", `{"jsonrpc":"2.0",`, 400, mcp.CodeParseError, ReasonMalformedRequest},
		{"invalid request", `{"jsonrpc":"2.0","id":1}`, 400, mcp.CodeInvalidRequest, ReasonMalformedRequest},
		{"too large", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 5000) + `"}}`, 413, mcp.CodeInvalidRequest, ReasonBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := e.NewExchange(StreamInfo{})
			x.RequestHeaders(postHeaders(testKey), false)
			act := x.RequestBody([]byte(tc.body), true)
			if act.Respond == nil || act.Respond.Status != tc.status {
				t.Fatalf("got %+v", act)
			}
			if r := decodeError(t, act.Respond.Body); r.Error.Code != tc.code {
				t.Errorf("code %d", r.Error.Code)
			}
			if d := x.Finish(); d.Reason != tc.reason || d.BytesIn != uint64(len(tc.body)) {
				t.Errorf("decision %+v", d)
			}
		})
	}
}

func toolsListExchange(t *testing.T, e *Engine) *Exchange {
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	if act := x.RequestBody([]byte(`{"jsonrpc":"2.0","id":"L1","method":"tools/list"}`), true); act.Respond != nil {
		t.Fatalf("tools/list refused: %s", act.Respond.Body)
	}
	return x
}

const upstreamTools = `{"jsonrpc":"2.0","id":"L1","result":{"tools":[{"name":"get_ticket","description":"d"},{"name":"send_email"},{"name":"add_comment"},{"name":"delete_all"}]}}`

func toolNames(t *testing.T, msg []byte) []string {
	t.Helper()
	var r struct {
		Result struct {
			Tools []struct{ Name string } `json:"tools"`
		} `json:"result"`
	}
	if err := json.Unmarshal(msg, &r); err != nil {
		t.Fatalf("%q: %v", msg, err)
	}
	var names []string
	for _, tl := range r.Result.Tools {
		names = append(names, tl.Name)
	}
	return names
}

func TestToolsListNarrowedJSON(t *testing.T) {
	e, _ := newEngine(t)
	x := toolsListExchange(t, e)
	act := x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "application/json"}}, false)
	if act.ResponseBodyMode != BodyModeBuffered {
		t.Fatalf("mode %d", act.ResponseBodyMode)
	}
	act = x.ResponseBody([]byte(upstreamTools), true)
	if !act.ReplaceBody {
		t.Fatal("body not replaced")
	}
	if got := strings.Join(toolNames(t, act.Body), ","); got != "get_ticket,add_comment" {
		t.Fatalf("tools %s", got)
	}
	if act.SetHeaders.Get("content-length") != fmt.Sprint(len(act.Body)) {
		t.Fatalf("content-length %q for %d bytes", act.SetHeaders.Get("content-length"), len(act.Body))
	}
	if d := x.Finish(); d.Method != "tools/list" || d.BytesOut != uint64(len(act.Body)) || d.HTTPStatus != 200 {
		t.Fatalf("decision %+v", d)
	}
}

func TestToolsListNarrowedSSEAnyChunking(t *testing.T) {
	e, _ := newEngine(t)
	stream := "id: 0\ndata: \n\n" + // priming event
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n" +
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"L1\",\"method\":\"roots/list\"}\n\n" + // server→client request reusing the id
		"event: message\ndata: " + upstreamTools + "\n\n"
	for _, size := range []int{1, 2, 7, 64, len(stream)} {
		x := toolsListExchange(t, e)
		if act := x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "text/event-stream"}}, false); act.ResponseBodyMode != BodyModeStreamed {
			t.Fatalf("mode %d", act.ResponseBodyMode)
		}
		var out []byte
		for i := 0; i < len(stream); i += size {
			act := x.ResponseBody([]byte(stream[i:min(i+size, len(stream))]), false)
			if !act.ReplaceBody {
				t.Fatal("chunk not replaced")
			}
			out = append(out, act.Body...)
		}
		out = append(out, x.ResponseBody(nil, true).Body...)
		var s mcp.SSESplitter
		events := s.Feed(out)
		if len(events) != 4 {
			t.Fatalf("size %d: %d events in %q", size, len(events), out)
		}
		if string(events[1]) != "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n" ||
			!strings.Contains(string(events[2]), "roots/list") {
			t.Fatalf("size %d: other events altered: %q", size, out)
		}
		data, _ := mcp.EventData(events[3])
		if got := strings.Join(toolNames(t, data), ","); got != "get_ticket,add_comment" {
			t.Fatalf("size %d: tools %s", size, got)
		}
	}
}

func TestToolsListUnreadableResponseFailsClosed(t *testing.T) {
	e, _ := newEngine(t)
	x := toolsListExchange(t, e)
	x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "application/json"}}, false)
	act := x.ResponseBody([]byte(`{"jsonrpc":"2.0","id":"L1","result":{"tools":[{"name":"delete_all"}]`), true)
	if strings.Contains(string(act.Body), "delete_all") {
		t.Fatalf("unreadable response passed through: %s", act.Body)
	}
	if r := decodeError(t, act.Body); r.Error.Code != -32603 || string(r.ID) != `"L1"` {
		t.Fatalf("got %s", act.Body)
	}
}

func TestVerdicts(t *testing.T) {
	e, c := newEngine(t)
	e.Verdicts().Apply(verdict.Verdict{ID: "v-1", Subject: verdict.Key{Kind: verdict.KindAgent, ID: "agent-1"}, Action: verdict.ActionBlock,
		Reason: "5 denied calls within 1m0s", Rule: "deny-burst", IssuedAt: c.t, ExpiresAt: c.t.Add(time.Hour)})

	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	act := x.RequestBody([]byte(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"get_ticket"}}`), true)
	if act.Respond == nil || act.Respond.Status != 200 {
		t.Fatalf("not refused: %+v", act)
	}
	r := decodeError(t, act.Respond.Body)
	if r.Error.Code != mcp.CodeBlocked || !strings.Contains(r.Error.Message, "v-1") || !strings.Contains(r.Error.Message, "deny-burst") || r.Error.Data["verdict_id"] != "v-1" || string(r.ID) != "9" {
		t.Fatalf("refusal %s", act.Respond.Body)
	}
	if d := x.Finish(); d.Outcome != OutcomeBlocked || d.VerdictID != "v-1" || d.Reason != ReasonVerdictBlock {
		t.Fatalf("decision %+v", d)
	}
	// A GET stream of the blocked agent is refused at the headers.
	g := e.NewExchange(StreamInfo{})
	if act := g.RequestHeaders(Headers{{":method", "GET"}, {"authorization", "Bearer " + testKey}}, true); act.Respond == nil || act.Respond.Status != 403 {
		t.Fatalf("GET not refused: %+v", act)
	}
	// Another agent is unaffected.
	o := e.NewExchange(StreamInfo{})
	o.RequestHeaders(postHeaders("agent-key-2"), false)
	if act := o.RequestBody([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"report"}}`), true); act.Respond != nil {
		t.Fatalf("other agent refused: %s", act.Respond.Body)
	}
	// Cleared: allowed again.
	e.Verdicts().Apply(verdict.Verdict{ID: "v-2", Subject: verdict.Key{Kind: verdict.KindAgent, ID: "agent-1"}, Action: verdict.ActionClear, IssuedAt: c.t.Add(time.Second)})
	y := e.NewExchange(StreamInfo{})
	y.RequestHeaders(postHeaders(testKey), false)
	if act := y.RequestBody([]byte(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"get_ticket"}}`), true); act.Respond != nil {
		t.Fatalf("still refused after clear: %s", act.Respond.Body)
	}
}

func TestThrottleVerdict(t *testing.T) {
	e, c := newEngine(t)
	e.Verdicts().Apply(verdict.Verdict{ID: "t-1", Subject: verdict.Key{Kind: verdict.KindSubject, ID: "alice"}, Action: verdict.ActionThrottle,
		Rule: "r", IssuedAt: c.t, Rate: 0.001, Burst: 2})
	var statuses []int
	for i := 0; i < 3; i++ {
		x := e.NewExchange(StreamInfo{})
		x.RequestHeaders(postHeaders(testKey), false)
		act := x.RequestBody([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`), true)
		if act.Respond != nil {
			statuses = append(statuses, act.Respond.Status)
			if r := decodeError(t, act.Respond.Body); r.Error.Code != mcp.CodeThrottled {
				t.Fatalf("code %d", r.Error.Code)
			}
			if d := x.Finish(); d.Outcome != OutcomeThrottled {
				t.Fatalf("decision %+v", d)
			}
		} else {
			statuses = append(statuses, 0)
		}
	}
	if fmt.Sprint(statuses) != "[0 0 200]" {
		t.Fatalf("burst of 2 then refusal expected, got %v", statuses)
	}
}

func TestPersonaEndpointMismatch(t *testing.T) {
	e, _ := newEngine(t)
	x := e.NewExchange(StreamInfo{RoutePersona: "reporter"})
	act := x.RequestHeaders(postHeaders(testKey), false)
	if act.Respond == nil || act.Respond.Status != 403 {
		t.Fatalf("got %+v", act)
	}
	if d := x.Finish(); d.Reason != ReasonPersonaMismatch {
		t.Fatalf("decision %+v", d)
	}
}

func TestAuditUnavailableFailsClosed(t *testing.T) {
	p := testPolicy(t)
	e := NewEngine(p, Options{Admit: func() error { return errors.New("spool full") }})
	x := e.NewExchange(StreamInfo{})
	act := x.RequestHeaders(postHeaders(testKey), false)
	if act.Respond == nil || act.Respond.Status != 503 {
		t.Fatalf("got %+v", act)
	}
	if d := x.Finish(); d.Outcome != OutcomeError || d.Reason != ReasonAuditUnavailable {
		t.Fatalf("decision %+v", d)
	}
}

func TestToolsListNarrowedWhateverTheIDBecomes(t *testing.T) {
	// Upstreams re-serialise ids: the answer to "\u0061" carries "a".
	e, _ := newEngine(t)
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	if act := x.RequestBody([]byte(`{"jsonrpc":"2.0","id":"\u0061","method":"tools/list"}`), true); act.Respond != nil {
		t.Fatal("refused")
	}
	x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "application/json"}}, false)
	act := x.ResponseBody([]byte(`{"jsonrpc":"2.0","id":"a","result":{"tools":[{"name":"get_ticket"},{"name":"delete_all"}]}}`), true)
	if got := strings.Join(toolNames(t, act.Body), ","); got != "get_ticket" {
		t.Fatalf("tools %s", got)
	}
}

func TestDecisionFieldsBounded(t *testing.T) {
	e, _ := newEngine(t)
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	long := strings.Repeat("é", 600)
	x.RequestBody([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"`+long+`"}}`), true)
	d := x.Finish()
	if len(d.Tool) > MaxFieldBytes || !strings.HasSuffix(d.Tool, "…") || !utf8.ValidString(d.Tool) {
		t.Fatalf("tool field of %d bytes: %q", len(d.Tool), d.Tool)
	}
	if d.Outcome != OutcomeDenied {
		t.Fatalf("outcome %d", d.Outcome)
	}
}

func TestShadowUpstreamRefused(t *testing.T) {
	for _, tc := range []struct {
		route, wantMsg string
		refused        bool
	}{
		{"tickets", "", false},
		{"", "", false}, // the route does not say
		{"shadow", `upstream \"shadow\" is not registered (no shadow MCP)`, true},
		{"other", `upstream \"other\" is not registered for persona \"support\"`, true},
	} {
		e, _ := newEngine(t)
		x := e.NewExchange(StreamInfo{RoutePersona: "support", RouteUpstream: tc.route})
		act := x.RequestHeaders(postHeaders(testKey), false)
		d := x.Finish()
		if !tc.refused {
			if act.Respond != nil || d.Reason == ReasonUnregisteredUpstream {
				t.Fatalf("route %q refused: %+v", tc.route, act.Respond)
			}
			continue
		}
		if act.Respond == nil || act.Respond.Status != 403 || act.Respond.Details != "portcullis_unregistered_upstream" {
			t.Fatalf("route %q: got %+v", tc.route, act)
		}
		body := string(act.Respond.Body)
		if !strings.Contains(body, `"code":-32001`) || !strings.Contains(body, tc.wantMsg) {
			t.Fatalf("route %q: body %s", tc.route, body)
		}
		if d.Outcome != OutcomeDenied || d.Reason != ReasonUnregisteredUpstream || d.Upstream != "tickets" {
			t.Fatalf("route %q: decision %+v", tc.route, d)
		}
	}
}

func TestDecisionCarriesPolicyVersion(t *testing.T) {
	e, _ := newEngine(t)
	p := testPolicy(t)
	p.Version = "sha256:abc"
	e.SetPolicy(p)
	x := e.NewExchange(StreamInfo{})
	p2 := testPolicy(t)
	p2.Version = "sha256:def"
	e.SetPolicy(p2) // the exchange keeps the snapshot it started with
	x.RequestHeaders(postHeaders(testKey), true)
	if d := x.Finish(); d.PolicyVersion != "sha256:abc" {
		t.Fatalf("policy version %q", d.PolicyVersion)
	}
}
