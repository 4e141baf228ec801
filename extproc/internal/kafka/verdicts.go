package kafka

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/portcullis/portcullis/extproc/internal/verdict"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
)

// VerdictFeed reads the compacted verdicts topic from the beginning (every
// replica sees every verdict; no consumer group) and applies each verdict to
// the cache.
type VerdictFeed struct {
	client  *kgo.Client
	cache   *verdict.Cache
	log     *zap.Logger
	applied atomic.Uint64
	invalid atomic.Uint64
}

// NewVerdictClient returns a franz-go client consuming topic from its start.
func NewVerdictClient(brokers []string, topic string, extra ...kgo.Opt) (*kgo.Client, error) {
	if topic == "" {
		topic = DefaultVerdictsTopic
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, extra...)
	return kgo.NewClient(opts...)
}

// NewVerdictFeed returns a feed applying verdicts read by client to cache.
// log defaults to a no-op logger when nil.
func NewVerdictFeed(client *kgo.Client, cache *verdict.Cache, log *zap.Logger) *VerdictFeed {
	if log == nil {
		log = zap.NewNop()
	}
	return &VerdictFeed{client: client, cache: cache, log: log}
}

// Run consumes until ctx is done.
func (f *VerdictFeed) Run(ctx context.Context) error {
	for {
		fetches := f.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil // shutdown, not a failure
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				f.log.Warn("verdict fetch failed", zap.String("topic", topic), zap.Int32("partition", p), zap.Error(err))
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if len(r.Value) == 0 {
				return // tombstone: the subject's verdict was compacted away
			}
			var pv verdictv1.Verdict
			if err := proto.Unmarshal(r.Value, &pv); err != nil {
				f.invalid.Add(1)
				f.log.Warn("undecodable verdict skipped", zap.Int32("partition", r.Partition), zap.Int64("offset", r.Offset), zap.Error(err))
				return
			}
			v, ok := fromProto(&pv)
			if !ok {
				f.invalid.Add(1)
				return
			}
			f.cache.Apply(v)
			f.applied.Add(1)
		})
	}
}

// Applied is the number of verdicts applied so far.
func (f *VerdictFeed) Applied() uint64 { return f.applied.Load() }

func fromProto(pv *verdictv1.Verdict) (verdict.Verdict, bool) {
	kinds := map[verdictv1.SubjectKind]verdict.Kind{
		verdictv1.SubjectKind_SUBJECT_KIND_AGENT:          verdict.KindAgent,
		verdictv1.SubjectKind_SUBJECT_KIND_SUBJECT:        verdict.KindSubject,
		verdictv1.SubjectKind_SUBJECT_KIND_PERSONA:        verdict.KindPersona,
		verdictv1.SubjectKind_SUBJECT_KIND_SESSION:        verdict.KindSession,
		verdictv1.SubjectKind_SUBJECT_KIND_CLIENT_ADDRESS: verdict.KindClientAddress,
	}
	actions := map[verdictv1.Action]verdict.Action{
		verdictv1.Action_ACTION_BLOCK:    verdict.ActionBlock,
		verdictv1.Action_ACTION_THROTTLE: verdict.ActionThrottle,
		verdictv1.Action_ACTION_CLEAR:    verdict.ActionClear,
	}
	kind, ok := kinds[pv.GetSubject().GetKind()]
	if !ok || pv.GetSubject().GetId() == "" {
		return verdict.Verdict{}, false
	}
	action, ok := actions[pv.GetAction()]
	if !ok {
		return verdict.Verdict{}, false
	}
	v := verdict.Verdict{
		ID:       pv.GetVerdictId(),
		Subject:  verdict.Key{Kind: kind, ID: pv.GetSubject().GetId()},
		Action:   action,
		Reason:   pv.GetReason(),
		Rule:     pv.GetRule(),
		IssuedAt: pv.GetIssuedAt().AsTime(),
		Rate:     pv.GetThrottleRatePerSecond(),
		Burst:    int(pv.GetThrottleBurst()),
	}
	if pv.GetExpiresAt() != nil {
		v.ExpiresAt = pv.GetExpiresAt().AsTime()
	}
	return v, true
}
