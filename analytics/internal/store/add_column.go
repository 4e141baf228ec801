package store

import (
	"context"
	"fmt"
	"regexp"
)

// addColumnRE matches the one ALTER form migrations use, a single column per
// statement: ALTER TABLE t ADD COLUMN IF NOT EXISTS c <type> [DEFAULT ...]
// [AFTER ...]. Groups: the statement up to COLUMN, the table, the column and
// the rest.
var addColumnRE = regexp.MustCompile(`(?is)^(ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+ADD\s+COLUMN)\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)(\s.*)$`)

// step is one migration statement as the migrator runs it.
type step struct {
	sql string
	// table and column, when set, make the step conditional: it runs only if
	// table has no column of that name.
	table, column string
}

// planStep returns how stmt is run. Most statements run as written (they are
// CREATE ... IF NOT EXISTS). ClickHouse 18.16 does not parse ALTER TABLE t
// ADD COLUMN IF NOT EXISTS c, so such a statement becomes a plain ADD COLUMN
// that runs only if c is missing: the same effect, on every server.
func planStep(stmt string) step {
	m := addColumnRE.FindStringSubmatch(stmt)
	if m == nil {
		return step{sql: stmt}
	}
	return step{sql: m[1] + " " + m[3] + m[4], table: m[2], column: m[3]}
}

// String is the step as the golden files show it.
func (st step) String() string {
	if st.column == "" {
		return st.sql
	}
	return fmt.Sprintf("-- only if %s.%s is missing\n%s", st.table, st.column, st.sql)
}

// runStep executes st in the Store's database.
func (s *Store) runStep(ctx context.Context, st step) error {
	if st.column == "" {
		return s.conn.Exec(ctx, st.sql)
	}
	exists, err := s.columnExists(ctx, st.table, st.column)
	if err != nil || exists {
		return err
	}
	if err := s.conn.Exec(ctx, st.sql); err != nil {
		// A replica migrating at the same time may have added it since the
		// check; then the step has had its effect.
		if exists, cerr := s.columnExists(ctx, st.table, st.column); cerr == nil && exists {
			return nil
		}
		return err
	}
	return nil
}

// columnExists reports whether table of the Store's database has column.
func (s *Store) columnExists(ctx context.Context, table, column string) (bool, error) {
	var n uint64
	err := s.conn.QueryRow(ctx,
		"SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = ? AND name = ?",
		table, column).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up column %s.%s: %w", table, column, err)
	}
	return n > 0, nil
}
