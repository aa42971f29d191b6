"""cosmpy 0.12 against a running Stoa node, over gRPC and over the REST gateway.

Run by testnet/clients/run.sh in a venv with py-requirements.txt. Environment: STOA_GRPC and
STOA_REST (http://HOST:PORT), STOA_CHAIN_ID, STOA_PY_MNEMONIC (a funded secp256k1 key),
STOA_RECIPIENT, STOA_DENOM (default ustor). Checks marked chain_side need the chain-side work
of issue 10 (Simulate with empty signatures, GetTx and NotFound shapes); with
STOA_CLIENTS_XFAIL_CHAIN_SIDE=1 their failure is reported as expected. Prints one line per
check and "cosmpy: N passed, N failed, N skipped".
"""

import os
import sys
import time
import traceback

from cosmpy.aerial.client import LedgerClient, NetworkConfig
from cosmpy.aerial.tx import TxFee
from cosmpy.aerial.wallet import LocalWallet

GRPC = os.environ["STOA_GRPC"]
REST = os.environ["STOA_REST"]
CHAIN_ID = os.environ["STOA_CHAIN_ID"]
MNEMONIC = os.environ["STOA_PY_MNEMONIC"]
RECIPIENT = os.environ["STOA_RECIPIENT"]
DENOM = os.environ.get("STOA_DENOM", "ustor")
XFAIL = os.environ.get("STOA_CLIENTS_XFAIL_CHAIN_SIDE") == "1"


def client(url: str) -> LedgerClient:
    return LedgerClient(
        NetworkConfig(
            chain_id=CHAIN_ID,
            url=url,
            fee_minimum_gas_price=0.01,
            fee_denomination=DENOM,
            staking_denomination=DENOM,
        ),
        query_timeout_secs=30,
    )


def grpc_client() -> LedgerClient:
    return client("grpc+" + GRPC)


def rest_client() -> LedgerClient:
    return client("rest+" + REST)


WALLET = LocalWallet.from_mnemonic(MNEMONIC, prefix="stoa")
CHECKS = []


def check(name, chain_side=False):
    def register(fn):
        CHECKS.append((name, fn, chain_side))
        return fn

    return register


@check("LedgerClient.query_bank_balance over gRPC")
def _():
    c = grpc_client()
    b = c.query_bank_balance(WALLET.address(), denom=DENOM)
    assert b > 0, f"balance {b}"
    assert any(x.denom == DENOM for x in c.query_bank_all_balances(WALLET.address()))


@check("LedgerClient.query_bank_balance over REST (the gateway)")
def _():
    g = grpc_client().query_bank_balance(WALLET.address(), denom=DENOM)
    r = rest_client().query_bank_balance(WALLET.address(), denom=DENOM)
    assert r == g, f"REST says {r}, gRPC says {g}"
    acct = rest_client().query_account(WALLET.address())
    assert str(acct.address) == str(WALLET.address()), acct


def wait_balance(c: LedgerClient, address: str, at_least: int) -> int:
    """Polls a balance (not GetTx) until it reaches at_least; 30 s at most."""
    deadline = time.time() + 30
    while True:
        b = c.query_bank_balance(address, denom=DENOM)
        if b >= at_least or time.time() > deadline:
            return b
        time.sleep(0.5)


SENT = {}


@check("LedgerClient.send_tokens with a fixed fee over REST (CheckTx passes)")
def _():
    c = rest_client()
    SENT["before"] = c.query_bank_balance(RECIPIENT, denom=DENOM)
    SENT["rest"] = c.send_tokens(
        RECIPIENT, 11, DENOM, WALLET, fee=TxFee(amount=f"2000{DENOM}", gas_limit=200000)
    )


@check("SubmittedTx.wait_to_complete over REST, right after the broadcast", chain_side=True)
def _():
    tx = SENT["rest"]
    tx.wait_to_complete(timeout=60, poll_period=0.5)
    assert tx.response is not None and tx.response.code == 0, tx.response


@check("the REST send arrives (balance over REST)")
def _():
    after = wait_balance(rest_client(), RECIPIENT, SENT["before"] + 11)
    assert after - SENT["before"] == 11, f"recipient got {after - SENT['before']}"


@check(
    "LedgerClient.send_tokens with its default gas estimation over gRPC"
    " (cosmos.consensus.v1 Params, Simulate), wait_to_complete",
    chain_side=True,
)
def _():
    c = grpc_client()
    before = c.query_bank_balance(RECIPIENT, denom=DENOM)
    tx = c.send_tokens(RECIPIENT, 12, DENOM, WALLET)
    tx.wait_to_complete(timeout=60, poll_period=0.5)
    assert tx.response is not None and tx.response.code == 0, tx.response
    after = c.query_bank_balance(RECIPIENT, denom=DENOM)
    assert after - before == 12, f"recipient got {after - before}"


@check("LedgerClient.query_height (cosmos.base.tendermint)", chain_side=True)
def _():
    assert grpc_client().query_height() > 1


def main() -> int:
    passed = failed = xfailed = 0
    for name, fn, chain_side in CHECKS:
        try:
            fn()
            passed += 1
            note = " (passes already: the chain-side switch can go)" if chain_side and XFAIL else ""
            print(f"ok    {name}{note}", flush=True)
        except Exception as e:  # noqa: BLE001 - a client failure of any kind is a failed check
            msg = " ".join((str(e) or type(e).__name__).split())[:400]
            if chain_side and XFAIL:
                xfailed += 1
                print(f"xfail {name} (needs the chain side of issue 10): {msg}", flush=True)
            else:
                failed += 1
                print(f"FAIL  {name}: {msg}", flush=True)
                traceback.print_exc(limit=3)
    print(f"cosmpy: {passed} passed, {failed} failed, {xfailed} skipped", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
