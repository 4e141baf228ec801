#!/usr/bin/env bash
# End-to-end check of the services started by scripts/services.sh up, with the
# servers' own clients: Kafka's CLI classes from the cached jars (create a
# compacted topic, produce keyed records, consume them back) and clickhouse-client
# (SELECT version(), a MergeTree round trip). Prints "N passed, N failed".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENVFILE="$ROOT/.run/services.env"
[ -f "$ENVFILE" ] || { echo "smoke: $ENVFILE missing; run scripts/services.sh up" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
. "$ENVFILE"
set +a

pass=0 fail=0
ok() { echo "smoke: ok   $*" >&2; pass=$((pass + 1)); }
ko() { echo "smoke: FAIL $*" >&2; fail=$((fail + 1)); }

# ---- Kafka
CP="$("$ROOT/scripts/kafka.sh" classpath)"
kjava() { java -Xmx256m -cp "$CP" "$@"; }
topic="smoke-compact-$$-$RANDOM"
if kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --create \
  --topic "$topic" --partitions 1 --replication-factor 1 --config cleanup.policy=compact >&2; then
  ok "kafka: created compacted topic $topic"
else
  ko "kafka: create topic"
fi
if kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --describe --topic "$topic" |
  grep -q 'cleanup.policy=compact'; then
  ok "kafka: topic has cleanup.policy=compact"
else
  ko "kafka: describe topic"
fi
if printf 'k1:hello\nk2:world\n' | kjava org.apache.kafka.tools.ConsoleProducer \
  --bootstrap-server "$KAFKA_BROKERS" --topic "$topic" \
  --reader-property parse.key=true --reader-property key.separator=: >&2; then
  ok "kafka: produced 2 keyed records"
else
  ko "kafka: produce"
fi
got="$(kjava org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$KAFKA_BROKERS" \
  --topic "$topic" --from-beginning --max-messages 2 --timeout-ms 30000 \
  --formatter-property print.key=true --formatter-property key.separator=: 2>/dev/null || true)"
if [ "$got" = $'k1:hello\nk2:world' ]; then
  ok "kafka: consumed the 2 records back"
else
  ko "kafka: consume got: $got"
fi
# auto.create.topics.enable=false: producing to a missing topic must not create it.
printf 'x\n' | kjava org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$KAFKA_BROKERS" \
  --topic "no-such-topic-$$" --producer-property max.block.ms=3000 >/dev/null 2>&1 || true
if kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --list | grep -q "no-such-topic-$$"; then
  ko "kafka: a topic was auto-created"
else
  ok "kafka: topics are not auto-created"
fi
kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --delete --topic "$topic" >&2 || true

# ---- ClickHouse
port="${CLICKHOUSE_ADDR##*:}"
if v="$(clickhouse-client --host 127.0.0.1 --port "$port" -q 'SELECT version()')"; then
  ok "clickhouse: version $v"
else
  ko "clickhouse: SELECT version()"
fi
t="smoke_$$"
if clickhouse-client --host 127.0.0.1 --port "$port" -q "CREATE TABLE $t (k UInt32, v String) ENGINE = MergeTree ORDER BY k" &&
  clickhouse-client --host 127.0.0.1 --port "$port" -q "INSERT INTO $t VALUES (1, 'a'), (2, 'b')" &&
  [ "$(curl -s "$CLICKHOUSE_HTTP/?query=SELECT%20count()%20FROM%20$t")" = 2 ]; then
  ok "clickhouse: MergeTree insert over native, count over HTTP"
else
  ko "clickhouse: MergeTree round trip"
fi
clickhouse-client --host 127.0.0.1 --port "$port" -q "DROP TABLE IF EXISTS $t" || true

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
