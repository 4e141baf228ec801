package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics names the topics the filter uses.
type Topics struct {
	Decisions string
	Verdicts  string
}

// EnsureTopics creates the decisions topic (3 partitions) and the compacted
// verdicts topic if they are missing. Existing topics are left as they are.
func EnsureTopics(ctx context.Context, client *kgo.Client, t Topics) error {
	adm := kadm.NewClient(client)
	compact := "compact"
	var errs []error
	for _, spec := range []struct {
		name    string
		configs map[string]*string
	}{
		{t.Decisions, nil},
		{t.Verdicts, map[string]*string{"cleanup.policy": &compact}},
	} {
		resp, err := adm.CreateTopic(ctx, 3, -1, spec.configs, spec.name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %s: %w", spec.name, err))
		}
	}
	return errors.Join(errs...)
}
