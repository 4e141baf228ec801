#!/usr/bin/env bash
# `make bench`: tools/call round trip through the Envoy emulation with the
# Portcullis filter vs a no-op ext_proc server, same process; prints the ratio.
set -euo pipefail
cd "$(dirname "$0")/../extproc"
out=$(go test -run '^$' -bench 'ToolsCallRoundTrip' -benchmem -count "${BENCH_COUNT:-5}" -benchtime "${BENCH_TIME:-1s}" ./devproxy/)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /^BenchmarkToolsCallRoundTrip\// {
    split($1, a, "/"); name = a[2]; sub(/-[0-9]+$/, "", name)
    sum[name] += $3; n[name]++
  }
  END {
    for (k in sum) mean[k] = sum[k] / n[k]
    printf "mean ns/op: noop %.0f, filter %.0f, filter+spool %.0f\n", mean["noop"], mean["filter"], mean["filter+spool"]
    printf "ratio filter/noop %.3f, filter+spool/noop %.3f\n", mean["filter"] / mean["noop"], mean["filter+spool"] / mean["noop"]
  }'
