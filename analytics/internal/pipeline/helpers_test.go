package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/portcullis/portcullis/analytics/internal/rules"
	"github.com/portcullis/portcullis/analytics/internal/store"
	"github.com/portcullis/portcullis/analytics/internal/testenv"
)

// This file holds what the kfake unit tests and the real-Kafka integration
// tests share: the scenarios run against both.

var baseTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// decision returns test decision i with the given agent and outcome.
func decision(i int, agent string, outcome decisionv1.Outcome) *decisionv1.Decision {
	return &decisionv1.Decision{
		EventId:     fmt.Sprintf("evt-%06d", i),
		Time:        timestamppb.New(baseTime.Add(time.Duration(i) * time.Millisecond)),
		Agent:       agent,
		Outcome:     outcome,
		McpMethod:   "tools/call",
		Tool:        "t",
		HttpMethod:  "POST",
		HttpStatus:  200,
		Environment: "test",
	}
}

// allowed returns n allowed decisions numbered from first, spread over 5 agents.
func allowed(first, n int) []*decisionv1.Decision {
	out := make([]*decisionv1.Decision, n)
	for i := range out {
		out[i] = decision(first+i, fmt.Sprint("agent-", (first+i)%5), decisionv1.Outcome_OUTCOME_ALLOWED)
	}
	return out
}

func eventIDs(ds []*decisionv1.Decision) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.GetEventId()
	}
	return out
}

// newDenyBurst returns a deny-burst rule with the given threshold whose
// clock is stopped at now.
func newDenyBurst(t *testing.T, threshold int, now time.Time) *rules.DenyBurst {
	t.Helper()
	r, err := rules.NewDenyBurst(rules.DenyBurstConfig{Threshold: threshold, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testTopics returns unique topic names for one test.
func testTopics() Topics {
	id := testenv.UniqueName("")
	return Topics{Decisions: "it.decisions." + id, Verdicts: "it.verdicts." + id}
}

// kafkaEnv is a Kafka cluster (kfake or real) with an admin client and
// unique topics for one test.
type kafkaEnv struct {
	brokers []string
	topics  Topics
	group   string
	adm     *kadm.Client
	prod    *kgo.Client
}

func newKafkaEnv(t *testing.T, brokers []string) *kafkaEnv {
	t.Helper()
	e := &kafkaEnv{brokers: brokers, topics: testTopics(), group: testenv.UniqueName("it-group-")}
	admCl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	e.adm = kadm.NewClient(admCl)
	e.prod, err = kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(e.topics.Decisions))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = e.adm.DeleteGroups(ctx, e.group)
		_, _ = e.adm.DeleteTopics(ctx, e.topics.Decisions, e.topics.Verdicts)
		e.prod.Close()
		admCl.Close()
	})
	if err := EnsureTopics(testCtx(t), e.adm, e.topics); err != nil {
		t.Fatal(err)
	}
	return e
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// produce writes decisions to the decisions topic, keyed by agent.
func (e *kafkaEnv) produce(t *testing.T, ds ...*decisionv1.Decision) {
	t.Helper()
	recs := make([]*kgo.Record, len(ds))
	for i, d := range ds {
		b, err := proto.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = &kgo.Record{Key: []byte(d.GetAgent()), Value: b}
	}
	e.produceRaw(t, recs...)
}

func (e *kafkaEnv) produceRaw(t *testing.T, recs ...*kgo.Record) {
	t.Helper()
	if err := e.prod.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// committed returns the group's committed offsets on the decisions topic,
// by partition (partitions without a commit are absent).
func (e *kafkaEnv) committed(t *testing.T) map[int32]int64 {
	t.Helper()
	resp, err := e.adm.FetchOffsets(testCtx(t), e.group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == e.topics.Decisions && o.Err == nil && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

// ends returns the end offsets of the decisions topic's non-empty partitions.
func (e *kafkaEnv) ends(t *testing.T) map[int32]int64 {
	t.Helper()
	lo, err := e.adm.ListEndOffsets(testCtx(t), e.topics.Decisions)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			out[o.Partition] = o.Offset
		}
	})
	return out
}

// waitAllCommitted waits until the group has committed every record of the
// decisions topic.
func (e *kafkaEnv) waitAllCommitted(t *testing.T) {
	t.Helper()
	eventually(t, 30*time.Second, "all offsets committed", func() bool {
		c, end := e.committed(t), e.ends(t)
		for p, o := range end {
			if c[p] != o {
				return false
			}
		}
		return true
	})
}

// verdicts reads the verdicts topic from the start until want records were
// read or the timeout passed.
func (e *kafkaEnv) verdicts(t *testing.T, want int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(e.topics.Verdicts),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		out = append(out, fs.Records()...)
	}
	return out
}

