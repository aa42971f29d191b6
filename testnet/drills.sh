#!/usr/bin/env bash
# testnet/drills.sh: fault drills against a real four-validator localnet (testnet/localnet.sh); fails if a drill does not recover or nodes disagree.
#
#   ./testnet/drills.sh          fresh localnet (short blocks), every drill, then down
#
# The drills, each followed by a check that every node has the same app hash at every height
# they all have and the same total supply (every node also runs its invariants each block):
#   1. stop one validator: blocks continue; bring it back: it catches up
#   2. stop two of four: no blocks (and no fork); bring them back: the chain resumes
#   3. SIGKILL a stoad (its CometBFT halts with it); restart both: it catches up
#   4. a node's app store restored from an older copy: CometBFT replays its blocks into it
#   5. a node's whole data directory restored from an older copy (its signing state kept):
#      it catches up from its peers
#   6. CometBFT's data restored from an older copy while the app is ahead: the node refuses to
#      start (no fork); with the current data back it catches up
#
# Environment: everything testnet/localnet.sh takes (STOA_NET_*; the block time defaults to
# 200ms here), DRILLS_KEEP=1 leaves the network running at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export STOA_NET_BLOCK_TIME="${STOA_NET_BLOCK_TIME:-200ms}"
export STOA_NET_DIR="${STOA_NET_DIR:-$ROOT/.localnet4}"
LN="$ROOT/testnet/localnet.sh"
source "$ROOT/testnet/lib.sh"

START=$SECONDS
step() { printf '\n\033[1m==> [%ss] drill %s\033[0m\n' "$((SECONDS - START))" "$*" >&2; }

# rpc N: node N's CometBFT RPC (the settings `up` recorded in net.env, unless the environment has them)
rpc() {
  local host
  host="$(echo "${STOA_NET_HOSTS:-127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4}" | awk -v n="$1" '{print $n}')"
  echo "http://$host:${STOA_NET_RPC_PORT:-26657}"
}
height() {
  curl -fsS --max-time 2 "$(rpc "$1")/status" 2>/dev/null | jq -r '.result.sync_info.latest_block_height // empty' 2>/dev/null || true
}
app_hash_at() { curl -fsS --max-time 3 "$(rpc "$1")/block?height=$2" 2>/dev/null | jq -r '.result.block.header.app_hash // empty'; }
at_least() { local h; h="$(height "$1")"; [ -n "$h" ] && [ "$h" -ge "$2" ]; }
not_running() { ! alive "$STOA_NET_DIR/node$1/$2.pid"; }

fail() {
  warn "DRILL FAILED: $*"
  "$LN" status >&2 || true
  local n
  for n in 1 2 3 4; do
    echo "--- node$n stoad.log" >&2; tail -n 15 "$STOA_NET_DIR/node$n/stoad.log" >&2 || true
    echo "--- node$n cometbft.log" >&2; tail -n 15 "$STOA_NET_DIR/node$n/cometbft.log" >&2 || true
  done
  [ "${DRILLS_KEEP:-0}" = 1 ] || "$LN" down >&2 || true
  exit 1
}

# caught_up N: node N reaches the height node 1 has now, plus 2
caught_up() {
  local target; target=$(( $(height 1) + 2 ))
  wait_until "${2:-90}" "node$1 at height $target" at_least "$1" "$target" || fail "node$1 did not catch up to $target"
  say "node$1 caught up (height $(height "$1"))"
}

# agree FROM: every node has the same app hash at every common height from FROM, same supply
agree() {
  CHECK_FROM="$1" "$LN" check || fail "the nodes disagree (heights from $1)"
}

# the app's and CometBFT's state of node N, copied aside
snapshot() { rm -rf "$STOA_NET_DIR/backup$1"; cp -a "$STOA_NET_DIR/node$1/data" "$STOA_NET_DIR/backup$1"; }

if [ "${DRILLS_REUSE:-0}" != 1 ]; then "$LN" up; fi
[ -f "$STOA_NET_DIR/net.env" ] || die "no localnet in $STOA_NET_DIR"
source "$STOA_NET_DIR/net.env"
trap '[ "${DRILLS_KEEP:-0}" = 1 ] || "$LN" down >/dev/null 2>&1 || true' EXIT

step "1: stop one validator, blocks continue; bring it back, it catches up"
from="$(height 1)"
"$LN" stop-node 4
h="$(height 1)"
wait_until 30 "blocks without node4" at_least 1 "$((h + 5))" || fail "no blocks with three of four validators"
say "blocks continue without node4 (node1 at $(height 1))"
"$LN" start-node 4
caught_up 4
agree "$from"

