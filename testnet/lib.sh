# testnet/lib.sh: shell helpers shared by the testnet scripts (sourced, not run): paths, TOML edits, waits.
# shellcheck shell=bash

STOA_ROOT="${STOA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
LOCALNET="${STOA_LOCALNET:-$STOA_ROOT/.localnet}"
NODE_HOME="${STOA_NODE_HOME:-$LOCALNET/node0}"
CHAIN_ID="${STOA_CHAIN_ID:-stoa-devnet}"
# the ports and profile a devnet was started with (devnet.sh writes them), unless the environment says otherwise
if [ -f "$LOCALNET/devnet.env" ]; then source "$LOCALNET/devnet.env"; fi
# cargo profile used for stoad: release (default) or dev (reuses the test build)
STOA_PROFILE="${STOA_PROFILE:-release}"
RPC_PORT="${STOA_RPC_PORT:-26657}"
P2P_PORT="${STOA_P2P_PORT:-26656}"
ABCI_PORT="${STOA_ABCI_PORT:-26658}"
GRPC_PORT="${STOA_GRPC_PORT:-9090}"
METRICS_PORT="${STOA_METRICS_PORT:-26660}"
REST_PORT="${STOA_REST_PORT:-1317}"
NODE_RPC="http://127.0.0.1:$RPC_PORT"
NODE_GRPC="http://127.0.0.1:$GRPC_PORT"
NODE_REST="http://127.0.0.1:$REST_PORT"

say()  { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

stoad_bin() {
  local dir=release
  [ "$STOA_PROFILE" = "dev" ] && dir=debug
  echo "${CARGO_TARGET_DIR:-$STOA_ROOT/target}/$dir/stoad"
}

# set_toml FILE SECTION KEY VALUE: set KEY = VALUE (VALUE is written verbatim, quote strings
# yourself) in [SECTION] of FILE; SECTION "" is the top level. Appends the key when missing.
set_toml() {
  local file="$1" section="$2" key="$3" value="$4" tmp
  tmp="$(mktemp)"
  awk -v section="$section" -v key="$key" -v value="$value" '
    function flush() { if (insec && !done) { print key " = " value; done = 1 } }
    BEGIN { insec = (section == ""); done = 0 }
    /^[[:space:]]*\[/ {
      flush()
      s = $0; gsub(/^[[:space:]]*\[+|\]+[[:space:]]*(#.*)?$/, "", s)
      insec = (s == section)
    }
    insec && !done && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" { print key " = " value; done = 1; next }
    { print }
    END {
      if (!done) {
        if (!insec) { print ""; print "[" section "]" }
        print key " = " value
      }
    }' "$file" >"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

# port_open PORT: true if something listens on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# rpc_height: latest block height from CometBFT RPC, or nothing
rpc_height() {
  curl -fsS --max-time 2 "$NODE_RPC/status" 2>/dev/null | jq -r '.result.sync_info.latest_block_height' 2>/dev/null || true
}

# wait_until SECONDS WHAT CMD...: run CMD until it succeeds or SECONDS pass
wait_until() {
  local secs="$1" what="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then warn "timed out after ${secs}s waiting for $what"; return 1; fi
    sleep 0.2
  done
}

height_at_least() { local h; h="$(rpc_height)"; [ -n "$h" ] && [ "$h" != null ] && [ "$h" -ge "$1" ]; }

need_tools() {
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing ${missing[*]} with apt-get"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# alive PIDFILE: true if the pid recorded in PIDFILE runs
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }


# free_port: a port on 127.0.0.1 nothing listens on, below the kernel's ephemeral range: a
# port in that range can be the local end of some other process's connection (not listening,
# so port_open misses it), and binding it then fails with "Address already in use".
free_port() {
  local p lo=32768
  [ -r /proc/sys/net/ipv4/ip_local_port_range ] && read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
  [ "$lo" -gt 21000 ] || lo=32768
  while :; do
    p=$((20000 + RANDOM % (lo - 20000)))
    port_open "$p" || { echo "$p"; return; }
  done
}
