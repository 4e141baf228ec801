#!/usr/bin/env bash
# `make check-compose` (run by .ci/run): validates docker-compose.yml with
# `docker-compose config`, which needs no container engine.
#
# docker-compose (v1, Debian's package) is installed with apt when missing, as
# on a fresh CI machine; that needs root (or sudo). Before trusting the result,
# the check proves it can fail: a copy of the file with one misspelt key must
# be rejected, for that key.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPOSE_FILE_PATH=docker-compose.yml

die() { echo "check-compose: $*" >&2; exit 1; }

if ! command -v docker-compose >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 ||
    die "docker-compose is not installed and there is no apt-get to install it; install docker-compose (v1.29, or v2 as docker-compose) and rerun"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
      die "docker-compose is not installed; installing it needs root: run 'apt-get install -y --no-install-recommends docker-compose' as root"
    sudo=(sudo)
  fi
  echo "check-compose: installing docker-compose with apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet; refresh them only then.
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends docker-compose >/dev/null; then
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y --no-install-recommends docker-compose >/dev/null ||
      die "apt-get install docker-compose failed"
  fi
  command -v docker-compose >/dev/null 2>&1 || die "docker-compose still not on PATH after apt-get install"
fi
echo "check-compose: $(docker-compose version --short 2>/dev/null || docker-compose --version)" >&2

# config resolves relative paths (build contexts, bind mounts) against the
# project directory: always the repository root, also for the copy below.
compose_config() {
  docker-compose --project-directory "$PWD" -f "$1" config -q
}

# 1. The real file.
if ! out=$(compose_config "$COMPOSE_FILE_PATH" 2>&1); then
  die "$COMPOSE_FILE_PATH is invalid (docker-compose config):"$'\n'"$out"
fi

# 2. Self-check: the same file with one key misspelt must be rejected, and for
#    that key, or a pass above proves nothing.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
broken="$work/docker-compose.yml"
sed '0,/^    image: portcullis\/extproc:dev$/s//    imagee: portcullis\/extproc:dev/' "$COMPOSE_FILE_PATH" >"$broken"
cmp -s "$COMPOSE_FILE_PATH" "$broken" &&
  die "self-check: could not break the copy (no '    image: portcullis/extproc:dev' line in $COMPOSE_FILE_PATH?)"
if out=$(compose_config "$broken" 2>&1); then
  die "self-check: docker-compose config accepted a file with an unknown key 'imagee'; this check would not catch errors"
fi
grep -q "imagee" <<<"$out" ||
  die "self-check: docker-compose config failed on the broken copy, but not for the unknown key:"$'\n'"$out"

echo "check-compose: $COMPOSE_FILE_PATH is valid (and a broken copy was rejected)" >&2
