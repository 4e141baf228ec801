package kafka

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/spool"
	"github.com/portcullis/portcullis/extproc/internal/verdict"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
)

var testTopics = Topics{Decisions: DefaultDecisionsTopic, Verdicts: DefaultVerdictsTopic}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startCluster(t *testing.T, port int, dataDir string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.Ports(port), kfake.DataDir(dataDir), kfake.SeedTopics(3, testTopics.Decisions))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type runningEmitter struct {
	*Emitter
	cancel context.CancelFunc
	done   chan error
	sp     *spool.Spool
	client *kgo.Client
}

func startEmitter(t *testing.T, brokers []string, spoolDir string) *runningEmitter {
	t.Helper()
	sp, err := spool.Open(spoolDir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewProducerClient(brokers)
	if err != nil {
		t.Fatal(err)
	}
	em, err := NewEmitter(sp, client, EmitterOptions{Instance: "test-1", RetryBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningEmitter{Emitter: em, cancel: cancel, done: make(chan error, 1), sp: sp, client: client}
	go func() { r.done <- em.Run(ctx) }()
	return r
}

func (r *runningEmitter) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatalf("emitter run: %v", err)
	}
	r.client.Close()
	if err := r.sp.Close(); err != nil {
		t.Fatal(err)
	}
}

func decision(i int) filter.Decision {
	return filter.Decision{
		Time: time.Unix(1764072000, int64(i)).UTC(), Agent: fmt.Sprintf("agent-%d", i%3), Subject: "alice", Persona: "support",
		Method: "tools/call", Tool: "get_ticket", Upstream: "tickets", Outcome: filter.OutcomeDenied, Reason: filter.ReasonToolNotGranted,
		Findings: []filter.Finding{{Type: "email", Count: 2}}, Latency: 1500 * time.Microsecond, BytesIn: 100, BytesOut: 50,
		ClientAddress: "127.0.0.1:1", Environment: "test", HTTPMethod: "POST", HTTPStatus: 200, RequestID: fmt.Sprint(i),
	}
}

// consumeDecisions reads the decisions topic until n distinct event ids were
// seen, returning events in sequence order.
func consumeDecisions(t *testing.T, brokers []string, n int) map[uint64]*decisionv1.Decision {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(testTopics.Decisions), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bySeq := map[uint64]*decisionv1.Decision{}
	ids := map[string]bool{}
	for len(ids) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d decisions before timeout", len(ids), n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var d decisionv1.Decision
			if err := proto.Unmarshal(r.Value, &d); err != nil {
				t.Errorf("undecodable record: %v", err)
				return
			}
			if string(r.Key) != d.GetAgent() {
				t.Errorf("key %q != agent %q", r.Key, d.GetAgent())
			}
			ids[d.GetEventId()] = true
			bySeq[d.GetSequence()] = &d
		})
	}
	return bySeq
}

func TestEmitterDeliversEveryDecision(t *testing.T) {
	c := startCluster(t, 0, t.TempDir())
	defer c.Close()
	brokers := c.ListenAddrs()
	em := startEmitter(t, brokers, t.TempDir())
	defer em.stop(t)
	const n = 300
	for i := 1; i <= n; i++ {
		em.Emit(decision(i))
	}
	got := consumeDecisions(t, brokers, n)
	if len(got) != n {
		t.Fatalf("%d distinct sequences, want %d", len(got), n)
	}
	for seq := uint64(1); seq <= n; seq++ {
		d, ok := got[seq]
		if !ok {
			t.Fatalf("sequence %d missing", seq)
		}
		want := decision(int(seq))
		if d.GetProcessorInstance() != "test-1" || d.GetAgent() != want.Agent || d.GetRequestId() != want.RequestID ||
			d.GetOutcome() != decisionv1.Outcome_OUTCOME_DENIED || d.GetReason() != decisionv1.ReasonCode_REASON_CODE_TOOL_NOT_GRANTED ||
			d.GetLatency().AsDuration() != want.Latency || !d.GetTime().AsTime().Equal(want.Time) ||
			len(d.GetFindings()) != 1 || d.GetFindings()[0].GetType() != "email" || d.GetFindings()[0].GetCount() != 2 {
			t.Fatalf("sequence %d: got %v", seq, d)
		}
	}
}

