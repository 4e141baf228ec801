package pipeline

import (
	"testing"
	"time"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/portcullis/portcullis/analytics/internal/rules"
)

func TestRuleOutcomeCoversProto(t *testing.T) {
	want := map[decisionv1.Outcome]rules.Outcome{
		decisionv1.Outcome_OUTCOME_UNSPECIFIED: rules.OutcomeUnspecified,
		decisionv1.Outcome_OUTCOME_ALLOWED:     rules.OutcomeAllowed,
		decisionv1.Outcome_OUTCOME_DENIED:      rules.OutcomeDenied,
		decisionv1.Outcome_OUTCOME_BLOCKED:     rules.OutcomeBlocked,
		decisionv1.Outcome_OUTCOME_ERROR:       rules.OutcomeError,
		decisionv1.Outcome_OUTCOME_THROTTLED:   rules.OutcomeThrottled,
	}
	if len(want) != len(decisionv1.Outcome_name) {
		t.Fatalf("the proto has %d outcomes: map the new ones", len(decisionv1.Outcome_name))
	}
	for p, r := range want {
		if got := ruleOutcome(p); got != r {
			t.Errorf("ruleOutcome(%s) = %d, want %d", p, got, r)
		}
	}
}

func TestRuleDecision(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	got := ruleDecision(&decisionv1.Decision{EventId: "e", Agent: "a", Time: timestamppb.New(ts), Outcome: decisionv1.Outcome_OUTCOME_DENIED})
	if got != (rules.Decision{EventID: "e", Agent: "a", Time: ts, Outcome: rules.OutcomeDenied}) {
		t.Fatalf("ruleDecision = %+v", got)
	}
}

func TestVerdictProto(t *testing.T) {
	issued := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := rules.Verdict{
		Subject: rules.Subject{Kind: rules.SubjectKindAgent, ID: "a1"}, Action: rules.ActionBlock,
		Reason: "5 denied calls within 1m0s", Rule: "deny-burst", IssuedAt: issued, ExpiresAt: issued.Add(time.Hour),
	}
	got := verdictProto(v, "id-1")
	want := &verdictv1.Verdict{
		VerdictId: "id-1",
		Subject:   &verdictv1.Subject{Kind: verdictv1.SubjectKind_SUBJECT_KIND_AGENT, Id: "a1"},
		Action:    verdictv1.Action_ACTION_BLOCK,
		Reason:    "5 denied calls within 1m0s",
		Rule:      "deny-burst",
		IssuedAt:  timestamppb.New(issued),
		ExpiresAt: timestamppb.New(issued.Add(time.Hour)),
	}
	if !proto.Equal(got, want) {
		t.Fatalf("verdictProto = %v, want %v", got, want)
	}
	v.ExpiresAt = time.Time{}
	if got := verdictProto(v, "id-2"); got.ExpiresAt != nil {
		t.Fatalf("zero expiry mapped to %v, want unset (until cleared)", got.ExpiresAt)
	}
}

func TestVerdictKey(t *testing.T) {
	for kind, want := range map[verdictv1.SubjectKind]string{
		verdictv1.SubjectKind_SUBJECT_KIND_AGENT:          "agent:x",
		verdictv1.SubjectKind_SUBJECT_KIND_SUBJECT:        "subject:x",
		verdictv1.SubjectKind_SUBJECT_KIND_PERSONA:        "persona:x",
		verdictv1.SubjectKind_SUBJECT_KIND_SESSION:        "session:x",
		verdictv1.SubjectKind_SUBJECT_KIND_CLIENT_ADDRESS: "client_address:x",
	} {
		got, err := VerdictKey(&verdictv1.Verdict{Subject: &verdictv1.Subject{Kind: kind, Id: "x"}})
		if err != nil || got != want {
			t.Errorf("VerdictKey(%s) = %q, %v; want %q", kind, got, err, want)
		}
	}
	if _, err := VerdictKey(&verdictv1.Verdict{}); err == nil {
		t.Error("unspecified subject kind: want error")
	}
}
