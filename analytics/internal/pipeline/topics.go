package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Defaults of [Topics].
const (
	// DefaultDecisionsTopic is the default [Topics.Decisions].
	DefaultDecisionsTopic = "portcullis.decisions.v1"
	// DefaultVerdictsTopic is the default [Topics.Verdicts].
	DefaultVerdictsTopic = "portcullis.verdicts.v1"
	// DefaultDecisionsPartitions is the default [Topics.DecisionsPartitions].
	DefaultDecisionsPartitions = 3
	// DefaultVerdictsPartitions is the default [Topics.VerdictsPartitions].
	DefaultVerdictsPartitions = 1
)

// Topics names the pipeline's topics and how [EnsureTopics] creates them.
// Every zero value means the documented default.
type Topics struct {
	// Decisions is the topic decisions are consumed from (protobuf
	// portcullis.decision.v1.Decision, keyed by agent). Defaults to
	// DefaultDecisionsTopic ("portcullis.decisions.v1").
	Decisions string
	// Verdicts is the compacted topic verdicts are produced to (protobuf
	// portcullis.verdict.v1.Verdict, keyed "<kind>:<id>", e.g. "agent:a1").
	// Defaults to DefaultVerdictsTopic ("portcullis.verdicts.v1").
	Verdicts string
	// DecisionsPartitions defaults to DefaultDecisionsPartitions (3).
	DecisionsPartitions int32
	// VerdictsPartitions defaults to DefaultVerdictsPartitions (1): filters
	// read the whole topic anyway.
	VerdictsPartitions int32
	// ReplicationFactor of created topics; 0 (and -1) means the broker's
	// default.replication.factor.
	ReplicationFactor int16
}

func (t Topics) withDefaults() Topics {
	if t.Decisions == "" {
		t.Decisions = DefaultDecisionsTopic
	}
	if t.Verdicts == "" {
		t.Verdicts = DefaultVerdictsTopic
	}
	if t.DecisionsPartitions == 0 {
		t.DecisionsPartitions = DefaultDecisionsPartitions
	}
	if t.VerdictsPartitions == 0 {
		t.VerdictsPartitions = DefaultVerdictsPartitions
	}
	if t.ReplicationFactor == 0 {
		t.ReplicationFactor = -1
	}
	return t
}

// EnsureTopics creates the decisions topic and the compacted verdicts topic
// if they do not exist. Existing topics are left as they are (their
// partitions and configs are not checked or changed).
func EnsureTopics(ctx context.Context, admin *kadm.Client, topics Topics) error {
	t := topics.withDefaults()
	compact := "compact"
	var errs []error
	for _, spec := range []struct {
		name       string
		partitions int32
		configs    map[string]*string
	}{
		{t.Decisions, t.DecisionsPartitions, nil},
		{t.Verdicts, t.VerdictsPartitions, map[string]*string{"cleanup.policy": &compact}},
	} {
		resp, err := admin.CreateTopic(ctx, spec.partitions, t.ReplicationFactor, spec.configs, spec.name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %s: %w", spec.name, err))
		}
	}
	return errors.Join(errs...)
}