step "2: stop two of four, no blocks and no fork; bring them back, the chain resumes"
from="$(height 1)"
"$LN" stop-node 3
"$LN" stop-node 4
sleep 2
h1="$(height 1)"; h2="$(height 2)"
sleep 5
a1="$(height 1)"; a2="$(height 2)"
# half of the power cannot commit: at most the block that was in flight lands
[ "$a1" -le "$((h1 + 1))" ] && [ "$a2" -le "$((h2 + 1))" ] || fail "blocks went on with half the power ($h1 -> $a1, $h2 -> $a2)"
say "no blocks with two of four (node1 stays at $a1, node2 at $a2)"
m=$((a1 < a2 ? a1 : a2))
[ -n "$(app_hash_at 1 "$m")" ] && [ "$(app_hash_at 1 "$m")" = "$(app_hash_at 2 "$m")" ] || fail "node1 and node2 differ at height $m"
"$LN" start-node 3
"$LN" start-node 4
wait_until 60 "the chain to resume" at_least 1 "$((a1 + 5))" || fail "the chain did not resume"
say "the chain resumed (node1 at $(height 1))"
caught_up 3
caught_up 4
agree "$from"

step "3: SIGKILL a stoad mid-block, its CometBFT halts with it; restart both, it catches up"
from="$(height 1)"
# a burst of txs keeps the blocks busy, so the kill is likely to land inside one
"$LN" demo >/dev/null 2>&1 &
demo_pid=$!
sleep 1.5
"$LN" kill-stoad 2
wait_until 30 "node2's cometbft to stop" not_running 2 cometbft || fail "node2's cometbft runs on without its app"
wait "$demo_pid" || warn "the demo during the kill failed (it talks to node1; see above)"
h="$(height 1)"
wait_until 30 "blocks without node2" at_least 1 "$((h + 3))" || fail "no blocks without node2"
"$LN" start-node 2
caught_up 2
agree "$from"

step "4: node3's app store restored from an older copy, CometBFT replays its blocks into it"
from="$(height 1)"
"$LN" stop-node 3
snapshot 3
old="$(height 1)"
"$LN" start-node 3
wait_until 60 "20 more blocks" at_least 1 "$((old + 20))" || fail "the chain stalled"
"$LN" stop-node 3
rm -rf "$STOA_NET_DIR/node3/data/stoa"
cp -a "$STOA_NET_DIR/backup3/stoa" "$STOA_NET_DIR/node3/data/stoa"
"$LN" start-node 3
caught_up 3
grep -q "Replay\|replay" "$STOA_NET_DIR/node3/cometbft.log" && say "node3's CometBFT replayed blocks into the older app store"
agree "$from"

step "5: node1's data directory restored from an older copy (signing state kept), it catches up from its peers"
from="$(height 2)"
"$LN" stop-node 1
snapshot 1
"$LN" start-node 1
h="$(height 2)"
wait_until 60 "20 more blocks" at_least 2 "$((h + 20))" || fail "the chain stalled"
"$LN" stop-node 1
# never roll back a validator's signing state: an older one lets it sign twice at a height
cp "$STOA_NET_DIR/node1/data/priv_validator_state.json" "$STOA_NET_DIR/pv_state1.json"
rm -rf "$STOA_NET_DIR/node1/data"
cp -a "$STOA_NET_DIR/backup1" "$STOA_NET_DIR/node1/data"
cp "$STOA_NET_DIR/pv_state1.json" "$STOA_NET_DIR/node1/data/priv_validator_state.json"
"$LN" start-node 1
target=$(( $(height 2) + 2 ))
wait_until 90 "node1 at height $target" at_least 1 "$target" || fail "node1 did not catch up"
say "node1 caught up (height $(height 1))"
agree "$from"

step "6: node4's CometBFT data older than its app, the node refuses to start; with its data back it catches up"
from="$(height 1)"
"$LN" stop-node 4
snapshot 4
"$LN" start-node 4
h="$(height 1)"
wait_until 60 "10 more blocks" at_least 1 "$((h + 10))" || fail "the chain stalled"
"$LN" stop-node 4
rm -rf "$STOA_NET_DIR/current4"
cp -a "$STOA_NET_DIR/node4/data" "$STOA_NET_DIR/current4"
for d in "$STOA_NET_DIR/backup4"/*.db; do
  rm -rf "$STOA_NET_DIR/node4/data/$(basename "$d")"
  cp -a "$d" "$STOA_NET_DIR/node4/data/"
done
: >"$STOA_NET_DIR/node4/cometbft.log"
"$LN" start-node 4
wait_until 60 "node4's cometbft to refuse" not_running 4 cometbft || fail "node4 started on CometBFT data older than its app"
grep -iq "app block height\|higher than\|handshake" "$STOA_NET_DIR/node4/cometbft.log" || fail "node4 stopped for another reason"
say "node4 refused: $(grep -io 'error.*app block height[^"]*' "$STOA_NET_DIR/node4/cometbft.log" | head -n 1 | cut -c1-160)"
"$LN" stop-node 4
rm -rf "$STOA_NET_DIR/node4/data"
mv "$STOA_NET_DIR/current4" "$STOA_NET_DIR/node4/data"
"$LN" start-node 4
caught_up 4
agree "$from"

step "final: every common height from 1"
agree 1
rm -rf "$STOA_NET_DIR"/backup* "$STOA_NET_DIR/pv_state1.json"
say "all drills passed in $((SECONDS - START))s"
