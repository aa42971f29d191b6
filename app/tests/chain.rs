//! Whole-chain properties: a restarted app resumes at the committed height and app hash (and a
//! crash before Commit loses nothing that was committed); replaying the same blocks into a
//! fresh app gives the same app hash at every height, with the supply invariant holding after
//! every block; `/store/bank/key` proofs verify against the app hash.

mod common;
use common::*;
use prost::Message;
use stoa_app::proof::verify_abci_proof;
use stoa_framework::{Address, Store};
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{RequestInfo, RequestQuery};

/// A deterministic pseudo-random sequence (splitmix64), so the blocks are the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Blocks of random sends among a few accounts of both key types, including failing ones
/// (over-balance sends, bad sequences, junk bytes).
fn make_blocks(keys: &[Key], numbers: &[u64], blocks: usize) -> Vec<Vec<Vec<u8>>> {
    let mut rng = Rng(42);
    let mut seqs = vec![0u64; keys.len()];
    let strangers: Vec<Address> = (0..3).map(|i| Key::ed(100 + i).address()).collect();
    let mut out = Vec::new();
    for _ in 0..blocks {
        let mut txs = Vec::new();
        for _ in 0..(rng.next() % 6) {
            let i = (rng.next() as usize) % keys.len();
            let to = if rng.next().is_multiple_of(2) {
                keys[(rng.next() as usize) % keys.len()].address()
            } else {
                strangers[(rng.next() as usize) % 3]
            };
            let amount = if rng.next().is_multiple_of(7) {
                FUNDS * 2
            } else {
                1 + u128::from(rng.next() % 10_000)
            };
            let seq = if rng.next().is_multiple_of(11) {
                seqs[i] + 5
            } else {
                seqs[i]
            };
            let spec = TxSpec::new(
                numbers[i],
                seq,
                vec![msg_send(&keys[i].address(), &to, &[(amount, "ucomp")])],
            );
            txs.push(build_tx(&keys[i], &spec));
            if seq == seqs[i] {
                seqs[i] += 1; // ante passes, message may fail: the sequence moves either way
            }
        }
        if rng.next().is_multiple_of(5) {
            txs.push(vec![0xff, 0x01, 0x02]);
        }
        out.push(txs);
    }
    out
}

fn keys() -> Vec<Key> {
    vec![Key::secp(1), Key::ed(2), Key::secp(3), Key::ed(4)]
}

/// A chain after genesis and one empty block (so queries see the genesis accounts), and the
/// account numbers of `keys()`.
fn fresh_chain(store: Store) -> (stoa_app::StoaApp, Vec<u64>) {
    let keys = keys();
    let app = new_app(store, true);
    init(
        &app,
        &genesis_with(&keys.iter().map(Key::address).collect::<Vec<_>>()),
    );
    run_block(&app, &[]);
    let numbers = keys
        .iter()
        .map(|k| account(&app, &k.address()).expect("funded at genesis").0)
        .collect();
    (app, numbers)
}

fn supply_invariant_holds(app: &stoa_app::StoaApp) {
    use cosmos_sdk_proto::cosmos::bank::v1beta1::{
        QueryTotalSupplyRequest, QueryTotalSupplyResponse,
    };
    let r = app.query(RequestQuery {
        data: QueryTotalSupplyRequest::default().encode_to_vec().into(),
        path: "/cosmos.bank.v1beta1.Query/TotalSupply".into(),
        ..Default::default()
    });
    let supply = QueryTotalSupplyResponse::decode(r.value.as_ref())
        .unwrap()
        .supply;
    let ucomp: u128 = supply
        .iter()
        .find(|c| c.denom == "ucomp")
        .unwrap()
        .amount
        .parse()
        .unwrap();
    // ucomp: the reserve's 500M COMP plus the test funds; sends never change it.
    assert_eq!(ucomp, 500_000_000_000_000 + FUNDS * keys().len() as u128);
}

#[test]
fn replay_gives_the_same_app_hash_at_every_height() {
    let (a, numbers) = fresh_chain(Store::open_temporary().unwrap());
    let blocks = make_blocks(&keys(), &numbers, 25);
    let mut hashes = Vec::new();
    let mut ok = 0;
    for txs in &blocks {
        // check_invariants = true: the supply invariant runs after every block (a break halts).
        let r = run_block(&a, txs);
        ok += r.tx_results.iter().filter(|t| t.code == 0).count();
        supply_invariant_holds(&a);
        hashes.push(r.app_hash.to_vec());
    }
    assert!(ok > 20, "most txs succeed ({ok})");
    let (b, _) = fresh_chain(Store::open_temporary().unwrap());
    for (i, txs) in blocks.iter().enumerate() {
        let r = run_block(&b, txs);
        assert_eq!(
            r.app_hash.to_vec(),
            hashes[i],
            "app hash at height {}",
            i + 2
        );
    }
    assert_eq!(a.last_commit(), b.last_commit());
}