// startPipeline runs a pipeline on e with st until t ends or stop is called.
func (e *kafkaEnv) startPipeline(t *testing.T, st Store, mutate func(*Config)) (stop func()) {
	t.Helper()
	cfg := Config{
		Brokers:      e.brokers,
		Group:        e.group,
		Topics:       e.topics,
		RetryInitial: 20 * time.Millisecond,
		RetryMax:     200 * time.Millisecond,
		Logger:       zaptest.NewLogger(t),
		ClientOpts:   []kgo.Opt{kgo.FetchMaxWait(200 * time.Millisecond)},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return within 30s of cancel")
			}
			p.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeStore records what it stores and fails on demand.
type fakeStore struct {
	mu             sync.Mutex
	failDecisions  bool // fail every InsertDecisions while set
	failNext       int  // fail this many more InsertDecisions calls
	failVerdicts   bool // fail every InsertVerdicts while set
	failedBatches  [][]string
	batches        [][]string // event ids of each successful InsertDecisions
	origins        []store.Origin
	dead           []store.DeadLetter
	verdicts       []*verdictv1.Verdict
	verdictOrigins []store.Origin
	verdictFails   int
}

var errDown = fmt.Errorf("fake store: clickhouse is down")

func (f *fakeStore) InsertDecisions(_ context.Context, ds []*decisionv1.Decision, origins []store.Origin) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failDecisions || f.failNext > 0 {
		f.failNext = max(f.failNext-1, 0)
		f.failedBatches = append(f.failedBatches, eventIDs(ds))
		return errDown
	}
	f.batches = append(f.batches, eventIDs(ds))
	f.origins = append(f.origins, origins...)
	return nil
}

func (f *fakeStore) InsertDeadLetters(_ context.Context, ls []store.DeadLetter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failDecisions {
		return errDown
	}
	f.dead = append(f.dead, ls...)
	return nil
}

func (f *fakeStore) InsertVerdicts(_ context.Context, vs []*verdictv1.Verdict, origins []store.Origin) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failVerdicts {
		f.verdictFails++
		return errDown
	}
	f.verdicts = append(f.verdicts, vs...)
	f.verdictOrigins = append(f.verdictOrigins, origins...)
	return nil
}

func (f *fakeStore) set(fn func(f *fakeStore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// stored returns every stored event id, in store order.
func (f *fakeStore) stored() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

func (f *fakeStore) failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.failedBatches)
}

