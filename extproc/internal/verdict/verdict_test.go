package verdict

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestBlockExpiresAndClears(t *testing.T) {
	c := NewCache()
	agent := Key{KindAgent, "a"}
	c.Apply(Verdict{ID: "v1", Subject: agent, Action: ActionBlock, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute)})
	if r, v := c.Check(t0.Add(time.Second), Key{KindAgent, "other"}, agent); r != Blocked || v.ID != "v1" {
		t.Fatalf("got %v %+v", r, v)
	}
	if r, _ := c.Check(t0.Add(time.Minute), agent); r != Pass {
		t.Fatal("expired verdict still blocks")
	}
	if c.Len() != 0 {
		t.Fatal("expired verdict not dropped")
	}
	c.Apply(Verdict{ID: "v2", Subject: agent, Action: ActionBlock, IssuedAt: t0.Add(2 * time.Minute)})
	c.Apply(Verdict{ID: "v3", Subject: agent, Action: ActionClear, IssuedAt: t0.Add(3 * time.Minute)})
	if r, _ := c.Check(t0.Add(4*time.Minute), agent); r != Pass {
		t.Fatal("cleared verdict still blocks")
	}
}

func TestOlderVerdictNeverReplacesNewer(t *testing.T) {
	c := NewCache()
	k := Key{KindSession, "s"}
	c.Apply(Verdict{ID: "new", Subject: k, Action: ActionBlock, IssuedAt: t0.Add(time.Minute)})
	c.Apply(Verdict{ID: "old-clear", Subject: k, Action: ActionClear, IssuedAt: t0})
	if r, v := c.Check(t0.Add(2*time.Minute), k); r != Blocked || v.ID != "new" {
		t.Fatalf("replayed older clear won: %v %+v", r, v)
	}
}

func TestThrottleRefills(t *testing.T) {
	c := NewCache()
	k := Key{KindAgent, "a"}
	c.Apply(Verdict{ID: "t", Subject: k, Action: ActionThrottle, IssuedAt: t0, Rate: 2, Burst: 1})
	if r, _ := c.Check(t0, k); r != Pass {
		t.Fatal("first request throttled")
	}
	if r, _ := c.Check(t0.Add(100*time.Millisecond), k); r != Throttled {
		t.Fatal("second request within 100ms admitted at 2/s")
	}
	if r, _ := c.Check(t0.Add(600*time.Millisecond), k); r != Pass {
		t.Fatal("token not refilled after 600ms at 2/s")
	}
}
