#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker+controller in one JVM) for tests
# and CI, run from Maven Central jars on the machine's Java 17. No Docker needed.
#
#   scripts/kafka.sh start    install (first time) + start; prints KAFKA_BROKERS=...
#   scripts/kafka.sh stop     stop the broker this script started, delete its data
#   scripts/kafka.sh status   exit 0 and print KAFKA_BROKERS=... if running
#   scripts/kafka.sh install  only resolve the jars into the cache
#   scripts/kafka.sh classpath  print the cached classpath (for Kafka's CLI classes)
#
# stdout carries only KEY=VALUE lines; progress goes to stderr.
# Jars:    .cache/kafka/<version>/libs (+ classpath file; a warm start runs no Maven)
# Data:    tmp/kafka.XXXXXX (fresh on every start, deleted on stop)
# PID:     .run/kafka.pid (+ .run/kafka.datadir, .run/kafka.env)
#
# Environment: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_VERSION
# (4.4.0), KAFKA_HEAP_OPTS (-Xmx512m -Xms128m), KAFKA_START_TIMEOUT (90 s),
# MAVEN_ARGS_EXTRA (extra mvn args, e.g. -Dmaven.repo.local=...).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"

POM="$ROOT/scripts/services/kafka/pom.xml"
CACHE="$ROOT/.cache/kafka/$KAFKA_VERSION"
LIBS="$CACHE/libs"
CPFILE="$CACHE/classpath"
STAMP="$CACHE/pom.sha256"
SERVICE=kafka
SERVICE_MATCH=kafka.Kafka
SERVICE_CONFIG=server.properties
SERVICE_ERRLOG=logs/server.log
STOP_TIMEOUT=$KAFKA_STOP_TIMEOUT
# shellcheck source=scripts/lib/service.sh
. "$ROOT/scripts/lib/service.sh"

# ---------------------------------------------------------------- install ----
# Resolve kafka_2.13 + kafka-tools + log4j2 binding into $LIBS with Maven, once.
# The cache is keyed by version and by the pom's hash; a classpath file written
# last marks it complete, so a warm start only checks files.
cache_ok() {
  [ -s "$CPFILE" ] && [ -s "$STAMP" ] || return 1
  [ "$(cat "$STAMP")" = "$(sha256sum "$POM" | cut -d' ' -f1)" ] || return 1
  local jar
  while IFS= read -r jar; do [ -f "$jar" ] || return 1; done < <(tr ':' '\n' <"$CPFILE")
}

install() {
  cache_ok && return 0
  command -v java >/dev/null || die "java not found (need Java 17+)"
  command -v mvn >/dev/null || die "mvn not found (need Maven 3)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if cache_ok; then exec 9>&-; return 0; fi
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION with Maven into ${LIBS#"$ROOT"/}"
  local t0=$SECONDS tmp="$CACHE/libs.tmp"
  rm -rf "$tmp" "$CPFILE"
  # A repository hiccup should not fail CI: two attempts.
  local attempt ok=
  for attempt in 1 2; do
    # shellcheck disable=SC2086 # MAVEN_ARGS_EXTRA is a list of words
    if mvn -B -q -Dstyle.color=never -f "$POM" ${MAVEN_ARGS_EXTRA:-} \
      -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 |
      # Maven 3.8 -q still prints bare ANSI resets ("\e[0m") even with -B: drop them.
      sed -e $'s/\e\\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
      ok=1
      break
    fi
    log "mvn attempt $attempt failed"
  done
  [ -n "$ok" ] || die "mvn dependency:copy-dependencies failed for Kafka $KAFKA_VERSION"
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  sha256sum "$POM" | cut -d' ' -f1 >"$STAMP"
  local cp
  cp="$(find "$LIBS" -maxdepth 1 -name '*.jar' | sort | paste -sd:)"
  printf '%s\n' "$cp" >"$CPFILE.tmp" && mv "$CPFILE.tmp" "$CPFILE"
  log "resolved $(find "$LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - t0)) s"
  exec 9>&-
}

