#!/usr/bin/env bash
# `make lint`: buf lint + format (+ breaking against main once main has
# protos), go vet (also with the integration and conformance tags, and with
# GOWORK=off, so each module stands alone) and
# golangci-lint over every module.
set -euo pipefail
cd "$(dirname "$0")/.."
bin/buf lint
bin/buf format -d --exit-code
if git rev-parse --verify --quiet main:proto >/dev/null; then
  bin/buf breaking --against '.git#branch=main'
else
  echo "lint: main has no protos yet; buf breaking skipped" >&2
fi
for m in proto extproc analytics registry e2e dlpbench; do
  echo "lint: $m" >&2
  (cd "$m" && go vet ./... && go vet -tags integration,conformance ./... && GOWORK=off go vet ./... \
    && ../bin/golangci-lint run --allow-parallel-runners --build-tags integration,conformance ./...)
done
unformatted=$(gofmt -l extproc analytics registry e2e dlpbench)
if [ -n "$unformatted" ]; then
  echo "lint: gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi
