#!/usr/bin/env bash
# A real ClickHouse server for tests and CI: Debian's clickhouse-server (18.16.1,
# the only one obtainable here), run by hand from a private copy of its config.
#
#   scripts/clickhouse.sh install  apt-get install clickhouse-server/-client if missing
#   scripts/clickhouse.sh start    install + start; prints CLICKHOUSE_ADDR=, CLICKHOUSE_HTTP=
#   scripts/clickhouse.sh stop     stop the server this script started, delete its data
#   scripts/clickhouse.sh status   exit 0 and print the env lines if running
#
# stdout carries only KEY=VALUE lines; progress goes to stderr.
# Data+config+logs: tmp/clickhouse.XXXXXX (fresh on every start, deleted on stop)
# PID:              .run/clickhouse.pid (+ .run/clickhouse.datadir, .run/clickhouse.env)
#
# Environment: CLICKHOUSE_PORT (19000, native), CLICKHOUSE_HTTP_PORT (18123),
# CLICKHOUSE_INTERSERVER_PORT (19009), CLICKHOUSE_START_TIMEOUT (60 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLICKHOUSE_PORT="${CLICKHOUSE_PORT:-19000}"
CLICKHOUSE_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-18123}"
CLICKHOUSE_INTERSERVER_PORT="${CLICKHOUSE_INTERSERVER_PORT:-19009}"
CLICKHOUSE_START_TIMEOUT="${CLICKHOUSE_START_TIMEOUT:-60}"
CLICKHOUSE_STOP_TIMEOUT="${CLICKHOUSE_STOP_TIMEOUT:-20}"
ETC=/etc/clickhouse-server
SERVICE=clickhouse
SERVICE_MATCH=clickhouse
SERVICE_CONFIG=config.xml
SERVICE_ERRLOG=logs/clickhouse-server.err.log
STOP_TIMEOUT=$CLICKHOUSE_STOP_TIMEOUT
# shellcheck source=scripts/lib/service.sh
. "$ROOT/scripts/lib/service.sh"

server_bin() { command -v clickhouse-server 2>/dev/null || { [ -x /usr/sbin/clickhouse-server ] && echo /usr/sbin/clickhouse-server; }; }
client_bin() { command -v clickhouse-client 2>/dev/null || { [ -x /usr/bin/clickhouse-client ] && echo /usr/bin/clickhouse-client; }; }

# ---------------------------------------------------------------- install ----
install() {
  if [ -n "$(server_bin)" ] && [ -n "$(client_bin)" ] && [ -f "$ETC/config.xml" ] && [ -f "$ETC/users.xml" ]; then
    return 0
  fi
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  local t0=$SECONDS policy=/usr/sbin/policy-rc.d made_policy=
  # The package's postinst runs `invoke-rc.d clickhouse-server start`. Where no
  # policy-rc.d forbids that (this image has one that exits 101), put one in place
  # for the install only, so no system server starts on ports 9000/8123.
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, scripts/clickhouse.sh install\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    made_policy=1
  fi
  log "installing clickhouse-server clickhouse-client (Debian) with apt-get"
  local rc=0 attempt
  # A mirror hiccup should not fail CI: three attempts, 5 s apart.
  for attempt in 1 2 3; do
    rc=0
    {
      "${sudo[@]}" apt-get update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
          clickhouse-server clickhouse-client
    } >&2 || rc=$?
    [ "$rc" -eq 0 ] && break
    log "apt-get attempt $attempt failed (exit $rc)"
    [ "$attempt" -lt 3 ] && sleep 5
  done
  if [ -n "$made_policy" ]; then "${sudo[@]}" rm -f "$policy"; fi
  [ "$rc" -eq 0 ] || die "apt-get install clickhouse-server clickhouse-client failed (exit $rc)"
  [ -n "$(server_bin)" ] || die "clickhouse-server not found after install"
  log "installed ($("$(client_bin)" --version 2>/dev/null | head -n1 || true)) in $((SECONDS - t0)) s"
}

# ----------------------------------------------------------------- helpers ----

ping_ok() {
  local out
  if command -v curl >/dev/null; then
    out="$(curl -s --max-time 2 "http://$HOST:$CLICKHOUSE_HTTP_PORT/ping" 2>/dev/null)" || return 1
  else
    out="$(
      exec 3<>"/dev/tcp/$HOST/$CLICKHOUSE_HTTP_PORT" || exit 1
      printf 'GET /ping HTTP/1.0\r\nHost: %s\r\n\r\n' "$HOST" >&3
      timeout 2 cat <&3 | tail -n1
    )" 2>/dev/null || return 1
  fi
  [ "${out//[$'\r\n']/}" = "Ok." ]
}

# Escape a replacement string for sed s### .
sed_esc() { printf '%s' "$1" | sed -e 's/[\\&#]/\\&/g'; }

