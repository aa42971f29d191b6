#!/usr/bin/env bash
# testnet/localnet.sh: a four-validator Stoa localnet (four cometbft + stoad pairs on 127.0.0.1 .. 127.0.0.4).
#
#   ./testnet/localnet.sh up          install what is missing, build, create a fresh network, start it, wait for blocks
#   ./testnet/localnet.sh down        stop every node (state stays in .localnet4/ until the next up)
#   ./testnet/localnet.sh status      each node's processes, height, peers and app hash
#   ./testnet/localnet.sh logs [N] [-f]  the last lines of node N's logs (every node without N); -f follows
#   ./testnet/localnet.sh demo        exercise what the chain has (the bank; testnet/demo.d/*.sh plug in more)
#   ./testnet/localnet.sh resume      start the existing network again (after down)
#   ./testnet/localnet.sh stop-node N / start-node N / kill-stoad N   one node (the fault drills use them)
#   ./testnet/localnet.sh check       every node agrees on the app hash of every common height, and the supply holds
#
# Environment (the values an `up` used are kept in .localnet4/net.env; the environment still wins):
#   STOA_NET_DIR          where the network lives (default .localnet4 in the repository)
#   STOA_NET_HOSTS        the four node addresses (default "127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4")
#   STOA_NET_RPC_PORT 26657, STOA_NET_P2P_PORT 26656, STOA_NET_GRPC_PORT 9090,
#   STOA_NET_REST_PORT 1317, STOA_NET_METRICS_PORT 26660 (stoad), STOA_NET_CMT_METRICS_PORT 26661 (CometBFT): the same port on each node's address
#   STOA_NET_BLOCK_TIME   CometBFT's timeout_commit (default 500ms)
#   STOA_CHAIN_ID         (default stoa-localnet); STOA_PROFILE=dev / STOA_SKIP_BUILD=1 as for devnet.sh
set -euo pipefail
_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NET_DIR="${STOA_NET_DIR:-$_ROOT/.localnet4}"
if [ -f "$NET_DIR/net.env" ]; then source "$NET_DIR/net.env"; fi
# lib.sh's LOCALNET is this network's directory (testnet/demo.sh reads its keys from there)
export STOA_LOCALNET="$NET_DIR" STOA_CHAIN_ID="${STOA_CHAIN_ID:-stoa-localnet}"
source "$_ROOT/testnet/lib.sh"

read -r -a HOSTS <<<"${STOA_NET_HOSTS:-127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4}"
[ "${#HOSTS[@]}" -eq 4 ] || die "STOA_NET_HOSTS must name four addresses"
N_RPC="${STOA_NET_RPC_PORT:-26657}"
N_P2P="${STOA_NET_P2P_PORT:-26656}"
N_GRPC="${STOA_NET_GRPC_PORT:-9090}"
N_REST="${STOA_NET_REST_PORT:-1317}"
N_METRICS="${STOA_NET_METRICS_PORT:-26660}"
N_CMT_METRICS="${STOA_NET_CMT_METRICS_PORT:-26661}"
BLOCK_TIME="${STOA_NET_BLOCK_TIME:-500ms}"
NODES=(1 2 3 4)

host() { echo "${HOSTS[$(($1 - 1))]}"; }
home_of() { echo "$NET_DIR/node$1"; }
rpc_of() { echo "http://$(host "$1"):$N_RPC"; }
grpc_of() { echo "http://$(host "$1"):$N_GRPC"; }
pidfile() { echo "$NET_DIR/node$1/$2.pid"; }
node_arg() {
  [[ "${1:-}" =~ ^[1-4]$ ]] || die "name a node: 1, 2, 3 or 4"
}
open_at() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# node_status N: latest height and app hash (empty when the node does not answer)
node_height() {
  curl -fsS --max-time 2 "$(rpc_of "$1")/status" 2>/dev/null | jq -r '.result.sync_info.latest_block_height // empty' 2>/dev/null || true
}
# block_app_hash N H: the app_hash in block H's header as node N serves it (the state after H-1)
block_app_hash() {
  curl -fsS --max-time 3 "$(rpc_of "$1")/block?height=$2" 2>/dev/null | jq -r '.result.block.header.app_hash // empty' 2>/dev/null || true
}

