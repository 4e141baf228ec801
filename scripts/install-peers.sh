#!/usr/bin/env bash
# Installs the MCP peers the conformance run and the peer tests use into
# tools/conformance (ignored, cached between runs): Node 22 and the npm
# packages pinned in tools/conformance/package-lock.json (the official
# conformance suite, the TypeScript SDK, server-everything), and the go-sdk's
# conformance everything-server. Idempotent: stamps skip what is current.
set -euo pipefail
cd "$(dirname "$0")/../tools/conformance"
GO_SERVER=github.com/modelcontextprotocol/go-sdk/conformance/everything-server@v1.8.0

lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.portcullis-stamp 2>/dev/null)" != "$lock" ]; then
  echo "install-peers: npm ci (node 22, conformance suite, TS SDK, server-everything)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock" >node_modules/.portcullis-stamp
fi
if [ "$(node_modules/.bin/node --version)" != "v22.23.3" ]; then
  echo "install-peers: node_modules/.bin/node is $(node_modules/.bin/node --version), want v22.23.3" >&2
  exit 1
fi
if [ ! -x bin/everything-server ] || [ "$(cat bin/.everything-server.version 2>/dev/null)" != "$GO_SERVER" ]; then
  echo "install-peers: go install $GO_SERVER" >&2
  mkdir -p bin
  (cd /tmp && GOWORK=off GOFLAGS=-mod=mod GOBIN="$OLDPWD/bin" go install "$GO_SERVER")
  echo "$GO_SERVER" >bin/.everything-server.version
fi