// checkExactlyOnce fails t unless got holds each id of want exactly once.
func checkExactlyOnce(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("event %s stored %d times, want 1", id, seen[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("stored %d events, want %d", len(got), len(want))
	}
}

// --- scenarios, run against kfake (unit) and a real Kafka (integration) ---

// testStoresEveryRecordAndCommits: a healthy store gets every record once
// and every offset is committed.
func testStoresEveryRecordAndCommits(t *testing.T, brokers []string) {
	e := newKafkaEnv(t, brokers)
	st := &fakeStore{}
	ds := allowed(0, 300)
	e.produce(t, ds...)
	e.startPipeline(t, st, func(c *Config) { c.MaxBatch = 50 })
	eventually(t, 30*time.Second, "300 stored decisions", func() bool { return len(st.stored()) >= len(ds) })
	e.waitAllCommitted(t)
	checkExactlyOnce(t, st.stored(), eventIDs(ds))
	for _, b := range st.batches {
		if len(b) > 50 {
			t.Errorf("batch of %d records, MaxBatch is 50", len(b))
		}
	}
	for i, o := range st.origins {
		if o.Topic != e.topics.Decisions || o.Offset < 0 || o.Partition < 0 || o.Partition >= 3 {
			t.Fatalf("origin %d = %+v", i, o)
		}
	}
}

// testNoCommitWhileStoreFails: while the store fails, the pipeline retries
// the same batch, polls nothing past it and commits nothing; once the store
// recovers every record is stored exactly once and committed.
func testNoCommitWhileStoreFails(t *testing.T, brokers []string) {
	e := newKafkaEnv(t, brokers)
	st := &fakeStore{failDecisions: true}
	first := allowed(0, 40)
	e.produce(t, first...)
	e.startPipeline(t, st, func(c *Config) { c.MaxBatch = 10 })

	eventually(t, 30*time.Second, "5 failed store attempts", func() bool { return st.failures() >= 5 })
	// More records arrive during the outage.
	more := allowed(40, 60)
	e.produce(t, more...)
	n := st.failures()
	eventually(t, 30*time.Second, "more failed attempts", func() bool { return st.failures() >= n+5 })
	if c := e.committed(t); len(c) != 0 {
		t.Fatalf("offsets committed while the store fails: %v", c)
	}
	if got := st.stored(); len(got) != 0 {
		t.Fatalf("stored %d events while failing", len(got))
	}
	// Every attempt was the same batch: the pipeline did not poll past it.
	st.mu.Lock()
	firstBatch := st.failedBatches[0]
	for i, b := range st.failedBatches {
		if !slices.Equal(b, firstBatch) {
			t.Errorf("attempt %d stored %v, attempt 1 %v: polled past the failing batch", i+1, b, firstBatch)
		}
	}
	st.mu.Unlock()
	if len(firstBatch) == 0 || len(firstBatch) > 10 {
		t.Fatalf("failing batch has %d records", len(firstBatch))
	}

	st.set(func(f *fakeStore) { f.failDecisions = false })
	all := append(first, more...)
	eventually(t, 30*time.Second, "all decisions stored", func() bool { return len(st.stored()) >= len(all) })
	e.waitAllCommitted(t)
	checkExactlyOnce(t, st.stored(), eventIDs(all))
	if !slices.Equal(st.batches[0], firstBatch) {
		t.Errorf("first stored batch %v is not the batch that failed %v", st.batches[0], firstBatch)
	}
}

// testStoreFailsNTimes: a store that fails N times and then recovers by
// itself gets the failing batch N+1 times, stores it once, and nothing is
// lost or stored twice.
func testStoreFailsNTimes(t *testing.T, brokers []string) {
	e := newKafkaEnv(t, brokers)
	const n = 4
	st := &fakeStore{failNext: n}
	ds := allowed(0, 100)
	e.produce(t, ds...)
	e.startPipeline(t, st, func(c *Config) { c.MaxBatch = 25 })
	eventually(t, 30*time.Second, "all decisions stored", func() bool { return len(st.stored()) >= len(ds) })
	e.waitAllCommitted(t)
	checkExactlyOnce(t, st.stored(), eventIDs(ds))
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.failedBatches) != n {
		t.Fatalf("%d failed attempts, want %d", len(st.failedBatches), n)
	}
	for i, b := range st.failedBatches {
		if !slices.Equal(b, st.batches[0]) {
			t.Errorf("failed attempt %d carried %v, the stored first batch is %v", i+1, b, st.batches[0])
		}
	}
}

// testRestartDuringOutageLosesNothing: a pipeline stopped while its store is
// down commits nothing; the next one stores everything.
func testRestartDuringOutageLosesNothing(t *testing.T, brokers []string) {
	e := newKafkaEnv(t, brokers)
	down := &fakeStore{failDecisions: true}
	ds := allowed(0, 100)
	e.produce(t, ds...)
	stop := e.startPipeline(t, down, nil)
	eventually(t, 30*time.Second, "failed store attempts", func() bool { return down.failures() >= 3 })
	stop()
	if c := e.committed(t); len(c) != 0 {
		t.Fatalf("offsets committed by a pipeline whose store never worked: %v", c)
	}
	up := &fakeStore{}
	e.startPipeline(t, up, nil)
	eventually(t, 30*time.Second, "all decisions stored after restart", func() bool { return len(up.stored()) >= len(ds) })
	e.waitAllCommitted(t)
	checkExactlyOnce(t, up.stored(), eventIDs(ds))
}

