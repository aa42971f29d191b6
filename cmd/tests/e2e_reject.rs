// End to end against a real cometbft: bad txs (signature, chain id, sequence, fee, denom, balance) are rejected with a clear code and log and change no balance.
mod common;

use common::*;
use std::collections::BTreeMap;

const FEE: u128 = 1000; // FEES = "1000ustor"

struct Snapshot {
    alice: BTreeMap<String, u128>,
    bob: BTreeMap<String, u128>,
    alice_seq: u64,
    supply: BTreeMap<String, u128>,
    /// ustor held by the fee collector
    fees: u128,
}

fn snapshot(net: &Net) -> Snapshot {
    Snapshot {
        alice: net.balances(&net.addr("alice")),
        bob: net.balances(&net.addr("bob")),
        alice_seq: net.account(&net.addr("alice")).1,
        supply: net.supply_without_block_rewards(),
        fees: net.balance(&fee_collector(), "ustor"),
    }
}

/// A rejected tx: exit status non-zero, code and codespace as expected, `log_has` in the log.
/// If the tx never made it into a block (CheckTx rejected it), nothing changed at all. If it was
/// included and failed in message execution, exactly the fee left alice and her sequence went up
/// by one, and nothing else changed.
fn expect_rejected(
    net: &Net,
    case: &str,
    r: &TxResult,
    codes: &[u64],
    codespace: &str,
    log_has: &str,
    before: &Snapshot,
) {
    eprintln!(
        "e2e: {case}: code {} ({}), height {}, log: {}",
        r.code(),
        r.codespace(),
        r.height(),
        r.log()
    );
    assert!(
        !r.exit_ok,
        "{case}: the CLI must exit non-zero for a failed tx: {r:?}"
    );
    assert!(
        codes.contains(&r.code()),
        "{case}: expected code {codes:?} ({codespace}), got {} ({}): {}",
        r.code(),
        r.codespace(),
        r.log()
    );
    assert_eq!(
        r.codespace(),
        codespace,
        "{case}: codespace; log: {}",
        r.log()
    );
    assert!(
        r.log().to_lowercase().contains(&log_has.to_lowercase()),
        "{case}: log should say '{log_has}': {}",
        r.log()
    );
    let after = snapshot(net);
    assert_eq!(after.bob, before.bob, "{case}: bob's balances changed");
    assert_eq!(
        after.supply, before.supply,
        "{case}: supply changed (fees move to the fee collector, nothing is minted or burnt but block rewards)"
    );
    if r.height() == 0 {
        assert_eq!(
            after.alice, before.alice,
            "{case}: rejected before a block, yet alice's balances changed"
        );
        assert_eq!(
            after.alice_seq, before.alice_seq,
            "{case}: rejected before a block, yet alice's sequence changed"
        );
        assert_eq!(
            after.fees, before.fees,
            "{case}: rejected before a block, yet a fee was taken"
        );
    } else {
        // included: the fee is paid and the sequence bumped; the messages left no trace
        let mut want = before.alice.clone();
        *want.get_mut("ustor").unwrap() -= FEE;
        assert_eq!(
            after.alice, want,
            "{case}: failed in a block: alice pays exactly the fee {FEE}ustor"
        );
        assert_eq!(
            after.alice_seq,
            before.alice_seq + 1,
            "{case}: failed in a block: the sequence goes up by one"
        );
        assert_eq!(
            after.fees,
            before.fees + FEE,
            "{case}: failed in a block: the fee collector gets exactly the fee"
        );
        let t = net
            .rpc_tx(&r.txhash())
            .unwrap_or_else(|e| panic!("{case}: included tx not found over RPC: {e}"));
        assert_eq!(
            t["tx_result"]["code"].as_u64(),
            Some(r.code()),
            "{case}: RPC tx_result code"
        );
    }
}

#[test]
fn bad_txs_are_rejected_and_change_nothing() {
    let net = Net::start(&[
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "100000000ustor,1000uusdc",
        },
        Acct {
            name: "bob",
            algo: "ed25519",
            coins: "5000ustor",
        },
    ]);
    let bob = net.addr("bob");

    // one good tx first, so alice's account has a pubkey and sequence 1 (reused-sequence case)
    net.send_ok("alice", &bob, "10ustor");
    assert_eq!(net.account(&net.addr("alice")).1, 1);

    let before = snapshot(&net);
    let r = net.send(
        "alice",
        &bob,
        "100ustor",
        FEES,
        &["--unsafe-corrupt-signature"],
    );
    expect_rejected(
        &net,
        "bad signature",
        &r,
        &[4],
        "sdk",
        "signature verification failed",
        &before,
    );

    let before = snapshot(&net);
    let r = net.send(
        "alice",
        &bob,
        "100ustor",
        FEES,
        &["--chain-id", "stoa-wrong-chain"],
    );
    expect_rejected(
        &net,
        "wrong chain id",
        &r,
        &[4],
        "sdk",
        "signature verification failed",
        &before,
    );

    let before = snapshot(&net);
    let r = net.send("alice", &bob, "100ustor", FEES, &["--sequence", "0"]);
    expect_rejected(
        &net,
        "reused sequence",
        &r,
        &[32, 3],
        "sdk",
        "sequence",
        &before,
    );

    let before = snapshot(&net);
    let r = net.send("alice", &bob, "100ustor", "1ustor", &[]);
    expect_rejected(
        &net,
        "fee too low",
        &r,
        &[13],
        "sdk",
        "insufficient fee",
        &before,
    );

    let before = snapshot(&net);
    let r = net.send("alice", &bob, "100unosuchcoin", FEES, &[]);
    expect_rejected(
        &net,
        "unknown denom",
        &r,
        &bank_unknown_denom_codes(),
        "bank",
        "unknown denom",
        &before,
    );

    let before = snapshot(&net);
    let r = net.send("alice", &bob, "1001uusdc", FEES, &[]);
    expect_rejected(
        &net,
        "more than the balance",
        &r,
        &[5],
        "sdk",
        "insufficient funds",
        &before,
    );

    // after all that, a good tx still goes through with the right sequence
    let before = snapshot(&net);
    net.send_ok("alice", &bob, "1uusdc");
    let after = snapshot(&net);
    assert_eq!(after.alice_seq, before.alice_seq + 1);
    assert_eq!(after.bob.get("uusdc"), Some(&1));
    assert_eq!(after.alice["uusdc"], before.alice["uusdc"] - 1);
    assert_eq!(after.alice["ustor"], before.alice["ustor"] - FEE);
}

/// The bank codespace's code for an unknown denom (modules/bank/src/error.rs).
fn bank_unknown_denom_codes() -> Vec<u64> {
    vec![6] // bank::error::UNKNOWN_DENOM
}
