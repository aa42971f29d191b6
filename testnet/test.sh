#!/usr/bin/env bash
# testnet/test.sh: run every test of the workspace (unit, property, ABCI and end-to-end against a real cometbft).
#
# The end-to-end tests (cmd/tests/e2e_*.rs) start `cometbft` v0.38.25 as a child process; this
# script installs it when it is missing and puts it on PATH. Extra arguments go to cargo test,
# e.g. ./testnet/test.sh -p stoa-cmd --test e2e_send
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

COMETBFT="$("$ROOT/testnet/install-cometbft.sh")"
export PATH="$(dirname "$COMETBFT"):$PATH"

exec cargo test --workspace "$@"