# ----------------------------------------------------------------- helpers ----
write_config() {
  local dir=$1
  cat >"$dir/server.properties" <<EOF
# written by scripts/kafka.sh; data is deleted on stop
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.cleaner.enable=true
log.cleaner.backoff.ms=1000
EOF
  cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
EOF
}


# ------------------------------------------------------------------ start ----
start() {
  if running; then
    log "already running (pid $(recorded_pid))"
    print_env
    return 0
  fi
  # A stale record (process gone or PID reused by another program): clean up.
  local stale
  stale="$(recorded_dir)"
  if [ -n "$stale" ]; then
    log "removing stale record (pid $(recorded_pid) not ours or gone)"
    case "$stale" in "$ROOT"/tmp/kafka.*) rm -rf "$stale" ;; esac
    rm -f "$PIDFILE" "$DIRFILE" "$ENVFILE"
  fi
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$p" && die "port $HOST:$p is already in use by another process"
  done

  install
  local cp t0 dir cluster_id
  cp="$(cat "$CPFILE")"
  mkdir -p "$ROOT/tmp" "$RUN"
  if [ -n "${KAFKA_REUSE_DIR:-}" ]; then
    # resume: the same log dirs, already formatted (topics, offsets kept).
    dir="$KAFKA_REUSE_DIR"
    [ -f "$dir/data/meta.properties" ] || die "KAFKA_REUSE_DIR $dir holds no formatted storage"
  else
    dir="$(mktemp -d "$ROOT/tmp/kafka.XXXXXX")"
    mkdir -p "$dir/logs" "$dir/data"
    write_config "$dir"
  fi

  # Random cluster id: 16 random bytes, base64url without padding (22 chars).
  # Like Kafka's Uuid.randomUuid, never one starting with '-': StorageTool would
  # take it for an option ("argument --cluster-id/-t: expected one argument").
  cluster_id=-
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  t0=$(date +%s%N)
  [ -n "${KAFKA_REUSE_DIR:-}" ] || java -Xmx256m -cp "$cp" -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
    >"$dir/logs/format.log" 2>&1 || {
    cat "$dir/logs/format.log" >&2
    rm -rf "$dir"
    die "storage format failed"
  }
  [ -n "${KAFKA_REUSE_DIR:-}" ] || log "storage formatted (cluster id $cluster_id) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

  t0=$(date +%s%N)
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
  setsid java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true -Dkafka.logs.dir="$dir/logs" \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$dir/server.properties" \
    </dev/null >"$dir/logs/stdout.log" 2>&1 8>&- &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  echo "$dir" >"$DIRFILE"
  log "started pid $pid, data ${dir#"$ROOT"/}, waiting for $HOST:$KAFKA_PORT"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      fail_start "$dir" "broker process $pid exited"
    fi
    if port_open "$KAFKA_PORT" &&
      grep -qE 'Kafka Server started|Transition from STARTING to STARTED' "$dir/logs/server.log" 2>/dev/null; then
      break
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail_start "$dir" "not ready after ${KAFKA_START_TIMEOUT}s"
    sleep 0.2
  done
  log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  echo "KAFKA_BROKERS=$HOST:$KAFKA_PORT" >"$ENVFILE"
  print_env
}

case "${1:-}" in
  start) lock; start ;;
  stop) lock; stop ;;
  # pause/resume: stop the broker keeping its data, start it again on the same
  # data and ports (outage tests).
  pause) lock; d="$(recorded_dir)"; [ -n "$d" ] || die "not running"; KEEP_DATA=1 stop; echo "$d" >"$RUN/kafka.paused" ;;
  resume) lock; [ -f "$RUN/kafka.paused" ] || die "not paused"; KAFKA_REUSE_DIR="$(cat "$RUN/kafka.paused")" start; rm -f "$RUN/kafka.paused" ;;
  status) status ;;
  install) install ;;
  classpath) install && cat "$CPFILE" ;;
  *) echo "usage: $0 {start|stop|status|pause|resume|install|classpath}" >&2; exit 2 ;;
esac
