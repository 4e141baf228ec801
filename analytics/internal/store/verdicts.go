package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
)

// VerdictRow is one row of the verdicts table, in column order
// ([verdictColumns]).
type VerdictRow struct {
	VerdictID             string
	SubjectKind           string // SubjectKind enum name
	SubjectID             string
	Action                string // Action enum name
	Reason                string
	Rule                  string
	IssuedAt              time.Time
	ExpiresAt             *time.Time // nil: until cleared
	ThrottleRatePerSecond float64
	ThrottleBurst         uint32
	KafkaTopic            string
	KafkaPartition        int32
	KafkaOffset           int64
	InsertedAt            time.Time
}

var verdictColumns = []string{
	"verdict_id", "subject_kind", "subject_id", "action", "reason", "rule",
	"issued_at", "expires_at", "throttle_rate_per_second", "throttle_burst",
	"kafka_topic", "kafka_partition", "kafka_offset", "inserted_at",
}

// NewVerdictRow maps v, written at origin and inserted at insertedAt, to its
// row. It fails for an enum value the schema does not know, or for a missing
// verdict id or issue time.
func NewVerdictRow(v *verdictv1.Verdict, origin Origin, insertedAt time.Time) (VerdictRow, error) {
	var errs []error
	if v.GetVerdictId() == "" {
		errs = append(errs, errors.New("missing verdict_id"))
	}
	if _, ok := verdictv1.SubjectKind_name[int32(v.GetSubject().GetKind())]; !ok {
		errs = append(errs, fmt.Errorf("unknown subject kind %d", v.GetSubject().GetKind()))
	}
	if _, ok := verdictv1.Action_name[int32(v.GetAction())]; !ok {
		errs = append(errs, fmt.Errorf("unknown action %d", v.GetAction()))
	}
	if v.GetIssuedAt() == nil {
		errs = append(errs, errors.New("missing issued_at"))
	}
	if err := errors.Join(errs...); err != nil {
		return VerdictRow{}, fmt.Errorf("verdict %q: %w", v.GetVerdictId(), err)
	}
	r := VerdictRow{
		VerdictID:             v.GetVerdictId(),
		SubjectKind:           v.GetSubject().GetKind().String(),
		SubjectID:             v.GetSubject().GetId(),
		Action:                v.GetAction().String(),
		Reason:                v.GetReason(),
		Rule:                  v.GetRule(),
		IssuedAt:              v.GetIssuedAt().AsTime().Truncate(time.Second),
		ThrottleRatePerSecond: v.GetThrottleRatePerSecond(),
		ThrottleBurst:         v.GetThrottleBurst(),
		KafkaTopic:            origin.Topic,
		KafkaPartition:        origin.Partition,
		KafkaOffset:           origin.Offset,
		InsertedAt:            insertedAt.UTC().Truncate(time.Second),
	}
	if v.GetExpiresAt() != nil {
		e := v.GetExpiresAt().AsTime().Truncate(time.Second)
		r.ExpiresAt = &e
	}
	return r, nil
}

func (r *VerdictRow) values() []any {
	return []any{
		r.VerdictID, r.SubjectKind, r.SubjectID, r.Action, r.Reason, r.Rule,
		r.IssuedAt, r.ExpiresAt, r.ThrottleRatePerSecond, r.ThrottleBurst,
		r.KafkaTopic, r.KafkaPartition, r.KafkaOffset, r.InsertedAt,
	}
}

// InsertVerdicts writes verdicts to the verdicts table as one batch. origins,
// if not nil, holds where each verdict was produced on Kafka (same length as
// verdicts).
func (s *Store) InsertVerdicts(ctx context.Context, verdicts []*verdictv1.Verdict, origins []Origin) error {
	if origins != nil && len(origins) != len(verdicts) {
		return fmt.Errorf("insert verdicts: %d origins for %d verdicts", len(origins), len(verdicts))
	}
	now := s.opts.Now()
	rows := make([]VerdictRow, len(verdicts))
	for i, v := range verdicts {
		r, err := NewVerdictRow(v, originAt(origins, i), now)
		if err != nil {
			return fmt.Errorf("insert verdicts: %w", err)
		}
		rows[i] = r
	}
	return s.insert(ctx, "verdicts", verdictColumns, len(rows), func(i int) ([]any, error) {
		return rows[i].values(), nil
	})
}
