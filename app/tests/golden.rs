//! A fixed sequence of blocks, with txs that pass and txs that fail every which way, pinned by a
//! digest of every FinalizeBlock response (codes, logs, gas, events, data, app hash) and of the
//! committed app hashes. Execution may get faster; what it answers must not change. A change of
//! the digest is a change of consensus behaviour and must be one on purpose.

mod common;
use common::*;
use prost::Message;
use sha2::{Digest, Sha256};
use stoa_framework::{module_address, Address, Store};
use tendermint_proto::google::protobuf::Any;

fn send(from: &Key, to: &Address, amount: &[(u128, &str)]) -> Any {
    msg_send(&from.address(), to, amount)
}

#[test]
fn a_fixed_scenario_gives_the_same_results_and_app_hashes() {
    let alice = Key::secp(11);
    let eddie = Key::ed(12);
    let bob = Key::secp(13);
    let carol = Key::ed(14).address();
    let app = new_app(Store::open_temporary().unwrap(), true);
    let mut digest = Sha256::new();
    digest.update(init(
        &app,
        &genesis_with(&[alice.address(), eddie.address()]),
    ));
    digest.update(run_block(&app, &[]).encode_to_vec());

    let (a_num, _) = account(&app, &alice.address()).unwrap();
    let (e_num, _) = account(&app, &eddie.address()).unwrap();
    let tx = |key: &Key, num, seq, msgs, f: &dyn Fn(&mut TxSpec)| {
        let mut spec = TxSpec::new(num, seq, msgs);
        f(&mut spec);
        build_tx(key, &spec)
    };
    let plain = |_: &mut TxSpec| {};

    let block2 = vec![
        // Passes: a new recipient account.
        tx(
            &alice,
            a_num,
            0,
            vec![send(&alice, &bob.address(), &[(1_000, "ustor")])],
            &plain,
        ),
        // Passes: two denoms, second tx of the same signer in the block.
        tx(
            &alice,
            a_num,
            1,
            vec![send(&alice, &carol, &[(5, "ucomp"), (7, "ustor")])],
            &plain,
        ),
        // Wrong sequence (ante).
        tx(
            &alice,
            a_num,
            7,
            vec![send(&alice, &carol, &[(1, "ustor")])],
            &plain,
        ),
        // Insufficient funds after the ante: fee and sequence stay.
        tx(
            &eddie,
            e_num,
            0,
            vec![send(&eddie, &carol, &[(u128::MAX / 2, "ustor")])],
            &plain,
        ),
        // Unknown denom.
        tx(
            &eddie,
            e_num,
            1,
            vec![send(&eddie, &carol, &[(1, "unope")])],
            &plain,
        ),
        // A module account as recipient.
        tx(
            &eddie,
            e_num,
            2,
            vec![send(
                &eddie,
                &module_address("fee_collector"),
                &[(1, "ustor")],
            )],
            &plain,
        ),
        // Two messages, the second fails: the first one's writes and events go too.
        tx(
            &eddie,
            e_num,
            3,
            vec![
                send(&eddie, &carol, &[(3, "ustor")]),
                send(&eddie, &carol, &[(u128::MAX / 2, "ucomp")]),
            ],
            &plain,
        ),
        // Out of gas in the ante, then in the messages.
        tx(
            &eddie,
            e_num,
            4,
            vec![send(&eddie, &carol, &[(3, "ustor")])],
            &|s| {
                s.gas_limit = 8_000;
                s.fee = vec![(8, "ustor")];
            },
        ),
        tx(
            &eddie,
            e_num,
            4,
            vec![send(&eddie, &carol, &[(3, "ustor")])],
            &|s| {
                s.gas_limit = 35_000;
                s.fee = vec![(35, "ustor")];
            },
        ),
        // Fee too low, and a fee in a denom that is not accepted.
        tx(
            &eddie,
            e_num,
            5,
            vec![send(&eddie, &carol, &[(3, "ustor")])],
            &|s| {
                s.fee = vec![(1, "ustor")];
            },
        ),
        tx(
            &eddie,
            e_num,
            5,
            vec![send(&eddie, &carol, &[(3, "ustor")])],
            &|s| {
                s.fee = vec![(500, "umind")];
            },
        ),
        tx(
            &eddie,
            e_num,
            5,
            vec![send(&eddie, &carol, &[(3, "ustor")])],
            &|s| {
                s.fee = vec![(500, "unope")];
            },
        ),
        // An account that does not exist yet signs.
        tx(
            &Key::secp(99),
            0,
            0,
            vec![msg_send(&Key::secp(99).address(), &carol, &[(1, "ustor")])],
            &plain,
        ),
        // Undecodable.
        vec![1, 2, 3],
        // Passes, with a memo, several messages and a fee in two denoms.
        tx(
            &eddie,
            e_num,
            5,
            vec![
                send(&eddie, &carol, &[(2, "ustor")]),
                send(&eddie, &bob.address(), &[(9, "ucomp")]),
            ],
            &|s| {
                s.memo = "golden".into();
                s.fee = vec![(200, "ucomp"), (200, "ustor")];
            },
        ),
    ];
    digest.update(run_block(&app, &block2).encode_to_vec());
    digest.update(app.last_commit().1);

    // Bob's first tx carries his key; a failed tx before it in the same block.
    let (b_num, _) = account(&app, &bob.address()).unwrap();
    let block3 = vec![
        tx(
            &bob,
            b_num,
            1,
            vec![send(&bob, &carol, &[(1, "ustor")])],
            &plain,
        ),
        tx(
            &bob,
            b_num,
            0,
            vec![send(&bob, &alice.address(), &[(100, "ustor")])],
            &plain,
        ),
        tx(
            &bob,
            b_num,
            1,
            vec![send(&bob, &carol, &[(1, "ucomp")])],
            &|s| {
                s.include_pub_key = false;
            },
        ),
        tx(
            &alice,
            a_num,
            2,
            vec![send(&alice, &bob.address(), &[(1, "ustor")])],
            &|s| {
                s.timeout_height = 2;
            },
        ),
        tx(
            &alice,
            a_num,
            2,
            vec![send(&alice, &bob.address(), &[(1, "ustor")])],
            &plain,
        ),
    ];
    digest.update(run_block(&app, &block3).encode_to_vec());
    digest.update(app.last_commit().1);
    digest.update(run_block(&app, &[]).encode_to_vec());
    digest.update(app.last_commit().1);

    let digest = hex::encode(digest.finalize());
    // Changed on purpose by the framework's clock (each block that is the first after a minute
    // boundary records a randomness anchor, `fw/ra/`) and by the storage, compute and intelligence markets
    // joining the chain (their genesis params, module accounts and end-block state: storage
    // mints every block, compute records its emission start and schedule). Changed again on
    // purpose by the storage security model (issue 15): its genesis params gain the PoRep
    // policies and the public default allows only 32 GiB sectors; its reward state records
    // each block's reward (`last_block_reward`).
    assert_eq!(
        digest, "e43ebfc48d33eedc3a08111ee8d8896a5eefe73aa85895e65a945335f93f6334",
        "the scenario's results or app hashes changed"
    );
}