func TestEmitterBrokerOutageLosesNothing(t *testing.T) {
	port := freePort(t)
	dataDir, spoolDir := t.TempDir(), t.TempDir()
	c := startCluster(t, port, dataDir)
	brokers := c.ListenAddrs()
	em := startEmitter(t, brokers, spoolDir)
	for i := 1; i <= 50; i++ {
		em.Emit(decision(i))
	}
	consumeDecisions(t, brokers, 50)

	// Broker down: emitting keeps working (local spool), nothing delivered.
	c.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 51; i <= 150; i++ {
			em.Emit(decision(i))
		}
	}()
	wg.Wait()
	if st := em.Stats(); st.Emitted != 150 || st.Failures != 0 {
		t.Fatalf("stats during outage %+v", st)
	}
	// The filter process restarts during the outage: the spool keeps the
	// undelivered decisions.
	em.stop(t)
	em = startEmitter(t, brokers, spoolDir)
	defer em.stop(t)
	for i := 151; i <= 200; i++ {
		em.Emit(decision(i))
	}

	// Broker back on the same address with its data: everything arrives.
	c = startCluster(t, port, dataDir)
	defer c.Close()
	got := consumeDecisions(t, brokers, 200)
	for seq := uint64(1); seq <= 200; seq++ {
		if _, ok := got[seq]; !ok {
			t.Fatalf("sequence %d lost in the outage", seq)
		}
	}
}

func TestVerdictFeed(t *testing.T) {
	c, err := kfake.NewCluster(kfake.SeedTopics(1, testTopics.Verdicts))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	issued := time.Now().Add(-time.Second)
	v := &verdictv1.Verdict{
		VerdictId: "v-42", Subject: &verdictv1.Subject{Kind: verdictv1.SubjectKind_SUBJECT_KIND_AGENT, Id: "agent-1"},
		Action: verdictv1.Action_ACTION_BLOCK, Reason: "5 denied", Rule: "deny-burst",
		IssuedAt: timestamppb.New(issued), ExpiresAt: timestamppb.New(issued.Add(time.Hour)),
	}
	val, _ := proto.Marshal(v)
	ctx := context.Background()
	if err := prod.ProduceSync(ctx,
		&kgo.Record{Topic: testTopics.Verdicts, Key: []byte("agent:garbage"), Value: []byte{0xff, 0x01}},
		&kgo.Record{Topic: testTopics.Verdicts, Key: []byte("agent:agent-1"), Value: val},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl, err := NewVerdictClient(c.ListenAddrs(), testTopics.Verdicts)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cache := verdict.NewCache()
	feed := NewVerdictFeed(cl, cache, nil)
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- feed.Run(fctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for feed.Applied() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res, got := cache.Check(time.Now(), verdict.Key{Kind: verdict.KindAgent, ID: "agent-1"})
	if res != verdict.Blocked || got.ID != "v-42" || got.Rule != "deny-burst" {
		t.Fatalf("cache check %v %+v", res, got)
	}
	if feed.invalid.Load() != 1 {
		t.Fatalf("invalid verdicts counted %d, want 1", feed.invalid.Load())
	}
}

func TestEnsureTopicsIdempotent(t *testing.T) {
	c, err := kfake.NewCluster()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < 2; i++ {
		if err := EnsureTopics(context.Background(), cl, testTopics); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}

// A decision built from the most hostile request (every agent-controlled
// field at its cap) must fit in a spool record, and so in a Kafka batch:
// one oversized record would stall delivery of everything behind it.
func TestWorstCaseDecisionFitsARecord(t *testing.T) {
	big := strings.Repeat("x", filter.MaxFieldBytes)
	d := decision(1)
	d.Method, d.Tool, d.Session, d.RequestID, d.ClientAddress, d.HTTPMethod = big, big, big, big, big, big
	d.Findings = make([]filter.Finding, 200)
	for i := range d.Findings {
		d.Findings[i] = filter.Finding{Type: "detector-type-with-a-long-name", Count: 1 << 30}
	}
	rec := encodeRecord(d.Agent, toProto(d))
	if len(rec) > 64<<10 {
		t.Fatalf("worst-case decision record is %d bytes, over the spool's 64 KiB default", len(rec))
	}
}
