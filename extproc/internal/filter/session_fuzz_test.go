package filter

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzLegacyEndpoint: whatever endpoint event an upstream sends, the agent
// is pointed at a relative reference (never another origin or a
// network-path reference), and a session id in it comes back to the
// upstream unchanged when the same agent posts to it, and is refused for
// another agent.
func FuzzLegacyEndpoint(f *testing.F) {
	for _, s := range []string{
		"/message?sessionId=abc-123", "?sessionid=XYZ", "http://evil.example/message?sessionId=1",
		"//evil.example/x?sessionId=1", "/a/b/message?x=1&sessionId=2&y=3", "message", "", " ", "%zz",
		"/message?sessionId=a&sessionId=b", "javascript:alert(1)", "/..%2f..%2fetc?sessionId=1", "/\\evil.example",
	} {
		f.Add(s)
	}
	e, _ := newEngine(f)
	f.Fuzz(func(t *testing.T, data string) {
		x := e.NewExchange(StreamInfo{})
		x.RequestHeaders(Headers{{":method", "GET"}, {":path", "/sse"}, {"authorization", "Bearer " + testKey}}, true)
		ref, ok := x.bindEndpoint([]byte(data))
		if !ok {
			return
		}
		u, err := url.Parse(string(ref))
		if err != nil {
			t.Fatalf("%q became %q, which does not parse: %v", data, ref, err)
		}
		if u.Scheme != "" || u.Host != "" || strings.HasPrefix(string(ref), "//") || strings.HasPrefix(string(ref), "/") || strings.ContainsAny(string(ref), "\\\r\n") {
			t.Fatalf("%q became %q: not a relative path reference", data, ref)
		}
		orig, _ := url.Parse(strings.TrimSpace(data))
		sid := ""
		if vals := orig.Query()["sessionId"]; len(vals) == 1 {
			sid = vals[0]
		}
		if sid == "" {
			return
		}
		base, _ := url.Parse("http://gw.example/p/agent/sse")
		post := base.ResolveReference(u)
		if post.Host != "gw.example" {
			t.Fatalf("%q resolves to host %q", ref, post.Host)
		}
		for _, key := range []string{testKey, "agent-key-2"} {
			x := e.NewExchange(StreamInfo{})
			act := x.RequestHeaders(Headers{{":method", "POST"}, {":path", post.RequestURI()}, {"authorization", "Bearer " + key}}, false)
			if key != testKey {
				if act.Respond == nil || act.Respond.Status != 404 {
					t.Fatalf("another agent posting to %q: %+v", post.RequestURI(), act)
				}
				continue
			}
			if act.Respond != nil {
				t.Fatalf("the agent posting to %q refused: %d %s", post.RequestURI(), act.Respond.Status, act.Respond.Body)
			}
			p := act.SetHeaders.Get(":path")
			fwd, err := url.Parse(p)
			if err != nil || fwd.Query().Get("sessionId") != sid {
				t.Fatalf("forwarded path %q does not carry the upstream's id %q", p, sid)
			}
		}
	})
}
