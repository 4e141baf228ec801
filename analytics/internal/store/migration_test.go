package store

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	decisionv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/decision/v1"
	verdictv1 "github.com/portcullis/portcullis/proto/gen/go/portcullis/verdict/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%04d_%s", m.version, m.name))
	}
	want := []string{"0001_decisions", "0002_verdicts", "0003_dead_letters", "0004_finding_direction_action", "0005_policy_version", "0006_quarantined_tools"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("migrations = %v, want %v", got, want)
	}
}

func TestLoadMigrationsRejectsBadSets(t *testing.T) {
	for name, files := range map[string][]string{
		"gap":       {"migrations/0001_a.sql", "migrations/0003_c.sql"},
		"duplicate": {"migrations/0001_a.sql", "migrations/0001_b.sql"},
		"bad name":  {"migrations/1_a.sql"},
		"no start":  {"migrations/0002_b.sql"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range files {
				fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1")}
			}
			if _, err := loadMigrations(fsys); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

var enumRE = regexp.MustCompile(`(?s)\b(\w+)\s+Enum8\((.*?)\)`)
var enumValueRE = regexp.MustCompile(`'(\w+)'\s*=\s*(-?\d+)`)

// enums returns column -> value name -> number for every Enum8 column of sql.
func enums(sql string) map[string]map[string]int32 {
	out := map[string]map[string]int32{}
	for _, m := range enumRE.FindAllStringSubmatch(sql, -1) {
		vals := map[string]int32{}
		for _, v := range enumValueRE.FindAllStringSubmatch(m[2], -1) {
			n, _ := strconv.Atoi(v[2])
			vals[v[1]] = int32(n)
		}
		out[m[1]] = vals
	}
	return out
}

func sameEnum(t *testing.T, column string, got map[string]int32, protoNames map[int32]string) {
	t.Helper()
	if len(got) != len(protoNames) {
		t.Errorf("%s: %d values in SQL, %d in the proto", column, len(got), len(protoNames))
	}
	for n, name := range protoNames {
		if v, ok := got[name]; !ok || v != n {
			t.Errorf("%s: proto value %s = %d is %d (present: %v) in SQL", column, name, n, v, ok)
		}
	}
}

func TestEnumColumnsMatchProto(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]map[string]int32{}
	for _, m := range ms {
		for col, vals := range enums(m.sql) {
			all[m.name+"."+col] = vals
		}
	}
	sameEnum(t, "decisions.outcome", all["decisions.outcome"], decisionv1.Outcome_name)
	sameEnum(t, "verdicts.subject_kind", all["verdicts.subject_kind"], verdictv1.SubjectKind_name)
	sameEnum(t, "verdicts.action", all["verdicts.action"], verdictv1.Action_name)
	if len(all) != 3 {
		t.Errorf("Enum8 columns %v: check each against its proto enum here", all)
	}
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements(`-- header; with a semicolon
CREATE TABLE a (x Enum8('a;b' = 1, 'it''s' = 2)) ENGINE = Memory; -- trailing; comment
SELECT "we;ird", ` + "`id;ent`" + `, 'esc\';aped';

  ;
SELECT 2`)
	want := []string{
		"CREATE TABLE a (x Enum8('a;b' = 1, 'it''s' = 2)) ENGINE = Memory",
		"SELECT \"we;ird\", `id;ent`, 'esc\\';aped'",
		"SELECT 2",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d statements %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("statement %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestPlanStep(t *testing.T) {
	for _, tc := range []struct {
		stmt string
		want step
	}{
		{"CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = Memory", step{sql: "CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = Memory"}},
		{"ALTER TABLE decisions\n    ADD COLUMN IF NOT EXISTS finding_actions Array(String) DEFAULT []\n    AFTER finding_directions",
			step{sql: "ALTER TABLE decisions\n    ADD COLUMN finding_actions Array(String) DEFAULT []\n    AFTER finding_directions",
				table: "decisions", column: "finding_actions"}},
		{"alter table t add column if not exists c UInt8", step{sql: "alter table t add column c UInt8", table: "t", column: "c"}},
		// Without IF NOT EXISTS the statement is not idempotent and is left
		// alone (TestMigrationStatementsAreIdempotent rejects it).
		{"ALTER TABLE t ADD COLUMN c UInt8", step{sql: "ALTER TABLE t ADD COLUMN c UInt8"}},
	} {
		if got := planStep(tc.stmt); got != tc.want {
			t.Errorf("planStep(%q) = %+v, want %+v", tc.stmt, got, tc.want)
		}
	}
}

var (
	createIfNotExistsRE = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s`)
	addColumnClauseRE   = regexp.MustCompile(`(?i)\bADD\s+COLUMN\b`)
)

// TestMigrationStatementsAreIdempotent holds every migration statement to
// the forms the migrator can run twice: CREATE TABLE IF NOT EXISTS, or one
// ADD COLUMN IF NOT EXISTS per ALTER (the step checks a single column).
func TestMigrationStatementsAreIdempotent(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for i, stmt := range splitStatements(m.sql) {
			st := planStep(stmt)
			switch {
			case createIfNotExistsRE.MatchString(stmt):
			case st.column != "" && len(addColumnClauseRE.FindAllString(stmt, -1)) == 1:
			default:
				t.Errorf("%04d_%s statement %d is not CREATE TABLE IF NOT EXISTS or a single ADD COLUMN IF NOT EXISTS:\n%s", m.version, m.name, i+1, stmt)
			}
		}
	}
}

func TestFeaturesOf(t *testing.T) {
	for _, tc := range []struct {
		v    proto.Version
		want bool
	}{
		{proto.Version{Major: 18, Minor: 16, Patch: 1}, false},
		{proto.Version{Major: 19, Minor: 17}, false},
		{proto.Version{Major: 20, Minor: 1}, true},
		{proto.Version{Major: 25, Minor: 10}, true},
	} {
		if got := featuresOf(tc.v).lowCardinality; got != tc.want {
			t.Errorf("featuresOf(%v).lowCardinality = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// TestRenderGolden pins the exact DDL sent to old (portable) and new
// servers. Run with -update to rewrite testdata after changing a migration.
func TestRenderGolden(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		f    serverFeatures
	}{{"portable", serverFeatures{}}, {"lowcardinality", serverFeatures{lowCardinality: true}}} {
		var b strings.Builder
		b.WriteString("-- bootstrap\n" + schemaMigrationsDDL + ";\n")
		for _, m := range ms {
			for _, s := range splitStatements(f.f.render(m.sql)) {
				fmt.Fprintf(&b, "-- %04d_%s\n%s;\n", m.version, m.name, planStep(s))
			}
		}
		got := b.String()
		if !f.f.lowCardinality && strings.Contains(got, "LowCardinality") {
			t.Errorf("portable DDL uses LowCardinality")
		}
		if f.f.lowCardinality && !strings.Contains(got, "LowCardinality(String)") {
			t.Errorf("modern DDL lacks LowCardinality")
		}
		path := filepath.Join("testdata", f.name+".golden.sql")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from rendered DDL (run go test -update and review the diff):\n%s", path, got)
		}
	}
}
