//! Signed MsgSends (secp256k1 and ed25519) through CheckTx, FinalizeBlock and Commit, and every
//! way a tx can be rejected: the right (codespace, code), a clear log, and no balance change —
//! except that a tx failing after the ante keeps its fee and sequence bump.

mod common;
use common::*;
use stoa_framework::{module_address, Address, Store};
use tendermint_abci::Application;

struct Env {
    app: stoa_app::StoaApp,
    alice: Key,
    eddie: Key,
    bob: Address,
}

fn setup() -> Env {
    let alice = Key::secp(1);
    let eddie = Key::ed(2);
    let bob = Key::secp(3).address();
    let app = new_app(Store::open_temporary().unwrap(), true);
    init(&app, &genesis_with(&[alice.address(), eddie.address()]));
    run_block(&app, &[]);
    Env {
        app,
        alice,
        eddie,
        bob,
    }
}

fn send_tx(env: &Env, key: &Key, seq: u64, amount: u128, f: impl FnOnce(&mut TxSpec)) -> Vec<u8> {
    let (num, _) = account(&env.app, &key.address()).expect("account exists");
    let mut spec = TxSpec::new(
        num,
        seq,
        vec![msg_send(&key.address(), &env.bob, &[(amount, "ustor")])],
    );
    f(&mut spec);
    build_tx(key, &spec)
}

fn fees() -> u128 {
    200
}

#[test]
fn secp256k1_and_ed25519_sends_go_through() {
    let env = setup();
    let fee_collector = module_address("fee_collector");
    for (i, key) in [env.alice.clone(), env.eddie.clone()].iter().enumerate() {
        let tx = send_tx(&env, key, 0, 1_000, |_| {});
        let c = check(&env.app, &tx);
        assert_eq!(c.code, 0, "CheckTx: {}", c.log);
        assert!(c.gas_used > 0 && c.gas_wanted == 200_000);

        let r = run_block(&env.app, &[tx]);
        let res = &r.tx_results[0];
        assert_eq!(res.code, 0, "FinalizeBlock: {}", res.log);
        assert!(res.gas_used > 0 && res.gas_used <= res.gas_wanted);
        assert_eq!(
            event_attr(res, "transfer", "recipient"),
            vec![fee_collector.to_string(), env.bob.to_string()]
        );
        assert_eq!(
            event_attr(res, "message", "action")[0],
            "/cosmos.bank.v1beta1.MsgSend"
        );
        assert_eq!(
            event_attr(res, "tx", "acc_seq"),
            vec![format!("{}/0", key.address())]
        );
        assert_eq!(event_attr(res, "tx", "fee"), vec!["200ustor"]);
        assert!(
            res.events
                .iter()
                .all(|e| e.attributes.iter().all(|a| a.index)),
            "attributes are indexed"
        );
        assert_eq!(r.app_hash.len(), 32);

        assert_eq!(
            balance(&env.app, &key.address(), "ustor"),
            FUNDS - 1_000 - fees()
        );
        assert_eq!(
            balance(&env.app, &env.bob, "ustor"),
            1_000 * (i as u128 + 1)
        );
        assert_eq!(
            balance(&env.app, &fee_collector, "ustor"),
            fees() * (i as u128 + 1)
        );
        assert_eq!(
            account(&env.app, &key.address()).unwrap().1,
            1,
            "sequence bumped"
        );
    }
    // The second tx of an account may leave out its (now stored) public key.
    let tx = send_tx(&env, &env.eddie, 1, 5, |s| s.include_pub_key = false);
    let r = run_block(&env.app, &[tx]);
    assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
}

