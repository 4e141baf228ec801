package store

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"go.uber.org/zap"
)

// schemaMigrationsDDL creates the table that records applied migrations. It
// is created by the migrator itself, before any migration. ReplacingMergeTree
// keyed by version: two replicas migrating at once record a version twice,
// and the copies collapse.
const schemaMigrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY version`

// AppliedMigration is one row of schema_migrations.
type AppliedMigration struct {
	Version uint32
	Name    string
}

// Migrate creates the database if needed and applies, in version order, the
// embedded migrations not yet recorded in schema_migrations, recording each
// after it ran. It is idempotent and safe to run at every start, also by
// several replicas at once (every statement is IF NOT EXISTS; see [planStep]
// for ADD COLUMN IF NOT EXISTS, which 18.16 lacks).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return err
	}
	if err := s.createDatabase(ctx); err != nil {
		return err
	}
	sv, err := s.conn.ServerVersion()
	if err != nil {
		return fmt.Errorf("clickhouse %s server version: %w", s.opts.Addr, err)
	}
	features := featuresOf(sv.Version)
	if err := s.conn.Exec(ctx, schemaMigrationsDDL); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := s.AppliedMigrations(ctx)
	if err != nil {
		return err
	}
	done := make(map[uint32]bool, len(applied))
	for _, a := range applied {
		done[a.Version] = true
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		for i, stmt := range splitStatements(features.render(m.sql)) {
			if err := s.runStep(ctx, planStep(stmt)); err != nil {
				return fmt.Errorf("migration %04d_%s statement %d: %w", m.version, m.name, i+1, err)
			}
		}
		if err := s.recordMigration(ctx, m); err != nil {
			return err
		}
		s.opts.Logger.Info("applied clickhouse migration",
			zap.Uint32("version", m.version), zap.String("name", m.name),
			zap.String("database", s.opts.Database), zap.String("server_version", sv.Version.String()),
			zap.Bool("low_cardinality", features.lowCardinality))
	}
	return nil
}

// createDatabase creates the Store's database over a connection to the
// user's default database (the pool's connections need it to exist).
func (s *Store) createDatabase(ctx context.Context) error {
	boot, err := clickhouse.Open(s.opts.clickhouseOptions(""))
	if err != nil {
		return fmt.Errorf("open clickhouse %s: %w", s.opts.Addr, err)
	}
	defer func() { _ = boot.Close() }()
	if err := boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+s.opts.Database+"`"); err != nil {
		return fmt.Errorf("create database %s on %s: %w", s.opts.Database, s.opts.Addr, err)
	}
	return nil
}

func (s *Store) recordMigration(ctx context.Context, m migration) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at)")
	if err != nil {
		return fmt.Errorf("record migration %04d: %w", m.version, err)
	}
	defer b.Abort() //nolint:errcheck // no-op after Send
	if err := b.Append(m.version, m.name, s.opts.Now()); err != nil {
		return fmt.Errorf("record migration %04d: %w", m.version, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record migration %04d: %w", m.version, err)
	}
	return nil
}

// AppliedMigrations returns the recorded migrations, by version.
func (s *Store) AppliedMigrations(ctx context.Context) ([]AppliedMigration, error) {
	rows, err := s.conn.Query(ctx, "SELECT version, name FROM schema_migrations FINAL ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []AppliedMigration
	for rows.Next() {
		var a AppliedMigration
		if err := rows.Scan(&a.Version, &a.Name); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return out, nil
}
