package store

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Store writes the analytics tables of one ClickHouse database. It is safe
// for concurrent use.
type Store struct {
	opts Options
	conn driver.Conn
}

// Open returns a Store for opts. It does not connect: connections are
// opened on first use (Migrate, Ping or an insert).
func Open(opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("clickhouse options: %w", err)
	}
	conn, err := clickhouse.Open(o.clickhouseOptions(o.Database))
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %s: %w", o.Addr, err)
	}
	return &Store{opts: o, conn: conn}, nil
}

// clickhouseOptions are the driver options for a connection to database
// (empty: the user's default database).
func (o Options) clickhouseOptions(database string) *clickhouse.Options {
	return &clickhouse.Options{
		Protocol: clickhouse.Native,
		Addr:     []string{o.Addr},
		Auth: clickhouse.Auth{
			Database: database,
			Username: o.Username,
			Password: o.Password,
		},
		DialTimeout:  o.DialTimeout,
		ReadTimeout:  o.ReadTimeout,
		MaxOpenConns: o.MaxOpenConns,
		MaxIdleConns: o.MaxOpenConns,
		Compression:  &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	}
}

// Database returns the name of the database the Store writes.
func (s *Store) Database() string { return s.opts.Database }

// Ping checks that ClickHouse answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping clickhouse %s: %w", s.opts.Addr, err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close clickhouse: %w", err)
	}
	return nil
}
