//go:build integration

package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/portcullis/portcullis/analytics/internal/store"
	"github.com/portcullis/portcullis/analytics/internal/testenv"
)

// The kfake scenarios, against a real Kafka.

func TestIntegrationKafkaStoresEveryRecordAndCommits(t *testing.T) {
	testStoresEveryRecordAndCommits(t, testenv.KafkaBrokers(t))
}

func TestIntegrationKafkaNoCommitWhileStoreFails(t *testing.T) {
	testNoCommitWhileStoreFails(t, testenv.KafkaBrokers(t))
}

func TestIntegrationKafkaStoreFailsNTimes(t *testing.T) {
	testStoreFailsNTimes(t, testenv.KafkaBrokers(t))
}

func TestIntegrationKafkaRestartDuringOutageLosesNothing(t *testing.T) {
	testRestartDuringOutageLosesNothing(t, testenv.KafkaBrokers(t))
}

func TestIntegrationKafkaVerdictAfterDenials(t *testing.T) {
	testVerdictAfterDenials(t, testenv.KafkaBrokers(t))
}

func TestIntegrationKafkaDeadLetters(t *testing.T) {
	testDeadLetters(t, testenv.KafkaBrokers(t))
}

func TestIntegrationKafkaEnsureTopics(t *testing.T) {
	testEnsureTopics(t, testenv.KafkaBrokers(t))
}

// chEnv is a fresh database on the real ClickHouse, migrated, with a direct
// connection for assertions.
type chEnv struct {
	addr string
	db   string
	conn driver.Conn
}