// testVerdictAfterDenials: threshold denials of one agent produce one BLOCK
// verdict on the verdicts topic, recorded in the store where it was written;
// while recording it fails, nothing is committed.
func testVerdictAfterDenials(t *testing.T, brokers []string) {
	e := newKafkaEnv(t, brokers)
	st := &fakeStore{failVerdicts: true}
	issued := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rule := newDenyBurst(t, 3, issued)
	var ds []*decisionv1.Decision
	ds = append(ds, allowed(0, 10)...)
	for i := range 3 {
		ds = append(ds, decision(100+i, "mallory", decisionv1.Outcome_OUTCOME_DENIED))
	}
	ds = append(ds, decision(200, "bob", decisionv1.Outcome_OUTCOME_DENIED)) // one denial: no verdict
	e.produce(t, ds...)
	ids := 0
	e.startPipeline(t, st, func(c *Config) {
		c.Rules = append(c.Rules, rule)
		c.NewVerdictID = func() string { ids++; return fmt.Sprint("verdict-", ids) }
	})

	recs := e.verdicts(t, 1, 30*time.Second)
	if len(recs) != 1 {
		t.Fatalf("read %d verdict records, want 1", len(recs))
	}
	eventually(t, 30*time.Second, "failed verdict inserts", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.verdictFails >= 3
	})
	if c := e.committed(t); len(c) != 0 {
		t.Fatalf("offsets committed before the verdict was recorded: %v", c)
	}
	st.set(func(f *fakeStore) { f.failVerdicts = false })
	e.waitAllCommitted(t)
	checkExactlyOnce(t, st.stored(), eventIDs(ds))

	r := recs[0]
	if string(r.Key) != "agent:mallory" {
		t.Errorf("verdict key = %q, want agent:mallory", r.Key)
	}
	var v verdictv1.Verdict
	if err := proto.Unmarshal(r.Value, &v); err != nil {
		t.Fatal(err)
	}
	want := &verdictv1.Verdict{
		VerdictId: "verdict-1",
		Subject:   &verdictv1.Subject{Kind: verdictv1.SubjectKind_SUBJECT_KIND_AGENT, Id: "mallory"},
		Action:    verdictv1.Action_ACTION_BLOCK,
		Reason:    "3 denied calls within 1m0s",
		Rule:      "deny-burst",
		IssuedAt:  timestamppb.New(issued),
		ExpiresAt: timestamppb.New(issued.Add(15 * time.Minute)),
	}
	if !proto.Equal(&v, want) {
		t.Errorf("verdict = %v\nwant %v", &v, want)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.verdicts) != 1 || !proto.Equal(st.verdicts[0], want) {
		t.Fatalf("stored verdicts = %v", st.verdicts)
	}
	if o := st.verdictOrigins[0]; o != (store.Origin{Topic: e.topics.Verdicts, Partition: r.Partition, Offset: r.Offset}) {
		t.Errorf("stored verdict origin %+v, record at %d/%d", o, r.Partition, r.Offset)
	}
}

// testDeadLetters: records that are not storable decisions go to the dead
// letters with their raw bytes and position, and are committed.
func testDeadLetters(t *testing.T, brokers []string) {
	e := newKafkaEnv(t, brokers)
	st := &fakeStore{}
	good := allowed(0, 5)
	noID := decision(99, "agent-x", decisionv1.Outcome_OUTCOME_DENIED)
	noID.EventId = ""
	noIDBytes, _ := proto.Marshal(noID)
	garbage := []byte{0xff, 0xff, 0xff, 0x01}
	e.produce(t, good...)
	e.produceRaw(t,
		&kgo.Record{Key: []byte("k1"), Value: garbage, Partition: 0},
		&kgo.Record{Key: []byte("k2"), Value: noIDBytes},
	)
	e.startPipeline(t, st, nil)
	eventually(t, 30*time.Second, "2 dead letters", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.dead) >= 2
	})
	e.waitAllCommitted(t)
	checkExactlyOnce(t, st.stored(), eventIDs(good))
	st.mu.Lock()
	defer st.mu.Unlock()
	byKey := map[string]store.DeadLetter{}
	for _, d := range st.dead {
		byKey[string(d.Key)] = d
	}
	g, n := byKey["k1"], byKey["k2"]
	if string(g.Value) != string(garbage) || g.Origin.Topic != e.topics.Decisions || g.Err == "" || g.RecordTime.IsZero() {
		t.Errorf("garbage dead letter = %+v", g)
	}
	if string(n.Value) != string(noIDBytes) || !strings.Contains(n.Err, "missing event_id") {
		t.Errorf("no-id dead letter = %+v", n)
	}
	if len(st.dead) != 2 {
		t.Errorf("%d dead letters, want 2", len(st.dead))
	}
}
