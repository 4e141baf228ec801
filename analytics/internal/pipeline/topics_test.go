package pipeline

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTopicsDefaults(t *testing.T) {
	got := Topics{}.withDefaults()
	want := Topics{Decisions: "portcullis.decisions.v1", Verdicts: "portcullis.verdicts.v1",
		DecisionsPartitions: 3, VerdictsPartitions: 1, ReplicationFactor: -1}
	if got != want {
		t.Fatalf("defaults = %+v, want %+v", got, want)
	}
}

func testEnsureTopics(t *testing.T, brokers []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics := testTopics()
	ctx := testCtx(t)
	t.Cleanup(func() { _, _ = adm.DeleteTopics(ctx, topics.Decisions, topics.Verdicts) })
	for run := 1; run <= 2; run++ {
		if err := EnsureTopics(ctx, adm, topics); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	td, err := adm.ListTopics(ctx, topics.Decisions, topics.Verdicts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td[topics.Decisions].Partitions); n != 3 {
		t.Errorf("decisions topic has %d partitions, want 3", n)
	}
	if n := len(td[topics.Verdicts].Partitions); n != 1 {
		t.Errorf("verdicts topic has %d partitions, want 1", n)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topics.Verdicts)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topics.Verdicts, nil)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" {
			policy = c.MaybeValue()
		}
	}
	if policy != "compact" {
		t.Errorf("verdicts topic cleanup.policy = %q, want compact", policy)
	}
}

func TestEnsureTopics(t *testing.T) { testEnsureTopics(t, newKfake(t)) }