#[test]
fn several_txs_of_one_sender_in_one_block() {
    let env = setup();
    let txs: Vec<Vec<u8>> = (0..5)
        .map(|s| send_tx(&env, &env.alice, s, 10, |_| {}))
        .collect();
    for tx in &txs {
        assert_eq!(check(&env.app, tx).code, 0, "CheckTx accumulates sequences");
    }
    let r = run_block(&env.app, &txs);
    assert!(r.tx_results.iter().all(|t| t.code == 0));
    assert_eq!(balance(&env.app, &env.bob, "ustor"), 50);
    assert_eq!(account(&env.app, &env.alice.address()).unwrap().1, 5);
}

/// Runs `tx` through CheckTx and a block; checks the code in both (`in_check`: whether
/// CheckTx catches it too) and that balances are unchanged apart from the fee when
/// `fee_kept`.
fn expect_rejected(
    env: &Env,
    key: &Key,
    tx: Vec<u8>,
    code: (&str, u32),
    log: &str,
    in_check: bool,
    fee_kept: bool,
) {
    let before = balance(&env.app, &key.address(), "ustor");
    let bob_before = balance(&env.app, &env.bob, "ustor");
    let seq_before = account(&env.app, &key.address()).unwrap().1;
    if in_check {
        let c = check(&env.app, &tx);
        assert_eq!(
            (c.codespace.as_str(), c.code),
            code,
            "CheckTx log: {}",
            c.log
        );
        assert!(
            c.log.contains(log),
            "CheckTx log {:?} should mention {log:?}",
            c.log
        );
    }
    let r = run_block(&env.app, &[tx]);
    assert_code(&r.tx_results[0], code.0, code.1, log);
    let after = balance(&env.app, &key.address(), "ustor");
    let seq_after = account(&env.app, &key.address()).unwrap().1;
    assert_eq!(
        balance(&env.app, &env.bob, "ustor"),
        bob_before,
        "recipient unchanged"
    );
    if fee_kept {
        assert_eq!(after, before - fees(), "fee kept");
        assert_eq!(seq_after, seq_before + 1, "sequence bump kept");
    } else {
        assert_eq!(after, before, "no balance change");
        assert_eq!(seq_after, seq_before, "no sequence change");
    }
}

#[test]
fn bad_signature() {
    let env = setup();
    let mut tx = send_tx(&env, &env.alice, 0, 10, |_| {});
    let n = tx.len();
    tx[n - 5] ^= 0x55; // inside the signature, the last field of TxRaw
    expect_rejected(
        &env,
        &env.alice,
        tx,
        ("sdk", 4),
        "signature verification failed",
        true,
        false,
    );
}

/// A bad signature among good txs in one block. The block first runs as if every signature
/// were valid (alongside the verification); here that run must be thrown away and the block
/// run again with the real verdicts: had the bad tx passed, it would have taken sequence 1
/// and the good tx after it would fail.
#[test]
fn bad_signature_among_good_txs_in_one_block() {
    let env = setup();
    let bob_before = balance(&env.app, &env.bob, "ustor");
    let first = send_tx(&env, &env.alice, 0, 10, |_| {});
    let mut forged = send_tx(&env, &env.alice, 1, 1_000, |_| {});
    let n = forged.len();
    forged[n - 5] ^= 0x55;
    let second = send_tx(&env, &env.alice, 1, 10, |_| {});
    let other = send_tx(&env, &env.eddie, 0, 10, |_| {});
    let r = run_block(&env.app, &[first, forged, second, other]);
    let codes: Vec<(&str, u32)> = r
        .tx_results
        .iter()
        .map(|t| (t.codespace.as_str(), t.code))
        .collect();
    assert_eq!(
        codes,
        [("", 0), ("sdk", 4), ("", 0), ("", 0)],
        "{:?}",
        r.tx_results
    );
    assert_code(&r.tx_results[1], "sdk", 4, "signature verification failed");
    assert_eq!(balance(&env.app, &env.bob, "ustor"), bob_before + 30);
    assert_eq!(account(&env.app, &env.alice.address()).unwrap().1, 2);
}

