package filter

import (
	"strings"
	"testing"
)

func TestSessionBinderRoundTrip(t *testing.T) {
	b := NewSessionBinder([]byte("k1"))
	bound := b.Issue("agent-1", "tickets", "upstream-sid")
	if !strings.HasPrefix(bound, "upstream-sid.") || len(bound) != len("upstream-sid.")+sessionTagLen {
		t.Fatalf("bound id %q", bound)
	}
	if sid, ok := b.Open("agent-1", "tickets", bound); !ok || sid != "upstream-sid" {
		t.Fatalf("Open(own) = %q %v", sid, ok)
	}
	other := NewSessionBinder([]byte("k1"))
	if sid, ok := other.Open("agent-1", "tickets", bound); !ok || sid != "upstream-sid" {
		t.Fatalf("another replica with the same key: Open = %q %v", sid, ok)
	}
	for name, presented := range map[string]string{
		"another agent":    "",
		"raw upstream id":  "upstream-sid",
		"tag of other sid": "other-sid" + bound[len("upstream-sid"):],
		"truncated tag":    bound[:len(bound)-1],
		"empty":            "",
		"only a tag":       bound[len("upstream-sid"):],
	} {
		agent := "agent-1"
		if name == "another agent" {
			agent, presented = "agent-2", bound
		}
		if _, ok := b.Open(agent, "tickets", presented); ok {
			t.Errorf("%s: %q opened", name, presented)
		}
	}
	if _, ok := b.Open("agent-1", "other", bound); ok {
		t.Error("a session of one upstream opened for another")
	}
	if _, ok := NewSessionBinder([]byte("k2")).Open("agent-1", "tickets", bound); ok {
		t.Error("a key other than the issuer's opened the session")
	}
	if _, ok := NewSessionBinder(nil).Open("agent-1", "tickets", bound); ok {
		t.Error("a random key opened the session")
	}
}

// sessionExchange runs request headers with a session header through a
// fresh exchange of e.
func sessionExchange(e *Engine, key, session string) (*Exchange, Action) {
	x := e.NewExchange(StreamInfo{})
	h := postHeaders(key)
	if session != "" {
		h = append(h, Header{"mcp-session-id", session})
	}
	return x, x.RequestHeaders(h, false)
}

func TestSessionBoundToAgent(t *testing.T) {
	e, _ := newEngine(t)
	// initialize: the upstream's session id reaches the agent bound.
	x, _ := sessionExchange(e, testKey, "")
	x.RequestBody([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}`), true)
	act := x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "application/json"}, {"mcp-session-id", "sid-1"}}, false)
	bound := act.SetHeaders.Get("mcp-session-id")
	if !strings.HasPrefix(bound, "sid-1.") {
		t.Fatalf("response session header = %q (set %v)", bound, act.SetHeaders)
	}
	if d := x.Finish(); d.Session != "sid-1" {
		t.Fatalf("decision session %q, want the upstream's id", d.Session)
	}

	// The same agent: the upstream gets its own id back.
	x, act = sessionExchange(e, testKey, bound)
	if act.Respond != nil || act.SetHeaders.Get("mcp-session-id") != "sid-1" {
		t.Fatalf("own session: %+v", act)
	}
	if d := x.Finish(); d.Session != "sid-1" {
		t.Fatalf("decision session %q", d.Session)
	}

	for name, tc := range map[string]struct{ key, session string }{
		"another agent":       {"agent-key-2", bound},
		"raw upstream id":     {testKey, "sid-1"},
		"forged tag":          {testKey, "sid-1.AAAAAAAAAAAAAAAAAAAAAA"},
		"two session headers": {testKey, ""},
	} {
		x := e.NewExchange(StreamInfo{})
		h := postHeaders(tc.key)
		if name == "two session headers" {
			h = append(h, Header{"mcp-session-id", bound}, Header{"mcp-session-id", "sid-2"})
		} else {
			h = append(h, Header{"mcp-session-id", tc.session})
		}
		act := x.RequestHeaders(h, false)
		if act.Respond == nil || act.Respond.Status != 404 {
			t.Errorf("%s: %+v, want 404", name, act)
			continue
		}
		if d := x.Finish(); d.Reason != ReasonSessionNotBound || d.Outcome != OutcomeDenied {
			t.Errorf("%s: decision %v/%v", name, d.Outcome, d.Reason)
		}
	}
}

func TestLegacySessionParameterBound(t *testing.T) {
	e, _ := newEngine(t)
	// GET /sse: the endpoint event's session id is bound, the reference
	// made relative to the stream's URL.
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(Headers{{":method", "GET"}, {":path", "/sse"}, {"authorization", "Bearer " + testKey}}, true)
	x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "text/event-stream"}}, false)
	out := x.ResponseBody([]byte("event: endpoint\ndata: http://evil.example/message?sessionId=abc-123\n\n"), false)
	body := string(out.Body)
	if !strings.HasPrefix(body, "event: endpoint\ndata: message?sessionId=abc-123.") || strings.Contains(body, "evil.example") {
		t.Fatalf("endpoint event = %q", body)
	}
	ref := strings.TrimSuffix(strings.TrimPrefix(body, "event: endpoint\ndata: "), "\n\n")

	// POST /message with it: the upstream gets its own id; a denial is a
	// 403 (legacy clients read answers only from the event stream).
	x = e.NewExchange(StreamInfo{})
	act := x.RequestHeaders(Headers{{":method", "POST"}, {":path", "/" + ref}, {"content-type", "application/json"}, {"authorization", "Bearer " + testKey}}, false)
	if act.Respond != nil || act.SetHeaders.Get(":path") != "/message?sessionId=abc-123" {
		t.Fatalf("legacy POST: %+v", act)
	}
	act = x.RequestBody([]byte(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"delete_everything"}}`), true)
	if act.Respond == nil || act.Respond.Status != 403 {
		t.Fatalf("legacy denial: %+v, want 403", act.Respond)
	}

	// A query Go cannot parse, which Express's qs reads leniently (and
	// would find the session id in): refused before any session lookup.
	for _, path := range []string{"/message?sessionId=abc-123&x=%zz", "/message?sessionId=abc-123;x=1"} {
		x := e.NewExchange(StreamInfo{})
		act := x.RequestHeaders(Headers{{":method", "POST"}, {":path", path}, {"authorization", "Bearer agent-key-2"}}, false)
		if act.Respond == nil || act.Respond.Status != 400 {
			t.Errorf("malformed query %q: %+v, want 400", path, act)
		}
	}

	// Another agent, the raw id, a repeated parameter: 404.
	for name, path := range map[string]string{
		"another agent":     "/" + ref,
		"raw id":            "/message?sessionId=abc-123",
		"repeated":          "/" + ref + "&sessionId=abc-123",
		"go-sdk param name": "/message?sessionid=abc-123",
	} {
		key := testKey
		if name == "another agent" {
			key = "agent-key-2"
		}
		x := e.NewExchange(StreamInfo{})
		act := x.RequestHeaders(Headers{{":method", "POST"}, {":path", path}, {"authorization", "Bearer " + key}}, false)
		if act.Respond == nil || act.Respond.Status != 404 {
			t.Errorf("%s: %+v, want 404", name, act)
		}
	}
}

