package pipeline

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Brokers: []string{"b:9092"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Group != "portcullis-analytics" || c.MaxBatch != 10_000 || c.RetryInitial != 100*time.Millisecond ||
		c.RetryMax != 10*time.Second || c.CommitTimeout != 10*time.Second || c.Logger == nil || c.NewVerdictID == nil ||
		c.Topics.Decisions != DefaultDecisionsTopic || c.Topics.Verdicts != DefaultVerdictsTopic {
		t.Fatalf("defaults = %+v", c)
	}
	if id := c.NewVerdictID(); len(id) != 36 {
		t.Fatalf("verdict id %q is not a UUID", id)
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := New(Config{
		MaxBatch: -1, RetryInitial: -1, CommitTimeout: -1,
		Topics: Topics{Decisions: "same", Verdicts: "same"},
	}, &fakeStore{})
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"no Kafka brokers", "max batch -1", "retry backoff", "commit timeout", `both "same"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := New(Config{Brokers: []string{"b:1"}}, nil); err == nil || !strings.Contains(err.Error(), "no store") {
		t.Errorf("nil store: err = %v", err)
	}
}
