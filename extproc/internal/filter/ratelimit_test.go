package filter

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
	"github.com/portcullis/portcullis/extproc/internal/policy"
)

// rateLimitedPolicy is a static policy file limiting add_comment to 2 calls
// per hour; agent-1 and agent-3 share the persona.
func rateLimitedPolicy(t *testing.T, perHour int) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(fmt.Sprintf(`
environment: test
upstreams:
  - name: tickets
    tool_rate_limits: {add_comment: %d}
personas:
  - name: support
    upstream: tickets
    tools: [get_ticket, add_comment]
agents:
  - {id: agent-1, persona: support, key_sha256: %s}
  - {id: agent-3, persona: support, key_sha256: %s}
`, perHour, policy.HashKey(testKey), policy.HashKey("agent-key-3"))))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type call struct {
	resp *Response
	d    Decision
}

func rateCall(e *Engine, key, tool string) call {
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(key), false)
	act := x.RequestBody([]byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"`+tool+`","arguments":{}}}`), true)
	return call{act.Respond, x.Finish()}
}

type rateError struct {
	ID    json.RawMessage `json:"id"`
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Limit      int    `json:"limit"`
			RetryAfter int    `json:"retry_after"`
			Tool       string `json:"tool"`
		} `json:"data"`
	} `json:"error"`
}

func TestToolRateLimit(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	e := NewEngine(rateLimitedPolicy(t, 2), Options{Now: c.now})
	for i := range 2 {
		if r := rateCall(e, testKey, "add_comment"); r.resp != nil || r.d.Reason != ReasonToolGranted {
			t.Fatalf("call %d refused: %+v", i+1, r)
		}
	}
	r := rateCall(e, testKey, "add_comment")
	if r.resp == nil || r.resp.Status != 200 {
		t.Fatalf("third call within the hour: want a 200 JSON-RPC refusal, got %+v", r.resp)
	}
	var re rateError
	if err := json.Unmarshal(r.resp.Body, &re); err != nil {
		t.Fatal(err)
	}
	// Half an hour (minus the milliseconds already elapsed) until a token.
	if re.Error.Code != mcp.CodeThrottled || string(re.ID) != "7" ||
		re.Error.Message != `rate limit of 2 calls per hour for tool "add_comment" exceeded` ||
		re.Error.Data.Limit != 2 || re.Error.Data.RetryAfter != 1800 || re.Error.Data.Tool != "add_comment" {
		t.Fatalf("error %+v", re)
	}
	if got := r.resp.Headers.Get("retry-after"); got != "1800" {
		t.Errorf("Retry-After %q, want 1800", got)
	}
	if r.d.Outcome != OutcomeThrottled || r.d.Reason != ReasonRateLimited || r.d.Tool != "add_comment" || r.d.Agent != "agent-1" || r.d.HTTPStatus != 200 {
		t.Errorf("decision %+v", r.d)
	}

	// Other tools and other agents are unaffected.
	if r := rateCall(e, testKey, "get_ticket"); r.resp != nil {
		t.Errorf("unlimited tool refused: %s", r.resp.Body)
	}
	if r := rateCall(e, "agent-key-3", "add_comment"); r.resp != nil {
		t.Errorf("another agent refused: %s", r.resp.Body)
	}

	// The bucket refills at 2 per hour: one token after 30 minutes.
	c.t = c.t.Add(30 * time.Minute)
	if r := rateCall(e, testKey, "add_comment"); r.resp != nil {
		t.Fatalf("after 30 minutes: %s", r.resp.Body)
	}
	if r := rateCall(e, testKey, "add_comment"); r.resp == nil {
		t.Fatal("the refilled token was spent; the next call must be refused")
	}
	// A full hour refills the whole budget, never more.
	c.t = c.t.Add(5 * time.Hour)
	for i := range 3 {
		r := rateCall(e, testKey, "add_comment")
		if (r.resp == nil) != (i < 2) {
			t.Fatalf("after an idle hour, call %d: refused=%v", i+1, r.resp != nil)
		}
	}
}

// A new policy with another limit applies to the buckets already held; a
// limit removed stops refusing.
func TestToolRateLimitFollowsPolicy(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	e := NewEngine(rateLimitedPolicy(t, 3), Options{Now: c.now})
	rateCall(e, testKey, "add_comment")
	e.SetPolicy(rateLimitedPolicy(t, 1))
	if r := rateCall(e, testKey, "add_comment"); r.resp != nil {
		t.Fatalf("lowered limit with a token left: %s", r.resp.Body)
	}
	if r := rateCall(e, testKey, "add_comment"); r.resp == nil {
		t.Fatal("lowered limit: want a refusal")
	}
	e.SetPolicy(rateLimitedPolicy(t, 0))
	if r := rateCall(e, testKey, "add_comment"); r.resp != nil {
		t.Fatalf("limit removed: %s", r.resp.Body)
	}
}

// Every tools/call of a batch spends a token; an exhausted one refuses the
// batch with 429 (no id to answer).
func TestToolRateLimitBatch(t *testing.T) {
	e := NewEngine(rateLimitedPolicy(t, 2), Options{Now: (&clock{t: time.Unix(0, 0)}).now})
	x := e.NewExchange(StreamInfo{})
	x.RequestHeaders(postHeaders(testKey), false)
	act := x.RequestBody([]byte(`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_comment"}},`+
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_comment"}},`+
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add_comment"}}]`), true)
	if act.Respond == nil || act.Respond.Status != 429 || act.Respond.Headers.Get("retry-after") == "" {
		t.Fatalf("want 429 with Retry-After, got %+v", act.Respond)
	}
	if d := x.Finish(); d.Reason != ReasonRateLimited || d.Outcome != OutcomeThrottled {
		t.Fatalf("decision %+v", d)
	}
}

// The limiter holds at most its bound of buckets, dropping the least
// recently used.
func TestRateLimiterBounded(t *testing.T) {
	r := newRateLimiter(3)
	now := time.Unix(0, 0)
	for i := range 10 {
		if ok, _ := r.take(now, fmt.Sprintf("agent-%d", i), "u", "t", 1); !ok {
			t.Fatalf("first call of agent-%d refused", i)
		}
	}
	if r.Len() != 3 || r.Evicted() != 7 {
		t.Fatalf("len %d evicted %d, want 3 and 7", r.Len(), r.Evicted())
	}
	// agent-9 is still held (and exhausted); agent-0 was dropped.
	if ok, wait := r.take(now, "agent-9", "u", "t", 1); ok || wait != time.Hour {
		t.Fatalf("agent-9: ok=%v wait=%v, want refused for an hour", ok, wait)
	}
	if ok, _ := r.take(now, "agent-0", "u", "t", 1); !ok {
		t.Fatal("agent-0's bucket was evicted; it starts full")
	}
	if ok, _ := r.take(now, "x", "u", "t", 0); !ok || r.Len() != 3 {
		t.Fatal("an unlimited tool needs no bucket")
	}
}
