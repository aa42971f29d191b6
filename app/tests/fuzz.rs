//! Property tests: arbitrary bytes (and mangled valid txs) as a tx never panic CheckTx,
//! PrepareProposal, ProcessProposal or FinalizeBlock, and always get a result.

mod common;
use common::*;
use proptest::prelude::*;
use stoa_framework::Store;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{RequestPrepareProposal, RequestProcessProposal};

fn chain() -> (stoa_app::StoaApp, Vec<u8>) {
    let alice = Key::secp(1);
    let app = new_app(Store::open_temporary().unwrap(), true);
    init(&app, &genesis_with(&[alice.address()]));
    run_block(&app, &[]);
    let (num, _) = account(&app, &alice.address()).unwrap();
    let tx = build_tx(
        &alice,
        &TxSpec::new(
            num,
            0,
            vec![msg_send(
                &alice.address(),
                &Key::ed(9).address(),
                &[(5, "ustor")],
            )],
        ),
    );
    (app, tx)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(txs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..400), 0..6)) {
        let (app, _) = chain();
        for tx in &txs {
            let r = check(&app, tx);
            prop_assert!(r.code != 0, "random bytes are never a valid signed tx");
        }
        let _ = app.prepare_proposal(RequestPrepareProposal { max_tx_bytes: 1 << 20, txs: txs.iter().map(|t| t.clone().into()).collect(), ..Default::default() });
        let _ = app.process_proposal(RequestProcessProposal { txs: txs.iter().map(|t| t.clone().into()).collect(), ..Default::default() });
        let r = run_block(&app, &txs);
        prop_assert_eq!(r.tx_results.len(), txs.len());
    }

    #[test]
    fn mangled_valid_txs_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let (app, tx) = chain();
        let mut bad = tx.clone();
        for (i, b) in &flips {
            let at = i.index(bad.len());
            bad[at] ^= b | 1;
        }
        let mut short = tx.clone();
        short.truncate(cut.index(tx.len()));
        for t in [&bad, &short] {
            let _ = check(&app, t);
        }
        let r = run_block(&app, &[bad, short, tx]);
        prop_assert_eq!(r.tx_results.len(), 3);
    }
}
