# shellcheck shell=bash
# Shared process bookkeeping for scripts/kafka.sh and scripts/clickhouse.sh:
# PID/data-dir records under .run/, ownership checks, stop, status and the
# per-checkout lock. Source it after setting:
#   SERVICE        name used in logs and file names ("kafka", "clickhouse")
#   SERVICE_MATCH  a string the server's command line contains ("kafka.Kafka")
#   SERVICE_CONFIG the config file inside the data dir ("server.properties")
#   SERVICE_ERRLOG the error log inside the data dir ("logs/server.log")
#   STOP_TIMEOUT   seconds to wait after SIGTERM before SIGKILL
#   ROOT           the repository root
RUN="$ROOT/.run"
PIDFILE="$RUN/$SERVICE.pid"
DIRFILE="$RUN/$SERVICE.datadir"
ENVFILE="$RUN/$SERVICE.env"
HOST=127.0.0.1

log() { echo "$SERVICE: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Is $1 a live server started by this script with data dir $2?
ours() {
  local pid=$1 dir=$2 cmd
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *"$SERVICE_MATCH"* && "$cmd" == *"$dir/$SERVICE_CONFIG"* ]]
}

recorded_pid() { cat "$PIDFILE" 2>/dev/null || true; }
recorded_dir() { cat "$DIRFILE" 2>/dev/null || true; }
running() { ours "$(recorded_pid)" "$(recorded_dir)"; }
print_env() { cat "$ENVFILE"; }

fail_start() {
  local dir=$1 why=$2
  log "$why; last lines of $dir/$SERVICE_ERRLOG:"
  tail -n 40 "$dir/$SERVICE_ERRLOG" >&2 2>/dev/null || true
  log "last lines of $dir/logs/stdout.log:"
  tail -n 20 "$dir/logs/stdout.log" >&2 2>/dev/null || true
  KEEP_DATA=1 stop >/dev/null || true
  die "start failed (logs kept in ${dir#"$ROOT"/})"
}

# stop signals only the recorded PID, and only if it is still our server;
# the data dir is removed unless KEEP_DATA is set (fresh tmp dirs only).
stop() {
  local pid dir
  pid="$(recorded_pid)"
  dir="$(recorded_dir)"
  if ours "$pid" "$dir"; then
    local t0=$SECONDS
    log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt "$STOP_TIMEOUT" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    log "stopped in $((SECONDS - t0)) s"
  elif [ -n "$pid" ]; then
    log "pid $pid is not our server any more; not signalling it"
  else
    log "not running"
  fi
  if [ -z "${KEEP_DATA:-}" ] && [ -n "$dir" ]; then
    case "$dir" in "$ROOT"/tmp/"$SERVICE".*) rm -rf "$dir" ;; esac
  fi
  rm -f "$PIDFILE" "$DIRFILE" "$ENVFILE"
}

status() {
  if running; then
    log "running (pid $(recorded_pid), data $(recorded_dir))"
    print_env
  else
    log "not running"
    return 1
  fi
}

# One start/stop at a time per checkout (fd 8; closed in the server's own fds).
lock() { mkdir -p "$RUN"; exec 8>"$RUN/$SERVICE.lock"; flock 8; }
