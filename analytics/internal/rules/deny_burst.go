package rules

import (
	"container/list"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DenyBurstRuleID is the rule id carried by the verdicts [DenyBurst] issues.
const DenyBurstRuleID = "deny-burst"

// DenyBurst defaults.
const (
	// DefaultDenyThreshold is the default [DenyBurstConfig.Threshold].
	DefaultDenyThreshold = 5
	// DefaultDenyWindow is the default [DenyBurstConfig.Window].
	DefaultDenyWindow = time.Minute
	// DefaultBlockFor is the default [DenyBurstConfig.BlockFor].
	DefaultBlockFor = 15 * time.Minute
	// DefaultMaxAgents is the default [DenyBurstConfig.MaxAgents].
	DefaultMaxAgents = 100_000
)

// DenyBurstConfig configures a [DenyBurst] rule. Every zero value means the
// documented default.
type DenyBurstConfig struct {
	// Threshold is the number of denied decisions of one agent, within Window,
	// that triggers a block. Defaults to DefaultDenyThreshold (5).
	Threshold int
	// Window is the sliding event-time window the denials must fall in.
	// Defaults to DefaultDenyWindow (1m).
	Window time.Duration
	// BlockFor is how long the block lasts, from the moment it is issued
	// (processing time). Defaults to DefaultBlockFor (15m).
	BlockFor time.Duration
	// MaxAgents caps the number of agents whose state is kept; past it the
	// least recently seen agent is forgotten (its window and any block in
	// force, which may then be issued again). Defaults to DefaultMaxAgents.
	MaxAgents int
	// Now returns the processing time used for issue and expiry times.
	// Defaults to time.Now.
	Now func() time.Time
}

// DenyBurst blocks an agent that collects Threshold denied decisions within
// Window.
//
// The window is in event time and ends at the newest denial seen for the
// agent: a late (out-of-order) denial counts while it is no older than that
// newest denial minus Window, and is ignored past that. Windows are inclusive:
// denials exactly Window apart are "within" it. When the threshold is reached
// the rule issues one BLOCK verdict for the agent, expiring BlockFor after it
// was issued, and starts the agent's window afresh; while that block is in
// force no further verdict is issued for the agent. A denial whose event id
// is already in the agent's window (a redelivery) is counted once. Decisions
// that are not denials, or that carry no agent, are ignored.
//
// Memory is bounded: per agent at most Threshold timestamps, and at most
// MaxAgents agents. A DenyBurst is not safe for concurrent use.
type DenyBurst struct {
	cfg    DenyBurstConfig
	agents map[string]*list.Element // of *agentState
	lru    *list.List               // front: most recently seen
}

type agentState struct {
	agent        string
	denials      []denial // ascending by time, at most Threshold
	blockedUntil time.Time
}

type denial struct {
	at      time.Time
	eventID string
}

var _ Rule = (*DenyBurst)(nil)

// NewDenyBurst returns a DenyBurst rule, with defaults applied to the zero
// fields of cfg. It fails on negative settings.
func NewDenyBurst(cfg DenyBurstConfig) (*DenyBurst, error) {
	var errs []error
	if cfg.Threshold < 0 {
		errs = append(errs, fmt.Errorf("deny-burst threshold %d is negative", cfg.Threshold))
	}
	if cfg.Window < 0 {
		errs = append(errs, fmt.Errorf("deny-burst window %s is negative", cfg.Window))
	}
	if cfg.BlockFor < 0 {
		errs = append(errs, fmt.Errorf("deny-burst block duration %s is negative", cfg.BlockFor))
	}
	if cfg.MaxAgents < 0 {
		errs = append(errs, fmt.Errorf("deny-burst max agents %d is negative", cfg.MaxAgents))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultDenyThreshold
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultDenyWindow
	}
	if cfg.BlockFor == 0 {
		cfg.BlockFor = DefaultBlockFor
	}
	if cfg.MaxAgents == 0 {
		cfg.MaxAgents = DefaultMaxAgents
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &DenyBurst{cfg: cfg, agents: make(map[string]*list.Element), lru: list.New()}, nil
}

// Config returns the rule's configuration with defaults applied.
func (r *DenyBurst) Config() DenyBurstConfig { return r.cfg }

// Observe implements [Rule].
func (r *DenyBurst) Observe(d Decision) []Verdict {
	if d.Outcome != OutcomeDenied || d.Agent == "" {
		return nil
	}
	st := r.touch(d.Agent)
	if d.EventID != "" && slices.ContainsFunc(st.denials, func(x denial) bool { return x.eventID == d.EventID }) {
		return nil
	}
	newest := d.Time
	if n := len(st.denials); n > 0 && st.denials[n-1].at.After(newest) {
		newest = st.denials[n-1].at
	}
	start := newest.Add(-r.cfg.Window)
	if d.Time.Before(start) {
		return nil // too late: before the window
	}
	i, _ := slices.BinarySearchFunc(st.denials, d.Time, func(x denial, t time.Time) int { return x.at.Compare(t) })
	st.denials = slices.Insert(st.denials, i, denial{at: d.Time, eventID: d.EventID})
	drop := 0
	for drop < len(st.denials) && st.denials[drop].at.Before(start) {
		drop++
	}
	if keep := len(st.denials) - drop; keep > r.cfg.Threshold {
		drop += keep - r.cfg.Threshold
	}
	st.denials = slices.Delete(st.denials, 0, drop)
	if len(st.denials) < r.cfg.Threshold {
		return nil
	}
	now := r.cfg.Now()
	if now.Before(st.blockedUntil) {
		return nil // the previous block is still in force
	}
	st.denials = st.denials[:0]
	st.blockedUntil = now.Add(r.cfg.BlockFor)
	return []Verdict{{
		Subject:   Subject{Kind: SubjectKindAgent, ID: d.Agent},
		Action:    ActionBlock,
		Reason:    fmt.Sprintf("%d denied calls within %s", r.cfg.Threshold, r.cfg.Window),
		Rule:      DenyBurstRuleID,
		IssuedAt:  now,
		ExpiresAt: st.blockedUntil,
	}}
}

// Tracked returns the number of agents whose state the rule keeps.
func (r *DenyBurst) Tracked() int { return len(r.agents) }

// touch returns the state of agent, creating it and marking it most recently
// seen, and forgets the least recently seen agent past MaxAgents.
func (r *DenyBurst) touch(agent string) *agentState {
	if e, ok := r.agents[agent]; ok {
		r.lru.MoveToFront(e)
		return e.Value.(*agentState)
	}
	st := &agentState{agent: agent}
	r.agents[agent] = r.lru.PushFront(st)
	for len(r.agents) > r.cfg.MaxAgents {
		oldest := r.lru.Back()
		r.lru.Remove(oldest)
		delete(r.agents, oldest.Value.(*agentState).agent)
	}
	return st
}
