#!/usr/bin/env bash
# testnet/install-grpcurl.sh: make sure grpcurl v1.9.1 is installed (go install if missing) and print its path.
#
# Looks on PATH, then in $(go env GOPATH)/bin and ~/go/bin. If none holds grpcurl, runs
#   go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.1
# Progress goes to stderr, the path to stdout: `GRPCURL=$(testnet/install-grpcurl.sh)`.
set -euo pipefail

GRPCURL_VERSION="${GRPCURL_VERSION:-v1.9.1}"

log() { echo "install-grpcurl: $*" >&2; }

candidates() {
  if command -v grpcurl >/dev/null 2>&1; then command -v grpcurl; fi
  if command -v go >/dev/null 2>&1; then
    local bin
    bin="$(go env GOBIN)"
    if [ -z "$bin" ]; then bin="$(go env GOPATH | cut -d: -f1)/bin"; fi
    echo "$bin/grpcurl"
  fi
  echo "$HOME/go/bin/grpcurl"
}

while read -r c; do
  if [ -x "$c" ]; then echo "$c"; exit 0; fi
done < <(candidates)

command -v go >/dev/null 2>&1 || { log "go is not installed: cannot install grpcurl"; exit 1; }
log "installing grpcurl $GRPCURL_VERSION with go install"
go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@${GRPCURL_VERSION}"
while read -r c; do
  if [ -x "$c" ]; then echo "$c"; exit 0; fi
done < <(candidates)
log "go install finished but grpcurl was not found"
exit 1
