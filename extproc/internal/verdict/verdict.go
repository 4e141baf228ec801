// Package verdict keeps the filter's local view of the verdicts analytics
// issued (block, throttle, clear) and answers, without any I/O, whether a
// request of a given subject may proceed. The Kafka consumer that feeds it
// lives in an adapter package.
package verdict

import (
	"sync"
	"time"
)

// Kind is the kind of subject a verdict applies to.
type Kind uint8

const (
	KindAgent Kind = iota + 1
	KindSubject
	KindPersona
	KindSession
	KindClientAddress
)

// Action is what a verdict does.
type Action uint8

const (
	ActionBlock Action = iota + 1
	ActionThrottle
	ActionClear
)

// Key names a subject.
type Key struct {
	Kind Kind
	ID   string
}

// Verdict is one decision of analytics about a subject.
type Verdict struct {
	ID        string
	Subject   Key
	Action    Action
	Reason    string
	Rule      string
	IssuedAt  time.Time
	ExpiresAt time.Time // zero: until cleared
	// Rate and Burst parameterise ActionThrottle (requests per second, bucket
	// size; Burst defaults to 1).
	Rate  float64
	Burst int
}

// Result is the outcome of Check.
type Result uint8

const (
	Pass      Result = iota // no verdict in force
	Blocked                 // a block verdict is in force
	Throttled               // a throttle verdict is in force and its rate exceeded
)

type entry struct {
	v Verdict
	// token bucket for throttles
	tokens float64
	last   time.Time
}

// Cache is the set of verdicts in force. The zero value is not usable; call
// NewCache. It is safe for concurrent use.
type Cache struct {
	mu sync.Mutex
	m  map[Key]*entry
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{m: make(map[Key]*entry)} }

// Apply records v. A clear verdict removes the subject's verdict; an older
// verdict (by IssuedAt) never replaces a newer one, so replays of the
// compacted topic are harmless.
func (c *Cache) Apply(v Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[v.Subject]; ok && v.IssuedAt.Before(cur.v.IssuedAt) {
		return
	}
	if v.Action == ActionClear {
		delete(c.m, v.Subject)
		return
	}
	if v.Burst < 1 {
		v.Burst = 1
	}
	c.m[v.Subject] = &entry{v: v, tokens: float64(v.Burst), last: v.IssuedAt}
}

// Check decides whether a request by the given subjects may proceed at now.
// The first subject with a verdict in force decides; a throttle consumes a
// token when it admits the request. Expired verdicts are dropped.
func (c *Cache) Check(now time.Time, subjects ...Key) (Result, Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range subjects {
		e, ok := c.m[k]
		if !ok {
			continue
		}
		if !e.v.ExpiresAt.IsZero() && !now.Before(e.v.ExpiresAt) {
			delete(c.m, k)
			continue
		}
		switch e.v.Action {
		case ActionBlock:
			return Blocked, e.v
		case ActionThrottle:
			if now.After(e.last) {
				e.tokens += now.Sub(e.last).Seconds() * e.v.Rate
				if max := float64(e.v.Burst); e.tokens > max {
					e.tokens = max
				}
				e.last = now
			}
			if e.tokens < 1 {
				return Throttled, e.v
			}
			e.tokens--
		}
	}
	return Pass, Verdict{}
}

// Len is the number of subjects with a verdict recorded.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