stop_pid() {
  # stop_pid PIDFILE NAME [SIGNAL]: signal (TERM), wait up to 10 s, then KILL
  local file="$1" name="$2" sig="${3:-TERM}" pid i
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then warn "$name ($pid) did not stop on $sig; killing"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

cmd_stop_node() {
  node_arg "${1:-}"
  # CometBFT first, so it does not log a storm of ABCI connection errors
  stop_pid "$(pidfile "$1" cometbft)" "node$1 cometbft"
  stop_pid "$(pidfile "$1" stoad)" "node$1 stoad"
}

# kill-stoad N: SIGKILL node N's stoad (its CometBFT loses the app and stops by itself)
cmd_kill_stoad() {
  node_arg "${1:-}"
  local f pid i
  f="$(pidfile "$1" stoad)"
  alive "$f" || die "node$1's stoad does not run"
  pid="$(cat "$f")"
  kill -KILL "$pid"
  say "SIGKILLed node$1's stoad (pid $pid)"
  rm -f "$f"
  f="$(pidfile "$1" cometbft)"
  for i in $(seq 1 100); do alive "$f" || break; sleep 0.2; done
  if alive "$f"; then warn "node$1's cometbft still runs without its app"; else rm -f "$f"; say "node$1's cometbft stopped with it"; fi
}

cmd_down() {
  local n
  for n in "${NODES[@]}"; do
    [ -d "$(home_of "$n")" ] && cmd_stop_node "$n"
  done
  return 0
}

stoad_up() { ! alive "$(pidfile "$1" stoad)" || [ -S "$(home_of "$1")/data/stoad.sock" ]; }

cmd_start_node() {
  node_arg "${1:-}"
  local n="$1" h; h="$(home_of "$n")"
  [ -d "$h/config" ] || die "no node$n in $NET_DIR (run ./testnet/localnet.sh up)"
  STOAD="${STOAD:-$(stoad_bin)}"; COMETBFT="${COMETBFT:-$(command -v cometbft || echo "$HOME/go/bin/cometbft")}"
  if ! alive "$(pidfile "$n" stoad)"; then
    rm -f "$h/data/stoad.sock"
    setsid env STOA_COMETBFT="$COMETBFT" "$STOAD" start --home "$h" >>"$h/stoad.log" 2>&1 </dev/null &
    echo $! >"$(pidfile "$n" stoad)"
    if ! wait_until 60 "node$n's ABCI socket" stoad_up "$n" || ! alive "$(pidfile "$n" stoad)"; then
      tail -n 20 "$h/stoad.log" >&2; die "node$n's stoad did not come up"
    fi
  fi
  if ! alive "$(pidfile "$n" cometbft)"; then
    setsid "$COMETBFT" start --home "$h" >>"$h/cometbft.log" 2>&1 </dev/null &
    echo $! >"$(pidfile "$n" cometbft)"
  fi
  say "node$n running: RPC $(rpc_of "$n"), gRPC $(grpc_of "$n")"
}

common_setup() {
  need_tools jq curl
  mkdir -p "$NET_DIR"
  COMETBFT="$("$STOA_ROOT/testnet/install-cometbft.sh")"
  PATH="$(dirname "$COMETBFT"):$PATH"
  STOA_COMETBFT="$COMETBFT"
  export PATH STOA_COMETBFT COMETBFT
  if [ "${STOA_SKIP_BUILD:-0}" = 1 ] && [ -x "$(stoad_bin)" ]; then
    say "using the existing $(stoad_bin) (STOA_SKIP_BUILD=1)"
  else
    local args=(build -p stoa-cmd --bin stoad)
    [ "$STOA_PROFILE" = "release" ] && args+=(--release)
    say "cargo ${args[*]}"
    (cd "$STOA_ROOT" && cargo "${args[@]}")
  fi
  STOAD="$(stoad_bin)"
  export STOAD
  [ -x "$STOAD" ] || die "stoad not found at $STOAD"
}

check_ports_free() {
  local n p
  for n in "${NODES[@]}"; do
    for p in "$N_RPC" "$N_P2P" "$N_GRPC" "$N_REST" "$N_METRICS" "$N_CMT_METRICS"; do
      if open_at "$(host "$n")" "$p"; then die "$(host "$n"):$p is already in use (a running localnet? ./testnet/localnet.sh down, or set STOA_NET_*_PORT)"; fi
    done
  done
}

add_key() {
  # add_key NAME ALGO: prints the new key's address (the keys live in node1's test keyring)
  local out addr
  out="$("$STOAD" keys add "$1" --algo "$2" --home "$(home_of 1)" --output json)"
  echo "$out" >"$NET_DIR/$1.key.json"
  chmod 600 "$NET_DIR/$1.key.json"
  addr="$(echo "$out" | jq -r '.address // empty')"
  [ -n "$addr" ] || die "stoad keys add $1 printed no address: $out"
  echo "$addr"
}

# create: node keys and configs from `cometbft testnet`, chain id, app state, validators and
# demo accounts from Stoa's genesis tooling, one genesis copied to every node
create() {
  say "fresh network in $NET_DIR"
  rm -rf "$NET_DIR"/node* "$NET_DIR/gen" "$NET_DIR"/*.key.json
  mkdir -p "$NET_DIR"
  cat >"$NET_DIR/net.env" <<ENV
# written by testnet/localnet.sh up: the settings of this network (the environment still wins)
: "\${STOA_NET_HOSTS:=${HOSTS[*]}}" "\${STOA_NET_RPC_PORT:=$N_RPC}" "\${STOA_NET_P2P_PORT:=$N_P2P}" "\${STOA_NET_GRPC_PORT:=$N_GRPC}"
: "\${STOA_NET_REST_PORT:=$N_REST}" "\${STOA_NET_METRICS_PORT:=$N_METRICS}" "\${STOA_NET_CMT_METRICS_PORT:=$N_CMT_METRICS}" "\${STOA_NET_BLOCK_TIME:=$BLOCK_TIME}"
: "\${STOA_CHAIN_ID:=$CHAIN_ID}" "\${STOA_PROFILE:=$STOA_PROFILE}"
ENV
  "$COMETBFT" testnet --v 4 --o "$NET_DIR/gen" --node-dir-prefix node --p2p-port "$N_P2P" \
    --starting-ip-address "$(host 1)" >"$NET_DIR/testnet.log" 2>&1 || { cat "$NET_DIR/testnet.log" >&2; die "cometbft testnet failed"; }
  local n h peers="" id
  for n in "${NODES[@]}"; do
    mv "$NET_DIR/gen/node$((n - 1))" "$(home_of "$n")"
    id="$("$COMETBFT" show-node-id --home "$(home_of "$n")")"
    peers="${peers:+$peers,}$id@$(host "$n"):$N_P2P"
  done
  rmdir "$NET_DIR/gen" 2>/dev/null || true

  for n in "${NODES[@]}"; do
    h="$(home_of "$n")"
    # chain id, Stoa's default app_state, app.toml (ABCI on the home's unix socket), proxy_app
    "$STOAD" init --chain-id "$CHAIN_ID" --overwrite --fast-blocks --moniker "node$n" --keyring-backend test --home "$h" \
      --rpc-laddr "tcp://$(host "$n"):$N_RPC" --p2p-laddr "tcp://$(host "$n"):$N_P2P" \
      --grpc-addr "$(host "$n"):$N_GRPC" >"$h/init.log" 2>&1 || { cat "$h/init.log" >&2; die "stoad init of node$n failed"; }
    local cfg="$h/config/config.toml"
    # every node's peers but itself
    set_toml "$cfg" p2p persistent_peers "\"$(echo "$peers" | tr ',' '\n' | grep -v "@$(host "$n"):" | paste -sd, -)\""
    set_toml "$cfg" p2p addr_book_strict false
    set_toml "$cfg" p2p allow_duplicate_ip true
    set_toml "$cfg" p2p pex false
    set_toml "$cfg" rpc grpc_laddr '""'
    set_toml "$cfg" rpc pprof_laddr '""'
    set_toml "$cfg" instrumentation prometheus true
    set_toml "$cfg" instrumentation prometheus_listen_addr "\"$(host "$n"):$N_CMT_METRICS\""
    set_toml "$cfg" consensus timeout_commit "\"$BLOCK_TIME\""
    set_toml "$cfg" consensus timeout_propose '"1s"'
    set_toml "$cfg" consensus timeout_prevote '"300ms"'
    set_toml "$cfg" consensus timeout_precommit '"300ms"'
    set_toml "$h/config/app.toml" "" metrics_addr "\"$(host "$n"):$N_METRICS\""
    set_toml "$h/config/app.toml" "" rest_addr "\"$(host "$n"):$N_REST\""
    set_toml "$h/config/app.toml" "" check_invariants true
  done

  local g1; g1="$(home_of 1)"
  say "genesis: validators and demo accounts (stoad genesis on node1, then copied)"
  for n in "${NODES[@]}"; do
    "$STOAD" genesis add-validator --pubkey "$(home_of "$n")/config/priv_validator_key.json" \
      --power 10 --name "node$n" --home "$g1" >/dev/null
  done
  # CometBFT's own list stays empty: the validators come from app_state through InitChain
  local tmp; tmp="$(mktemp)"
  jq '.validators = []' "$g1/config/genesis.json" >"$tmp" && cat "$tmp" >"$g1/config/genesis.json"
  rm -f "$tmp"
  local alice bob
  alice="$(add_key alice secp256k1)"
  bob="$(add_key bob ed25519)"
  "$STOAD" genesis add-account "$alice" "10000000000ustor,10000000000ucomp,10000000000uusdc,1000000000umind" --home "$g1" >/dev/null
  "$STOAD" genesis add-account "$bob" "1000000000ustor,1000000000ucomp,1000000000uusdc" --home "$g1" >/dev/null
  "$STOAD" genesis validate --home "$g1" >/dev/null
  printf 'alice %s (secp256k1)\nbob   %s (ed25519)\n' "$alice" "$bob" >"$NET_DIR/accounts.txt"
  for n in 2 3 4; do cp "$g1/config/genesis.json" "$(home_of "$n")/config/genesis.json"; done
}

# all_heights_at_least H: every node answers and is at H or above
all_heights_at_least() {
  local n h
  for n in "${NODES[@]}"; do
    h="$(node_height "$n")"
    [ -n "$h" ] && [ "$h" -ge "$1" ] || return 1
  done
}

# app_hashes N FROM TO: "height app_hash" lines of node N's blocks FROM..TO (block headers
# carry the app hash after the previous height), 20 per /blockchain request
app_hashes() {
  local n="$1" lo="$2" hi="$3" top
  while [ "$lo" -le "$hi" ]; do
    top=$((lo + 19 > hi ? hi : lo + 19))
    curl -fsS --max-time 5 "$(rpc_of "$n")/blockchain?minHeight=$lo&maxHeight=$top" 2>/dev/null |
      jq -r '.result.block_metas[]? | "\(.header.height) \(.header.app_hash)"' 2>/dev/null || true
    lo=$((top + 1))
  done
}

# check: every node has the same app hash at every height all of them have (CHECK_FROM, default
# 1, up to the lowest node's latest height) and the same total supply; fails on a difference
cmd_check() {
  local n h lo="" from bad
  for n in "${NODES[@]}"; do
    h="$(node_height "$n")"
    [ -n "$h" ] || { warn "node$n does not answer"; return 1; }
    if [ -z "$lo" ] || [ "$h" -lt "$lo" ]; then lo="$h"; fi
  done
  from="${CHECK_FROM:-1}"
  [ "$from" -ge 1 ] || from=1
  local dir; dir="$(mktemp -d)"
  for n in "${NODES[@]}"; do app_hashes "$n" "$from" "$lo" | sort -n >"$dir/$n"; done
  # a height a node lacks (pruned, not yet stored) has nothing to disagree with; two different
  # hashes at one height is a fork
  bad="$(cat "$dir"/[1-4] | sort -u | awk '{ if (seen[$1]++) print $1 }' | sort -un | head -n 5)"
  local counted; counted="$(cut -d' ' -f1 "$dir/1" | wc -l)"
  rm -rf "$dir"
  if [ -n "$bad" ]; then
    warn "the app hash differs between nodes at heights: $(echo $bad)"
    return 1
  fi
  [ "$counted" -gt 0 ] || { warn "node1 served no block headers for $from..$lo"; return 1; }
  check_supply || return 1
  say "all four nodes agree on the app hash at heights $from..$lo"
}

# check_supply: the bank's total supply at one height is the same on every node (read with
# abci_query at that height). Every node runs with check_invariants = true, which halts a node
# on a broken invariant (supply = the sum of balances, each market's escrow): a node that runs
# at a height has passed them at every height before.
check_supply() {
  local n s want="" h
  h="$(node_height 1)"
  [ -n "$h" ] || return 1
  h=$((h - 1))
  for n in "${NODES[@]}"; do
    # a node that has just restarted may not have reached $h yet: give it 20 s to get there
    for _ in $(seq 1 40); do
      s="$(curl -fsS --max-time 3 "$(rpc_of "$n")/abci_query?path=%22/cosmos.bank.v1beta1.Query/TotalSupply%22&height=$h" 2>/dev/null | jq -r '.result.response | "\(.code) \(.value)"' 2>/dev/null || true)"
      case "$s" in "0 "?*) break ;; esac
      sleep 0.5
    done
    case "$s" in
      "0 "?*) ;;
      *) warn "node$n did not answer the supply at height $h: $s"; return 1 ;;
    esac
    if [ -z "$want" ]; then want="$s"; elif [ "$s" != "$want" ]; then warn "supply at height $h differs on node$n"; return 1; fi
  done
  say "total supply at height $h is the same on all four nodes (and each checks its invariants every block)"
}

cmd_status() {
  local n h st peers hash
  printf '%-6s %-16s %-9s %-9s %-8s %-6s %s\n' NODE ADDRESS STOAD COMETBFT HEIGHT PEERS "APP HASH (latest)"
  for n in "${NODES[@]}"; do
    [ -d "$(home_of "$n")" ] || { echo "no network in $NET_DIR"; return 0; }
    st="$(curl -fsS --max-time 2 "$(rpc_of "$n")/status" 2>/dev/null || true)"
    h="$(echo "$st" | jq -r '.result.sync_info.latest_block_height // "-"' 2>/dev/null || echo -)"
    hash="$(echo "$st" | jq -r '.result.sync_info.latest_app_hash // "-"' 2>/dev/null || echo -)"
    peers="$(curl -fsS --max-time 2 "$(rpc_of "$n")/net_info" 2>/dev/null | jq -r '.result.n_peers // "-"' 2>/dev/null || echo -)"
    printf '%-6s %-16s %-9s %-9s %-8s %-6s %s\n' "node$n" "$(host "$n")" \
      "$(alive "$(pidfile "$n" stoad)" && echo running || echo stopped)" \
      "$(alive "$(pidfile "$n" cometbft)" && echo running || echo stopped)" "${h:--}" "${peers:--}" "${hash:--}"
  done
  # the heights above differ by the blocks made while asking: compare one height all have
  local lo="" hashes
  for n in "${NODES[@]}"; do
    h="$(node_height "$n")"
    [ -n "$h" ] || continue
    if [ -z "$lo" ] || [ "$h" -lt "$lo" ]; then lo="$h"; fi
  done
  [ -n "$lo" ] || return 0
  hashes="$(for n in "${NODES[@]}"; do block_app_hash "$n" "$lo"; done | sort -u)"
  if [ "$(echo "$hashes" | grep -c .)" = 1 ]; then
    echo "app hash in block $lo: $hashes on every node that answers"
  else
    echo "app hash in block $lo DIFFERS between nodes:"; echo "$hashes"
  fi
}

cmd_logs() {
  local follow=0 which=() n
  for a in "$@"; do
    case "$a" in -f) follow=1 ;; [1-4]) which+=("$a") ;; *) die "logs [1-4] [-f]" ;; esac
  done
  [ "${#which[@]}" -gt 0 ] || which=("${NODES[@]}")
  local files=()
  for n in "${which[@]}"; do files+=("$(home_of "$n")/stoad.log" "$(home_of "$n")/cometbft.log"); done
  if [ "$follow" = 1 ]; then exec tail -n 20 -F "${files[@]}"; fi
  tail -n 40 "${files[@]}"
}

start_all() {
  check_ports_free
  local n
  for n in "${NODES[@]}"; do cmd_start_node "$n"; done
  if ! wait_until 120 "every node at height 3" all_heights_at_least 3; then
    cmd_status >&2
    for n in "${NODES[@]}"; do echo "--- node$n cometbft.log" >&2; tail -n 15 "$(home_of "$n")/cometbft.log" >&2; done
    die "the network did not produce blocks"
  fi
  cmd_check
}

farewell() {
  local n
  echo
  echo "The four-validator localnet $CHAIN_ID is running (home of node N: $NET_DIR/nodeN):"
  printf '  %-6s %-28s %-24s %-24s %s\n' NODE "CometBFT RPC" "stoad gRPC" "stoad metrics" "CometBFT metrics"
  for n in "${NODES[@]}"; do
    printf '  %-6s %-28s %-24s %-24s %s\n' "node$n" "$(rpc_of "$n")" "$(host "$n"):$N_GRPC" \
      "$(host "$n"):$N_METRICS/metrics" "$(host "$n"):$N_CMT_METRICS/metrics"
  done
  echo "  ABCI: each node's unix socket nodeN/data/stoad.sock; logs: nodeN/stoad.log, nodeN/cometbft.log"
  sed 's/^/  key     /' "$NET_DIR/accounts.txt"
  cat <<MSG

Try:    $STOAD query bank balances \$(jq -r .address $NET_DIR/bob.key.json) --home $NET_DIR/node1 --node $(rpc_of 1) --grpc $(grpc_of 1)
Demo:   ./testnet/localnet.sh demo      Status: ./testnet/localnet.sh status      Logs: ./testnet/localnet.sh logs 2 -f
Stop:   ./testnet/localnet.sh down      (docs/OPERATIONS.md: metrics, failures and how to recover)
MSG
}

cmd_up() {
  common_setup
  cmd_down
  create
  start_all
  farewell
}

cmd_resume() {
  [ -d "$(home_of 1)/config" ] || die "no network in $NET_DIR; run ./testnet/localnet.sh up"
  common_setup
  cmd_down
  start_all
  farewell
}

# demo: the bank demo against node1, then every node's view of the result, then the market
# demos (testnet/demo.d/*.sh, each run with the variables below exported)
cmd_demo() {
  STOAD="${STOAD:-$(stoad_bin)}"
  export STOAD STOA_NODE_HOME="$(home_of 1)" STOA_RPC_PORT="$N_RPC" STOA_GRPC_PORT="$N_GRPC"
  export STOA_NET_DIR="$NET_DIR" NET_RPCS="$(for n in "${NODES[@]}"; do printf '%s ' "$(rpc_of "$n")"; done)"
  export NET_GRPCS="$(for n in "${NODES[@]}"; do printf '%s ' "$(grpc_of "$n")"; done)"
  [ "$(host 1)" = 127.0.0.1 ] || die "demo.sh talks to 127.0.0.1: node1 must be there"
  say "bank: alice sends bob tokens through node1"
  "$STOA_ROOT/testnet/demo.sh"
  local bob n h
  bob="$(jq -r .address "$NET_DIR/bob.key.json")"
  h="$(node_height 1)"
  wait_until 30 "every node at height $h" all_heights_at_least "$h" || true
  echo
  echo "bob's ustor as each node serves it (all at height $h or above):"
  for n in "${NODES[@]}"; do
    printf '  node%s (%s)  %s\n' "$n" "$(grpc_of "$n")" "$("$STOAD" query bank balances "$bob" --home "$(home_of 1)" --node "$(rpc_of "$n")" --grpc "$(grpc_of "$n")" --denom ustor --output json | jq -r '[.balances[]? | select(.denom == "ustor") | .amount][0] // .amount // .balance.amount // "0"')"
  done
  local d
  for d in "$STOA_ROOT"/testnet/demo.d/*.sh; do
    [ -f "$d" ] || continue
    say "market demo $(basename "$d")"
    bash "$d"
  done
}

case "${1:-help}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  demo) cmd_demo ;;
  resume) cmd_resume ;;
  check) STOAD="${STOAD:-$(stoad_bin)}"; cmd_check ;;
  stop-node) cmd_stop_node "${2:-}" ;;
  start-node) cmd_start_node "${2:-}" ;;
  kill-stoad) cmd_kill_stoad "${2:-}" ;;
  -h|--help|help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (up, down, status, logs, demo, resume, check, stop-node, start-node, kill-stoad)" ;;
esac
