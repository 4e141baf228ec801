#!/usr/bin/env bash
# `make bench`: the Portcullis filter vs a no-op ext_proc server, both behind
# the Envoy emulation on loopback, same process (extproc/devproxy/bench_test.go):
#   1. tools/call round trip, one call at a time (ns/op, ratio);
#   2. a 10 MiB SSE response in 1 KiB events, response body STREAMED and
#      FULL_DUPLEX_STREAMED (MB/s, ratio, peak heap), and the peak heap of a
#      40 MiB stream (memory per stream must not grow with the stream);
#   3. sustained tools/call with 16 and 64 concurrent clients (calls/s, ratio).
# Knobs (defaults in brackets): BENCH_COUNT [5] and BENCH_TIME [1s] for 1,
# BENCH_SSE_COUNT [3] and BENCH_SSE_TIME [3x] for 2, BENCH_LOAD_COUNT [3] and
# BENCH_LOAD_TIME [1s] for 3.
set -euo pipefail
cd "$(dirname "$0")/../extproc"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/devproxy.test" ./devproxy/
cd devproxy # the benchmarks read ../../envoy/envoy.yaml

bench() { # pattern count benchtime
  "$tmp/devproxy.test" -test.run '^$' -test.bench "$1" -test.benchmem -test.count "$2" -test.benchtime "$3"
}

# means NAME-PREFIX: "<sub> <unit> <mean>" lines for the Benchmark lines read
# from stdin whose name starts with NAME-PREFIX (the -GOMAXPROCS suffix and
# the prefix dropped), plus "<sub> max:<unit> <max>" for every unit.
means() {
  awk -v prefix="$1" '
    index($1, prefix) == 1 {
      name = substr($1, length(prefix) + 1); sub(/-[0-9]+$/, "", name)
      for (i = 3; i < NF; i += 2) {
        k = name SUBSEP $(i + 1); sum[k] += $i; n[k]++
        if (!(k in mx) || $i > mx[k]) mx[k] = $i
      }
    }
    END { for (k in sum) { split(k, p, SUBSEP); print p[1], p[2], sum[k] / n[k]; print p[1], "max:" p[2], mx[k] } }'
}

# get FILE SUB UNIT: the value means printed for SUB and UNIT.
get() { awk -v s="$2" -v u="$3" '$1 == s && $2 == u { print $3 }' "$1"; }

echo "== 1. tools/call round trip (one client)"
bench 'ToolsCallRoundTrip' "${BENCH_COUNT:-5}" "${BENCH_TIME:-1s}" | tee "$tmp/rt" | grep -E '^Benchmark|FAIL|_test\.go:|panic'
means BenchmarkToolsCallRoundTrip/ <"$tmp/rt" >"$tmp/rt.m"
awk -v noop="$(get "$tmp/rt.m" noop ns/op)" -v f="$(get "$tmp/rt.m" filter ns/op)" -v fs="$(get "$tmp/rt.m" filter+spool ns/op)" 'BEGIN {
  printf "mean ns/op: noop %.0f, filter %.0f, filter+spool %.0f\n", noop, f, fs
  printf "ratio filter/noop %.3f, filter+spool/noop %.3f\n", f / noop, fs / noop }'

echo
echo "== 2. SSE response, 1 KiB events"
{
  bench 'SSEStream/size=10MiB/' "${BENCH_SSE_COUNT:-3}" "${BENCH_SSE_TIME:-3x}"
  bench 'SSEStream/size=40MiB/' 1 "${BENCH_SSE_TIME:-3x}"
} | tee "$tmp/sse" | grep -E '^Benchmark|FAIL|_test\.go:|panic'
means BenchmarkSSEStream/ <"$tmp/sse" >"$tmp/sse.m"
for mode in streamed full-duplex; do
  noop=$(get "$tmp/sse.m" "size=10MiB/noop-$mode" MB/s)
  filt=$(get "$tmp/sse.m" "size=10MiB/filter-$mode" MB/s)
  case $mode in streamed) wire=STREAMED ;; *) wire=FULL_DUPLEX_STREAMED ;; esac
  awk -v w="$wire" -v noop="$noop" -v f="$filt" \
    -v fh="$(get "$tmp/sse.m" "size=10MiB/filter-$mode" max:peak-heap-MiB)" -v fl="$(get "$tmp/sse.m" "size=10MiB/filter-$mode" max:peak-live-MiB)" \
    -v nh="$(get "$tmp/sse.m" "size=10MiB/noop-$mode" max:peak-heap-MiB)" -v nl="$(get "$tmp/sse.m" "size=10MiB/noop-$mode" max:peak-live-MiB)" \
    -v bl="$(get "$tmp/sse.m" "size=10MiB/filter-$mode" base-live-MiB)" 'BEGIN {
    printf "SSE 10 MiB, %s: filter %.1f MB/s, no-op %.1f MB/s, ratio filter/no-op %.3f\n", w, f, noop, f / noop
    printf "  peak heap during the stream (whole process, %.1f MiB live before it): filter %.1f MiB (live %.1f MiB), no-op %.1f MiB (live %.1f MiB)\n", bl, fh, fl, nh, nl }'
done
awk -v s="$(get "$tmp/sse.m" size=10MiB/filter-streamed MB/s)" -v d="$(get "$tmp/sse.m" size=10MiB/filter-full-duplex MB/s)" 'BEGIN {
  printf "filter FULL_DUPLEX_STREAMED / STREAMED: %.3f\n", d / s }'
for mode in streamed full-duplex; do
  awk -v m="$mode" -v a="$(get "$tmp/sse.m" "size=10MiB/filter-$mode" max:peak-heap-MiB)" -v b="$(get "$tmp/sse.m" "size=40MiB/filter-$mode" max:peak-heap-MiB)" \
    -v la="$(get "$tmp/sse.m" "size=10MiB/filter-$mode" max:peak-live-MiB)" -v lb="$(get "$tmp/sse.m" "size=40MiB/filter-$mode" max:peak-live-MiB)" 'BEGIN {
    printf "peak heap, filter %s: 10 MiB stream %.1f MiB (live %.1f), 40 MiB stream %.1f MiB (live %.1f)\n", m, a, la, b, lb }'
done

echo
echo "== 3. sustained tools/call, GOMAXPROCS=${GOMAXPROCS:-$(nproc)}"
bench 'ToolsCallSustained' "${BENCH_LOAD_COUNT:-3}" "${BENCH_LOAD_TIME:-1s}" | tee "$tmp/load" | grep -E '^Benchmark|FAIL|_test\.go:|panic'
means BenchmarkToolsCallSustained/ <"$tmp/load" >"$tmp/load.m"
for c in 16 64; do
  awk -v c="$c" -v noop="$(get "$tmp/load.m" "clients=$c/noop" calls/s)" -v f="$(get "$tmp/load.m" "clients=$c/filter" calls/s)" 'BEGIN {
    printf "%d clients: filter %.0f calls/s, no-op %.0f calls/s, ratio filter/no-op %.3f\n", c, f, noop, f / noop }'
done
