#!/usr/bin/env bash
# `make bench-dlp`: the dlp engine vs gitleaks v8 (library, default config) on
# the same JSON bodies in one process; prints ns/op of both and the ratio.
# gitleaks needs seconds per keyword-heavy MiB, so that case runs with
# BENCH_FULL=1 only.
set -euo pipefail
cd "$(dirname "$0")/../dlpbench"
short=-short
[ -n "${BENCH_FULL:-}" ] && short=
out=$(go test $short -run '^$' -bench 'Engines' -benchmem -benchtime "${BENCH_TIME:-5x}" -count "${BENCH_COUNT:-1}" .)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /^BenchmarkEngines\// {
    n = split($1, a, "/"); engine = a[n]; sub(/-[0-9]+$/, "", engine)
    key = a[2] "/" a[3]
    sum[key, engine] += $3; cnt[key, engine]++; keys[key] = 1
  }
  END {
    for (k in keys) {
      p = sum[k, "portcullis"] / cnt[k, "portcullis"]
      if (cnt[k, "gitleaks"] == 0) { printf "%-22s portcullis %10.0f ns/op   gitleaks (skipped; BENCH_FULL=1)\n", k, p; continue }
      g = sum[k, "gitleaks"] / cnt[k, "gitleaks"]
      printf "%-22s portcullis %10.0f ns/op   gitleaks %12.0f ns/op   gitleaks/portcullis %8.1fx\n", k, p, g, g / p
    }
  }' | sort -t/ -k1,1n