# Copy the package's config.xml and users.xml into $dir and point every path,
# port and listen address at the private directory and our ports. Only the two
# files are copied: $ETC/config.d and users.d are not read (ClickHouse looks for
# them next to the config file it is given), nor is /etc/metrika.xml: include_from
# points at an empty file (the stock `incl`s are optional or have defaults; the
# server prints "Include not found: ..." for each, which is harmless).
write_config() {
  local dir=$1 d
  d="$(sed_esc "$dir")"
  cp "$ETC/config.xml" "$dir/config.xml"
  cp "$ETC/users.xml" "$dir/users.xml"
  # An empty substitutions file, so a system /etc/metrika.xml is never read.
  echo '<?xml version="1.0"?><yandex></yandex>' >"$dir/metrika.xml"
  mkdir -p "$dir/data" "$dir/data/tmp" "$dir/data/user_files" "$dir/data/format_schemas" "$dir/logs"
  sed -i \
    -e "s#<log>[^<]*</log>#<log>$d/logs/clickhouse-server.log</log>#" \
    -e "s#<errorlog>[^<]*</errorlog>#<errorlog>$d/logs/clickhouse-server.err.log</errorlog>#" \
    -e "s#<size>1000M</size>#<size>100M</size>#" \
    -e "s#<count>10</count>#<count>1</count>#" \
    -e "s#<path>/var/lib/clickhouse/</path>#<path>$d/data/</path>#" \
    -e "s#<tmp_path>[^<]*</tmp_path>#<tmp_path>$d/data/tmp/</tmp_path>#" \
    -e "s#<user_files_path>[^<]*</user_files_path>#<user_files_path>$d/data/user_files/</user_files_path>#" \
    -e "s#<format_schema_path>[^<]*</format_schema_path>#<format_schema_path>$d/data/format_schemas/</format_schema_path>#" \
    -e "s#<users_config>[^<]*</users_config>#<users_config>$d/users.xml</users_config>#" \
    -e "s#<http_port>[0-9]*</http_port>#<http_port>$CLICKHOUSE_HTTP_PORT</http_port>#" \
    -e "s#<tcp_port>[0-9]*</tcp_port>#<tcp_port>$CLICKHOUSE_PORT</tcp_port>#" \
    -e "s#<interserver_http_port>[0-9]*</interserver_http_port>#<interserver_http_port>$CLICKHOUSE_INTERSERVER_PORT</interserver_http_port>#" \
    -e "s#<port>9000</port>#<port>$CLICKHOUSE_PORT</port>#" \
    -e "s#<https_port>[0-9]*</https_port>##" \
    -e "s#<tcp_port_secure>[0-9]*</tcp_port_secure>##" \
    -e "s#<listen_host>[^<]*</listen_host>##" \
    -e "s#<include_from>[^<]*</include_from>##" \
    -e "s#</yandex>#    <listen_host>$HOST</listen_host>\n    <interserver_http_host>$HOST</interserver_http_host>\n    <include_from>$d/metrika.xml</include_from>\n</yandex>#" \
    "$dir/config.xml"
  # Whatever the stock file looked like, nothing may still point at the system
  # paths or default ports.
  if grep -nE '<(path|tmp_path|user_files_path|format_schema_path|log|errorlog)>/var/|<(tcp_port|http_port|interserver_http_port)>(9000|8123|9009)<' "$dir/config.xml" >&2; then
    die "config rewrite left system paths or ports in $dir/config.xml (lines above)"
  fi
  grep -q "<listen_host>$HOST</listen_host>" "$dir/config.xml" || die "listen_host not set in $dir/config.xml"
}

# ------------------------------------------------------------------ start ----
start() {
  if running; then
    log "already running (pid $(recorded_pid))"
    print_env
    return 0
  fi
  local stale
  stale="$(recorded_dir)"
  if [ -n "$stale" ]; then
    log "removing stale record (pid $(recorded_pid) not ours or gone)"
    case "$stale" in "$ROOT"/tmp/clickhouse.*) rm -rf "$stale" ;; esac
    rm -f "$PIDFILE" "$DIRFILE" "$ENVFILE"
  fi
  local p
  for p in "$CLICKHOUSE_PORT" "$CLICKHOUSE_HTTP_PORT" "$CLICKHOUSE_INTERSERVER_PORT"; do
    port_open "$p" && die "port $HOST:$p is already in use by another process"
  done

  install
  local bin dir t0
  bin="$(server_bin)"
  mkdir -p "$ROOT/tmp" "$RUN"
  if [ -n "${CLICKHOUSE_DATA_DIR:-}" ]; then
    # A persistent data directory (make run): kept by stop.
    dir="$(mkdir -p "$CLICKHOUSE_DATA_DIR" && cd "$CLICKHOUSE_DATA_DIR" && pwd)"
  else
    dir="$(mktemp -d "$ROOT/tmp/clickhouse.XXXXXX")"
  fi
  write_config "$dir"

  t0=$(date +%s%N)
  setsid "$bin" --config-file="$dir/config.xml" </dev/null >"$dir/logs/stdout.log" 2>&1 8>&- &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  echo "$dir" >"$DIRFILE"
  log "started pid $pid, data ${dir#"$ROOT"/}, waiting for http://$HOST:$CLICKHOUSE_HTTP_PORT/ping"

  local deadline=$((SECONDS + CLICKHOUSE_START_TIMEOUT))
  until ping_ok; do
    kill -0 "$pid" 2>/dev/null || fail_start "$dir" "server process $pid exited"
    [ "$SECONDS" -lt "$deadline" ] || fail_start "$dir" "no Ok. from /ping after ${CLICKHOUSE_START_TIMEOUT}s"
    sleep 0.1
  done
  # /ping answers before the native port may accept; wait for it too.
  until port_open "$CLICKHOUSE_PORT"; do
    [ "$SECONDS" -lt "$deadline" ] || fail_start "$dir" "native port $CLICKHOUSE_PORT not open after ${CLICKHOUSE_START_TIMEOUT}s"
    sleep 0.1
  done
  log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  {
    echo "CLICKHOUSE_ADDR=$HOST:$CLICKHOUSE_PORT"
    echo "CLICKHOUSE_HTTP=http://$HOST:$CLICKHOUSE_HTTP_PORT"
  } >"$ENVFILE"
  print_env
}

case "${1:-}" in
  install) install ;;
  start) lock; start ;;
  stop) lock; stop ;;
  status) status ;;
  *) echo "usage: $0 {install|start|stop|status}" >&2; exit 2 ;;
esac
