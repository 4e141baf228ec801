package filter

import (
	"container/list"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/portcullis/portcullis/extproc/internal/mcp"
)

// DefaultMaxRateBuckets bounds the engine's rate limiter when
// Options.MaxRateBuckets is zero. A bucket takes about 200 bytes, so the
// default holds at most about 20 MB.
const DefaultMaxRateBuckets = 100_000

// RateLimiter enforces the per-tool rate limits of the policy
// (policy.UpstreamConfig.ToolRateLimits) per (agent, upstream, tool) with a
// token bucket. A limit of N calls per hour is a bucket of N tokens (the
// whole hour's budget, so N calls may be made at once) refilled continuously
// at N per hour; it starts full. Over any hour an agent therefore makes at
// most 2N calls of the tool and N per hour sustained.
//
// The state is local to one filter replica: behind R replicas an agent may
// make up to R times the limit. Memory is bounded: at most max buckets are
// kept, and when a new one is needed the least recently used is dropped.
// Dropping a bucket that has refilled loses nothing (a new bucket starts
// full); dropping one that has not forgives its debt, which needs max other
// (agent, tool) pairs to be active in between. It is safe for concurrent use.
type RateLimiter struct {
	mu      sync.Mutex
	max     int
	buckets map[rateKey]*list.Element
	lru     list.List // of *bucket, most recently used first
	evicted uint64
}

type rateKey struct{ agent, upstream, tool string }

type bucket struct {
	key    rateKey
	limit  int // calls per hour the bucket was sized for
	tokens float64
	last   time.Time
}

func newRateLimiter(maxBuckets int) *RateLimiter {
	if maxBuckets <= 0 {
		maxBuckets = DefaultMaxRateBuckets
	}
	return &RateLimiter{max: maxBuckets, buckets: map[rateKey]*list.Element{}}
}

// take spends one token of agent's bucket for tool on upstream, limited to
// perHour calls. It reports whether the call may proceed and, when not, how
// long until a token is available.
func (r *RateLimiter) take(now time.Time, agent, upstream, tool string, perHour int) (bool, time.Duration) {
	if perHour <= 0 {
		return true, 0
	}
	k := rateKey{agent, upstream, tool}
	rate := float64(perHour) / float64(time.Hour) // tokens per nanosecond
	r.mu.Lock()
	defer r.mu.Unlock()
	var b *bucket
	if el, ok := r.buckets[k]; ok {
		r.lru.MoveToFront(el)
		b = el.Value.(*bucket)
		if elapsed := now.Sub(b.last); elapsed > 0 {
			b.tokens = math.Min(float64(b.limit), b.tokens+float64(elapsed)*float64(b.limit)/float64(time.Hour))
			b.last = now
		}
		if b.limit != perHour { // the policy changed the limit: keep what is spent
			b.limit = perHour
			b.tokens = math.Min(b.tokens, float64(perHour))
		}
	} else {
		for len(r.buckets) >= r.max {
			old := r.lru.Back()
			delete(r.buckets, old.Value.(*bucket).key)
			r.lru.Remove(old)
			r.evicted++
		}
		b = &bucket{key: k, limit: perHour, tokens: float64(perHour), last: now}
		r.buckets[k] = r.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - b.tokens) / rate))
}

// Len returns the number of buckets held.
func (r *RateLimiter) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buckets)
}

// Evicted returns how many buckets were dropped to stay within the bound.
func (r *RateLimiter) Evicted() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.evicted
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// checkRateLimits spends one token per tools/call of the request (every
// element of a batch) and returns the refusal when a tool's limit is
// exhausted, or nil. It runs once the persona has granted every call, so
// refused calls cost nothing; a call refused later (sensitive data) has
// spent its token.
func (x *Exchange) checkRateLimits(msg mcp.Body, id json.RawMessage) *Response {
	up := x.agent.Persona.Upstream
	for _, m := range msg.Messages {
		if m.Kind == mcp.KindResponse || m.Method != mcp.MethodToolsCall {
			continue
		}
		limit := up.RateLimit(m.Tool)
		ok, wait := x.engine.rateLimits.take(x.engine.now(), x.agent.ID, up.Name, m.Tool, limit)
		if ok {
			continue
		}
		x.decision.Method, x.decision.Tool = m.Method, m.Tool
		retry := retryAfterSeconds(wait)
		status := x.refusalStatus(id, 429)
		resp := &Response{
			Status:  status,
			Headers: Headers{{"content-type", "application/json"}, {"retry-after", strconv.Itoa(retry)}},
			Body: mcp.ErrorResponse(id, mcp.CodeThrottled,
				fmt.Sprintf("rate limit of %d calls per hour for tool %q exceeded", limit, m.Tool),
				map[string]any{"limit": limit, "retry_after": retry, "tool": m.Tool, "upstream": up.Name}),
			Details: "portcullis_rate_limited",
		}
		x.setRefused(resp, OutcomeThrottled, ReasonRateLimited)
		return resp
	}
	return nil
}
