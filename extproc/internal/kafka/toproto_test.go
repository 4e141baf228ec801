package kafka

import (
	"slices"
	"testing"

	"github.com/portcullis/portcullis/extproc/internal/filter"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
)

// Every reason the filter can give has its proto code.
func TestEveryReasonMapped(t *testing.T) {
	for r := filter.ReasonToolGranted; r <= filter.ReasonNoRoute; r++ {
		if c, ok := reasons[r]; !ok || c == decisionv1.ReasonCode_REASON_CODE_UNSPECIFIED {
			t.Errorf("reason %d has no proto code", r)
		}
	}
	if got := toProto(filter.Decision{Reason: filter.ReasonToolQuarantined}).GetReason(); got != decisionv1.ReasonCode_REASON_CODE_TOOL_QUARANTINED {
		t.Fatalf("quarantined reason maps to %v", got)
	}
	if got := toProto(filter.Decision{Reason: filter.ReasonRateLimited}).GetReason(); got != decisionv1.ReasonCode_REASON_CODE_RATE_LIMITED {
		t.Fatalf("rate-limited reason maps to %v", got)
	}
}

func TestQuarantinedToolsMapped(t *testing.T) {
	ev := toProto(filter.Decision{Method: "tools/list", QuarantinedTools: []string{"get_ticket", "send_email"}})
	if !slices.Equal(ev.GetQuarantinedTools(), []string{"get_ticket", "send_email"}) {
		t.Fatalf("quarantined_tools %q", ev.GetQuarantinedTools())
	}
	if ev := toProto(filter.Decision{}); ev.GetQuarantinedTools() != nil {
		t.Fatalf("no quarantine: %q", ev.GetQuarantinedTools())
	}
}
