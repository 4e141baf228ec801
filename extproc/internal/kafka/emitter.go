// Package kafka is the filter's Kafka adapter: it turns decisions into
// protobuf events, spools them durably and produces them with franz-go, and
// it feeds the verdict cache from the compacted verdicts topic.
package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/portcullis/portcullis/extproc/dlp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/portcullis/portcullis/extproc/internal/filter"
	"github.com/portcullis/portcullis/extproc/internal/spool"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
)

// Default topic names.
const (
	DefaultDecisionsTopic = "portcullis.decisions.v1"
	DefaultVerdictsTopic  = "portcullis.verdicts.v1"
)

// EmitterOptions configure an Emitter.
type EmitterOptions struct {
	// Topic receives the decisions. Defaults to DefaultDecisionsTopic.
	Topic string
	// Instance identifies this filter replica in every event. Required.
	Instance string
	// BatchSize is the most records produced per round. Defaults to 500.
	BatchSize int
	// SyncInterval is how often the spool is fsynced. Defaults to 200ms.
	SyncInterval time.Duration
	// RetryBackoff is the longest wait between delivery attempts while the
	// broker is unreachable. Defaults to 2s.
	RetryBackoff time.Duration
	// Logger logs delivery problems. Defaults to a no-op logger.
	Logger *zap.Logger
}

// Emitter implements server.Emitter: Emit appends to the spool (a local file
// write, never a network wait) and a background loop produces spooled
// records in order, acknowledging them only once Kafka has them (acks=all,
// idempotent producer).
type Emitter struct {
	opts   EmitterOptions
	spool  *spool.Spool
	client *kgo.Client

	emitted   atomic.Uint64
	delivered atomic.Uint64
	failures  atomic.Uint64 // decisions that could not be spooled
}

// NewEmitter returns an emitter writing to sp and producing with client. The
// client must be configured with idempotent writes and acks=all (the
// franz-go defaults; see NewProducerClient).
func NewEmitter(sp *spool.Spool, client *kgo.Client, opts EmitterOptions) (*Emitter, error) {
	if opts.Instance == "" {
		return nil, errors.New("kafka: emitter instance id is required")
	}
	if opts.Topic == "" {
		opts.Topic = DefaultDecisionsTopic
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = 200 * time.Millisecond
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Emitter{opts: opts, spool: sp, client: client}, nil
}

// NewProducerClient returns a franz-go client for decisions: idempotent,
// acks=all, retrying records without limit (franz-go's default; the spool
// bounds what waits).
func NewProducerClient(brokers []string, extra ...kgo.Opt) (*kgo.Client, error) {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.UnknownTopicRetries(-1),
	}, extra...)
	return kgo.NewClient(opts...)
}

// Admit refuses new exchanges when the spool is full.
func (e *Emitter) Admit() error { return e.spool.Admit() }

// Emit spools d. It returns quickly; delivery happens in Run.
func (e *Emitter) Emit(d filter.Decision) {
	_, err := e.spool.Append(func(seq uint64) []byte {
		ev := toProto(d)
		ev.EventId = uuid.Must(uuid.NewV7()).String()
		ev.ProcessorInstance = e.opts.Instance
		ev.Sequence = seq
		return encodeRecord(d.Agent, ev)
	})
	if err != nil {
		e.failures.Add(1)
		e.opts.Logger.Error("decision not spooled", zap.Error(err), zap.String("agent", d.Agent))
		return
	}
	e.emitted.Add(1)
}

// Run delivers spooled decisions until ctx is done.
func (e *Emitter) Run(ctx context.Context) error {
	go e.syncLoop(ctx)
	backoff := 100 * time.Millisecond
	for {
		recs, err := e.spool.Read(ctx, e.opts.BatchSize)
		if err != nil {
			if ctx.Err() != nil {
				return nil // shutdown: the read was interrupted, not failed
			}
			return err
		}
		krs := make([]*kgo.Record, 0, len(recs))
		for _, r := range recs {
			key, value, err := decodeRecord(r.Payload)
			if err != nil {
				return fmt.Errorf("kafka: spooled record %d: %w", r.Seq, err)
			}
			krs = append(krs, &kgo.Record{Topic: e.opts.Topic, Key: key, Value: value})
		}
		for {
			stopped, err := e.produce(ctx, krs)
			if stopped {
				// Shutdown: whatever is unacknowledged stays spooled and is
				// delivered after the restart.
				return nil
			}
			if err == nil {
				break
			}
			e.opts.Logger.Warn("decision delivery failed; retrying", zap.Error(err), zap.Int("records", len(krs)))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, e.opts.RetryBackoff)
			// Records the broker had already accepted are produced again:
			// consumers de-duplicate on event id (at-least-once).
			for i, r := range krs {
				krs[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
			}
		}
		backoff = 100 * time.Millisecond
		if err := e.spool.Ack(recs[len(recs)-1].Seq); err != nil {
			return fmt.Errorf("kafka: acknowledging spool: %w", err)
		}
		e.delivered.Add(uint64(len(recs)))
	}
}

