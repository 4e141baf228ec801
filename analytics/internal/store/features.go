package store

import (
	"regexp"

	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// lowCardinalityMinMajor is the first major ClickHouse version on which
// migrations use LowCardinality. 18.16 has it only behind the experimental
// allow_experimental_low_cardinality_type setting; it is generally
// available from 19.x on, and 20.1 is a safe, conservative line.
const lowCardinalityMinMajor = 20

// serverFeatures are the version-dependent SQL features the migrator uses.
type serverFeatures struct {
	lowCardinality bool
}

// featuresOf returns what the server of version v supports.
func featuresOf(v proto.Version) serverFeatures {
	return serverFeatures{lowCardinality: v.Major >= lowCardinalityMinMajor}
}

var lowCardinalityRE = regexp.MustCompile(`LowCardinality\(\s*([A-Za-z0-9_]+)\s*\)`)

// render adapts migration SQL to the server: without LowCardinality, the
// portable path, LowCardinality(T) becomes plain T (same values, same
// queries, only less compact).
func (f serverFeatures) render(sql string) string {
	if f.lowCardinality {
		return sql
	}
	return lowCardinalityRE.ReplaceAllString(sql, "$1")
}
