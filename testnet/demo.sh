#!/usr/bin/env bash
# testnet/demo.sh: short demo against a running devnet: alice sends bob tokens; balances before/after and the tx result.
#
# Run by ./testnet/devnet.sh after the chain is up, or again with ./testnet/devnet.sh demo.
# Environment: STOAD (the binary), DEMO_AMOUNT (default 2500000ustor = 2.5 STOR), DEMO_FEES.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STOAD="${STOAD:-$(stoad_bin)}"
AMOUNT="${DEMO_AMOUNT:-2500000ustor}"
FEES="${DEMO_FEES:-500ustor}"
NODE_FLAGS=(--home "$NODE_HOME" --node "$NODE_RPC" --grpc "$NODE_GRPC")

[ -x "$STOAD" ] || die "no stoad at $STOAD (run ./testnet/devnet.sh)"
height_at_least 1 || die "no chain answers at $NODE_RPC (run ./testnet/devnet.sh)"
ALICE="$(jq -r .address "$LOCALNET/alice.key.json")"
BOB="$(jq -r .address "$LOCALNET/bob.key.json")"

# balances_rows NAME ADDR: one "name<TAB>denom<TAB>amount" line per coin
balances_rows() {
  "$STOAD" query bank balances "$2" "${NODE_FLAGS[@]}" --output json |
    jq -r --arg n "$1" '.balances // [] | .[] | [$n, .denom, .amount] | @tsv'
}

# table TITLE HEADER...: reads tab-separated rows on stdin, prints them as an aligned table
table() {
  local title="$1"; shift
  echo
  echo "$title"
  { (IFS=$'\t'; echo "$*"); cat; } | awk -F'\t' '
    { n = NR; for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }; if (NF > nf) nf = NF }
    END {
      for (r = 1; r <= n; r++) {
        line = "  "
        for (i = 1; i <= nf; i++) line = line sprintf("%-" w[i] "s  ", cell[r, i])
        sub(/ +$/, "", line); print line
        if (r == 1) { line = "  "; for (i = 1; i <= nf; i++) { d = ""; for (j = 0; j < w[i]; j++) d = d "-"; line = line d "  " }; sub(/ +$/, "", line); print line }
      }
    }'
}

show_balances() {
  { balances_rows alice "$ALICE"; balances_rows bob "$BOB"; } | table "$1" ACCOUNT DENOM AMOUNT
}

echo "alice = $ALICE"
echo "bob   = $BOB"
show_balances "Balances before (height $(rpc_height)):"

echo
say "alice sends bob $AMOUNT (fees $FEES)"
RESULT="$("$STOAD" tx bank send alice "$BOB" "$AMOUNT" --fees "$FEES" --chain-id "$CHAIN_ID" "${NODE_FLAGS[@]}" --output json)" \
  || die "the send failed: $RESULT"
echo "$RESULT" | jq -r '
  (["txhash", "height", "code", "codespace", "raw_log", "gas_wanted", "gas_used"][] as $k
    | [$k, ((.[$k] // "") | tostring | if . == "" then "-" else . end)]),
  (.events // [] | map(select(.type == "transfer" and any(.attributes[]; .key == "msg_index")))[]
    | (.attributes | map({(.key): .value}) | add) as $a
    | ["transfer", "\($a.sender) -> \($a.recipient): \($a.amount)"])
  | @tsv' | table "Tx result:" FIELD VALUE
CODE="$(echo "$RESULT" | jq -r '.code')"
[ "$CODE" = 0 ] || die "the tx failed with code $CODE"

show_balances "Balances after (height $(rpc_height)):"
echo
echo "Look the tx up again with: $STOAD query tx $(echo "$RESULT" | jq -r .txhash) --node $NODE_RPC"
