package filter

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	pathpkg "path"
	"strings"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
)

// SessionBinder binds MCP session ids to the agent they were issued to,
// without shared state: the session id the upstream issues (Mcp-Session-Id,
// or the legacy transport's sessionId) reaches the agent as
// "<upstream id>.<tag>", tag = HMAC-SHA256(key, agent, upstream, id)
// truncated to 128 bits. Any filter replica holding the key checks a
// presented id and forwards the upstream's own, so a session's requests may
// land on any replica. An id without a valid tag for the presenting agent —
// another agent's, a forged or a raw upstream id — is answered 404, which MCP
// clients take as "session gone, initialise again".
type SessionBinder struct {
	key []byte
}

// sessionTagLen is the length of the encoded tag (16 bytes, base64url).
const sessionTagLen = 22

// NewSessionBinder returns a binder keyed with key; a nil or empty key
// draws a random one (sessions then bind to this process only).
func NewSessionBinder(key []byte) *SessionBinder {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
	}
	return &SessionBinder{key: key}
}

// Issue returns the session id handed to agent for the upstream's id.
func (b *SessionBinder) Issue(agent, upstream, id string) string {
	return id + "." + b.tag(agent, upstream, id)
}

// Open checks a presented session id and returns the upstream's id.
func (b *SessionBinder) Open(agent, upstream, presented string) (string, bool) {
	i := strings.LastIndexByte(presented, '.')
	if i <= 0 || len(presented)-i-1 != sessionTagLen {
		return "", false
	}
	id, tag := presented[:i], presented[i+1:]
	if !hmac.Equal([]byte(tag), []byte(b.tag(agent, upstream, id))) {
		return "", false
	}
	return id, true
}

func (b *SessionBinder) tag(agent, upstream, id string) string {
	m := hmac.New(sha256.New, b.key)
	for _, s := range []string{"portcullis mcp session v1", agent, upstream, id} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// legacySessionParams are the query parameters the legacy HTTP+SSE
// transport carries its session id in (TypeScript SDK: sessionId; go-sdk:
// sessionid).
var legacySessionParams = []string{"sessionId", "sessionid", "session_id"}

// openSession checks the session id the request presents (Mcp-Session-Id,
// or the legacy transport's query parameter) against the agent and returns
// the header mutations that hand the upstream its own id, or the refusal.
func (x *Exchange) openSession(h Headers) (Headers, *Response) {
	agent, up := x.agent.ID, x.agent.Persona.Upstream.Name
	var set Headers
	switch ids := headerValues(h, "mcp-session-id"); {
	case len(ids) > 1:
		return nil, sessionRefusal("more than one Mcp-Session-Id header")
	case len(ids) == 1:
		sid, ok := x.engine.sessions.Open(agent, up, ids[0])
		if !ok {
			return nil, sessionRefusal("session not found for this agent")
		}
		x.decision.Session = sid
		set = append(set, Header{"mcp-session-id", sid})
	}
	path := h.Get(":path")
	p, rawQuery, hasQuery := strings.Cut(path, "?")
	if !hasQuery {
		return set, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		// Lenient parsers (Express's qs) still find a sessionId in a query
		// Go refuses ("sessionId=X&y=%zz"): a session check skipped here
		// would let another agent into the session. Refused instead.
		return nil, &Response{
			Status:  400,
			Headers: Headers{{"content-type", "application/json"}},
			Body:    mcp.ErrorResponse(nil, mcp.CodeInvalidRequest, "the request's query string is malformed", nil),
			Details: "portcullis_malformed_query",
		}
	}
	changed := false
	for _, k := range legacySessionParams {
		vals, ok := q[k]
		if !ok {
			continue
		}
		if len(vals) != 1 {
			return nil, sessionRefusal("more than one " + k + " parameter")
		}
		sid, ok := x.engine.sessions.Open(agent, up, vals[0])
		if !ok {
			return nil, sessionRefusal("session not found for this agent")
		}
		x.decision.Session = sid
		q.Set(k, sid)
		changed = true
		x.legacy = true
	}
	if changed {
		set = append(set, Header{":path", p + "?" + q.Encode()})
	}
	return set, nil
}

func sessionRefusal(msg string) *Response {
	return &Response{
		Status:  404,
		Headers: Headers{{"content-type", "application/json"}},
		Body:    mcp.ErrorResponse(nil, mcp.CodeInvalidRequest, msg, nil),
		Details: "portcullis_session_not_bound",
	}
}

// bindEndpoint rewrites the legacy transport's endpoint event (the URL the
// agent is to POST its messages to): the session id in it is bound to the
// agent, and the reference is made relative to the event stream's URL, so
// that the agent posts through the same gateway route, never to another
// origin or path the upstream names. ok is false when the data is not a
// URL reference.
func (x *Exchange) bindEndpoint(data []byte) ([]byte, bool) {
	u, err := url.Parse(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, false
	}
	q := u.Query()
	for _, k := range legacySessionParams {
		if vals, ok := q[k]; ok && len(vals) == 1 {
			x.decision.Session = vals[0]
			q.Set(k, x.engine.sessions.Issue(x.agent.ID, x.agent.Persona.Upstream.Name, vals[0]))
		}
	}
	seg := ""
	if u.Path != "" {
		seg = pathpkg.Base(u.Path)
		if seg == "/" || seg == "." || seg == ".." {
			seg = ""
		}
	}
	// url.URL escapes what a WHATWG parser would read as a separator (a
	// backslash: "\\host" is a network-path reference there) and guards a
	// colon in the segment ("./a:b"), so the reference stays relative.
	ref := (&url.URL{Path: seg, RawQuery: q.Encode()}).String()
	if ref == "" {
		ref = "./"
	}
	return []byte(ref), true
}
