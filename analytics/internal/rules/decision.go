package rules

import "time"

// Outcome is what the filter did with one exchange.
type Outcome int

// Outcomes, mirroring the decision protocol's Outcome enum.
const (
	OutcomeUnspecified Outcome = iota
	OutcomeAllowed
	OutcomeDenied
	OutcomeBlocked
	OutcomeError
	OutcomeThrottled
)

// Decision is the part of a filter decision the rules look at.
type Decision struct {
	// EventID identifies the event; a rule counts a redelivered event once
	// while it remembers it.
	EventID string
	// Agent is the authenticated agent id; empty when authentication failed.
	Agent string
	// Time is when the filter decided (event time).
	Time    time.Time
	Outcome Outcome
}
