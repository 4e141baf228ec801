#!/usr/bin/env bash
# Installs the pinned developer tools into ./bin (ignored). Idempotent: a tool
# whose version stamp matches is not rebuilt, so a warm machine is fast.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/bin"
mkdir -p "$BIN"

# name  package@version
TOOLS=(
  "buf github.com/bufbuild/buf/cmd/buf@v1.75.0"
  "protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12"
  "protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2"
  "protoc-gen-connect-go connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1"
  "golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0"
)

want=${1:-all}
for entry in "${TOOLS[@]}"; do
  read -r name pkg <<<"$entry"
  if [ "$want" != all ] && [ "$want" != "$name" ]; then continue; fi
  stamp="$BIN/.$name.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then continue; fi
  echo "install-tools: $pkg" >&2
  GOWORK=off GOBIN="$BIN" go install "$pkg"
  echo "$pkg" >"$stamp"
done
