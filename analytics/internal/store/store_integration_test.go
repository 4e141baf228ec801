//go:build integration

package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/portcullis/portcullis/analytics/internal/testenv"
)

// newTestStore opens a Store on a fresh database of the real ClickHouse and
// drops the database when t ends. It does not migrate.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.UniqueName("it_store_")
	s, err := Open(Options{Addr: addr, Database: db, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
			t.Errorf("drop test database %s: %v", db, err)
		}
		_ = s.Close()
	})
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestIntegrationMigrateIsIdempotent(t *testing.T) {
	s := newTestStore(t)
	ctx := testCtx(t)
	for run := 1; run <= 2; run++ {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate run %d: %v", run, err)
		}
		applied, err := s.AppliedMigrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []AppliedMigration{{1, "decisions"}, {2, "verdicts"}, {3, "dead_letters"}, {4, "finding_direction_action"}, {5, "policy_version"}, {6, "quarantined_tools"}}
		if !reflect.DeepEqual(applied, want) {
			t.Fatalf("run %d: applied = %v, want %v", run, applied, want)
		}
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Fatalf("schema_migrations has %d rows after two runs, want 6 (a second run records nothing)", n)
	}

	// The tables exist with the engine and keys the SQL promises; on a
	// server without LowCardinality (18.16) the portable types are used.
	sv, err := s.conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ClickHouse server %s", sv.Version)
	rows, err := s.conn.Query(ctx, "SELECT name, engine, sorting_key FROM system.tables WHERE database = currentDatabase() ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var name, engine, key string
		if err := rows.Scan(&name, &engine, &key); err != nil {
			t.Fatal(err)
		}
		got[name] = engine + " " + key
	}
	rows.Close()
	want := map[string]string{
		"dead_letters":      "ReplacingMergeTree kafka_topic, kafka_partition, kafka_offset",
		"decisions":         "ReplacingMergeTree agent, time, event_id",
		"schema_migrations": "ReplacingMergeTree version",
		"verdicts":          "ReplacingMergeTree subject_kind, subject_id, issued_at, verdict_id",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tables = %v\nwant %v", got, want)
	}
	var reasonType string
	if err := s.conn.QueryRow(ctx, "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'decisions' AND name = 'reason'").Scan(&reasonType); err != nil {
		t.Fatal(err)
	}
	wantType := "String"
	if featuresOf(sv.Version).lowCardinality {
		wantType = "LowCardinality(String)"
	}
	if reasonType != wantType {
		t.Fatalf("decisions.reason is %s on %s, want %s", reasonType, sv.Version, wantType)
	}

	// The table's columns are decisionColumns, in order (SELECT * shows the
	// finding arrays together), with the element type the server supports.
	// (18.16's system.columns has no position: read the header of SELECT *.)
	rows, err = s.conn.Query(ctx, "SELECT * FROM decisions LIMIT 0")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	types := map[string]string{}
	for _, ct := range rows.ColumnTypes() {
		names = append(names, ct.Name())
		types[ct.Name()] = ct.DatabaseTypeName()
	}
	rows.Close()
	if !reflect.DeepEqual(names, decisionColumns) {
		t.Fatalf("decisions columns in table order = %v\nwant decisionColumns %v", names, decisionColumns)
	}
	for col, want := range map[string]string{
		"finding_types": "Array(String)", "finding_counts": "Array(UInt32)",
		"finding_directions": "Array(" + wantType + ")", "finding_actions": "Array(" + wantType + ")",
		"policy_version": wantType, "quarantined_tools": "Array(String)",
	} {
		if types[col] != want {
			t.Errorf("decisions.%s is %s on %s, want %s", col, types[col], sv.Version, want)
		}
	}
}