// A tools/list result arriving where no tools/list was asked (a GET
// stream, a Last-Event-ID replay, the legacy event stream, another
// request's stream) is narrowed all the same.
func TestUnsolicitedToolsListNarrowed(t *testing.T) {
	e, _ := newEngine(t)
	list := `{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"get_ticket"},{"name":"delete_everything"}]}}`
	escaped := `{"jsonrpc":"2.0","id":8,"result":{"\u0074ools":[{"name":"delete_everything"}]}}`
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(Headers{{":method", "GET"}, {":path", "/mcp"}, {"authorization", "Bearer " + testKey}, {"last-event-id", "stream-1:4"}}, true)
	x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "text/event-stream"}}, false)
	act := x.ResponseBody([]byte("id: 5\ndata: "+list+"\n\nid: 6\ndata: "+escaped+"\n\n"), false)
	body := string(act.Body)
	if strings.Contains(body, "delete_everything") || !strings.Contains(body, "get_ticket") {
		t.Fatalf("replayed tools/list not narrowed: %q", body)
	}
	// A case-variant member a case-insensitive client would read as the
	// list: refused (replaced by an error), not passed.
	act = x.ResponseBody([]byte("id: 9\ndata: "+`{"jsonrpc":"2.0","id":9,"result":{"tools":[],"Tools":[{"name":"delete_everything"}]}}`+"\n\n"), false)
	if body := string(act.Body); strings.Contains(body, "delete_everything") || !strings.Contains(body, "could not be inspected") {
		t.Fatalf("case-variant tools member: %q", body)
	}
	// A case-variant "Result" a lenient client would read: withheld.
	act = x.ResponseBody([]byte("data: "+`{"jsonrpc":"2.0","id":10,"result":{},"Result":{"tools":[{"name":"delete_everything"}]}}`+"\n\n"), false)
	if body := string(act.Body); strings.Contains(body, "delete_everything") {
		t.Fatalf("case-variant result member: %q", body)
	}
	// On a tools/call's JSON response too.
	x = e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	x.RequestBody([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}}`), true)
	x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "application/json"}}, false)
	act = x.ResponseBody([]byte(list), true)
	if !act.ReplaceBody || strings.Contains(string(act.Body), "delete_everything") {
		t.Fatalf("tools/list result on a tools/call response not narrowed: %+v %q", act, act.Body)
	}
	// A result without tools passes untouched.
	x = e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	x.RequestBody([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_ticket"}}`), true)
	x.ResponseHeaders(Headers{{":status", "200"}, {"content-type", "application/json"}}, false)
	if act := x.ResponseBody([]byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"tools are fine"}]}}`), true); act.ReplaceBody {
		t.Fatalf("ordinary result rewritten: %q", act.Body)
	}
}
