#!/usr/bin/env bash
# testnet/install-cometbft.sh: make sure CometBFT v0.38.25 is installed (go install if missing) and print its path.
#
# Looks on PATH, then in $(go env GOPATH)/bin. If neither holds cometbft 0.38.25, runs
#   go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.25
# Idempotent: a second run only prints the path. Progress goes to stderr, the path to stdout,
# so `COMETBFT=$(testnet/install-cometbft.sh)` works.
set -euo pipefail

COMETBFT_VERSION="${COMETBFT_VERSION:-0.38.25}"

log() { echo "install-cometbft: $*" >&2; }

has_version() {
  # $1: candidate binary; true if it runs and reports exactly $COMETBFT_VERSION
  [ -x "$1" ] || return 1
  local v
  v="$("$1" version 2>/dev/null | head -n1 | tr -d '[:space:]')" || return 1
  [ "$v" = "$COMETBFT_VERSION" ]
}

gobin() {
  command -v go >/dev/null 2>&1 || return 1
  local bin
  bin="$(go env GOBIN)"
  if [ -z "$bin" ]; then bin="$(go env GOPATH | cut -d: -f1)/bin"; fi
  echo "$bin"
}

candidates() {
  if command -v cometbft >/dev/null 2>&1; then command -v cometbft; fi
  local b
  if b="$(gobin)"; then echo "$b/cometbft"; fi
  echo "$HOME/go/bin/cometbft"
}

while read -r c; do
  if has_version "$c"; then echo "$c"; exit 0; fi
done < <(candidates)

if ! command -v go >/dev/null 2>&1; then
  for g in /usr/local/go/bin/go /usr/lib/go/bin/go; do
    if [ -x "$g" ]; then PATH="$(dirname "$g"):$PATH"; export PATH; break; fi
  done
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed; installing it with apt-get (golang-go)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq golang-go >&2
fi

log "installing cometbft v$COMETBFT_VERSION with go install (takes a few minutes the first time)"
go install "github.com/cometbft/cometbft/cmd/cometbft@v$COMETBFT_VERSION" >&2

bin="$(gobin)/cometbft"
if ! has_version "$bin"; then
  log "error: $bin does not report version $COMETBFT_VERSION after go install"
  exit 1
fi
echo "$bin"