// produce sends records and waits for all of them to be acknowledged (the
// client retries retriable errors itself, without limit) or for ctx to end.
// franz-go cannot take back records already sent in a request, so ctx ends
// the wait, not the records: Close on the client fails them.
func (e *Emitter) produce(ctx context.Context, krs []*kgo.Record) (stopped bool, err error) {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	wg.Add(len(krs))
	for _, r := range krs {
		e.client.Produce(context.WithoutCancel(ctx), r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return false, firstErr
	case <-ctx.Done():
		return true, nil
	}
}

func (e *Emitter) syncLoop(ctx context.Context) {
	t := time.NewTicker(e.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.spool.Sync(); err != nil {
				e.opts.Logger.Error("spool sync failed", zap.Error(err))
			}
		}
	}
}

// EmitterStats are counters for health checks and tests.
type EmitterStats struct {
	Emitted, Delivered, Failures uint64
	Spool                        spool.Stats
}

// Stats returns the emitter's counters.
func (e *Emitter) Stats() EmitterStats {
	return EmitterStats{Emitted: e.emitted.Load(), Delivered: e.delivered.Load(), Failures: e.failures.Load(), Spool: e.spool.Stats()}
}

// encodeRecord frames a Kafka key and protobuf value as one spool payload:
// [uvarint key length][key][value].
func encodeRecord(key string, ev *decisionv1.Decision) []byte {
	value, err := proto.Marshal(ev)
	if err != nil {
		// Marshalling a well-formed generated message cannot fail.
		panic(fmt.Sprintf("kafka: marshal decision: %v", err))
	}
	buf := make([]byte, 0, binary.MaxVarintLen64+len(key)+len(value))
	buf = binary.AppendUvarint(buf, uint64(len(key)))
	buf = append(buf, key...)
	return append(buf, value...)
}

func decodeRecord(p []byte) (key, value []byte, err error) {
	n, w := binary.Uvarint(p)
	if w <= 0 || uint64(len(p)-w) < n {
		return nil, nil, errors.New("bad framing")
	}
	return p[w : w+int(n)], p[w+int(n):], nil
}

func toProto(d filter.Decision) *decisionv1.Decision {
	ev := &decisionv1.Decision{
		Time:          timestamppb.New(d.Time),
		Agent:         d.Agent,
		Subject:       d.Subject,
		Persona:       d.Persona,
		Session:       d.Session,
		McpMethod:     d.Method,
		Tool:          d.Tool,
		Upstream:      d.Upstream,
		Outcome:       outcomes[d.Outcome],
		Reason:        reasons[d.Reason],
		Latency:       durationpb.New(d.Latency),
		BytesIn:       d.BytesIn,
		BytesOut:      d.BytesOut,
		ClientAddress: d.ClientAddress,
		Environment:   d.Environment,
		HttpMethod:    d.HTTPMethod,
		HttpStatus:    uint32(max(d.HTTPStatus, 0)),
		VerdictId:     d.VerdictID,
		RequestId:     d.RequestID,
		PolicyVersion: d.PolicyVersion,
		// The slice is the decision's own (Finish's record); sharing it is
		// safe, as the exchange is over.
		QuarantinedTools: d.QuarantinedTools,
	}
	for _, f := range d.Findings {
		ev.Findings = append(ev.Findings, &decisionv1.Finding{Type: f.Type, Count: f.Count, Direction: directions[f.Direction], Action: dataActions[f.Action]})
	}
	return ev
}

var outcomes = map[filter.Outcome]decisionv1.Outcome{
	filter.OutcomeAllowed:   decisionv1.Outcome_OUTCOME_ALLOWED,
	filter.OutcomeDenied:    decisionv1.Outcome_OUTCOME_DENIED,
	filter.OutcomeBlocked:   decisionv1.Outcome_OUTCOME_BLOCKED,
	filter.OutcomeError:     decisionv1.Outcome_OUTCOME_ERROR,
	filter.OutcomeThrottled: decisionv1.Outcome_OUTCOME_THROTTLED,
}

var reasons = map[filter.Reason]decisionv1.ReasonCode{
	filter.ReasonToolGranted:          decisionv1.ReasonCode_REASON_CODE_TOOL_GRANTED,
	filter.ReasonToolNotGranted:       decisionv1.ReasonCode_REASON_CODE_TOOL_NOT_GRANTED,
	filter.ReasonMethodPassthrough:    decisionv1.ReasonCode_REASON_CODE_METHOD_PASSTHROUGH,
	filter.ReasonMethodForbidden:      decisionv1.ReasonCode_REASON_CODE_METHOD_FORBIDDEN,
	filter.ReasonMissingCredential:    decisionv1.ReasonCode_REASON_CODE_MISSING_CREDENTIAL,
	filter.ReasonUnknownCredential:    decisionv1.ReasonCode_REASON_CODE_UNKNOWN_CREDENTIAL,
	filter.ReasonMalformedRequest:     decisionv1.ReasonCode_REASON_CODE_MALFORMED_REQUEST,
	filter.ReasonBodyTooLarge:         decisionv1.ReasonCode_REASON_CODE_BODY_TOO_LARGE,
	filter.ReasonVerdictBlock:         decisionv1.ReasonCode_REASON_CODE_VERDICT_BLOCK,
	filter.ReasonVerdictThrottle:      decisionv1.ReasonCode_REASON_CODE_VERDICT_THROTTLE,
	filter.ReasonNoMessage:            decisionv1.ReasonCode_REASON_CODE_NO_MESSAGE,
	filter.ReasonInternalError:        decisionv1.ReasonCode_REASON_CODE_INTERNAL_ERROR,
	filter.ReasonPersonaMismatch:      decisionv1.ReasonCode_REASON_CODE_PERSONA_MISMATCH,
	filter.ReasonAuditUnavailable:     decisionv1.ReasonCode_REASON_CODE_AUDIT_UNAVAILABLE,
	filter.ReasonSensitiveData:        decisionv1.ReasonCode_REASON_CODE_SENSITIVE_DATA,
	filter.ReasonDataFlow:             decisionv1.ReasonCode_REASON_CODE_DATA_FLOW,
	filter.ReasonUnregisteredUpstream: decisionv1.ReasonCode_REASON_CODE_UNREGISTERED_UPSTREAM,
	filter.ReasonToolQuarantined:      decisionv1.ReasonCode_REASON_CODE_TOOL_QUARANTINED,
	filter.ReasonRateLimited:          decisionv1.ReasonCode_REASON_CODE_RATE_LIMITED,
	filter.ReasonOriginRefused:        decisionv1.ReasonCode_REASON_CODE_ORIGIN_REFUSED,
	filter.ReasonSessionNotBound:      decisionv1.ReasonCode_REASON_CODE_SESSION_NOT_BOUND,
	filter.ReasonNoRoute:              decisionv1.ReasonCode_REASON_CODE_NO_ROUTE,
}

var directions = map[filter.Direction]decisionv1.Direction{
	filter.DirectionRequest:  decisionv1.Direction_DIRECTION_REQUEST,
	filter.DirectionResponse: decisionv1.Direction_DIRECTION_RESPONSE,
}

var dataActions = map[dlp.Action]decisionv1.DataAction{
	dlp.ActionAllow:    decisionv1.DataAction_DATA_ACTION_ALLOWED,
	dlp.ActionMask:     decisionv1.DataAction_DATA_ACTION_MASKED,
	dlp.ActionTokenise: decisionv1.DataAction_DATA_ACTION_TOKENISED,
	dlp.ActionRedact:   decisionv1.DataAction_DATA_ACTION_REDACTED,
	dlp.ActionBlock:    decisionv1.DataAction_DATA_ACTION_BLOCKED,
}
