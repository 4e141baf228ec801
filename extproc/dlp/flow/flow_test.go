package flow

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

var testKey = []byte("0123456789abcdef-test-key")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTracker(t testing.TB, o Options) (*Tracker, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if o.Key == nil {
		o.Key = testKey
	}
	o.Now = c.Now
	tr, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tr, c
}

var prodDB = Source{Server: "db", Env: "prod", Tool: "query", Type: "credit-card"}

func TestNewValidates(t *testing.T) {
	for _, o := range []Options{{}, {Key: []byte("short")}, {Key: testKey, MaxSessions: -1}, {Key: testKey, TTL: -time.Second}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v): no error", o)
		}
	}
	tr, err := New(Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if tr.ttl != DefaultTTL || tr.perSes != DefaultMaxPerSession || len(tr.shards) != maxShards {
		t.Errorf("defaults: ttl %v per %d shards %d", tr.ttl, tr.perSes, len(tr.shards))
	}
	total := 0
	for i := range tr.shards {
		total += tr.shards[i].max
	}
	if total != DefaultMaxSessions {
		t.Errorf("session bound %d", total)
	}
}

func TestNormalisation(t *testing.T) {
	tr, _ := newTracker(t, Options{})
	same := []struct{ typ, a, b string }{
		{"credit-card", "4111 1111 1111 1111", "4111-1111-1111-1111"},
		{"credit-card", "4111111111111111", "4111.1111.1111.1111"},
		{"us-ssn", "123-45-6789", "123 45 6789"},
		{"iban", "GB82 WEST 1234 5698 7654 32", "gb82west12345698765432"},
		{"phone-number", "+1 (555) 123-4567", "15551234567"},
		{"", "4111 1111 1111 1111", "4111111111111111"}, // digit-shaped value, any type
		{"email", "4111-1111", "41111111"},
	}
	for _, c := range same {
		if tr.Fingerprint(c.typ, []byte(c.a)) != tr.Fingerprint(c.typ, []byte(c.b)) {
			t.Errorf("%s: %q and %q differ", c.typ, c.a, c.b)
		}
	}
	// Types do not separate values.
	if tr.Fingerprint("credit-card", []byte("4111 1111 1111 1111")) != tr.Fingerprint("other", []byte("4111111111111111")) {
		t.Error("type changes the fingerprint")
	}
	differ := []struct{ typ, a, b string }{
		{"email", "Alice@example.com", "alice@example.com"}, // exact bytes
		{"github-token", "ghp_abc-def", "ghp_abcdef"},
		{"credit-card", "4111 1111 1111 1111", "4111 1111 1111 1112"},
		{"api-key", "ab-12", "AB-12"},
	}
	for _, c := range differ {
		if tr.Fingerprint(c.typ, []byte(c.a)) == tr.Fingerprint(c.typ, []byte(c.b)) {
			t.Errorf("%s: %q and %q equal", c.typ, c.a, c.b)
		}
	}
}

func TestKeySeparation(t *testing.T) {
	a, _ := newTracker(t, Options{Key: []byte("key-aaaaaaaaaaaaaaaa")})
	b, _ := newTracker(t, Options{Key: []byte("key-bbbbbbbbbbbbbbbb")})
	v := []byte("4111111111111111")
	fa, fb := a.Fingerprint("credit-card", v), b.Fingerprint("credit-card", v)
	if fa == fb {
		t.Fatal("different keys, same fingerprint")
	}
	if bytes.Contains(fa[:], v[:8]) || len(fa.String()) != 32 {
		t.Errorf("fingerprint %s", fa)
	}
	a.Observe("s", prodDB, fa)
	if _, ok := a.Lookup("s", fb); ok {
		t.Error("foreign fingerprint matched")
	}
}

func TestObserveLookupForget(t *testing.T) {
	tr, _ := newTracker(t, Options{})
	fp := tr.Fingerprint("credit-card", []byte("4111 1111 1111 1111"))
	if _, ok := tr.Lookup("s1", fp); ok {
		t.Fatal("found before observe")
	}
	tr.Observe("s1", prodDB, fp)
	tr.Observe("s1", prodDB) // no fingerprints: no-op
	src, ok := tr.Lookup("s1", tr.Fingerprint("credit-card", []byte("4111-1111-1111-1111")))
	if !ok || src != prodDB {
		t.Fatalf("Lookup = %+v %v", src, ok)
	}
	if _, ok := tr.Lookup("s2", fp); ok {
		t.Error("sessions not separated")
	}
	dev := Source{Server: "scratch", Env: "dev", Tool: "read", Type: "credit-card"}
	tr.Observe("s1", dev, fp)
	if src, _ := tr.Lookup("s1", fp); src != dev {
		t.Errorf("most recent source %+v", src)
	}
	if got := tr.Sources("s1", fp, nil); len(got) != 2 || got[0] != dev || got[1] != prodDB {
		t.Errorf("Sources = %+v", got)
	}
	for i := 0; i < 10; i++ {
		tr.Observe("s1", Source{Server: fmt.Sprint(i)}, fp)
	}
	if got := tr.Sources("s1", fp, nil); len(got) != MaxSourcesPerValue || got[0].Server != "9" {
		t.Errorf("Sources bound: %+v", got)
	}
	tr.Forget("s1")
	tr.Forget("never")
	if _, ok := tr.Lookup("s1", fp); ok {
		t.Error("found after Forget")
	}
}

