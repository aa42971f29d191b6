#!/usr/bin/env bash
# testnet/devnet.sh: one-command single-node Stoa devnet (CometBFT + stoad on 127.0.0.1) with funded demo accounts.
#
#   ./testnet/devnet.sh           build, init a fresh .localnet/node0, start both processes, run the demo
#   ./testnet/devnet.sh stop      stop the devnet (state stays in .localnet/ until the next start)
#   ./testnet/devnet.sh status    show whether it runs and its height
#   ./testnet/devnet.sh demo      run testnet/demo.sh again against the running devnet
#   ./testnet/devnet.sh resume    start the processes again on the existing state (after stop)
#
# Environment: STOA_PROFILE=dev uses the debug build (target/debug/stoad) instead of --release;
# STOA_RPC_PORT / STOA_P2P_PORT / STOA_ABCI_PORT / STOA_GRPC_PORT / STOA_REST_PORT / STOA_METRICS_PORT change the
# ports (defaults 26657 / 26656 / 26658 / 9090 / 1317 / 26660; gRPC-web shares the gRPC port); STOA_LOCALNET moves .localnet; STOA_NO_DEMO=1 skips the demo;
# STOA_SKIP_BUILD=1 uses the stoad already built for the profile.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STOAD_PID="$LOCALNET/stoad.pid"
COMET_PID="$LOCALNET/cometbft.pid"

