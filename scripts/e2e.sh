#!/usr/bin/env bash
# `make e2e`: the whole loop on real Kafka + real ClickHouse, printing what it proved.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh up >/dev/null
trap 'scripts/services.sh down >/dev/null 2>&1 || true' EXIT
set -a
# shellcheck disable=SC1091
. .run/services.env
set +a
cd e2e
go test -tags integration -count=1 -v -run '^TestIntegration' . 2>&1 \
  | grep -vE '^\s+loop_integration_test.go:[0-9]+: \[|^=== RUN' ; exit "${PIPESTATUS[0]}"
