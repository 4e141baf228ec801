#!/usr/bin/env bash
# `make run`: the whole product locally. ClickHouse is started from its binary
# (installed from Debian when missing); Kafka is embedded (kfake, persisted in
# tmp/stack/kafka) unless KAFKA_BROKERS names a real broker.
set -euo pipefail
cd "$(dirname "$0")/.."
# ClickHouse keeps its data next to the embedded Kafka's, so the audit trail
# and the consumer offsets survive restarts together.
eval "$(CLICKHOUSE_DATA_DIR="$PWD/tmp/stack/clickhouse" scripts/clickhouse.sh start)"
trap 'scripts/clickhouse.sh stop >/dev/null 2>&1 || true' EXIT
args=(-clickhouse-addr "$CLICKHOUSE_ADDR")
if [ -n "${KAFKA_BROKERS:-}" ]; then
  args+=(-kafka-brokers "$KAFKA_BROKERS")
fi
bin/portcullis-stack "${args[@]}"
