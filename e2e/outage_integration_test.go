//go:build integration

package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portcullis/portcullis/e2e/stack"
)

func kafkaScript(t *testing.T, verb string) {
	t.Helper()
	out, err := exec.Command("../scripts/kafka.sh", verb).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/kafka.sh %s: %v\n%s", verb, err, out)
	}
}

// TestIntegrationKafkaOutage stops the real broker mid-traffic: calls are
// still enforced (allowed ones served, denied ones refused), their decisions
// wait in the filter's spool, and after the broker returns every decision
// reaches Kafka and ClickHouse — none lost.
func TestIntegrationKafkaOutage(t *testing.T) {
	brokers := strings.Split(requireEnv(t, "KAFKA_BROKERS"), ",")
	chAddr := requireEnv(t, "CLICKHOUSE_ADDR")
	id := suffix()
	cfg := stack.Config{
		Root: "..", StateDir: t.TempDir(), KafkaBrokers: brokers, ClickHouseAddr: chAddr,
		ClickHouseDatabase: "e2e_" + id, DecisionsTopic: "e2e." + id + ".decisions", VerdictsTopic: "e2e." + id + ".verdicts", Group: "e2e-" + id,
		GatewayAddr: freeAddr(t), ExtProcAddr: freeAddr(t), UpstreamAddr: freeAddr(t),
		DenyThreshold: 1000, Logs: testWriter{t},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	paused := false
	defer func() {
		if paused {
			kafkaScript(t, "resume")
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stack stopped with: %v", err)
		}
	}()
	watcher := watchDecisions(ctx, t, brokers, cfg.DecisionsTopic)
	c := mcp.NewClient(&mcp.Implementation{Name: "outage-agent", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.Gateway + "/p/support-agent/mcp", HTTPClient: &http.Client{Transport: bearer{supportKey}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close() }()
	calls := func(n int) {
		for i := 0; i < n; i++ {
			if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_ticket", Arguments: map[string]any{"id": "T-101"}}); err != nil || res.IsError {
				t.Fatalf("allowed call during outage=%v: %v", paused, err)
			}
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_ticket", Arguments: map[string]any{"id": "T-101"}}); err == nil || !strings.Contains(err.Error(), "not permitted") {
				t.Fatalf("denied call during outage=%v: %v", paused, err)
			}
		}
	}
	calls(5)
	before := len(watcher.settle(t, 10, time.Second))

	kafkaScript(t, "pause")
	paused = true
	outageStart := time.Now()
	calls(20) // 40 exchanges while the broker is down
	time.Sleep(time.Second)
	watcher.mu.Lock()
	during := len(watcher.ids)
	watcher.mu.Unlock()
	if during != before {
		t.Fatalf("%d decisions reached Kafka while the broker was down (before: %d)", during, before)
	}
	kafkaScript(t, "resume")
	paused = false
	outage := time.Since(outageStart)

	want := before + 40
	events := watcher.settle(t, want, 2*time.Second)
	if len(events) < want {
		t.Fatalf("%d decisions on Kafka after the outage, want at least %d", len(events), want)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chAddr}, Auth: clickhouse.Auth{Database: cfg.ClickHouseDatabase, Username: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	var stored uint64
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM decisions").Scan(&stored); err == nil && int(stored) >= len(events) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ClickHouse holds %d of the %d decisions after the outage", stored, len(events))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if int(stored) != len(events) {
		t.Fatalf("ClickHouse holds %d distinct decisions, Kafka carried %d", stored, len(events))
	}
	t.Logf("PROVED: broker down for %s (stop → restart on the same data); 40 calls were enforced (20 allowed served, 20 denied refused); afterwards all %d decisions (%d before + %d during/after) reached Kafka and ClickHouse (uniqExact(event_id) = %d)",
		outage.Round(time.Millisecond), len(events), before, len(events)-before, stored)
}