func newCHEnv(t *testing.T) *chEnv {
	t.Helper()
	e := &chEnv{addr: testenv.ClickHouseAddr(t), db: testenv.UniqueName("it_pipeline_")}
	st, err := store.Open(store.Options{Addr: e.addr, Database: e.db, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	e.conn, err = clickhouse.Open(&clickhouse.Options{Addr: []string{e.addr}, Auth: clickhouse.Auth{Database: e.db, Username: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+e.db+"`"); err != nil {
			t.Errorf("drop %s: %v", e.db, err)
		}
		e.conn.Close()
	})
	return e
}

func (e *chEnv) uint64(t *testing.T, query string) uint64 {
	t.Helper()
	var n uint64
	if err := e.conn.QueryRow(testCtx(t), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// countingStore is a real store that counts failed decision inserts.
type countingStore struct {
	*store.Store
	mu       sync.Mutex
	failures int
	stored   int
}

func (c *countingStore) InsertDecisions(ctx context.Context, ds []*decisionv1.Decision, os []store.Origin) error {
	err := c.Store.InsertDecisions(ctx, ds, os)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failures++
	} else {
		c.stored += len(ds)
	}
	return err
}

func (c *countingStore) counts() (failures, stored int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failures, c.stored
}

// TestIntegrationClickHouseOutage cuts ClickHouse off (through a TCP proxy)
// while decisions flow: nothing is committed during the outage, and once it
// ends every decision arrives, exactly once by event id.
func TestIntegrationClickHouseOutage(t *testing.T) {
	ch := newCHEnv(t)
	k := newKafkaEnv(t, testenv.KafkaBrokers(t))
	proxy := newTCPProxy(t, ch.addr)
	st, err := store.Open(store.Options{
		Addr: proxy.addr, Database: ch.db, DialTimeout: time.Second, ReadTimeout: 10 * time.Second,
		Logger: zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &countingStore{Store: st}

	const n = 3000
	ds := allowed(0, n)
	k.startPipeline(t, cs, func(c *Config) { c.MaxBatch = 100 })

	// First third flows normally.
	k.produce(t, ds[:n/3]...)
	eventually(t, 30*time.Second, "first decisions stored", func() bool { _, s := cs.counts(); return s > 0 })

	proxy.Break()
	t.Log("clickhouse proxy broken")
	// The rest is produced during the outage, in small chunks.
	for i := n / 3; i < n; i += 100 {
		k.produce(t, ds[i:min(i+100, n)]...)
	}
	eventually(t, 30*time.Second, "failed inserts during the outage", func() bool { f, _ := cs.counts(); return f >= 3 })
	before := k.committed(t)
	f0, s0 := cs.counts()
	time.Sleep(2 * time.Second)
	after := k.committed(t)
	f1, s1 := cs.counts()
	if !equalOffsets(before, after) {
		t.Fatalf("offsets committed during the outage: %v -> %v", before, after)
	}
	if s1 != s0 || f1 <= f0 {
		t.Fatalf("during outage: stored %d -> %d, failures %d -> %d; want no stores, more failures", s0, s1, f0, f1)
	}
	if got := ch.uint64(t, "SELECT uniqExact(event_id) FROM decisions"); got >= n {
		t.Fatalf("%d events stored before the outage ended", got)
	}
	t.Logf("outage: %d failed inserts, %d decisions stored before it, committed %v", f1, s1, after)

	proxy.Restore(t)
	t.Log("clickhouse proxy restored")
	eventually(t, 60*time.Second, "every decision in clickhouse", func() bool {
		return ch.uint64(t, "SELECT uniqExact(event_id) FROM decisions") == n
	})
	k.waitAllCommitted(t)
	if got := ch.uint64(t, "SELECT uniqExact(event_id) FROM decisions"); got != n {
		t.Fatalf("uniqExact(event_id) = %d, want %d", got, n)
	}
	if got := ch.uint64(t, "SELECT count() FROM decisions FINAL"); got != n {
		t.Fatalf("count() FINAL = %d, want %d", got, n)
	}
	t.Logf("raw rows %d for %d events (duplicates come from inserts cut mid-flight)",
		ch.uint64(t, "SELECT count() FROM decisions"), n)
}

func equalOffsets(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for p, o := range a {
		if b[p] != o {
			return false
		}
	}
	return true
}

// TestIntegrationFullPipeline runs decisions through real Kafka and
// ClickHouse: all are stored, an undecodable record is dead-lettered, and a
// burst of denials yields a verdict on the verdicts topic and in the
// verdicts table.
func TestIntegrationFullPipeline(t *testing.T) {
	ch := newCHEnv(t)
	k := newKafkaEnv(t, testenv.KafkaBrokers(t))
	st, err := store.Open(store.Options{Addr: ch.addr, Database: ch.db, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	const threshold = 5
	ds := allowed(0, 500)
	for i := range threshold + 2 { // more than the threshold: still one verdict
		ds = append(ds, decision(1000+i, "mallory", decisionv1.Outcome_OUTCOME_DENIED))
	}
	ds = append(ds, decision(2000, "bob", decisionv1.Outcome_OUTCOME_DENIED))
	k.produce(t, ds...)
	k.produceRaw(t, &kgo.Record{Key: []byte("junk"), Value: []byte("not a protobuf \xff\xff")})

	issued := time.Now().UTC().Truncate(time.Second)
	k.startPipeline(t, st, func(c *Config) {
		c.Rules = append(c.Rules, newDenyBurst(t, threshold, issued))
		c.MaxBatch = 128
	})

	eventually(t, 60*time.Second, "every decision in clickhouse", func() bool {
		return ch.uint64(t, "SELECT uniqExact(event_id) FROM decisions") == uint64(len(ds))
	})
	k.waitAllCommitted(t)
	if got := ch.uint64(t, "SELECT count() FROM dead_letters FINAL WHERE record_key = 'junk'"); got != 1 {
		t.Fatalf("dead letters for the junk record: %d, want 1", got)
	}
	if got := ch.uint64(t, "SELECT uniqExact(event_id) FROM decisions WHERE agent = 'mallory' AND outcome = 'OUTCOME_DENIED'"); got != threshold+2 {
		t.Fatalf("mallory's denials stored: %d", got)
	}

	recs := k.verdicts(t, 1, 30*time.Second)
	if len(recs) != 1 {
		t.Fatalf("read %d verdicts, want 1", len(recs))
	}
	r := recs[0]
	var v verdictv1.Verdict
	if err := proto.Unmarshal(r.Value, &v); err != nil {
		t.Fatal(err)
	}
	if string(r.Key) != "agent:mallory" || v.GetSubject().GetId() != "mallory" ||
		v.GetSubject().GetKind() != verdictv1.SubjectKind_SUBJECT_KIND_AGENT ||
		v.GetAction() != verdictv1.Action_ACTION_BLOCK || v.GetRule() != "deny-burst" ||
		v.GetReason() != "5 denied calls within 1m0s" ||
		!v.GetExpiresAt().AsTime().Equal(issued.Add(15*time.Minute)) {
		t.Fatalf("verdict %q = %v", r.Key, &v)
	}

	var (
		id, kind, action, topic string
		part                    int32
		off                     int64
		expires                 *time.Time
	)
	if err := ch.conn.QueryRow(testCtx(t),
		"SELECT verdict_id, subject_kind, action, kafka_topic, kafka_partition, kafka_offset, expires_at FROM verdicts FINAL WHERE subject_id = 'mallory'").
		Scan(&id, &kind, &action, &topic, &part, &off, &expires); err != nil {
		t.Fatal(err)
	}
	if id != v.GetVerdictId() || kind != "SUBJECT_KIND_AGENT" || action != "ACTION_BLOCK" ||
		topic != k.topics.Verdicts || part != r.Partition || off != r.Offset ||
		expires == nil || !expires.Equal(issued.Add(15*time.Minute)) {
		t.Fatalf("verdicts row = %s %s %s %s %d/%d %v; record %s at %d/%d", id, kind, action, topic, part, off, expires, v.GetVerdictId(), r.Partition, r.Offset)
	}
	if got := ch.uint64(t, "SELECT uniqExact(verdict_id) FROM verdicts"); got != 1 {
		t.Fatalf("%d verdicts recorded, want 1", got)
	}
}

// TestIntegrationClickHouseFlapping cuts the ClickHouse connection again and
// again while decisions flow, so inserts are cut mid-flight too: in the end
// every decision is stored (uniqExact = N) and every offset committed.
func TestIntegrationClickHouseFlapping(t *testing.T) {
	ch := newCHEnv(t)
	k := newKafkaEnv(t, testenv.KafkaBrokers(t))
	proxy := newTCPProxy(t, ch.addr)
	st, err := store.Open(store.Options{
		Addr: proxy.addr, Database: ch.db, DialTimeout: time.Second, ReadTimeout: 10 * time.Second,
		Logger: zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &countingStore{Store: st}
	const n = 20_000
	ds := allowed(0, n)
	k.startPipeline(t, cs, func(c *Config) {
		c.MaxBatch = 500
		c.RetryMax = 50 * time.Millisecond
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i += 500 {
			k.produce(t, ds[i:min(i+500, n)]...)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for range 12 {
		time.Sleep(150 * time.Millisecond) // up, then down for 100ms
		proxy.Break()
		time.Sleep(100 * time.Millisecond)
		proxy.Restore(t)
	}
	<-done
	eventually(t, 60*time.Second, "every decision in clickhouse", func() bool {
		return ch.uint64(t, "SELECT uniqExact(event_id) FROM decisions") == n
	})
	k.waitAllCommitted(t)
	f, s := cs.counts()
	t.Logf("%d failed inserts; %d decisions in successful inserts, %d raw rows, %d distinct events",
		f, s, ch.uint64(t, "SELECT count() FROM decisions"), ch.uint64(t, "SELECT uniqExact(event_id) FROM decisions"))
	if f == 0 {
		t.Fatal("no insert failed: the proxy never cut a connection in use")
	}
}
