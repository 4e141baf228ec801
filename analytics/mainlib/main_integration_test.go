//go:build integration

package mainlib

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/portcullis/portcullis/analytics/internal/testenv"
)

// TestIntegrationMain runs the service as the binary does, against the real
// Kafka and ClickHouse: it creates its topics and schema, stores what is
// produced, blocks a bursting agent, and stops cleanly on cancel.
func TestIntegrationMain(t *testing.T) {
	chAddr, brokers := testenv.ClickHouseAddr(t), testenv.KafkaBrokers(t)
	id := testenv.UniqueName("")
	db, decisions, verdicts, group := "it_main_"+id, "it.main.decisions."+id, "it.main.verdicts."+id, "it-main-"+id

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chAddr}})
	if err != nil {
		t.Fatal(err)
	}
	kcl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(decisions))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`")
		conn.Close()
		adm := kadm.NewClient(kcl)
		_, _ = adm.DeleteGroups(ctx, group)
		_, _ = adm.DeleteTopics(ctx, decisions, verdicts)
		kcl.Close()
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{
			"-kafka-brokers", strings.Join(brokers, ","),
			"-clickhouse-addr", chAddr, "-clickhouse-database", db,
			"-decisions-topic", decisions, "-verdicts-topic", verdicts, "-group", group,
			"-deny-threshold", "3", "-deny-window", "10s", "-block-for", "1h", "-log-level", "debug",
		}, &stderr)
	}()

	var recs []*kgo.Record
	now := time.Now()
	for i := range 20 {
		outcome := decisionv1.Outcome_OUTCOME_ALLOWED
		agent := fmt.Sprint("agent-", i%4)
		if i >= 17 {
			outcome, agent = decisionv1.Outcome_OUTCOME_DENIED, "eve"
		}
		b, _ := proto.Marshal(&decisionv1.Decision{
			EventId: fmt.Sprintf("main-%d", i), Time: timestamppb.New(now.Add(time.Duration(i) * time.Millisecond)),
			Agent: agent, Outcome: outcome,
		})
		recs = append(recs, &kgo.Record{Key: []byte(agent), Value: b})
	}
	// Main creates the topics; produce once they exist.
	adm := kadm.NewClient(kcl)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		td, err := adm.ListTopics(ctx, decisions, verdicts)
		if err == nil && td.Has(decisions) && td.Has(verdicts) && td[decisions].Err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topics not created: %v\nservice log:\n%s", err, stderr.String())
		}
	}
	pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
	defer pcancel()
	if err := kcl.ProduceSync(pctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v\nservice log:\n%s", err, stderr.String())
	}

	dbConn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chAddr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	defer dbConn.Close()
	var n uint64
	for deadline := time.Now().Add(60 * time.Second); n != 20; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 20 decisions stored\nservice log:\n%s", n, stderr.String())
		}
		_ = dbConn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM decisions").Scan(&n)
	}

	vcl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(verdicts), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer vcl.Close()
	vctx, vcancel := context.WithTimeout(ctx, 30*time.Second)
	defer vcancel()
	var got []*kgo.Record
	for len(got) == 0 && vctx.Err() == nil {
		got = append(got, vcl.PollFetches(vctx).Records()...)
	}
	if len(got) != 1 || string(got[0].Key) != "agent:eve" {
		t.Fatalf("verdict records = %v\nservice log:\n%s", got, stderr.String())
	}
	var v verdictv1.Verdict
	if err := proto.Unmarshal(got[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	if v.GetAction() != verdictv1.Action_ACTION_BLOCK || v.GetReason() != "3 denied calls within 10s" ||
		v.GetExpiresAt().AsTime().Sub(v.GetIssuedAt().AsTime()) != time.Hour {
		t.Fatalf("verdict = %v", &v)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Main did not stop within 30s of cancel")
	}
	for _, want := range []string{`"msg":"analytics running"`, `"msg":"verdict issued"`, `"msg":"analytics stopped"`, `"msg":"applied clickhouse migration"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("service log lacks %s:\n%s", want, stderr.String())
		}
	}
}