stop_pid() {
  # stop_pid PIDFILE NAME: TERM, wait up to 10 s, then KILL
  local file="$1" name="$2" pid i
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then warn "$name ($pid) did not stop on TERM; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

cmd_stop() {
  # CometBFT first, so it does not log a storm of ABCI connection errors
  stop_pid "$COMET_PID" cometbft
  stop_pid "$STOAD_PID" stoad
}

cmd_status() {
  local h
  if alive "$STOAD_PID"; then echo "stoad    running (pid $(cat "$STOAD_PID"))"; else echo "stoad    stopped"; fi
  if alive "$COMET_PID"; then echo "cometbft running (pid $(cat "$COMET_PID"))"; else echo "cometbft stopped"; fi
  h="$(rpc_height)"
  [ -n "$h" ] && echo "height   $h ($NODE_RPC)"
  return 0
}

check_ports_free() {
  local p
  for p in "$RPC_PORT" "$P2P_PORT" "$ABCI_PORT" "$GRPC_PORT" "$REST_PORT" "$METRICS_PORT"; do
    if port_open "$p"; then die "port 127.0.0.1:$p is already in use (another devnet? try ./testnet/devnet.sh stop, or set STOA_*_PORT)"; fi
  done
}

build() {
  if [ "${STOA_SKIP_BUILD:-0}" = 1 ] && [ -x "$(stoad_bin)" ]; then
    STOAD="$(stoad_bin)"
    say "using the existing $STOAD (STOA_SKIP_BUILD=1)"
    return
  fi
  local args=(build -p stoa-cmd --bin stoad)
  [ "$STOA_PROFILE" = "release" ] && args+=(--release)
  say "cargo ${args[*]}"
  (cd "$STOA_ROOT" && cargo "${args[@]}")
  STOAD="$(stoad_bin)"
  [ -x "$STOAD" ] || die "stoad not found at $STOAD after the build"
}

# configure_home: CometBFT and stoad config of the node, everything on 127.0.0.1
configure_home() {
  local cfg="$NODE_HOME/config/config.toml" app="$NODE_HOME/config/app.toml"
  set_toml "$cfg" "" proxy_app "\"tcp://127.0.0.1:$ABCI_PORT\""
  set_toml "$cfg" "" moniker '"node0"'
  set_toml "$cfg" rpc laddr "\"tcp://127.0.0.1:$RPC_PORT\""
  set_toml "$cfg" rpc grpc_laddr '""'
  set_toml "$cfg" rpc pprof_laddr '""'
  set_toml "$cfg" p2p laddr "\"tcp://127.0.0.1:$P2P_PORT\""
  set_toml "$cfg" p2p external_address '""'
  set_toml "$cfg" p2p persistent_peers '""'
  set_toml "$cfg" p2p seeds '""'
  set_toml "$cfg" p2p pex false
  set_toml "$cfg" instrumentation prometheus false
  # --fast-blocks should already have set these; keep the devnet quick either way
  set_toml "$cfg" consensus timeout_commit '"500ms"'
  set_toml "$cfg" consensus timeout_propose '"1s"'
  if [ -f "$app" ]; then
    set_toml "$app" "" abci_addr "\"127.0.0.1:$ABCI_PORT\""
    set_toml "$app" "" grpc_addr "\"127.0.0.1:$GRPC_PORT\""
    set_toml "$app" "" rest_addr "\"127.0.0.1:$REST_PORT\""
    # browser dApps on any local page may call REST and gRPC-web
    set_toml "$app" "" cors_allowed_origins '["*"]'
    set_toml "$app" "" grpc_web true
    set_toml "$app" "" rpc_addr "\"$NODE_RPC\""
    set_toml "$app" "" metrics_addr "\"127.0.0.1:$METRICS_PORT\""
  else
    warn "stoad init wrote no $app; stoad runs on its defaults"
  fi
}

# ensure_genesis: the genesis must carry our chain id, Stoa's app_state and the node's validator
# (in app_state.validators, which InitChain hands CometBFT; CometBFT's own list stays empty)
ensure_genesis() {
  local gen="$NODE_HOME/config/genesis.json" tmp
  [ -f "$NODE_HOME/config/priv_validator_key.json" ] && [ -f "$gen" ] || "$COMETBFT" init --home "$NODE_HOME" >/dev/null
  tmp="$(mktemp)"
  if [ "$(jq '.app_state.validators // [] | length' "$gen")" = 0 ]; then
    say "adding the node's validator key to the genesis"
    "$STOAD" genesis add-validator --pubkey "$NODE_HOME/config/priv_validator_key.json" --power 10 --name node0 --home "$NODE_HOME" >/dev/null
  fi
  jq --arg id "$CHAIN_ID" '.chain_id = $id | .validators = []' "$gen" >"$tmp" && cat "$tmp" >"$gen"
  rm -f "$tmp"
  [ "$(jq '.app_state | type' "$gen")" = '"object"' ] || die "genesis has no app_state object (stoad init should write it)"
  [ "$(jq '.app_state.bank // null | type' "$gen")" = '"object"' ] || warn "genesis app_state has no bank section"
}

add_key() {
  # add_key NAME ALGO: prints the new key's address
  local out addr
  out="$("$STOAD" keys add "$1" --algo "$2" --home "$NODE_HOME" --output json)"
  echo "$out" >"$LOCALNET/$1.key.json"
  chmod 600 "$LOCALNET/$1.key.json"
  addr="$(echo "$out" | jq -r '.address // empty')"
  [ -n "$addr" ] || die "stoad keys add $1 printed no address: $out"
  echo "$addr"
}

init_node() {
  say "fresh node home $NODE_HOME"
  rm -rf "$NODE_HOME"
  mkdir -p "$NODE_HOME"
  cat >"$LOCALNET/devnet.env" <<PORTS
# written by testnet/devnet.sh: ports and build profile of this devnet (the environment still wins)
: "\${STOA_RPC_PORT:=$RPC_PORT}" "\${STOA_P2P_PORT:=$P2P_PORT}" "\${STOA_ABCI_PORT:=$ABCI_PORT}" "\${STOA_GRPC_PORT:=$GRPC_PORT}" "\${STOA_REST_PORT:=$REST_PORT}" "\${STOA_METRICS_PORT:=$METRICS_PORT}" "\${STOA_PROFILE:=$STOA_PROFILE}"
PORTS
  # The demo keys live in the test keyring (no passphrase); init records it in client.toml.
  "$STOAD" init --chain-id "$CHAIN_ID" --fast-blocks --keyring-backend test --home "$NODE_HOME" >"$LOCALNET/init.log" 2>&1 \
    || { cat "$LOCALNET/init.log" >&2; die "stoad init failed"; }
  ensure_genesis
  configure_home
  # The storage market's devnet profile: small sectors, a 5-minute proving period (INSECURE,
  # docs/STORAGE.md).
  "$STOAD" genesis storage-profile devnet --home "$NODE_HOME" >/dev/null

  say "demo keys and genesis accounts"
  local alice bob
  alice="$(add_key alice secp256k1)"
  bob="$(add_key bob ed25519)"
  "$STOAD" genesis add-account "$alice" "10000000000ustor,10000000000ucomp,10000000000uusdc,1000000000umind" --home "$NODE_HOME" >/dev/null
  "$STOAD" genesis add-account "$bob" "1000000000ustor,1000000000ucomp,1000000000uusdc" --home "$NODE_HOME" >/dev/null
  printf 'alice %s (secp256k1)\nbob   %s (ed25519)\n' "$alice" "$bob" >"$LOCALNET/accounts.txt"
}

# wait conditions that also end the wait when the process died
abci_up() { ! alive "$STOAD_PID" || port_open "$ABCI_PORT"; }
chain_up() { ! alive "$STOAD_PID" || ! alive "$COMET_PID" || height_at_least 2; }

start_processes() {
  check_ports_free
  : >"$LOCALNET/stoad.log"; : >"$LOCALNET/cometbft.log"
  say "starting stoad (log $LOCALNET/stoad.log)"
  setsid "$STOAD" start --home "$NODE_HOME" >>"$LOCALNET/stoad.log" 2>&1 </dev/null &
  echo $! >"$STOAD_PID"
  if ! wait_until 60 "stoad's ABCI socket on 127.0.0.1:$ABCI_PORT" abci_up || ! alive "$STOAD_PID"; then
    tail -n 30 "$LOCALNET/stoad.log" >&2; cmd_stop; die "stoad did not come up"
  fi
  say "starting cometbft (log $LOCALNET/cometbft.log)"
  setsid "$COMETBFT" start --home "$NODE_HOME" >>"$LOCALNET/cometbft.log" 2>&1 </dev/null &
  echo $! >"$COMET_PID"
  if ! wait_until 90 "block height 2" chain_up || ! alive "$COMET_PID" || ! alive "$STOAD_PID"; then
    echo "--- stoad.log" >&2; tail -n 30 "$LOCALNET/stoad.log" >&2
    echo "--- cometbft.log" >&2; tail -n 30 "$LOCALNET/cometbft.log" >&2
    cmd_stop; die "the chain did not produce blocks"
  fi
  say "chain $CHAIN_ID is at height $(rpc_height)"
  # the REST gateway answers as the Cosmos SDK's does
  if ! curl -fsS --max-time 10 "$NODE_REST/cosmos/bank/v1beta1/supply" | jq -e '.supply | length > 0' >/dev/null; then
    tail -n 30 "$LOCALNET/stoad.log" >&2; cmd_stop; die "the REST gateway on $NODE_REST does not answer"
  fi
  say "REST gateway on $NODE_REST"
}

common_setup() {
  need_tools jq curl
  mkdir -p "$LOCALNET"
  COMETBFT="$("$STOA_ROOT/testnet/install-cometbft.sh")"
  # stoad init runs `cometbft init`: the right cometbft must come first on PATH
  PATH="$(dirname "$COMETBFT"):$PATH"
  STOA_COMETBFT="$COMETBFT"
  export PATH STOA_COMETBFT
  build
}

farewell() {
  local env=""
  [ -n "${STOA_LOCALNET:-}" ] && env="STOA_LOCALNET=$STOA_LOCALNET "
  cat <<MSG

The devnet is running on 127.0.0.1:
  CometBFT RPC  $NODE_RPC   (P2P 127.0.0.1:$P2P_PORT)
  stoad gRPC    $NODE_GRPC   (and gRPC-web; ABCI 127.0.0.1:$ABCI_PORT)
  stoad REST    $NODE_REST   (e.g. curl $NODE_REST/cosmos/bank/v1beta1/supply)
  home          $NODE_HOME
  logs          $LOCALNET/stoad.log, $LOCALNET/cometbft.log
$(sed 's/^/  key         /' "$LOCALNET/accounts.txt")

Try:   $(stoad_bin) query bank balances \$(jq -r .address $LOCALNET/bob.key.json) --home $NODE_HOME --node $NODE_RPC --grpc $NODE_GRPC
Demo:  ${env}./testnet/devnet.sh demo
Stop:  ${env}./testnet/devnet.sh stop
MSG
}

cmd_start() {
  common_setup
  cmd_stop
  init_node
  start_processes
  if [ "${STOA_NO_DEMO:-0}" != 1 ]; then
    STOAD="$STOAD" "$STOA_ROOT/testnet/demo.sh"
  fi
  farewell
}

cmd_resume() {
  [ -d "$NODE_HOME/config" ] || die "no devnet state in $NODE_HOME; run ./testnet/devnet.sh first"
  common_setup
  cmd_stop
  start_processes
  farewell
}

case "${1:-start}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  resume) cmd_resume ;;
  demo) STOAD="${STOAD:-$(stoad_bin)}" exec "$STOA_ROOT/testnet/demo.sh" ;;
  -h|--help|help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (start, stop, status, demo, resume)" ;;
esac
