package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func fullDecision() *decisionv1.Decision {
	return &decisionv1.Decision{
		EventId:           "0b7c7f7e-5d43-4c0e-9d5e-4f6f1f0b9a11",
		Time:              timestamppb.New(time.Date(2026, 11, 25, 12, 30, 45, 123456789, time.UTC)),
		ProcessorInstance: "extproc-7f9c",
		Sequence:          42,
		Agent:             "agent-1",
		Subject:           "alice@example.com",
		Persona:           "support-bot",
		Session:           "sess-9",
		McpMethod:         "tools/call",
		Tool:              "delete_customer",
		Upstream:          "crm",
		Outcome:           decisionv1.Outcome_OUTCOME_DENIED,
		Reason:            decisionv1.ReasonCode_REASON_CODE_TOOL_NOT_GRANTED,
		Findings: []*decisionv1.Finding{
			{Type: "aws-access-key-id", Count: 2},
			{Type: "email", Count: 1},
		},
		Latency:       durationpb.New(1500*time.Microsecond + 700*time.Nanosecond),
		BytesIn:       512,
		BytesOut:      2048,
		ClientAddress: "10.0.0.7:51234",
		Environment:   "prod",
		HttpMethod:    "POST",
		HttpStatus:    403,
		VerdictId:     "",
		RequestId:     "req-1",
	}
}

func TestNewDecisionRowMapsEveryField(t *testing.T) {
	ingested := time.Date(2026, 11, 25, 12, 31, 0, 999, time.FixedZone("CET", 3600))
	got, err := NewDecisionRow(fullDecision(), Origin{Topic: "t", Partition: 2, Offset: 77}, ingested)
	if err != nil {
		t.Fatal(err)
	}
	want := DecisionRow{
		EventID:           "0b7c7f7e-5d43-4c0e-9d5e-4f6f1f0b9a11",
		Time:              time.Date(2026, 11, 25, 12, 30, 45, 0, time.UTC),
		TimeNanos:         123456789,
		ProcessorInstance: "extproc-7f9c",
		Sequence:          42,
		Agent:             "agent-1",
		Subject:           "alice@example.com",
		Persona:           "support-bot",
		Session:           "sess-9",
		MCPMethod:         "tools/call",
		Tool:              "delete_customer",
		Upstream:          "crm",
		Outcome:           "OUTCOME_DENIED",
		Reason:            "REASON_CODE_TOOL_NOT_GRANTED",
		FindingTypes:      []string{"aws-access-key-id", "email"},
		FindingCounts:     []uint32{2, 1},
		LatencyMicros:     1500,
		BytesIn:           512,
		BytesOut:          2048,
		ClientAddress:     "10.0.0.7:51234",
		Environment:       "prod",
		HTTPMethod:        "POST",
		HTTPStatus:        403,
		RequestID:         "req-1",
		IngestedAt:        time.Date(2026, 11, 25, 11, 31, 0, 0, time.UTC),
		KafkaPartition:    2,
		KafkaOffset:       77,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row =\n%+v\nwant\n%+v", got, want)
	}
	// Every proto field has a column: the proto has 23 fields, time and
	// findings take two columns each, and analytics adds 3 (ingested_at,
	// kafka_partition, kafka_offset).
	if n := len(decisionColumns); n != 23+2+3 {
		t.Fatalf("%d decision columns", n)
	}
	if n := len(got.values()); n != len(decisionColumns) {
		t.Fatalf("%d values for %d columns", n, len(decisionColumns))
	}
	if fields := (&decisionv1.Decision{}).ProtoReflect().Descriptor().Fields().Len(); fields != 23 {
		t.Fatalf("Decision has %d fields, the decisions table maps 23: add columns with a migration", fields)
	}
}

func TestNewDecisionRowZeroValues(t *testing.T) {
	d := &decisionv1.Decision{EventId: "e", Time: timestamppb.New(time.Unix(0, 0))}
	got, err := NewDecisionRow(d, Origin{}, time.Unix(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != "OUTCOME_UNSPECIFIED" || got.Reason != "REASON_CODE_UNSPECIFIED" {
		t.Fatalf("enums = %q %q", got.Outcome, got.Reason)
	}
	if got.FindingTypes == nil || got.FindingCounts == nil || len(got.FindingTypes) != 0 {
		t.Fatalf("findings must be empty, non-nil arrays: %#v %#v", got.FindingTypes, got.FindingCounts)
	}
	if got.LatencyMicros != 0 || !got.Time.Equal(time.Unix(0, 0)) {
		t.Fatalf("row = %+v", got)
	}
}

func TestNewDecisionRowUnknownReasonKeepsNumber(t *testing.T) {
	d := fullDecision()
	d.Reason = decisionv1.ReasonCode(99)
	got, err := NewDecisionRow(d, Origin{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.Reason != "99" {
		t.Fatalf("reason = %q, want the number", got.Reason)
	}
}

func TestNewDecisionRowNegativeLatency(t *testing.T) {
	d := fullDecision()
	d.Latency = durationpb.New(-time.Second)
	got, err := NewDecisionRow(d, Origin{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.LatencyMicros != 0 {
		t.Fatalf("latency = %d", got.LatencyMicros)
	}
}

func TestCheckDecision(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*decisionv1.Decision)
		want   string // "" for valid
	}{
		"valid":           {func(*decisionv1.Decision) {}, ""},
		"no event id":     {func(d *decisionv1.Decision) { d.EventId = "" }, "missing event_id"},
		"no time":         {func(d *decisionv1.Decision) { d.Time = nil }, "missing time"},
		"invalid time":    {func(d *decisionv1.Decision) { d.Time = &timestamppb.Timestamp{Nanos: -1} }, "time:"},
		"before 1970":     {func(d *decisionv1.Decision) { d.Time = timestamppb.New(time.Unix(-1, 0)) }, "outside ClickHouse DateTime"},
		"after 2106":      {func(d *decisionv1.Decision) { d.Time = timestamppb.New(time.Unix(1<<32, 0)) }, "outside ClickHouse DateTime"},
		"unknown outcome": {func(d *decisionv1.Decision) { d.Outcome = 6 }, "unknown outcome 6"},
		"status too big":  {func(d *decisionv1.Decision) { d.HttpStatus = 70000 }, "http_status 70000"},
	} {
		t.Run(name, func(t *testing.T) {
			d := fullDecision()
			tc.mutate(d)
			err := CheckDecision(d)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidDecision) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want ErrInvalidDecision mentioning %q", err, tc.want)
			}
			if _, err := NewDecisionRow(d, Origin{}, time.Now()); !errors.Is(err, ErrInvalidDecision) {
				t.Fatalf("NewDecisionRow error = %v", err)
			}
		})
	}
}

func TestClampDateTime(t *testing.T) {
	for _, tc := range []struct{ in, want time.Time }{
		{time.Time{}, time.Unix(0, 0).UTC()},
		{time.Unix(1<<33, 0), time.Unix(1<<32-1, 0).UTC()},
		{time.Unix(100, 5), time.Unix(100, 0).UTC()},
	} {
		if got := clampDateTime(tc.in); !got.Equal(tc.want) {
			t.Errorf("clampDateTime(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
