package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestNewVerdictRow(t *testing.T) {
	issued := time.Date(2026, 11, 25, 12, 0, 0, 500, time.UTC)
	v := &verdictv1.Verdict{
		VerdictId: "v-1",
		Subject:   &verdictv1.Subject{Kind: verdictv1.SubjectKind_SUBJECT_KIND_AGENT, Id: "agent-1"},
		Action:    verdictv1.Action_ACTION_BLOCK,
		Reason:    "5 denied calls within 1m0s",
		Rule:      "deny-burst",
		IssuedAt:  timestamppb.New(issued),
		ExpiresAt: timestamppb.New(issued.Add(15 * time.Minute)),
	}
	got, err := NewVerdictRow(v, Origin{Topic: "vt", Partition: 1, Offset: 9}, issued)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 11, 25, 12, 15, 0, 0, time.UTC)
	want := VerdictRow{
		VerdictID: "v-1", SubjectKind: "SUBJECT_KIND_AGENT", SubjectID: "agent-1",
		Action: "ACTION_BLOCK", Reason: "5 denied calls within 1m0s", Rule: "deny-burst",
		IssuedAt: issued.Truncate(time.Second), ExpiresAt: &exp,
		KafkaTopic: "vt", KafkaPartition: 1, KafkaOffset: 9, InsertedAt: issued.Truncate(time.Second),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row =\n%+v\nwant\n%+v", got, want)
	}
	if len(got.values()) != len(verdictColumns) {
		t.Fatalf("%d values for %d columns", len(got.values()), len(verdictColumns))
	}

	v.ExpiresAt = nil
	got, err = NewVerdictRow(v, Origin{}, issued)
	if err != nil || got.ExpiresAt != nil {
		t.Fatalf("unset expiry: row %+v, err %v", got, err)
	}
}

func TestNewVerdictRowRejects(t *testing.T) {
	_, err := NewVerdictRow(&verdictv1.Verdict{
		Subject: &verdictv1.Subject{Kind: 42},
		Action:  17,
	}, Origin{}, time.Now())
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"missing verdict_id", "unknown subject kind 42", "unknown action 17", "missing issued_at"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