#[test]
fn wrong_chain_id() {
    let env = setup();
    let tx = send_tx(&env, &env.eddie, 0, 10, |s| {
        s.chain_id = "other-chain".into()
    });
    let (num, _) = account(&env.app, &env.eddie.address()).unwrap();
    let log = format!(
        "signature verification failed; please verify account number ({num}), sequence (0) and chain-id ({CHAIN_ID})"
    );
    expect_rejected(&env, &env.eddie, tx, ("sdk", 4), &log, true, false);
}

#[test]
fn reused_sequence() {
    let env = setup();
    let tx = send_tx(&env, &env.alice, 0, 10, |_| {});
    run_block(&env.app, &[tx]);
    let again = send_tx(&env, &env.alice, 0, 11, |_| {});
    expect_rejected(
        &env,
        &env.alice,
        again,
        ("sdk", 32),
        "account sequence mismatch, expected 1, got 0",
        true,
        false,
    );
}

#[test]
fn fee_too_low() {
    let env = setup();
    // 200,000 gas at 0.001ustor needs 200ustor.
    let tx = send_tx(&env, &env.alice, 0, 10, |s| s.fee = vec![(199, "ustor")]);
    expect_rejected(
        &env,
        &env.alice,
        tx,
        ("sdk", 13),
        "insufficient fees",
        true,
        false,
    );
}

#[test]
fn fee_in_unlisted_denom() {
    let env = setup();
    let tx = send_tx(&env, &env.alice, 0, 10, |s| {
        s.fee = vec![(1_000_000, "uatom")]
    });
    expect_rejected(
        &env,
        &env.alice,
        tx,
        ("sdk", 13),
        "fee denom uatom is not accepted",
        true,
        false,
    );
}

#[test]
fn unknown_denom_in_send() {
    let env = setup();
    let (num, _) = account(&env.app, &env.alice.address()).unwrap();
    let spec = TxSpec::new(
        num,
        0,
        vec![msg_send(&env.alice.address(), &env.bob, &[(5, "ufoo")])],
    );
    let tx = build_tx(&env.alice, &spec);
    let r = run_block(&env.app, &[tx]);
    let res = &r.tx_results[0];
    assert_eq!(res.codespace, "bank", "log: {}", res.log);
    assert!(res.log.contains("ufoo"), "{}", res.log);
    assert_eq!(
        balance(&env.app, &env.alice.address(), "ustor"),
        FUNDS - fees()
    );
    assert_eq!(account(&env.app, &env.alice.address()).unwrap().1, 1);
}

#[test]
fn more_than_the_balance() {
    let env = setup();
    let tx = send_tx(&env, &env.alice, 0, FUNDS, |_| {});
    // CheckTx runs only the ante (as Cosmos SDK), so the block is where it fails.
    expect_rejected(
        &env,
        &env.alice,
        tx,
        ("sdk", 5),
        "insufficient funds",
        false,
        true,
    );
}

#[test]
fn expired_timeout_height() {
    let env = setup();
    let tx = send_tx(&env, &env.alice, 0, 10, |s| s.timeout_height = 1);
    expect_rejected(
        &env,
        &env.alice,
        tx,
        ("sdk", 30),
        "timeout height: 1",
        true,
        false,
    );
}

#[test]
fn oversized_memo() {
    let env = setup();
    let tx = send_tx(&env, &env.alice, 0, 10, |s| s.memo = "m".repeat(257));
    expect_rejected(
        &env,
        &env.alice,
        tx,
        ("sdk", 12),
        "maximum number of characters is 256 but received 257 characters",
        true,
        false,
    );
}

