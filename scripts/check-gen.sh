#!/usr/bin/env bash
# `make check-gen`: fails when the committed generated code differs from what
# `buf generate` produces now.
set -euo pipefail
cd "$(dirname "$0")/.."
bin/buf generate
if ! git diff --quiet -- proto/gen || [ -n "$(git ls-files --others --exclude-standard proto/gen)" ]; then
  echo "check-gen: generated code is stale; run 'make gen' and commit proto/gen:" >&2
  git status --short proto/gen >&2
  exit 1
fi
echo "check-gen: proto/gen is up to date" >&2
