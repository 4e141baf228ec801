package store

import (
	"errors"
	"fmt"
	"math"
	"time"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
)

// ErrInvalidDecision marks a decision the decisions table cannot hold; see
// [CheckDecision].
var ErrInvalidDecision = errors.New("invalid decision")

// CheckDecision reports, wrapping [ErrInvalidDecision], why d cannot be
// stored as a decisions row: a missing event_id or time, a time out of the
// DateTime range, an outcome this schema does not know, or an HTTP status
// past UInt16. Such a decision goes to the dead letters instead: inserting it
// would fail its whole batch, forever.
func CheckDecision(d *decisionv1.Decision) error {
	var errs []error
	if d.GetEventId() == "" {
		errs = append(errs, errors.New("missing event_id"))
	}
	switch ts := d.GetTime(); {
	case ts == nil:
		errs = append(errs, errors.New("missing time"))
	case ts.CheckValid() != nil:
		errs = append(errs, fmt.Errorf("time: %w", ts.CheckValid()))
	case ts.GetSeconds() < 0 || ts.GetSeconds() > math.MaxUint32:
		errs = append(errs, fmt.Errorf("time %s is outside ClickHouse DateTime (1970..2106)", ts.AsTime().Format(time.RFC3339)))
	}
	if _, ok := decisionv1.Outcome_name[int32(d.GetOutcome())]; !ok {
		errs = append(errs, fmt.Errorf("unknown outcome %d", d.GetOutcome()))
	}
	if d.GetHttpStatus() > math.MaxUint16 {
		errs = append(errs, fmt.Errorf("http_status %d exceeds 65535", d.GetHttpStatus()))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalidDecision, d.GetEventId(), err)
	}
	return nil
}

// DecisionRow is one row of the decisions table, in column order
// ([decisionColumns]).
type DecisionRow struct {
	EventID           string
	Time              time.Time // whole seconds, UTC
	TimeNanos         uint32
	ProcessorInstance string
	Sequence          uint64
	Agent             string
	Subject           string
	Persona           string
	Session           string
	MCPMethod         string
	Tool              string
	Upstream          string
	Outcome           string // Outcome enum name
	Reason            string // ReasonCode enum name (its number if unknown)
	// Findings as parallel arrays: element i of each is Decision.findings[i].
	FindingTypes      []string
	FindingCounts     []uint32
	FindingDirections []string // Direction enum names (numbers if unknown)
	FindingActions    []string // DataAction enum names (numbers if unknown)
	LatencyMicros     uint64
	BytesIn           uint64
	BytesOut          uint64
	ClientAddress     string
	Environment       string
	HTTPMethod        string
	HTTPStatus        uint16
	VerdictID         string
	RequestID         string
	PolicyVersion     string    // the enforced policy's version (migration 0005)
	QuarantinedTools  []string  // tools withheld as rug pulls (migration 0006)
	IngestedAt        time.Time // whole seconds, UTC
	KafkaPartition    int32
	KafkaOffset       int64
}

// decisionColumns are the decisions columns [DecisionRow.values] fills, in
// order.
var decisionColumns = []string{
	"event_id", "time", "time_nanos", "processor_instance", "sequence",
	"agent", "subject", "persona", "session", "mcp_method", "tool", "upstream",
	"outcome", "reason", "finding_types", "finding_counts",
	"finding_directions", "finding_actions", "latency_us", "bytes_in",
	"bytes_out", "client_address", "environment", "http_method", "http_status",
	"verdict_id", "request_id", "policy_version", "quarantined_tools", "ingested_at",
	"kafka_partition", "kafka_offset",
}

// NewDecisionRow maps d, read at origin and ingested at ingestedAt, to its
// row. It fails for what [CheckDecision] rejects.
func NewDecisionRow(d *decisionv1.Decision, origin Origin, ingestedAt time.Time) (DecisionRow, error) {
	if err := CheckDecision(d); err != nil {
		return DecisionRow{}, err
	}
	t := d.GetTime().AsTime()
	r := DecisionRow{
		EventID:           d.GetEventId(),
		Time:              t.Truncate(time.Second),
		TimeNanos:         uint32(d.GetTime().GetNanos()),
		ProcessorInstance: d.GetProcessorInstance(),
		Sequence:          d.GetSequence(),
		Agent:             d.GetAgent(),
		Subject:           d.GetSubject(),
		Persona:           d.GetPersona(),
		Session:           d.GetSession(),
		MCPMethod:         d.GetMcpMethod(),
		Tool:              d.GetTool(),
		Upstream:          d.GetUpstream(),
		Outcome:           d.GetOutcome().String(),
		Reason:            d.GetReason().String(),
		FindingTypes:      make([]string, 0, len(d.GetFindings())),
		FindingCounts:     make([]uint32, 0, len(d.GetFindings())),
		FindingDirections: make([]string, 0, len(d.GetFindings())),
		FindingActions:    make([]string, 0, len(d.GetFindings())),
		LatencyMicros:     latencyMicros(d),
		BytesIn:           d.GetBytesIn(),
		BytesOut:          d.GetBytesOut(),
		ClientAddress:     d.GetClientAddress(),
		Environment:       d.GetEnvironment(),
		HTTPMethod:        d.GetHttpMethod(),
		HTTPStatus:        uint16(d.GetHttpStatus()),
		VerdictID:         d.GetVerdictId(),
		RequestID:         d.GetRequestId(),
		PolicyVersion:     d.GetPolicyVersion(),
		QuarantinedTools:  append(make([]string, 0, len(d.GetQuarantinedTools())), d.GetQuarantinedTools()...),
		IngestedAt:        ingestedAt.UTC().Truncate(time.Second),
		KafkaPartition:    origin.Partition,
		KafkaOffset:       origin.Offset,
	}
	for _, f := range d.GetFindings() {
		r.FindingTypes = append(r.FindingTypes, f.GetType())
		r.FindingCounts = append(r.FindingCounts, f.GetCount())
		r.FindingDirections = append(r.FindingDirections, f.GetDirection().String())
		r.FindingActions = append(r.FindingActions, f.GetAction().String())
	}
	return r, nil
}

// latencyMicros is the decision's latency in whole microseconds; an unset,
// invalid or negative latency is 0.
func latencyMicros(d *decisionv1.Decision) uint64 {
	l := d.GetLatency()
	if l == nil || l.CheckValid() != nil {
		return 0
	}
	us := l.AsDuration().Microseconds()
	if us < 0 {
		return 0
	}
	return uint64(us)
}

// values returns the row's values in [decisionColumns] order, typed as the
// columns expect them.
func (r *DecisionRow) values() []any {
	return []any{
		r.EventID, r.Time, r.TimeNanos, r.ProcessorInstance, r.Sequence,
		r.Agent, r.Subject, r.Persona, r.Session, r.MCPMethod, r.Tool, r.Upstream,
		r.Outcome, r.Reason, r.FindingTypes, r.FindingCounts,
		r.FindingDirections, r.FindingActions, r.LatencyMicros, r.BytesIn,
		r.BytesOut, r.ClientAddress, r.Environment, r.HTTPMethod, r.HTTPStatus,
		r.VerdictID, r.RequestID, r.PolicyVersion, r.QuarantinedTools, r.IngestedAt,
		r.KafkaPartition, r.KafkaOffset,
	}
}