#[test]
fn restart_resumes_at_the_committed_height() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stoa");
    let (blocks, committed) = {
        let (app, numbers) = fresh_chain(Store::open(&path, 0).unwrap());
        let blocks = make_blocks(&keys(), &numbers, 6);
        for txs in &blocks[..5] {
            run_block(&app, txs);
        }
        // Height 7 is finalized but the node dies before Commit.
        let height = app.last_commit().0 + 1;
        let pending = app.finalize_block(block_request(height, &blocks[5]));
        (blocks, (app.last_commit(), pending.app_hash.to_vec()))
    };
    let ((height, app_hash), pending_hash) = committed;
    assert_eq!(height, 6);

    let app = new_app(Store::open(&path, 0).unwrap(), true);
    let info = app.info(RequestInfo::default());
    assert_eq!(info.last_block_height, 6);
    assert_eq!(info.last_block_app_hash.to_vec(), app_hash);
    // CometBFT replays height 7: the same result as before the crash.
    let r = run_block(&app, &blocks[5]);
    assert_eq!(r.app_hash.to_vec(), pending_hash);
    assert_eq!(app.info(RequestInfo::default()).last_block_height, 7);
    supply_invariant_holds(&app);
}

#[test]
fn initial_height_above_one() {
    use tendermint_proto::google::protobuf::Timestamp;
    use tendermint_proto::v0_38::abci::RequestInitChain;
    let app = new_app(Store::open_temporary().unwrap(), true);
    let r = app.init_chain(RequestInitChain {
        time: Some(Timestamp {
            seconds: 1,
            nanos: 0,
        }),
        chain_id: CHAIN_ID.into(),
        app_state_bytes: serde_json::to_vec(&genesis_with(&[])).unwrap().into(),
        initial_height: 100,
        ..Default::default()
    });
    assert_eq!(r.app_hash.len(), 32);
    let resp = app.finalize_block(block_request(100, &[]));
    assert_eq!(resp.app_hash.len(), 32);
    app.commit();
    assert_eq!(app.info(RequestInfo::default()).last_block_height, 100);
}

#[test]
fn store_query_proofs_verify_against_the_app_hash() {
    let (app, numbers) = fresh_chain(Store::open_temporary().unwrap());
    for txs in make_blocks(&keys(), &numbers, 3) {
        run_block(&app, &txs);
    }
    let (_, app_hash) = app.last_commit();
    let alice = keys()[0].address();
    // The full store key (relative keys, without `bank/`, work too).
    let key = stoa_bank::BankView::balance_key(&stoa_bank::BankKeeper, &alice, "ucomp");
    let r = app.query(RequestQuery {
        data: key.clone().into(),
        path: "/store/bank/key".into(),
        height: 0,
        prove: true,
    });
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(!r.value.is_empty(), "alice holds ucomp");
    assert_eq!(r.height, 4);
    let proof = r.proof_ops.clone().expect("a proof");
    assert_eq!(proof.ops[0].r#type, "ics23:jmt");
    assert!(verify_abci_proof(&app_hash, &r.key, Some(&r.value), &proof));
    // A wrong value, a wrong root or a claim of absence all fail.
    let mut wrong = r.value.to_vec();
    wrong[0] ^= 1;
    assert!(!verify_abci_proof(&app_hash, &r.key, Some(&wrong), &proof));
    assert!(!verify_abci_proof(
        &[0u8; 32],
        &r.key,
        Some(&r.value),
        &proof
    ));
    assert!(!verify_abci_proof(&app_hash, &r.key, None, &proof));

    // Absence is provable too.
    let r = app.query(RequestQuery {
        data: b"bal/nobody".to_vec().into(),
        path: "/store/bank/key".into(),
        height: 0,
        prove: true,
    });
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.value.is_empty());
    assert!(verify_abci_proof(
        &app_hash,
        &r.key,
        None,
        r.proof_ops.as_ref().unwrap()
    ));

    // A historical height proves against that height's app hash.
    let old_root = app.store().root_at(2).unwrap().unwrap();
    let r = app.query(RequestQuery {
        data: key.into(),
        path: "/store/bank/key".into(),
        height: 2,
        prove: true,
    });
    assert_eq!(r.height, 2);
    assert!(verify_abci_proof(
        &old_root,
        &r.key,
        Some(&r.value),
        r.proof_ops.as_ref().unwrap()
    ));
}

#[test]
fn checktx_signature_cache_changes_no_result() {
    // Node A sees every tx in CheckTx first (and skips re-verifying them in the block); node B
    // sees only the blocks. Same results and app hashes.
    let (a, numbers) = fresh_chain(Store::open_temporary().unwrap());
    let (b, _) = fresh_chain(Store::open_temporary().unwrap());
    for txs in make_blocks(&keys(), &numbers, 12) {
        let passed = txs.iter().filter(|tx| check(&a, tx).code == 0).count();
        assert_eq!(
            a.sig_cache_len(),
            passed,
            "every tx CheckTx accepted is cached"
        );
        let ra = run_block(&a, &txs);
        assert_eq!(
            a.sig_cache_len(),
            0,
            "a committed block's txs leave the cache"
        );
        let rb = run_block(&b, &txs);
        assert_eq!(ra.app_hash, rb.app_hash);
        let codes = |r: &tendermint_proto::v0_38::abci::ResponseFinalizeBlock| {
            r.tx_results
                .iter()
                .map(|t| (t.code, t.gas_used, t.log.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&ra), codes(&rb));
    }
}
