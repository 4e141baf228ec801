#!/usr/bin/env bash
# `make test`: unit tests of every module (race detector on), then the
# integration tests against a real Kafka broker and a real ClickHouse server,
# which this script starts (scripts/services.sh) and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES=(extproc analytics registry e2e dlpbench)

echo "== unit tests (go test -race) ==" >&2
for m in "${MODULES[@]}"; do
  (cd "$m" && go test -race -count=1 ./...)
done

echo "== integration tests (real Kafka + ClickHouse) ==" >&2
scripts/services.sh up >/dev/null
trap 'scripts/services.sh down >/dev/null 2>&1 || true' EXIT
set -a
# shellcheck disable=SC1091
. .run/services.env
set +a
for m in analytics e2e; do
  (cd "$m" && go test -tags integration -count=1 -run '^TestIntegration' -v ./... 2>&1 \
    | grep -E '^(=== RUN|--- |\s+\S+_test\.go:[0-9]+: (PROVED|InsertDecisions)|ok|FAIL|PASS|panic)' ; exit "${PIPESTATUS[0]}")
done
echo "== all tests passed ==" >&2
