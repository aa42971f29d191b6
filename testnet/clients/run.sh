#!/usr/bin/env bash
# testnet/clients/run.sh: third-party Cosmos clients against a running Stoa node: curl of the REST
# gateway, cosmjs (npm), cosmpy (PyPI) and a page in headless Chromium (Debian) that shows a
# balance over REST and gRPC-web. Each client comes from its own registry at a pinned version
# (js/package-lock.json, py-requirements.txt) and is installed under $STOA_CLIENTS_DIR (default
# target/clients), never in the work tree. cmd/tests/e2e_clients.rs starts a node and runs this.
#
# Environment (all required but the last four):
#   STOA_RPC, STOA_GRPC, STOA_REST   node URLs (http://127.0.0.1:PORT)
#   STOA_CHAIN_ID
#   STOA_CJS_MNEMONIC, STOA_PY_MNEMONIC   funded secp256k1 keys, one per client
#   STOA_RECIPIENT                    an address the clients send to
#   STOA_FIXED_ADDR, STOA_FIXED_BALANCE   an address nothing touches and its balance ("777 ustor")
#   STOA_TX_HASH                      a committed tx, for GetTx over REST
#   STOA_FRESH_ADDR                   an address the chain has never seen
#   STOA_DENOM                        default ustor
#   STOA_CLIENTS_XFAIL_CHAIN_SIDE=1   checks that need the chain side of issue 10 may fail
#   STOA_CLIENTS_ONLY="curl cosmjs cosmpy browser"   a subset
# Exits non-zero when any check fails; the last line is "clients: N passed, N failed".
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="${STOA_CLIENTS_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/clients}"
DENOM="${STOA_DENOM:-ustor}"
ONLY="${STOA_CLIENTS_ONLY:-curl cosmjs cosmpy browser}"
for v in STOA_RPC STOA_GRPC STOA_REST STOA_CHAIN_ID STOA_CJS_MNEMONIC STOA_PY_MNEMONIC STOA_RECIPIENT \
         STOA_FIXED_ADDR STOA_FIXED_BALANCE STOA_TX_HASH STOA_FRESH_ADDR; do
  [ -n "${!v:-}" ] || { echo "run.sh: $v is not set" >&2; exit 2; }
done
export STOA_DENOM="$DENOM"
mkdir -p "$STATE"

passed=0 failed=0
say() { printf '==> %s\n' "$*"; }
ok() { passed=$((passed + 1)); echo "ok    $*"; }
bad() { failed=$((failed + 1)); echo "FAIL  $*"; }
wants() { [[ " $ONLY " == *" $1 "* ]]; }
# apt-get only as root (CI and the developer machines are); otherwise say what is missing
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $* (apt-get)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "run.sh: $* missing and cannot apt-get install it" >&2; return 1
  fi
}

# ---- curl: the REST gateway as any HTTP client sees it -------------------------------------
# rest_check NAME STATUS PATH JQ: GET PATH must answer STATUS and a body for which JQ is true
rest_check() {
  local name="$1" want="$2" path="$3" filter="$4" out code
  out="$(mktemp)"
  code="$(curl -sS -o "$out" -w '%{http_code}' --max-time 20 "$STOA_REST$path" || echo 000)"
  if [ "$code" = "$want" ] && jq -e "$filter" "$out" >/dev/null 2>&1; then ok "curl $name"
  else bad "curl $name: GET $path -> $code $(head -c 400 "$out")"; fi
  rm -f "$out"
}
run_curl() {
  say "curl"
  command -v jq >/dev/null || apt_install jq
  local a="$STOA_FIXED_ADDR" amount="${STOA_FIXED_BALANCE%% *}"
  rest_check "bank balances" 200 "/cosmos/bank/v1beta1/balances/$a" \
    ".balances == [{\"denom\": \"$DENOM\", \"amount\": \"$amount\"}] and .pagination.total != null"
  rest_check "bank balance by denom" 200 "/cosmos/bank/v1beta1/balances/$a/by_denom?denom=$DENOM" \
    ".balance.amount == \"$amount\""
  rest_check "bank supply" 200 "/cosmos/bank/v1beta1/supply?pagination.limit=2" \
    '(.supply | length) >= 1 and (.supply[0].amount | type) == "string"'
  rest_check "auth account" 200 "/cosmos/auth/v1beta1/accounts/$a" \
    ".account[\"@type\"] == \"/cosmos.auth.v1beta1.BaseAccount\" and .account.address == \"$a\" and (.account.account_number | type) == \"string\""
  rest_check "auth account of a fresh address is NotFound" 404 "/cosmos/auth/v1beta1/accounts/$STOA_FRESH_ADDR" \
    '.code == 5 and (.message | length) > 0 and .details == []'
  rest_check "bad address is InvalidArgument" 400 "/cosmos/bank/v1beta1/balances/nope" '.code == 3 and .details == []'
  rest_check "bech32 prefix" 200 "/cosmos/auth/v1beta1/bech32" '.bech32_prefix == "stoa"'
  rest_check "tx by hash" 200 "/cosmos/tx/v1beta1/txs/$STOA_TX_HASH" \
    ".tx_response.txhash == \"$STOA_TX_HASH\" and .tx_response.code == 0 and .tx.body.messages[0][\"@type\"] != null"
  rest_check "a Stoa module's query" 200 "/stoa/storage/v1/params" '.params != null'
  rest_check "unknown path" 501 "/cosmos/nope/v1/nothing" '.code == 12 and .message == "Not Implemented"'
  local hdrs
  hdrs="$(curl -sS -o /dev/null -D - --max-time 20 -X OPTIONS -H 'Origin: http://dapp.example' \
    -H 'Access-Control-Request-Method: GET' "$STOA_REST/cosmos/bank/v1beta1/supply" || true)"
  if grep -qi '^access-control-allow-origin: \*' <<<"$hdrs"; then ok "curl CORS preflight"
  else bad "curl CORS preflight: $hdrs"; fi
  local body code
  body="$(mktemp)"
  code="$(curl -sS -o "$body" -w '%{http_code}' --max-time 20 -H 'content-type: application/json' \
    -d '{"tx_bytes": "AAEC", "mode": "BROADCAST_MODE_SYNC"}' "$STOA_REST/cosmos/tx/v1beta1/txs" || echo 000)"
  # CheckTx refuses the garbage; the SDK answers 200 with the CheckTx code in the TxResponse
  if [ "$code" = 200 ] && jq -e '.tx_response.code != 0 and (.tx_response.txhash | length) == 64' "$body" >/dev/null; then
    ok "curl broadcast of an undecodable tx gets its CheckTx code"
  else bad "curl broadcast: $code $(head -c 400 "$body")"; fi
  rm -f "$body"
}

