package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// clock is a settable processing-time clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newRule(t *testing.T, cfg DenyBurstConfig) (*DenyBurst, *clock) {
	t.Helper()
	c := &clock{now: t0}
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	r, err := NewDenyBurst(cfg)
	if err != nil {
		t.Fatalf("NewDenyBurst: %v", err)
	}
	return r, c
}

var seq int

func denied(agent string, at time.Time) Decision {
	seq++
	return Decision{EventID: fmt.Sprintf("ev-%d", seq), Agent: agent, Time: at, Outcome: OutcomeDenied}
}

// feed observes ds in order and returns all verdicts issued.
func feed(r Rule, ds ...Decision) []Verdict {
	var out []Verdict
	for _, d := range ds {
		out = append(out, r.Observe(d)...)
	}
	return out
}

func TestDenyBurstDefaults(t *testing.T) {
	r, err := NewDenyBurst(DenyBurstConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Config()
	if cfg.Threshold != 5 || cfg.Window != time.Minute || cfg.BlockFor != 15*time.Minute || cfg.MaxAgents != 100_000 || cfg.Now == nil {
		t.Fatalf("defaults = %+v", cfg)
	}
}

func TestDenyBurstRejectsNegativeSettings(t *testing.T) {
	_, err := NewDenyBurst(DenyBurstConfig{Threshold: -1, Window: -1, BlockFor: -1, MaxAgents: -1})
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"threshold", "window", "block duration", "max agents"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDenyBurstExactlyThreshold(t *testing.T) {
	r, c := newRule(t, DenyBurstConfig{})
	var ds []Decision
	for i := range 4 {
		ds = append(ds, denied("a1", t0.Add(time.Duration(i)*10*time.Second)))
	}
	if got := feed(r, ds...); len(got) != 0 {
		t.Fatalf("4 denials: got %d verdicts, want 0", len(got))
	}
	got := r.Observe(denied("a1", t0.Add(40*time.Second)))
	if len(got) != 1 {
		t.Fatalf("5th denial: got %d verdicts, want 1", len(got))
	}
	v := got[0]
	want := Verdict{
		Subject:   Subject{Kind: SubjectKindAgent, ID: "a1"},
		Action:    ActionBlock,
		Reason:    "5 denied calls within 1m0s",
		Rule:      "deny-burst",
		IssuedAt:  c.now,
		ExpiresAt: c.now.Add(15 * time.Minute),
	}
	if v != want {
		t.Fatalf("verdict = %+v\nwant      %+v", v, want)
	}
}

func TestDenyBurstWindowIsInclusive(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 2, Window: time.Minute})
	got := feed(r, denied("a", t0), denied("a", t0.Add(time.Minute)))
	if len(got) != 1 {
		t.Fatalf("two denials exactly one window apart: got %d verdicts, want 1", len(got))
	}
}

func TestDenyBurstOutsideWindow(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 3, Window: time.Minute})
	got := feed(r,
		denied("a", t0),
		denied("a", t0.Add(30*time.Second)),
		denied("a", t0.Add(61*time.Second)), // first one is now out of the window
		denied("a", t0.Add(200*time.Second)),
		denied("a", t0.Add(230*time.Second)),
	)
	if len(got) != 0 {
		t.Fatalf("spread-out denials: got %d verdicts, want 0", len(got))
	}
	if got := r.Observe(denied("a", t0.Add(250*time.Second))); len(got) != 1 {
		t.Fatalf("third denial within window: got %d verdicts, want 1", len(got))
	}
}

func TestDenyBurstIgnoresOtherOutcomesAndAnonymous(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 2})
	var ds []Decision
	for i, o := range []Outcome{OutcomeAllowed, OutcomeBlocked, OutcomeError, OutcomeThrottled, OutcomeUnspecified} {
		ds = append(ds, Decision{EventID: fmt.Sprint("o", i), Agent: "a", Time: t0, Outcome: o})
	}
	ds = append(ds, denied("", t0), denied("", t0))
	if got := feed(r, ds...); len(got) != 0 {
		t.Fatalf("got %d verdicts, want 0", len(got))
	}
	if r.Tracked() != 0 {
		t.Fatalf("tracked %d agents, want 0", r.Tracked())
	}
}

func TestDenyBurstAgentsAreIndependent(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 3})
	got := feed(r,
		denied("a", t0), denied("b", t0), denied("a", t0.Add(time.Second)),
		denied("b", t0.Add(time.Second)), denied("a", t0.Add(2*time.Second)),
	)
	if len(got) != 1 || got[0].Subject.ID != "a" {
		t.Fatalf("got %+v, want one verdict for a", got)
	}
	if got := r.Observe(denied("b", t0.Add(3*time.Second))); len(got) != 1 || got[0].Subject.ID != "b" {
		t.Fatalf("got %+v, want one verdict for b", got)
	}
}

func TestDenyBurstNoReissueWhileBlocked(t *testing.T) {
	r, c := newRule(t, DenyBurstConfig{Threshold: 2, BlockFor: 10 * time.Minute})
	if got := feed(r, denied("a", t0), denied("a", t0.Add(time.Second))); len(got) != 1 {
		t.Fatalf("first burst: %d verdicts, want 1", len(got))
	}
	c.now = c.now.Add(5 * time.Minute)
	if got := feed(r, denied("a", t0.Add(2*time.Second)), denied("a", t0.Add(3*time.Second)), denied("a", t0.Add(4*time.Second))); len(got) != 0 {
		t.Fatalf("burst while blocked: %d verdicts, want 0", len(got))
	}
}