#[test]
fn out_of_gas_in_the_messages() {
    // What the ante alone costs, measured by CheckTx on an identical chain.
    let probe = setup();
    let c = check(&probe.app, &send_tx(&probe, &probe.alice, 0, 10, |_| {}));
    assert_eq!(c.code, 0, "{}", c.log);
    let ante_gas = c.gas_used as u64;
    let env = setup();
    // Enough for the ante (tx size, fee, signature), not for the transfer's writes.
    let tx = send_tx(&env, &env.alice, 0, 10, |s| s.gas_limit = ante_gas + 1_000);
    // CheckTx runs only the ante, which fits: it accepts the tx.
    assert_eq!(check(&env.app, &tx).code, 0);
    expect_rejected(&env, &env.alice, tx, ("sdk", 11), "out of gas", false, true);
}

#[test]
fn out_of_gas_in_the_ante() {
    let env = setup();
    let tx = send_tx(&env, &env.alice, 0, 10, |s| s.gas_limit = 100);
    expect_rejected(&env, &env.alice, tx, ("sdk", 11), "out of gas", true, false);
}

#[test]
fn undecodable_tx_gets_a_result_too() {
    let env = setup();
    let good = send_tx(&env, &env.alice, 0, 10, |_| {});
    let r = run_block(&env.app, &[b"not a tx".to_vec(), good]);
    assert_code(&r.tx_results[0], "sdk", 2, "tx parse error");
    assert_eq!(r.tx_results[1].code, 0);
}

#[test]
fn simulate_reports_gas() {
    let env = setup();
    let tx = send_tx(&env, &env.alice, 0, 10, |_| {});
    let o = env.app.simulate(&tx).unwrap();
    assert_eq!(o.code, 0, "{}", o.log);
    let r = run_block(&env.app, &[tx]);
    // The simulation ran the same work as the block did.
    assert_eq!(o.gas_used as i64, r.tx_results[0].gas_used);
    // Nothing of the simulation was kept.
    assert_eq!(balance(&env.app, &env.bob, "ustor"), 10);
}

#[test]
fn proposals_respect_limits() {
    use tendermint_proto::v0_38::abci::{
        response_process_proposal::ProposalStatus, RequestPrepareProposal, RequestProcessProposal,
    };
    let env = setup();
    let txs: Vec<Vec<u8>> = (0..4)
        .map(|s| send_tx(&env, &env.alice, s, 1, |_| {}))
        .collect();
    let three: u64 = txs[..3]
        .iter()
        .map(|t| stoa_app::abci::proto_tx_size(t.len()))
        .sum();
    let mut with_junk = txs.clone();
    with_junk.insert(1, b"junk".to_vec());
    let r = env.app.prepare_proposal(RequestPrepareProposal {
        max_tx_bytes: three as i64,
        txs: with_junk.iter().map(|t| t.clone().into()).collect(),
        ..Default::default()
    });
    assert_eq!(r.txs.len(), 3, "junk dropped, byte limit respected");
    let status = |txs: &[Vec<u8>]| {
        env.app
            .process_proposal(RequestProcessProposal {
                txs: txs.iter().map(|t| t.clone().into()).collect(),
                ..Default::default()
            })
            .status
    };
    assert_eq!(status(&txs), ProposalStatus::Accept as i32);
    assert_eq!(status(&with_junk), ProposalStatus::Reject as i32);
}

#[test]
fn info_and_snapshots() {
    use tendermint_proto::v0_38::abci::{
        response_offer_snapshot, RequestInfo, RequestOfferSnapshot,
    };
    let env = setup();
    let info = env.app.info(RequestInfo::default());
    assert_eq!(info.last_block_height, 1);
    assert_eq!(
        info.last_block_app_hash.to_vec(),
        env.app.store().last_commit().unwrap().root.to_vec()
    );
    assert!(env.app.list_snapshots().snapshots.is_empty());
    let offer = env.app.offer_snapshot(RequestOfferSnapshot::default());
    assert_eq!(offer.result, response_offer_snapshot::Result::Abort as i32);
}

