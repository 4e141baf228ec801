package store

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
)

// migrationFiles holds the schema, one file per version: NNNN_name.sql.
// Every statement must be idempotent (CREATE TABLE IF NOT EXISTS, or ALTER
// TABLE t ADD COLUMN IF NOT EXISTS c with one column per statement, which
// the migrator runs itself: see [planStep]), so that a migration interrupted
// before it was recorded can simply run again, and
// must run on ClickHouse 18.16 and current releases; LowCardinality(T) is
// rewritten to T on servers without it (see [serverFeatures]).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change.
type migration struct {
	version uint32
	name    string // file name without the version prefix and .sql
	sql     string
}

var migrationNameRE = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations returns the embedded migrations ordered by version. Versions
// must start at 1 and have no gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		m := migrationNameRE.FindStringSubmatch(base)
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name must be NNNN_name.sql", base)
		}
		v, _ := strconv.ParseUint(m[1], 10, 32) // four digits always parse
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: uint32(v), name: m[2], sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return int(a.version) - int(b.version) })
	for i, m := range ms {
		if m.version != uint32(i+1) {
			return nil, fmt.Errorf("migration versions must be 1..%d without gaps or duplicates, found %04d_%s at position %d", len(ms), m.version, m.name, i+1)
		}
	}
	return ms, nil
}
