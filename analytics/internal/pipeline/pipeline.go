package pipeline

import (
	"context"
	"errors"
	"fmt"

	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/portcullis/portcullis/analytics/internal/store"
)

// Pipeline consumes decisions into a Store and publishes verdicts. Run it
// once; it is not safe for concurrent use.
type Pipeline struct {
	cfg   Config
	log   *zap.Logger
	store Store
	cl    *kgo.Client
}

// New returns a pipeline writing to st. It creates the Kafka client (which
// connects lazily) but consumes nothing before [Pipeline.Run].
func New(cfg Config, st Store) (*Pipeline, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("pipeline config: %w", err)
	}
	if st == nil {
		return nil, errors.New("pipeline config: no store")
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ConsumerGroup(c.Group),
		kgo.ConsumeTopics(c.Topics.Decisions),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotent writes are on by default
		kgo.WithLogger(kgoLogger{c.Logger.Named("kgo")}),
	}
	cl, err := kgo.NewClient(append(opts, c.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &Pipeline{cfg: c, log: c.Logger, store: st, cl: cl}, nil
}

// Client returns the pipeline's Kafka client (for an admin client or
// health checks).
func (p *Pipeline) Client() *kgo.Client { return p.cl }

// Run consumes until ctx is done, then returns nil. It returns an error only
// if the Kafka client was closed under it. A batch in flight when ctx ends
// is not committed, and is delivered again to the next consumer.
func (p *Pipeline) Run(ctx context.Context) error {
	errWait := p.cfg.RetryInitial
	for {
		fetches := p.cl.PollRecords(ctx, p.cfg.MaxBatch)
		if fetches.IsClientClosed() {
			p.cl.AllowRebalance()
			return errors.New("kafka client closed")
		}
		if ctx.Err() != nil {
			p.cl.AllowRebalance()
			return nil
		}
		fetchErrs := 0
		fetches.EachError(func(topic string, partition int32, err error) {
			fetchErrs++
			p.log.Warn("kafka fetch error", zap.String("topic", topic), zap.Int32("partition", partition), zap.Error(err))
		})
		recs := fetches.Records()
		if len(recs) > 0 {
			if err := p.process(ctx, recs); err != nil {
				p.cl.AllowRebalance()
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		p.cl.AllowRebalance()
		// A poll that returned only errors returns again at once: back off
		// so a persistent fetch error does not spin.
		if len(recs) == 0 && fetchErrs > 0 {
			if !sleep(ctx, jitter(errWait)) {
				return nil
			}
			errWait = min(2*errWait, p.cfg.RetryMax)
		} else {
			errWait = p.cfg.RetryInitial
		}
	}
}

// process stores one batch, runs the rules, publishes their verdicts and
// commits the batch. It returns an error only when ctx ended first.
func (p *Pipeline) process(ctx context.Context, recs []*kgo.Record) error {
	b := decodeBatch(recs)
	if len(b.decisions) > 0 {
		if err := p.retry(ctx, "insert decisions", func(ctx context.Context) error {
			return p.store.InsertDecisions(ctx, b.decisions, b.origins)
		}); err != nil {
			return err
		}
	}
	if len(b.dead) > 0 {
		if err := p.retry(ctx, "insert dead letters", func(ctx context.Context) error {
			return p.store.InsertDeadLetters(ctx, b.dead)
		}); err != nil {
			return err
		}
		p.log.Warn("undecodable decisions written to dead_letters", zap.Int("count", len(b.dead)),
			zap.String("first_error", b.dead[0].Err))
	}
	verdicts := p.evaluate(b)
	if len(verdicts) > 0 {
		var origins []store.Origin
		if err := p.retry(ctx, "produce verdicts", func(ctx context.Context) error {
			var err error
			origins, err = p.produce(ctx, verdicts)
			return err
		}); err != nil {
			return err
		}
		if err := p.retry(ctx, "insert verdicts", func(ctx context.Context) error {
			return p.store.InsertVerdicts(ctx, verdicts, origins)
		}); err != nil {
			return err
		}
		for _, v := range verdicts {
			p.log.Info("verdict issued", zap.String("verdict_id", v.GetVerdictId()),
				zap.String("subject_kind", v.GetSubject().GetKind().String()), zap.String("subject", v.GetSubject().GetId()),
				zap.String("action", v.GetAction().String()), zap.String("rule", v.GetRule()), zap.String("reason", v.GetReason()))
		}
	}
	p.commit(ctx, recs)
	return nil
}

// evaluate feeds the batch's decisions to the rules, in record order, and
// returns the verdicts they issue, with ids.
func (p *Pipeline) evaluate(b batch) []*verdictv1.Verdict {
	var out []*verdictv1.Verdict
	for _, d := range b.decisions {
		rd := ruleDecision(d)
		for _, r := range p.cfg.Rules {
			for _, v := range r.Observe(rd) {
				out = append(out, verdictProto(v, p.cfg.NewVerdictID()))
			}
		}
	}
	return out
}

// produce writes verdicts to the verdicts topic and waits for every
// acknowledgement; it returns where each was written.
func (p *Pipeline) produce(ctx context.Context, verdicts []*verdictv1.Verdict) ([]store.Origin, error) {
	recs := make([]*kgo.Record, len(verdicts))
	for i, v := range verdicts {
		key, err := VerdictKey(v)
		if err != nil {
			return nil, err
		}
		val, err := proto.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode verdict %s: %w", v.GetVerdictId(), err)
		}
		recs[i] = &kgo.Record{Topic: p.cfg.Topics.Verdicts, Key: []byte(key), Value: val}
	}
	res := p.cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return nil, fmt.Errorf("produce %d verdicts to %s: %w", len(recs), p.cfg.Topics.Verdicts, err)
	}
	origins := make([]store.Origin, len(recs))
	for i, r := range recs {
		origins[i] = store.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
	}
	return origins, nil
}

// commit commits the offsets of a stored batch. It runs even if ctx was
// cancelled after the batch was stored (bounded by CommitTimeout). A failed
// commit is logged, not retried: the batch is stored, the next batch's
// commit covers its partitions, and at worst the batch is delivered again.
func (p *Pipeline) commit(ctx context.Context, recs []*kgo.Record) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.CommitTimeout)
	defer cancel()
	if err := p.cl.CommitRecords(cctx, recs...); err != nil {
		p.log.Warn("commit of a stored batch failed; it may be delivered again",
			zap.Int("records", len(recs)), zap.Error(err))
	}
}

// Close leaves the consumer group and closes the Kafka client. Nothing is
// committed on close.
func (p *Pipeline) Close() {
	p.cl.CloseAllowingRebalance()
}