// TestIntegrationMigrationAddsFindingColumnsToExistingTable upgrades a
// database at version 3 holding a row: the row reads the new arrays as
// empty. 0004 is interrupted first (one column added, nothing recorded), so
// Migrate must also cope with a half-applied ADD COLUMN migration.
func TestIntegrationMigrationAddsFindingColumnsToExistingTable(t *testing.T) {
	s := newTestStore(t)
	ctx := testCtx(t)
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.createDatabase(ctx); err != nil {
		t.Fatal(err)
	}
	sv, err := s.conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	features := featuresOf(sv.Version)
	if err := s.conn.Exec(ctx, schemaMigrationsDDL); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		for _, stmt := range splitStatements(features.render(m.sql)) {
			if err := s.runStep(ctx, planStep(stmt)); err != nil {
				t.Fatalf("%04d_%s: %v", m.version, m.name, err)
			}
		}
		if err := s.recordMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	// A row written by the version-3 schema.
	old := testDecision(1)
	row, err := NewDecisionRow(old, Origin{Topic: "decisions", Partition: 1, Offset: 9}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var oldCols []string
	var oldVals []any
	for i, c := range decisionColumns {
		if c != "finding_directions" && c != "finding_actions" && c != "policy_version" && c != "quarantined_tools" {
			oldCols = append(oldCols, c)
			oldVals = append(oldVals, row.values()[i])
		}
	}
	if err := s.insert(ctx, "decisions", oldCols, 1, func(int) ([]any, error) { return oldVals, nil }); err != nil {
		t.Fatal(err)
	}

	// 0004 interrupted after its first statement, before being recorded.
	if m := ms[3]; m.version != 4 {
		t.Fatalf("migration 4 is %04d_%s", m.version, m.name)
	}
	first := splitStatements(features.render(ms[3].sql))[0]
	if err := s.runStep(ctx, planStep(first)); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate run %d over a half-applied 0004: %v", run, err)
		}
	}
	applied, err := s.AppliedMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(ms) || applied[3] != (AppliedMigration{4, "finding_direction_action"}) {
		t.Fatalf("applied = %v", applied)
	}

	got := readDecisionRows(t, s)[old.GetEventId()]
	if !reflect.DeepEqual(got.FindingTypes, row.FindingTypes) || !reflect.DeepEqual(got.FindingCounts, row.FindingCounts) {
		t.Fatalf("old row findings = %v %v, want %v %v", got.FindingTypes, got.FindingCounts, row.FindingTypes, row.FindingCounts)
	}
	if got.FindingDirections == nil || len(got.FindingDirections) != 0 || got.FindingActions == nil || len(got.FindingActions) != 0 {
		t.Fatalf("old row reads finding_directions %#v, finding_actions %#v; want empty arrays", got.FindingDirections, got.FindingActions)
	}
	if got.PolicyVersion != "" {
		t.Fatalf("old row reads policy_version %q; want '' (0005's DEFAULT)", got.PolicyVersion)
	}
	if got.QuarantinedTools == nil || len(got.QuarantinedTools) != 0 {
		t.Fatalf("old row reads quarantined_tools %#v; want [] (0006's DEFAULT)", got.QuarantinedTools)
	}
}

// testDecision returns decision i of a test set: every field set, values
// varying with i.
func testDecision(i int) *decisionv1.Decision {
	d := fullDecision()
	d.EventId = fmt.Sprintf("evt-%06d", i)
	d.Time = timestamppb.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1001 * time.Microsecond))
	d.Agent = fmt.Sprintf("agent-%d", i%7)
	d.Sequence = uint64(i + 1)
	d.Outcome = decisionv1.Outcome(i % len(decisionv1.Outcome_name))
	d.Reason = decisionv1.ReasonCode(i % len(decisionv1.ReasonCode_name))
	d.BytesIn, d.BytesOut = uint64(i), uint64(1<<40+i)
	d.HttpStatus = uint32(200 + i%400)
	if i%3 == 0 {
		d.Findings = nil
	}
	d.VerdictId = fmt.Sprint("v-", i%5)
	if i%2 == 0 {
		d.QuarantinedTools = nil
	}
	return d
}

