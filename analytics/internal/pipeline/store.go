package pipeline

import (
	"context"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"

	"github.com/portcullis/portcullis/analytics/internal/store"
)

// Store is where the pipeline writes; *store.Store implements it. Each call
// is one batch that succeeds or fails whole; a failed call is retried with
// the same arguments.
type Store interface {
	InsertDecisions(ctx context.Context, decisions []*decisionv1.Decision, origins []store.Origin) error
	InsertDeadLetters(ctx context.Context, letters []store.DeadLetter) error
	InsertVerdicts(ctx context.Context, verdicts []*verdictv1.Verdict, origins []store.Origin) error
}

var _ Store = (*store.Store)(nil)
