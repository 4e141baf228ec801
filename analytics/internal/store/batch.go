package store

import (
	"context"
	"fmt"
	"strings"
)

// insert sends n rows to table as one native batch: one INSERT, one block.
// row(i) returns the values of row i in cols order.
func (s *Store) insert(ctx context.Context, table string, cols []string, n int, row func(i int) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return fmt.Errorf("insert %d rows into %s: prepare: %w", n, table, err)
	}
	defer b.Abort() //nolint:errcheck // releases the connection; a no-op after Send
	for i := range n {
		vals, err := row(i)
		if err != nil {
			return fmt.Errorf("insert into %s: row %d: %w", table, i, err)
		}
		if err := b.Append(vals...); err != nil {
			return fmt.Errorf("insert into %s: append row %d: %w", table, i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d rows into %s: send: %w", n, table, err)
	}
	return nil
}
