package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ClickHouseAudit returns an Audit function summarising the decisions stored
// for agent in the analytics database at addr. Rows arrive asynchronously,
// so it waits (up to 10s) until the outcome counts stop changing.
func ClickHouseAudit(addr, database, agent string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: database, Username: "default"}, DialTimeout: 2 * time.Second})
		if err != nil {
			return "", err
		}
		defer func() { _ = conn.Close() }()
		var last string
		deadline := time.Now().Add(10 * time.Second)
		for {
			rows, err := conn.Query(ctx, "SELECT toString(outcome), count() FROM decisions FINAL WHERE agent = ? GROUP BY outcome", agent)
			if err != nil {
				return "", err
			}
			var parts []string
			total := uint64(0)
			for rows.Next() {
				var outcome string
				var n uint64
				if err := rows.Scan(&outcome, &n); err != nil {
					_ = rows.Close()
					return "", err
				}
				parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(outcome, "OUTCOME_"), n))
				total += n
			}
			_ = rows.Close()
			sort.Strings(parts)
			cur := fmt.Sprintf("%d decisions for %s (%s) in %s.decisions", total, agent, strings.Join(parts, ", "), database)
			if cur == last || time.Now().After(deadline) {
				findings, err := findingSummary(ctx, conn, agent)
				if err != nil {
					return "", err
				}
				if findings != "" {
					cur += "; sensitive data: " + findings
				}
				return cur, nil
			}
			last = cur
			time.Sleep(time.Second)
		}
	}
}

// findingSummary counts the agent's findings by type and action (values are
// never stored, only types and counts).
func findingSummary(ctx context.Context, conn clickhouse.Conn, agent string) (string, error) {
	rows, err := conn.Query(ctx, `SELECT t, a, sum(c) FROM decisions FINAL
		ARRAY JOIN finding_types AS t, finding_actions AS a, finding_counts AS c
		WHERE agent = ? GROUP BY t, a ORDER BY t, a`, agent)
	if err != nil {
		return "", err
	}
	defer func() { _ = rows.Close() }()
	var parts []string
	for rows.Next() {
		var typ, action string
		var n uint64
		if err := rows.Scan(&typ, &action, &n); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s %s ×%d", typ, strings.ToLower(strings.TrimPrefix(action, "DATA_ACTION_")), n))
	}
	return strings.Join(parts, ", "), rows.Err()
}