func TestPerSessionEviction(t *testing.T) {
	tr, _ := newTracker(t, Options{MaxPerSession: 3})
	fps := make([]Fingerprint, 5)
	for i := range fps {
		fps[i] = tr.Fingerprint("x", []byte(fmt.Sprintf("value-%d", i)))
	}
	tr.Observe("s", prodDB, fps[0], fps[1], fps[2])
	tr.Observe("s", prodDB, fps[0]) // refresh: 1 is now the oldest
	tr.Observe("s", prodDB, fps[3])
	want := []bool{true, false, true, true, false}
	for i, fp := range fps {
		if _, ok := tr.Lookup("s", fp); ok != want[i] {
			t.Errorf("value %d present = %v", i, ok)
		}
	}
	// Slots are reused: many observations keep the slice at the bound.
	for i := 0; i < 100; i++ {
		tr.Observe("s", prodDB, tr.Fingerprint("x", []byte(fmt.Sprint(i))))
	}
	s := tr.shard("s").sessions["s"]
	if len(s.index) != 3 || len(s.entries) > 3 {
		t.Errorf("index %d entries %d", len(s.index), len(s.entries))
	}
}

func TestSessionEviction(t *testing.T) {
	tr, _ := newTracker(t, Options{MaxSessions: 3})
	fp := tr.Fingerprint("x", []byte("some-secret-value"))
	for _, s := range []string{"a", "b", "c"} {
		tr.Observe(s, prodDB, fp)
	}
	tr.Lookup("a", fp) // a is now the most recently used
	tr.Observe("d", prodDB, fp)
	for s, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := tr.Lookup(s, fp); ok != want {
			t.Errorf("session %s present = %v", s, ok)
		}
	}
	if tr.Len() != 3 {
		t.Errorf("Len = %d", tr.Len())
	}
	big, _ := newTracker(t, Options{MaxSessions: 1000})
	for i := 0; i < 5000; i++ {
		big.Observe(fmt.Sprint(i), prodDB, fp)
	}
	if n := big.Len(); n > 1000 || n < 900 {
		t.Errorf("Len = %d with MaxSessions 1000", n)
	}
}

func TestTTL(t *testing.T) {
	tr, c := newTracker(t, Options{TTL: time.Minute, MaxSessions: 10}) // one shard
	a := tr.Fingerprint("x", []byte("value-aaaaaaa"))
	b := tr.Fingerprint("x", []byte("value-bbbbbbb"))
	tr.Observe("s", prodDB, a)
	c.Advance(40 * time.Second)
	tr.Observe("s", prodDB, b)
	c.Advance(30 * time.Second) // a is 70 s old, b 30 s
	if _, ok := tr.Lookup("s", a); ok {
		t.Error("a survived its TTL")
	}
	if _, ok := tr.Lookup("s", b); !ok {
		t.Error("b expired early")
	}
	tr.Observe("s", prodDB, b) // refresh
	c.Advance(59 * time.Second)
	if _, ok := tr.Lookup("s", b); !ok {
		t.Error("refresh did not extend b")
	}
	// An idle session expires as a whole and is swept by later traffic.
	c.Advance(2 * time.Minute)
	if _, ok := tr.Lookup("s", b); ok {
		t.Error("idle session survived")
	}
	tr.Observe("old", prodDB, a)
	c.Advance(2 * time.Minute)
	tr.Observe("new", prodDB, a)
	if tr.Len() != 1 {
		t.Errorf("expired session not swept: Len = %d", tr.Len())
	}
}

func TestConcurrent(t *testing.T) {
	tr, c := newTracker(t, Options{MaxSessions: 200, MaxPerSession: 16, TTL: time.Minute})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				session := fmt.Sprint("s", (g*7+i)%300)
				fp := tr.Fingerprint("credit-card", []byte(fmt.Sprint(4111111111111111+i%50)))
				switch i % 4 {
				case 0, 1:
					tr.Observe(session, Source{Server: fmt.Sprint(g), Env: "prod"}, fp)
				case 2:
					tr.Lookup(session, fp)
				default:
					if i%100 == 3 {
						tr.Forget(session)
					}
					if i%500 == 7 {
						c.Advance(10 * time.Second)
					}
					tr.Sources(session, fp, nil)
				}
			}
		}()
	}
	wg.Wait()
	if tr.Len() > 200 {
		t.Errorf("Len = %d", tr.Len())
	}
}

func BenchmarkObserveLookup(b *testing.B) {
	tr, _ := newTracker(b, Options{})
	fps := make([]Fingerprint, 256)
	for i := range fps {
		fps[i] = tr.Fingerprint("credit-card", []byte(fmt.Sprint(4000000000000000+i)))
	}
	sessions := make([]string, 64)
	for i := range sessions {
		sessions[i] = fmt.Sprintf("session-%d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s, fp := sessions[i%len(sessions)], fps[i%len(fps)]
		tr.Observe(s, prodDB, fp)
		if _, ok := tr.Lookup(s, fp); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkFingerprint(b *testing.B) {
	tr, _ := newTracker(b, Options{})
	v := []byte("4111 1111 1111 1111")
	b.ReportAllocs()
	for b.Loop() {
		tr.Fingerprint("credit-card", v)
	}
}

func BenchmarkObserveLookupParallel(b *testing.B) {
	tr, _ := newTracker(b, Options{})
	fp := tr.Fingerprint("credit-card", []byte("4111111111111111"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s := fmt.Sprint(i % 512)
			tr.Observe(s, prodDB, fp)
			tr.Lookup(s, fp)
			i++
		}
	})
}
