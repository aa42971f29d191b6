#!/usr/bin/env bash
# testnet/fuzz.sh: a bounded coverage-guided fuzzing run (cargo-fuzz, libFuzzer) of each target
# in fuzz/: decode_tx (strict decoding), check_raw (raw bytes through CheckTx, ProcessProposal
# and a block) and ante_send (signed txs built from the input: ante + the bank's MsgSend).
#
#   ./testnet/fuzz.sh            # each target for FUZZ_SECONDS (default 60) s
#   FUZZ_SECONDS=3600 ./testnet/fuzz.sh decode_tx   # one target, longer (docs/TESTING.md)
#
# Installs cargo-fuzz (from crates.io) when missing; needs the nightly toolchain (libFuzzer's
# instrumentation). Seeds are read from fuzz/seeds/<target> (real txs; regenerate with
# `cargo run --example make_seeds` in fuzz/); what the run discovers goes to a scratch corpus
# under fuzz/corpus/ (not committed), and a crash to fuzz/artifacts/<target>/, failing the run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"

SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS=("$@")
if [ "${#TARGETS[@]}" -eq 0 ]; then
  TARGETS=(decode_tx check_raw ante_send)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi

# No sanitizer: the code under test is safe Rust, and the speed goes into coverage instead.
cargo +nightly fuzz build -s none
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  seeds=()
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  echo "fuzz.sh: $t for ${SECONDS_EACH}s"
  start=$(date +%s)
  cargo +nightly fuzz run -s none "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 -print_final_stats=1
  echo "fuzz.sh: $t done in $(( $(date +%s) - start ))s"
done
