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
			{Type: "aws-access-key-id", Count: 2, Direction: decisionv1.Direction_DIRECTION_REQUEST, Action: decisionv1.DataAction_DATA_ACTION_BLOCKED},
			{Type: "email", Count: 1, Direction: decisionv1.Direction_DIRECTION_RESPONSE, Action: decisionv1.DataAction_DATA_ACTION_REDACTED},
			{Type: "email", Count: 3, Direction: decisionv1.Direction_DIRECTION_REQUEST, Action: decisionv1.DataAction_DATA_ACTION_MASKED},
		},
		Latency:          durationpb.New(1500*time.Microsecond + 700*time.Nanosecond),
		BytesIn:          512,
		BytesOut:         2048,
		ClientAddress:    "10.0.0.7:51234",
		Environment:      "prod",
		HttpMethod:       "POST",
		HttpStatus:       403,
		VerdictId:        "",
		RequestId:        "req-1",
		PolicyVersion:    "sha256:abc",
		QuarantinedTools: []string{"get_ticket", "send_email"},
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
		FindingTypes:      []string{"aws-access-key-id", "email", "email"},
		FindingCounts:     []uint32{2, 1, 3},
		FindingDirections: []string{"DIRECTION_REQUEST", "DIRECTION_RESPONSE", "DIRECTION_REQUEST"},
		FindingActions:    []string{"DATA_ACTION_BLOCKED", "DATA_ACTION_REDACTED", "DATA_ACTION_MASKED"},
		LatencyMicros:     1500,
		BytesIn:           512,
		BytesOut:          2048,
		ClientAddress:     "10.0.0.7:51234",
		Environment:       "prod",
		HTTPMethod:        "POST",
		HTTPStatus:        403,
		RequestID:         "req-1",
		PolicyVersion:     "sha256:abc",
		QuarantinedTools:  []string{"get_ticket", "send_email"},
		IngestedAt:        time.Date(2026, 11, 25, 11, 31, 0, 0, time.UTC),
		KafkaPartition:    2,
		KafkaOffset:       77,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row =\n%+v\nwant\n%+v", got, want)
	}
	// Every proto field has a column: the proto has 25 fields, time takes two
	// columns, findings four (one per Finding field), and analytics adds 3
	// (ingested_at, kafka_partition, kafka_offset).
	if n := len(decisionColumns); n != 25+1+3+3 {
		t.Fatalf("%d decision columns", n)
	}
	if n := len(got.values()); n != len(decisionColumns) {
		t.Fatalf("%d values for %d columns", n, len(decisionColumns))
	}
	if fields := (&decisionv1.Decision{}).ProtoReflect().Descriptor().Fields().Len(); fields != 25 {
		t.Fatalf("Decision has %d fields, the decisions table maps 25: add columns with a migration", fields)
	}
	if fields := (&decisionv1.Finding{}).ProtoReflect().Descriptor().Fields().Len(); fields != 4 {
		t.Fatalf("Finding has %d fields, the decisions table maps 4 (finding_*): add columns with a migration", fields)
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
	for name, n := range map[string]struct {
		isNil bool
		len   int
	}{
		"finding_types":      {got.FindingTypes == nil, len(got.FindingTypes)},
		"finding_counts":     {got.FindingCounts == nil, len(got.FindingCounts)},
		"finding_directions": {got.FindingDirections == nil, len(got.FindingDirections)},
		"finding_actions":    {got.FindingActions == nil, len(got.FindingActions)},
	} {
		if n.isNil || n.len != 0 {
			t.Errorf("%s must be an empty, non-nil array: nil=%v len=%d", name, n.isNil, n.len)
		}
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

// TestNewDecisionRowFindingsAligned checks that element i of the four
// finding arrays describes findings[i], whatever the mix of directions and
// actions, and that unset and unknown enum values are kept (name or number).
func TestNewDecisionRowFindingsAligned(t *testing.T) {
	d := fullDecision()
	d.Findings = []*decisionv1.Finding{
		{Type: "credit-card", Count: 1, Direction: decisionv1.Direction_DIRECTION_RESPONSE, Action: decisionv1.DataAction_DATA_ACTION_TOKENISED},
		{Type: "email", Count: 4, Direction: decisionv1.Direction_DIRECTION_REQUEST, Action: decisionv1.DataAction_DATA_ACTION_ALLOWED},
		{Type: "iban", Count: 2, Direction: decisionv1.Direction_DIRECTION_RESPONSE, Action: decisionv1.DataAction_DATA_ACTION_REDACTED},
		{Type: "jwt", Count: 7},
		{Type: "ssn", Count: 5, Direction: decisionv1.Direction(9), Action: decisionv1.DataAction(42)},
	}
	got, err := NewDecisionRow(d, Origin{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	type finding struct {
		typ       string
		count     uint32
		direction string
		action    string
	}
	want := []finding{
		{"credit-card", 1, "DIRECTION_RESPONSE", "DATA_ACTION_TOKENISED"},
		{"email", 4, "DIRECTION_REQUEST", "DATA_ACTION_ALLOWED"},
		{"iban", 2, "DIRECTION_RESPONSE", "DATA_ACTION_REDACTED"},
		{"jwt", 7, "DIRECTION_UNSPECIFIED", "DATA_ACTION_UNSPECIFIED"},
		{"ssn", 5, "9", "42"},
	}
	for _, n := range []int{len(got.FindingTypes), len(got.FindingCounts), len(got.FindingDirections), len(got.FindingActions)} {
		if n != len(want) {
			t.Fatalf("finding arrays have lengths %d %d %d %d, want %d each", len(got.FindingTypes),
				len(got.FindingCounts), len(got.FindingDirections), len(got.FindingActions), len(want))
		}
	}
	for i, w := range want {
		g := finding{got.FindingTypes[i], got.FindingCounts[i], got.FindingDirections[i], got.FindingActions[i]}
		if g != w {
			t.Errorf("finding %d = %+v, want %+v", i, g, w)
		}
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