# ---- cosmjs ---------------------------------------------------------------------------------
run_cosmjs() {
  command -v npm >/dev/null || apt_install nodejs npm
  local dir="$STATE/js"
  mkdir -p "$dir"
  cp "$HERE/js/package.json" "$HERE/js/package-lock.json" "$HERE/js/cosmjs.mjs" "$dir/"
  if ! cmp -s "$HERE/js/package-lock.json" "$dir/node_modules/.stoa-lock" 2>/dev/null; then
    say "npm ci (cosmjs, pinned by js/package-lock.json)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) && cp "$HERE/js/package-lock.json" "$dir/node_modules/.stoa-lock"
  fi
  say "cosmjs"
  if (cd "$dir" && node cosmjs.mjs); then ok "cosmjs"; else bad "cosmjs (see above)"; fi
}

# ---- cosmpy ---------------------------------------------------------------------------------
run_cosmpy() {
  local venv="$STATE/venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
  fi
  if ! cmp -s "$HERE/py-requirements.txt" "$venv/.stoa-requirements"; then
    say "pip install (cosmpy, pinned by py-requirements.txt)"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$HERE/py-requirements.txt" \
      && cp "$HERE/py-requirements.txt" "$venv/.stoa-requirements"
  fi
  say "cosmpy"
  if "$venv/bin/python" "$HERE/cosmpy_checks.py"; then ok "cosmpy"; else bad "cosmpy (see above)"; fi
}

# ---- a page in headless Chromium -----------------------------------------------------------
run_browser() {
  say "browser"
  local chromium
  chromium="$(command -v chromium || command -v chromium-browser || true)"
  if [ -z "$chromium" ]; then
    apt_install chromium
    chromium="$(command -v chromium)"
  fi
  local url="file://$HERE/browser/balance.html?rest=$STOA_REST&grpc=$STOA_GRPC&addr=$STOA_FIXED_ADDR&denom=$DENOM"
  local dom="$STATE/balance.dom.html"
  say "headless $("$chromium" --version 2>/dev/null | head -n 1)"
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$STATE/chromium-profile" --virtual-time-budget=20000 \
    --dump-dom "$url" >"$dom" 2>"$STATE/chromium.log" || true
  local rest grpcweb
  rest="$(grep -o '<p id="rest">[^<]*' "$dom" | sed 's/.*>//')"
  grpcweb="$(grep -o '<p id="grpcweb">[^<]*' "$dom" | sed 's/.*>//')"
  if [ "$rest" = "REST: $STOA_FIXED_BALANCE" ]; then ok "browser page shows the balance over REST"
  else bad "browser page over REST shows \"$rest\" (want \"REST: $STOA_FIXED_BALANCE\"; $dom, $STATE/chromium.log)"; fi
  if [ "$grpcweb" = "gRPC-web: $STOA_FIXED_BALANCE" ]; then ok "browser page shows the balance over gRPC-web"
  else bad "browser page over gRPC-web shows \"$grpcweb\" (want \"gRPC-web: $STOA_FIXED_BALANCE\")"; fi
}

for c in curl cosmjs cosmpy browser; do
  if wants "$c"; then "run_$c" || bad "$c: could not run"; fi
done
echo "clients: $passed passed, $failed failed"
[ "$failed" = 0 ]
