package rules

import "time"

// SubjectKind is the kind of subject a verdict applies to.
type SubjectKind int

// Subject kinds, mirroring the verdict protocol's SubjectKind enum.
const (
	SubjectKindUnspecified SubjectKind = iota
	SubjectKindAgent
)

// Subject identifies what a verdict applies to.
type Subject struct {
	Kind SubjectKind
	ID   string
}

// Action is what filters do with requests of a verdict's subject.
type Action int

// Actions, mirroring the verdict protocol's Action enum.
const (
	ActionUnspecified Action = iota
	ActionBlock
)

// Verdict is a decision a rule takes about a subject.
type Verdict struct {
	Subject Subject
	Action  Action
	// Reason is human readable; it is shown to the refused agent, so it never
	// quotes request content.
	Reason string
	// Rule is the id of the rule that issued the verdict.
	Rule     string
	IssuedAt time.Time
	// ExpiresAt is when the verdict stops applying.
	ExpiresAt time.Time
}

// Rule turns decisions into verdicts.
type Rule interface {
	// Observe feeds one decision to the rule and returns the verdicts it
	// issues because of it (usually none).
	Observe(d Decision) []Verdict
}