#[test]
fn an_account_created_in_the_block_signs_later_in_it() {
    // Its signature cannot be verified ahead (the account does not exist before the block);
    // the ante verifies it when the tx runs.
    let carol = Key::ed(33);
    let probe = setup();
    let fund = |env: &Env| send_tx_to(env, &env.alice, 0, &carol.address(), 10_000);
    run_block(&probe.app, &[fund(&probe)]);
    let (carol_num, _) = account(&probe.app, &carol.address()).unwrap();

    let env = setup();
    let back = build_tx(
        &carol,
        &TxSpec::new(
            carol_num,
            0,
            vec![msg_send(&carol.address(), &env.bob, &[(1, "ustor")])],
        ),
    );
    let r = run_block(&env.app, &[fund(&env), back]);
    assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
    assert_eq!(r.tx_results[1].code, 0, "{}", r.tx_results[1].log);
    assert_eq!(
        balance(&env.app, &carol.address(), "ustor"),
        10_000 - 1 - fees()
    );
}

#[test]
fn one_bad_ed25519_signature_among_many() {
    // 150 txs of one ed25519 signer: verified in batches; the one bad signature fails alone
    // (its batch falls back to single checks), and the later txs then fail on their sequence.
    let env = setup();
    let mut txs: Vec<Vec<u8>> = (0..150)
        .map(|s| send_tx(&env, &env.eddie, s, 1, |_| {}))
        .collect();
    let n = txs[100].len();
    txs[100][n - 3] ^= 0x10;
    let r = run_block(&env.app, &txs);
    for (i, res) in r.tx_results.iter().enumerate() {
        match i {
            0..=99 => assert_eq!(res.code, 0, "tx {i}: {}", res.log),
            100 => assert_code(res, "sdk", 4, "signature verification failed"),
            _ => assert_code(res, "sdk", 32, "account sequence mismatch, expected 100"),
        }
    }
    assert_eq!(balance(&env.app, &env.bob, "ustor"), 100);
}

fn send_tx_to(env: &Env, key: &Key, seq: u64, to: &Address, amount: u128) -> Vec<u8> {
    let (num, _) = account(&env.app, &key.address()).expect("account exists");
    build_tx(
        key,
        &TxSpec::new(
            num,
            seq,
            vec![msg_send(&key.address(), to, &[(amount, "ustor")])],
        ),
    )
}

#[test]
fn tx_over_the_size_limit() {
    let env = setup();
    // 70,000 memo bytes: the size limit (65,536 bytes) is checked before the memo's.
    let tx = send_tx(&env, &env.alice, 0, 10, |s| s.memo = "x".repeat(70_000));
    expect_rejected(
        &env,
        &env.alice,
        tx,
        ("sdk", 21),
        "exceeds the limit of 65536 bytes",
        true,
        false,
    );
}

#[test]
fn blocks_larger_than_a_verification_chunk() {
    // 700 txs (three chunks of 256) from two signers of both schemes, interleaved; one bad
    // signature in the second chunk: only that signer's later txs fail, on their sequence.
    let env = setup();
    let mut txs = Vec::new();
    for s in 0..350 {
        txs.push(send_tx(&env, &env.alice, s, 1, |_| {}));
        txs.push(send_tx(&env, &env.eddie, s, 1, |_| {}));
    }
    let bad = 2 * 200 + 1; // eddie's tx with sequence 200
    let n = txs[bad].len();
    txs[bad][n - 7] ^= 0x01;
    let r = run_block(&env.app, &txs);
    for (i, res) in r.tx_results.iter().enumerate() {
        let (eddie, seq) = (i % 2 == 1, i / 2);
        if !eddie || seq < 200 {
            assert_eq!(res.code, 0, "tx {i}: {}", res.log);
        } else if seq == 200 {
            assert_code(res, "sdk", 4, "signature verification failed");
        } else {
            assert_code(res, "sdk", 32, "account sequence mismatch, expected 200");
        }
    }
    assert_eq!(balance(&env.app, &env.bob, "ustor"), 350 + 200);
}
