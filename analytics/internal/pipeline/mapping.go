package pipeline

import (
	"fmt"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/portcullis/portcullis/analytics/internal/rules"
)

// ruleDecision maps a wire decision to what the rules look at.
func ruleDecision(d *decisionv1.Decision) rules.Decision {
	return rules.Decision{
		EventID: d.GetEventId(),
		Agent:   d.GetAgent(),
		Time:    d.GetTime().AsTime(),
		Outcome: ruleOutcome(d.GetOutcome()),
	}
}

func ruleOutcome(o decisionv1.Outcome) rules.Outcome {
	switch o {
	case decisionv1.Outcome_OUTCOME_ALLOWED:
		return rules.OutcomeAllowed
	case decisionv1.Outcome_OUTCOME_DENIED:
		return rules.OutcomeDenied
	case decisionv1.Outcome_OUTCOME_BLOCKED:
		return rules.OutcomeBlocked
	case decisionv1.Outcome_OUTCOME_ERROR:
		return rules.OutcomeError
	case decisionv1.Outcome_OUTCOME_THROTTLED:
		return rules.OutcomeThrottled
	default:
		return rules.OutcomeUnspecified
	}
}

// verdictProto maps a rule's verdict to the wire verdict with id id.
func verdictProto(v rules.Verdict, id string) *verdictv1.Verdict {
	out := &verdictv1.Verdict{
		VerdictId: id,
		Subject:   &verdictv1.Subject{Kind: subjectKindProto(v.Subject.Kind), Id: v.Subject.ID},
		Action:    actionProto(v.Action),
		Reason:    v.Reason,
		Rule:      v.Rule,
		IssuedAt:  timestamppb.New(v.IssuedAt),
	}
	if !v.ExpiresAt.IsZero() {
		out.ExpiresAt = timestamppb.New(v.ExpiresAt)
	}
	return out
}

func subjectKindProto(k rules.SubjectKind) verdictv1.SubjectKind {
	switch k {
	case rules.SubjectKindAgent:
		return verdictv1.SubjectKind_SUBJECT_KIND_AGENT
	default:
		return verdictv1.SubjectKind_SUBJECT_KIND_UNSPECIFIED
	}
}

func actionProto(a rules.Action) verdictv1.Action {
	switch a {
	case rules.ActionBlock:
		return verdictv1.Action_ACTION_BLOCK
	default:
		return verdictv1.Action_ACTION_UNSPECIFIED
	}
}

// verdictKeyPrefixes are the key prefixes of the verdicts topic, by subject
// kind: a verdict is keyed "<prefix>:<id>" so the latest one per subject
// survives compaction.
var verdictKeyPrefixes = map[verdictv1.SubjectKind]string{
	verdictv1.SubjectKind_SUBJECT_KIND_AGENT:          "agent",
	verdictv1.SubjectKind_SUBJECT_KIND_SUBJECT:        "subject",
	verdictv1.SubjectKind_SUBJECT_KIND_PERSONA:        "persona",
	verdictv1.SubjectKind_SUBJECT_KIND_SESSION:        "session",
	verdictv1.SubjectKind_SUBJECT_KIND_CLIENT_ADDRESS: "client_address",
}

// VerdictKey returns the verdicts-topic key of v, e.g. "agent:a1".
func VerdictKey(v *verdictv1.Verdict) (string, error) {
	p, ok := verdictKeyPrefixes[v.GetSubject().GetKind()]
	if !ok {
		return "", fmt.Errorf("verdict %s: no key for subject kind %s", v.GetVerdictId(), v.GetSubject().GetKind())
	}
	return p + ":" + v.GetSubject().GetId(), nil
}