func TestDenyBurstReissueAfterExpiry(t *testing.T) {
	r, c := newRule(t, DenyBurstConfig{Threshold: 2, BlockFor: 10 * time.Minute})
	first := feed(r, denied("a", t0), denied("a", t0.Add(time.Second)))
	if len(first) != 1 {
		t.Fatalf("first burst: %d verdicts, want 1", len(first))
	}
	c.now = first[0].ExpiresAt // expired exactly now
	later := t0.Add(20 * time.Minute)
	if got := r.Observe(denied("a", later)); len(got) != 0 {
		t.Fatalf("one denial after expiry: %d verdicts, want 0 (window restarts after a verdict)", len(got))
	}
	got := r.Observe(denied("a", later.Add(time.Second)))
	if len(got) != 1 {
		t.Fatalf("second burst after expiry: %d verdicts, want 1", len(got))
	}
	if !got[0].IssuedAt.Equal(c.now) || !got[0].ExpiresAt.Equal(c.now.Add(10*time.Minute)) {
		t.Fatalf("second verdict times = %v..%v", got[0].IssuedAt, got[0].ExpiresAt)
	}
}

func TestDenyBurstBlockedBurstFiresAfterExpiry(t *testing.T) {
	// Denials that keep coming while the block is in force stay in the window
	// and re-trigger as soon as the block expires.
	r, c := newRule(t, DenyBurstConfig{Threshold: 2, BlockFor: time.Minute})
	feed(r, denied("a", t0), denied("a", t0.Add(time.Second)))
	if got := feed(r, denied("a", t0.Add(2*time.Second)), denied("a", t0.Add(3*time.Second))); len(got) != 0 {
		t.Fatalf("while blocked: %d verdicts", len(got))
	}
	c.now = c.now.Add(time.Minute + time.Millisecond)
	if got := r.Observe(denied("a", t0.Add(4*time.Second))); len(got) != 1 {
		t.Fatalf("after expiry: %d verdicts, want 1", len(got))
	}
}

func TestDenyBurstOutOfOrder(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 3, Window: time.Minute})
	// Newest first, then an older one that still falls in the window.
	got := feed(r, denied("a", t0.Add(50*time.Second)), denied("a", t0.Add(10*time.Second)))
	if len(got) != 0 {
		t.Fatalf("two denials: %d verdicts", len(got))
	}
	if got := r.Observe(denied("a", t0.Add(30*time.Second))); len(got) != 1 {
		t.Fatalf("late third denial inside window: %d verdicts, want 1", len(got))
	}
}

func TestDenyBurstLateEventBeforeWindowIgnored(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 3, Window: time.Minute})
	feed(r, denied("a", t0.Add(100*time.Second)), denied("a", t0.Add(110*time.Second)))
	// Older than newest (110s) minus the window (60s): ignored.
	if got := r.Observe(denied("a", t0.Add(49*time.Second))); len(got) != 0 {
		t.Fatalf("late denial before the window: %d verdicts, want 0", len(got))
	}
	if got := r.Observe(denied("a", t0.Add(50*time.Second))); len(got) != 1 {
		t.Fatalf("late denial at the window's start: %d verdicts, want 1", len(got))
	}
}

func TestDenyBurstRedeliveryCountsOnce(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 3})
	d1, d2 := denied("a", t0), denied("a", t0.Add(time.Second))
	if got := feed(r, d1, d2, d1, d2, d2); len(got) != 0 {
		t.Fatalf("redelivered denials: %d verdicts, want 0", len(got))
	}
	if got := r.Observe(denied("a", t0.Add(2*time.Second))); len(got) != 1 {
		t.Fatalf("third distinct denial: %d verdicts, want 1", len(got))
	}
}

func TestDenyBurstBoundedMemory(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 3, MaxAgents: 10})
	for i := range 1000 {
		r.Observe(denied(fmt.Sprint("agent-", i), t0))
	}
	if r.Tracked() != 10 {
		t.Fatalf("tracked %d agents, want 10", r.Tracked())
	}
	// The most recently seen agents are the ones kept.
	for i := 990; i < 1000; i++ {
		if _, ok := r.agents[fmt.Sprint("agent-", i)]; !ok {
			t.Fatalf("agent-%d was evicted", i)
		}
	}
	// Per agent at most Threshold timestamps, even with many denials while blocked.
	r2, _ := newRule(t, DenyBurstConfig{Threshold: 3, BlockFor: time.Hour})
	for i := range 1000 {
		r2.Observe(denied("a", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	if n := len(r2.agents["a"].Value.(*agentState).denials); n > 3 {
		t.Fatalf("kept %d denials, want at most 3", n)
	}
}

func TestDenyBurstEvictedAgentStartsAfresh(t *testing.T) {
	r, _ := newRule(t, DenyBurstConfig{Threshold: 2, MaxAgents: 1})
	feed(r, denied("a", t0), denied("b", t0)) // b evicts a
	if got := r.Observe(denied("a", t0.Add(time.Second))); len(got) != 0 {
		t.Fatalf("evicted agent kept its window: %d verdicts", len(got))
	}
}
