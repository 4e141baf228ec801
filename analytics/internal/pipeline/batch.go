package pipeline

import (
	"fmt"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/portcullis/portcullis/analytics/internal/store"
)

// batch is one poll's records, decoded.
type batch struct {
	records   []*kgo.Record
	decisions []*decisionv1.Decision
	origins   []store.Origin // of decisions, index by index
	dead      []store.DeadLetter
}

// decodeBatch decodes records into decisions; the records that are not a
// storable decision become dead letters.
func decodeBatch(records []*kgo.Record) batch {
	b := batch{records: records, decisions: make([]*decisionv1.Decision, 0, len(records)), origins: make([]store.Origin, 0, len(records))}
	for _, r := range records {
		origin := store.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
		d := &decisionv1.Decision{}
		err := proto.Unmarshal(r.Value, d)
		if err != nil {
			err = fmt.Errorf("decode portcullis.decision.v1.Decision: %w", err)
		} else {
			err = store.CheckDecision(d)
		}
		if err != nil {
			b.dead = append(b.dead, store.DeadLetter{
				Origin: origin, Key: r.Key, Value: r.Value, Err: err.Error(), RecordTime: r.Timestamp,
			})
			continue
		}
		b.decisions = append(b.decisions, d)
		b.origins = append(b.origins, origin)
	}
	return b
}
