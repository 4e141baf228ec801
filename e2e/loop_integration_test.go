//go:build integration

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/portcullis/portcullis/e2e/demo"
	"github.com/portcullis/portcullis/e2e/stack"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
)

const supportKey = "pk_demo_support_7f3a9c2e51d84b06"

func requireEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: this test needs the real service (run it through `make e2e` or `make test`, which start Kafka and ClickHouse with scripts/services.sh)", name)
	}
	return v
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// decisionWatcher collects the event ids on the decisions topic.
type decisionWatcher struct {
	mu   sync.Mutex
	ids  map[string]*decisionv1.Decision
	last time.Time
}

func watchDecisions(ctx context.Context, t *testing.T, brokers []string, topic string) *decisionWatcher {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	w := &decisionWatcher{ids: map[string]*decisionv1.Decision{}}
	go func() {
		defer cl.Close()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				var d decisionv1.Decision
				if proto.Unmarshal(r.Value, &d) == nil {
					w.mu.Lock()
					w.ids[d.GetEventId()] = &d
					w.last = time.Now()
					w.mu.Unlock()
				}
			})
		}
	}()
	return w
}

// settle waits until no new decision arrived for quiet, and returns them.
func (w *decisionWatcher) settle(t *testing.T, atLeast int, quiet time.Duration) map[string]*decisionv1.Decision {
	deadline := time.Now().Add(60 * time.Second)
	for {
		w.mu.Lock()
		n, last := len(w.ids), w.last
		w.mu.Unlock()
		if n >= atLeast && time.Since(last) > quiet {
			w.mu.Lock()
			defer w.mu.Unlock()
			out := make(map[string]*decisionv1.Decision, n)
			for k, v := range w.ids {
				out[k] = v
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("decisions topic: %d events seen, want at least %d", n, atLeast)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// TestIntegrationWholeLoop: N calls through the gateway → N decision events on real
// Kafka → exactly those N rows in real ClickHouse (by event id) → the
// deny-burst verdict → the agent's next call refused.
func TestIntegrationWholeLoop(t *testing.T) {
	brokers := strings.Split(requireEnv(t, "KAFKA_BROKERS"), ",")
	chAddr := requireEnv(t, "CLICKHOUSE_ADDR")
	id := suffix()
	cfg := stack.Config{
		Root: "..", StateDir: t.TempDir(), KafkaBrokers: brokers, ClickHouseAddr: chAddr,
		ClickHouseDatabase: "e2e_" + id, DecisionsTopic: "e2e." + id + ".decisions", VerdictsTopic: "e2e." + id + ".verdicts", Group: "e2e-" + id,
		GatewayAddr: freeAddr(t), ExtProcAddr: freeAddr(t), UpstreamAddr: freeAddr(t),
		DenyThreshold: 5, DenyWindow: time.Minute, BlockFor: 10 * time.Minute,
		Logs: testWriter{t},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stack stopped with: %v", err)
		}
	}()
	watcher := watchDecisions(ctx, t, brokers, cfg.DecisionsTopic)
	endpoint := s.Gateway + "/p/support-agent/mcp"

	// Phase 1: allowed traffic.
	const allowedCalls = 12
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e-agent", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{supportKey}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < allowedCalls; i++ {
		if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_ticket", Arguments: map[string]any{"id": "T-100"}}); err != nil || res.IsError {
			t.Fatalf("allowed call %d: %v %+v", i, err, res)
		}
	}
	cs.Close()

	// Phase 2: the demo script: narrowed list, allowed, denied, denials until
	// the verdict blocks the agent.
	var narration strings.Builder
	res, err := demo.Run(ctx, demo.Options{Endpoint: endpoint, Key: supportKey, Out: &narration, DenialsToBlock: 5})
	t.Log("\n" + narration.String())
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	if strings.Join(res.Tools, ",") != "add_comment,get_ticket,search_tickets" {
		t.Fatalf("narrowed tools %v", res.Tools)
	}
	if !strings.Contains(res.BlockedError, "deny-burst") {
		t.Fatalf("refusal does not name the rule: %s", res.BlockedError)
	}
	if strings.Contains(res.Protected, "QYLPMN5HFIQR7BWX") || strings.Contains(res.Protected, "4111 1111") ||
		!strings.Contains(res.Protected, "[REDACTED:aws-access-key-id]") || !strings.Contains(res.Protected, "**** **** **** 1111") {
		t.Fatalf("the upstream stored an unprotected comment: %s", res.Protected)
	}

	// Every decision on Kafka is in ClickHouse exactly once (by event id).
	events := watcher.settle(t, allowedCalls+9, 2*time.Second)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chAddr}, Auth: clickhouse.Auth{Database: cfg.ClickHouseDatabase, Username: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var stored map[string]string
	deadline := time.Now().Add(60 * time.Second)
	for {
		stored = map[string]string{}
		rows, err := conn.Query(ctx, "SELECT event_id, toString(outcome) FROM decisions FINAL")
		if err == nil {
			for rows.Next() {
				var eid, outcome string
				if err := rows.Scan(&eid, &outcome); err != nil {
					t.Fatal(err)
				}
				stored[eid] = outcome
			}
			rows.Close()
		}
		if len(stored) >= len(events) || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	var total uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM decisions FINAL").Scan(&total); err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(events) || int(total) != len(events) {
		t.Fatalf("ClickHouse has %d distinct event ids (%d rows after FINAL), Kafka carried %d decisions", len(stored), total, len(events))
	}
	counts := map[string]int{}
	for eid, d := range events {
		got, ok := stored[eid]
		if !ok {
			t.Fatalf("event %s (%s %s) missing from ClickHouse", eid, d.GetMcpMethod(), d.GetTool())
		}
		if got != d.GetOutcome().String() {
			t.Fatalf("event %s: ClickHouse outcome %s, Kafka %s", eid, got, d.GetOutcome())
		}
		if d.GetMcpMethod() == "tools/call" {
			counts[d.GetTool()+"/"+d.GetOutcome().String()]++
		}
	}
	if counts["get_ticket/OUTCOME_ALLOWED"] < allowedCalls || counts["send_email/OUTCOME_DENIED"] != 1 || counts["delete_ticket/OUTCOME_DENIED"] != 5 || counts["get_ticket/OUTCOME_BLOCKED"] != 1 {
		t.Fatalf("tools/call decisions by tool/outcome: %v", counts)
	}
	// The add_comment decision carries its findings by type (never values).
	var withFindings uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM decisions FINAL WHERE tool = 'add_comment' AND has(finding_types, 'aws-access-key-id') AND has(finding_types, 'credit-card')").Scan(&withFindings); err != nil {
		t.Fatal(err)
	}
	if withFindings != 1 {
		t.Fatalf("%d add_comment decisions carry the aws-access-key-id and credit-card findings, want 1", withFindings)
	}
	var verdicts uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM verdicts FINAL WHERE subject_id = 'support-bot' AND rule = 'deny-burst'").Scan(&verdicts); err != nil {
		t.Fatal(err)
	}
	if verdicts != 1 {
		t.Fatalf("verdicts table has %d deny-burst verdicts for support-bot, want 1", verdicts)
	}
	t.Logf("PROVED: %d exchanges through the Envoy emulation → %d decision events on Kafka → exactly %d rows in ClickHouse (same event ids, same outcomes) → 1 deny-burst verdict (in ClickHouse and on the compacted topic) → the agent's next call refused %s after its 5th denial: %q",
		len(events), len(events), len(stored), res.BlockedAfter.Round(time.Millisecond), res.BlockedError)
	t.Logf("tools/call decisions: %v", counts)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}
