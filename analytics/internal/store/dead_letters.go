package store

import (
	"context"
	"time"
)

// DeadLetter is a Kafka record that could not be stored as a decision.
type DeadLetter struct {
	Origin Origin
	Key    []byte
	Value  []byte
	// Err says why it could not be stored.
	Err string
	// RecordTime is the Kafka record timestamp.
	RecordTime time.Time
}

var deadLetterColumns = []string{
	"kafka_topic", "kafka_partition", "kafka_offset", "record_key",
	"record_value", "error", "record_time", "received_at",
}

// InsertDeadLetters writes letters to the dead_letters table as one batch.
// Keys and values are stored byte for byte.
func (s *Store) InsertDeadLetters(ctx context.Context, letters []DeadLetter) error {
	now := s.opts.Now().UTC().Truncate(time.Second)
	return s.insert(ctx, "dead_letters", deadLetterColumns, len(letters), func(i int) ([]any, error) {
		l := letters[i]
		return []any{
			l.Origin.Topic, l.Origin.Partition, l.Origin.Offset, string(l.Key),
			string(l.Value), l.Err, clampDateTime(l.RecordTime), now,
		}, nil
	})
}

// clampDateTime brings t into ClickHouse's DateTime range (1970..2106),
// whole seconds, UTC.
func clampDateTime(t time.Time) time.Time {
	minT, maxT := time.Unix(0, 0), time.Unix(1<<32-1, 0)
	switch {
	case t.Before(minT):
		t = minT
	case t.After(maxT):
		t = maxT
	}
	return t.UTC().Truncate(time.Second)
}
