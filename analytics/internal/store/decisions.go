package store

import (
	"context"
	"fmt"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
)

// InsertDecisions writes decisions to the decisions table as one batch.
// origins, if not nil, holds where each decision was read from Kafka (same
// length as decisions); nil stores partition and offset 0. It fails, wrapping
// [ErrInvalidDecision] and writing nothing, if any decision fails
// [CheckDecision]; callers check first and dead-letter those.
func (s *Store) InsertDecisions(ctx context.Context, decisions []*decisionv1.Decision, origins []Origin) error {
	if origins != nil && len(origins) != len(decisions) {
		return fmt.Errorf("insert decisions: %d origins for %d decisions", len(origins), len(decisions))
	}
	now := s.opts.Now()
	rows := make([]DecisionRow, len(decisions))
	for i, d := range decisions {
		r, err := NewDecisionRow(d, originAt(origins, i), now)
		if err != nil {
			return fmt.Errorf("insert decisions: %w", err)
		}
		rows[i] = r
	}
	return s.insert(ctx, "decisions", decisionColumns, len(rows), func(i int) ([]any, error) {
		return rows[i].values(), nil
	})
}
