#!/usr/bin/env bash
# Starts/stops the real services the tests need: Kafka (scripts/kafka.sh) and
# ClickHouse (scripts/clickhouse.sh), both on 127.0.0.1 only.
#
#   scripts/services.sh up      start both (idempotent); write .run/services.env
#                               and print its KEY=VALUE lines on stdout
#   scripts/services.sh down    stop both (idempotent), remove .run/services.env
#   scripts/services.sh status  print the env lines; exit 1 unless both run
#
# Use from a test run:  eval "$(scripts/services.sh up)"  or
#                       set -a; . .run/services.env; set +a
# If one service fails to start, `up` stops whatever it started itself and exits 1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
S="$ROOT/scripts"
RUN="$ROOT/.run"
ENVFILE="$RUN/services.env"
SERVICES=(kafka clickhouse)

log() { echo "services: $*" >&2; }

up() {
  local t0=$SECONDS started=() out="" svc lines
  mkdir -p "$RUN"
  for svc in "${SERVICES[@]}"; do
    local was_running=
    "$S/$svc.sh" status >/dev/null 2>&1 && was_running=1
    if lines="$("$S/$svc.sh" start)"; then
      [ -n "$was_running" ] || started+=("$svc")
      out+="$lines"$'\n'
    else
      log "$svc failed to start"
      local s
      for s in "${started[@]}"; do
        log "stopping $s (started by this run)"
        "$S/$s.sh" stop >/dev/null || true
      done
      rm -f "$ENVFILE"
      exit 1
    fi
  done
  printf '%s' "$out" >"$ENVFILE.tmp" && mv "$ENVFILE.tmp" "$ENVFILE"
  log "up in $((SECONDS - t0)) s; env in ${ENVFILE#"$ROOT"/}"
  cat "$ENVFILE"
}

down() {
  # Stopped in parallel: each takes ~2 s to shut down cleanly.
  local rc=0 svc pids=()
  for svc in "${SERVICES[@]}"; do
    "$S/$svc.sh" stop >/dev/null &
    pids+=("$!")
  done
  local i
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { log "${SERVICES[$i]} stop failed"; rc=1; }
  done
  rm -f "$ENVFILE"
  return "$rc"
}

status() {
  local rc=0 svc
  for svc in "${SERVICES[@]}"; do
    "$S/$svc.sh" status || rc=1
  done
  return "$rc"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 {up|down|status}" >&2; exit 2 ;;
esac