func readDecisionRows(t *testing.T, s *Store) map[string]DecisionRow {
	t.Helper()
	ctx := testCtx(t)
	rows, err := s.conn.Query(ctx, "SELECT "+strings.Join(decisionColumns, ", ")+" FROM decisions FINAL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]DecisionRow{}
	for rows.Next() {
		var r DecisionRow
		if err := rows.Scan(&r.EventID, &r.Time, &r.TimeNanos, &r.ProcessorInstance, &r.Sequence,
			&r.Agent, &r.Subject, &r.Persona, &r.Session, &r.MCPMethod, &r.Tool, &r.Upstream,
			&r.Outcome, &r.Reason, &r.FindingTypes, &r.FindingCounts,
			&r.FindingDirections, &r.FindingActions, &r.LatencyMicros, &r.BytesIn,
			&r.BytesOut, &r.ClientAddress, &r.Environment, &r.HTTPMethod, &r.HTTPStatus,
			&r.VerdictID, &r.RequestID, &r.PolicyVersion, &r.QuarantinedTools, &r.IngestedAt, &r.KafkaPartition, &r.KafkaOffset); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[r.EventID]; dup {
			t.Fatalf("event %s read twice with FINAL", r.EventID)
		}
		out[r.EventID] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func uniqEventIDs(t *testing.T, s *Store) uint64 {
	t.Helper()
	var n uint64
	if err := s.conn.QueryRow(testCtx(t), "SELECT uniqExact(event_id) FROM decisions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIntegrationDecisionsRoundTrip(t *testing.T) {
	s := newTestStore(t)
	ctx := testCtx(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ingested := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	s.opts.Now = func() time.Time { return ingested }

	const n = 1000
	ds := make([]*decisionv1.Decision, n)
	origins := make([]Origin, n)
	for i := range ds {
		ds[i] = testDecision(i)
		origins[i] = Origin{Topic: "decisions", Partition: int32(i % 3), Offset: int64(i)}
	}
	if err := s.InsertDecisions(ctx, ds, origins); err != nil {
		t.Fatal(err)
	}
	// Redelivery of half of them (at-least-once) must not change exact counts.
	if err := s.InsertDecisions(ctx, ds[:n/2], origins[:n/2]); err != nil {
		t.Fatal(err)
	}
	if got := uniqEventIDs(t, s); got != n {
		t.Fatalf("uniqExact(event_id) = %d, want %d", got, n)
	}
	got := readDecisionRows(t, s)
	if len(got) != n {
		t.Fatalf("read %d rows with FINAL, want %d", len(got), n)
	}
	for i, d := range ds {
		want, err := NewDecisionRow(d, origins[i], ingested)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[d.GetEventId()], want) {
			t.Fatalf("event %s round trip:\n got %+v\nwant %+v", d.GetEventId(), got[d.GetEventId()], want)
		}
	}
}

// TestIntegrationFindingDirectionsAndActions stores findings in both
// directions with different actions and runs the SOC queries the four
// parallel arrays are for.
func TestIntegrationFindingDirectionsAndActions(t *testing.T) {
	s := newTestStore(t)
	ctx := testCtx(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const (
		req, resp                   = decisionv1.Direction_DIRECTION_REQUEST, decisionv1.Direction_DIRECTION_RESPONSE
		redacted, blocked, masked   = decisionv1.DataAction_DATA_ACTION_REDACTED, decisionv1.DataAction_DATA_ACTION_BLOCKED, decisionv1.DataAction_DATA_ACTION_MASKED
		allowed, tokenised, unknown = decisionv1.DataAction_DATA_ACTION_ALLOWED, decisionv1.DataAction_DATA_ACTION_TOKENISED, decisionv1.DataAction_DATA_ACTION_UNSPECIFIED
	)
	d1 := testDecision(1)
	d1.Findings = []*decisionv1.Finding{
		{Type: "email", Count: 3, Direction: req, Action: redacted},
		{Type: "credit-card", Count: 1, Direction: resp, Action: blocked},
		{Type: "email", Count: 5, Direction: resp, Action: redacted},
		{Type: "iban", Count: 2, Direction: resp, Action: masked},
	}
	d2 := testDecision(2)
	d2.Findings = []*decisionv1.Finding{
		{Type: "jwt", Count: 4, Direction: req, Action: tokenised},
		{Type: "email", Count: 7, Direction: req, Action: redacted},
		{Type: "phone", Count: 6, Direction: resp, Action: allowed},
		{Type: "ssn", Count: 9, Action: unknown},
	}
	d3 := testDecision(3) // no findings
	if len(d3.GetFindings()) != 0 {
		t.Fatalf("testDecision(3) has findings")
	}
	ds := []*decisionv1.Decision{d1, d2, d3}
	// Twice: at-least-once delivery; the queries read with FINAL.
	for range 2 {
		if err := s.InsertDecisions(ctx, ds, nil); err != nil {
			t.Fatal(err)
		}
	}

	type arrays struct {
		Types      []string
		Counts     []uint32
		Directions []string
		Actions    []string
	}
	got := map[string]arrays{}
	rows, err := s.conn.Query(ctx, "SELECT event_id, finding_types, finding_counts, finding_directions, finding_actions FROM decisions FINAL")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var a arrays
		if err := rows.Scan(&id, &a.Types, &a.Counts, &a.Directions, &a.Actions); err != nil {
			t.Fatal(err)
		}
		got[id] = a
	}
	rows.Close()
	want := map[string]arrays{
		d1.GetEventId(): {
			Types:      []string{"email", "credit-card", "email", "iban"},
			Counts:     []uint32{3, 1, 5, 2},
			Directions: []string{"DIRECTION_REQUEST", "DIRECTION_RESPONSE", "DIRECTION_RESPONSE", "DIRECTION_RESPONSE"},
			Actions:    []string{"DATA_ACTION_REDACTED", "DATA_ACTION_BLOCKED", "DATA_ACTION_REDACTED", "DATA_ACTION_MASKED"},
		},
		d2.GetEventId(): {
			Types:      []string{"jwt", "email", "phone", "ssn"},
			Counts:     []uint32{4, 7, 6, 9},
			Directions: []string{"DIRECTION_REQUEST", "DIRECTION_REQUEST", "DIRECTION_RESPONSE", "DIRECTION_UNSPECIFIED"},
			Actions:    []string{"DATA_ACTION_TOKENISED", "DATA_ACTION_REDACTED", "DATA_ACTION_ALLOWED", "DATA_ACTION_UNSPECIFIED"},
		},
		d3.GetEventId(): {Types: []string{}, Counts: []uint32{}, Directions: []string{}, Actions: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("finding arrays =\n%+v\nwant\n%+v", got, want)
	}

	// Values redacted, all directions: 3 + 5 + 7.
	var redactedTotal uint64
	if err := s.conn.QueryRow(ctx, `SELECT sum(arraySum(arrayMap((t, a, c) -> if(a = 'DATA_ACTION_REDACTED', c, 0),
		finding_types, finding_actions, finding_counts))) FROM decisions FINAL`).Scan(&redactedTotal); err != nil {
		t.Fatal(err)
	}
	if redactedTotal != 15 {
		t.Fatalf("redacted values = %d, want 15", redactedTotal)
	}

	// Per direction and action, one row per finding (ARRAY JOIN keeps the
	// arrays aligned).
	rows, err = s.conn.Query(ctx, `SELECT dir, act, toUInt64(sum(cnt)) AS n, groupUniqArray(typ) AS types
		FROM decisions FINAL
		ARRAY JOIN finding_types AS typ, finding_counts AS cnt, finding_directions AS dir, finding_actions AS act
		WHERE act IN ('DATA_ACTION_REDACTED', 'DATA_ACTION_BLOCKED')
		GROUP BY dir, act ORDER BY dir, act`)
	if err != nil {
		t.Fatal(err)
	}
	var breakdown []string
	for rows.Next() {
		var dir, act string
		var n uint64
		var types []string
		if err := rows.Scan(&dir, &act, &n, &types); err != nil {
			t.Fatal(err)
		}
		slices.Sort(types)
		breakdown = append(breakdown, fmt.Sprintf("%s %s %d %v", dir, act, n, types))
	}
	rows.Close()
	wantBreakdown := []string{
		"DIRECTION_REQUEST DATA_ACTION_REDACTED 10 [email]",
		"DIRECTION_RESPONSE DATA_ACTION_BLOCKED 1 [credit-card]",
		"DIRECTION_RESPONSE DATA_ACTION_REDACTED 5 [email]",
	}
	if !reflect.DeepEqual(breakdown, wantBreakdown) {
		t.Fatalf("breakdown =\n%q\nwant\n%q", breakdown, wantBreakdown)
	}
}

func TestIntegrationInvalidDecisionWritesNothing(t *testing.T) {
	s := newTestStore(t)
	ctx := testCtx(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bad := testDecision(2)
	bad.EventId = ""
	err := s.InsertDecisions(ctx, []*decisionv1.Decision{testDecision(1), bad}, nil)
	if err == nil || !strings.Contains(err.Error(), "missing event_id") {
		t.Fatalf("err = %v, want missing event_id", err)
	}
	if got := uniqEventIDs(t, s); got != 0 {
		t.Fatalf("%d rows written", got)
	}
}

func TestIntegrationVerdictsAndDeadLettersRoundTrip(t *testing.T) {
	s := newTestStore(t)
	ctx := testCtx(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	vs := []*verdictv1.Verdict{
		{VerdictId: "v1", Subject: &verdictv1.Subject{Kind: verdictv1.SubjectKind_SUBJECT_KIND_AGENT, Id: "a1"},
			Action: verdictv1.Action_ACTION_BLOCK, Reason: "5 denied calls within 1m0s", Rule: "deny-burst",
			IssuedAt: timestamppb.New(issued), ExpiresAt: timestamppb.New(issued.Add(15 * time.Minute))},
		{VerdictId: "v2", Subject: &verdictv1.Subject{Kind: verdictv1.SubjectKind_SUBJECT_KIND_SESSION, Id: "s1"},
			Action: verdictv1.Action_ACTION_THROTTLE, Rule: "r", IssuedAt: timestamppb.New(issued),
			ThrottleRatePerSecond: 2.5, ThrottleBurst: 4},
	}
	if err := s.InsertVerdicts(ctx, vs, []Origin{{"vt", 0, 10}, {"vt", 2, 11}}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.conn.Query(ctx, "SELECT "+strings.Join(verdictColumns, ", ")+" FROM verdicts FINAL ORDER BY verdict_id")
	if err != nil {
		t.Fatal(err)
	}
	var got []VerdictRow
	for rows.Next() {
		var r VerdictRow
		if err := rows.Scan(&r.VerdictID, &r.SubjectKind, &r.SubjectID, &r.Action, &r.Reason, &r.Rule,
			&r.IssuedAt, &r.ExpiresAt, &r.ThrottleRatePerSecond, &r.ThrottleBurst,
			&r.KafkaTopic, &r.KafkaPartition, &r.KafkaOffset, &r.InsertedAt); err != nil {
			t.Fatal(err)
		}
		r.InsertedAt = time.Time{}
		got = append(got, r)
	}
	rows.Close()
	exp := issued.Add(15 * time.Minute)
	want := []VerdictRow{
		{VerdictID: "v1", SubjectKind: "SUBJECT_KIND_AGENT", SubjectID: "a1", Action: "ACTION_BLOCK",
			Reason: "5 denied calls within 1m0s", Rule: "deny-burst", IssuedAt: issued, ExpiresAt: &exp,
			KafkaTopic: "vt", KafkaPartition: 0, KafkaOffset: 10},
		{VerdictID: "v2", SubjectKind: "SUBJECT_KIND_SESSION", SubjectID: "s1", Action: "ACTION_THROTTLE",
			Rule: "r", IssuedAt: issued, ThrottleRatePerSecond: 2.5, ThrottleBurst: 4,
			KafkaTopic: "vt", KafkaPartition: 2, KafkaOffset: 11},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("verdicts =\n%+v\nwant\n%+v", got, want)
	}

	raw := []byte{0xff, 0x00, 0x80, 'x'}
	if err := s.InsertDeadLetters(ctx, []DeadLetter{{
		Origin: Origin{Topic: "dt", Partition: 1, Offset: 5}, Key: []byte("agent:a"), Value: raw,
		Err: "proto: cannot parse invalid wire-format data", RecordTime: issued,
	}}); err != nil {
		t.Fatal(err)
	}
	var (
		topic, key, value, msg string
		part                   int32
		off                    int64
		rt                     time.Time
	)
	if err := s.conn.QueryRow(ctx, "SELECT kafka_topic, kafka_partition, kafka_offset, record_key, record_value, error, record_time FROM dead_letters FINAL").
		Scan(&topic, &part, &off, &key, &value, &msg, &rt); err != nil {
		t.Fatal(err)
	}
	if topic != "dt" || part != 1 || off != 5 || key != "agent:a" || value != string(raw) || !strings.Contains(msg, "wire-format") || !rt.Equal(issued) {
		t.Fatalf("dead letter = %q %d %d %q %q %q %v", topic, part, off, key, value, msg, rt)
	}
}

// TestIntegrationInsertThroughput measures 10k-row batches on the real
// server (reported with -v; the figure is informative, the test only
// asserts the rows arrived).
func TestIntegrationInsertThroughput(t *testing.T) {
	s := newTestStore(t)
	ctx := testCtx(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n, runs = 10_000, 10
	ds := make([]*decisionv1.Decision, n)
	for i := range ds {
		ds[i] = testDecision(i)
	}
	// Warm the connection pool so the figure is the insert, not the dial.
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, d := range ds {
		if _, err := NewDecisionRow(d, Origin{}, start); err != nil {
			t.Fatal(err)
		}
	}
	mapping := time.Since(start)
	var took []time.Duration
	for range runs {
		start := time.Now()
		if err := s.InsertDecisions(ctx, ds, nil); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	t.Logf("InsertDecisions, %d batches of %d rows: best %.0f rows/s (%s), median %.0f rows/s (%s), worst %.0f rows/s (%s); proto->row mapping alone %.0f rows/s",
		runs, n, rate(took[0]), took[0], rate(took[runs/2]), took[runs/2], rate(took[runs-1]), took[runs-1], rate(mapping))
	if got := uniqEventIDs(t, s); got != n {
		t.Fatalf("uniqExact(event_id) = %d, want %d", got, n)
	}
}
