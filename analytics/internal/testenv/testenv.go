// Package testenv gives integration tests the real services they run
// against. The addresses come from the environment, set by the test runner
// (scripts/services.sh or CI); a missing variable fails the test, so an
// integration run can never pass by testing nothing.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// ClickHouseAddr returns the host:port of ClickHouse's native protocol from
// CLICKHOUSE_ADDR, failing t if it is unset.
func ClickHouseAddr(t testing.TB) string {
	t.Helper()
	return require(t, "CLICKHOUSE_ADDR", "host:port of a real ClickHouse native port, e.g. 127.0.0.1:19000 (scripts/services.sh up prints it)")
}

// KafkaBrokers returns the seed brokers from KAFKA_BROKERS (comma
// separated), failing t if it is unset.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	v := require(t, "KAFKA_BROKERS", "comma-separated host:port list of a real Kafka, e.g. 127.0.0.1:19092 (scripts/services.sh up prints it)")
	var out []string
	for _, b := range strings.Split(v, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

func require(t testing.TB, name, what string) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		t.Fatalf("integration test needs %s: %s. Start the services and export it; this test does not skip.", name, what)
	}
	return v
}

// UniqueName returns prefix followed by 12 random hex digits: a database or
// topic name no other test run uses.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return prefix + hex.EncodeToString(b)
}
