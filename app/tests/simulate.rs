//! Simulate as Cosmos clients call it, at the ABCI level: any sign mode and an empty signature
//! are accepted, and the gas a simulation reports is the gas the block charges for the same tx
//! (secp256k1 and ed25519 keys, one and several messages, with and without a fee); a tx
//! simulated without a fee (as cosmjs and `--gas auto` do) is short only by its fee's bytes.

mod common;
use common::*;

use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use proptest::prelude::*;
use prost::Message;
use stoa_framework::{Address, Store};
use tendermint_proto::google::protobuf::Any;

/// The default genesis with zero minimum gas prices (so a tx may go without a fee) and funds
/// for `funded`.
fn feeless_genesis(funded: &[Address]) -> serde_json::Value {
    let mut g = genesis_with(funded);
    let mut tx = stoa_app::tx::params::default_genesis();
    for d in tx["params"]["fee_denoms"].as_array_mut().unwrap() {
        d["min_gas_price"] = serde_json::json!("0");
    }
    g["tx"] = tx;
    g
}

fn setup(keys: &[&Key]) -> stoa_app::StoaApp {
    let app = new_app(Store::open_temporary().unwrap(), true);
    let addrs: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    init(&app, &feeless_genesis(&addrs));
    run_block(&app, &[]);
    app
}

#[allow(clippy::too_many_arguments)]
/// A tx of `msgs` by `key`: `mode` in its signer info, signed (DIRECT) or with an empty
/// signature as a simulating client sends it.
fn tx_bytes(
    key: &Key,
    account_number: u64,
    sequence: u64,
    msgs: &[Any],
    fee: &[(u128, &str)],
    gas_limit: u64,
    mode: SignMode,
    signed: bool,
) -> Vec<u8> {
    let body = TxBody {
        messages: msgs.to_vec(),
        ..Default::default()
    };
    #[allow(deprecated)]
    let auth = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some({
                let a = key.pub_key().to_any();
                Any {
                    type_url: a.type_url,
                    value: a.value,
                }
            }),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: mode as i32,
                })),
            }),
            sequence,
        }],
        fee: Some(Fee {
            amount: fee
                .iter()
                .map(|(a, d)| ProtoCoin {
                    denom: d.to_string(),
                    amount: a.to_string(),
                })
                .collect(),
            gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        tip: None,
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth.encode_to_vec();
    let sig = if signed {
        key.sign(
            &SignDoc {
                body_bytes: body_bytes.clone(),
                auth_info_bytes: auth_info_bytes.clone(),
                chain_id: CHAIN_ID.into(),
                account_number,
            }
            .encode_to_vec(),
        )
    } else {
        Vec::new()
    };
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![sig],
    }
    .encode_to_vec()
}

#[derive(Clone, Debug)]
struct Case {
    ed25519: bool,
    /// (amount, denom index) per message.
    sends: Vec<(u128, usize)>,
    fee: Option<u128>,
}

const DENOMS: [&str; 3] = ["ustor", "ucomp", "uusdc"];

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        proptest::collection::vec((1u128..5_000_000, 0usize..3), 1..5),
        proptest::option::of(1u128..1_000_000),
    )
        .prop_map(|(ed25519, sends, fee)| Case {
            ed25519,
            sends,
            fee,
        })
}

fn run_case(c: &Case) -> Result<(), TestCaseError> {
    let key = if c.ed25519 { Key::ed(7) } else { Key::secp(7) };
    let app = setup(&[&key]);
    let (num, seq) = account(&app, &key.address()).unwrap();
    let msgs: Vec<Any> = c
        .sends
        .iter()
        .enumerate()
        .map(|(i, (amount, d))| {
            let to = Key::secp(100 + i as u64).address();
            msg_send(&key.address(), &to, &[(*amount, DENOMS[*d])])
        })
        .collect();
    let fee: Vec<(u128, &str)> = c.fee.map(|f| vec![(f, "ustor")]).unwrap_or_default();
    let gas_limit = 400_000;
    let real = tx_bytes(
        &key,
        num,
        seq,
        &msgs,
        &fee,
        gas_limit,
        SignMode::Direct,
        true,
    );

    // As cosmjs simulates: mode UNSPECIFIED, an empty signature, the same body and fee.
    let sim = tx_bytes(
        &key,
        num,
        seq,
        &msgs,
        &fee,
        gas_limit,
        SignMode::Unspecified,
        false,
    );
    let simulated = app.simulate(&sim).unwrap();
    prop_assert_eq!(simulated.code, 0, "simulation failed: {}", simulated.log);
    // The signed tx itself, simulated.
    let signed = app.simulate(&real).unwrap();
    prop_assert_eq!(signed.code, 0, "{}", signed.log);
    // Without a fee, and gas_limit 0 (cosmjs's `simulate`): only the fee's bytes are missing.
    let bare = tx_bytes(&key, num, seq, &msgs, &[], 0, SignMode::Unspecified, false);
    let bare_sim = app.simulate(&bare).unwrap();
    prop_assert_eq!(bare_sim.code, 0, "{}", bare_sim.log);

    let r = run_block(&app, std::slice::from_ref(&real));
    let delivered = &r.tx_results[0];
    prop_assert_eq!(delivered.code, 0, "delivery failed: {}", delivered.log);
    prop_assert_eq!(simulated.gas_used as i64, delivered.gas_used);
    prop_assert_eq!(signed.gas_used as i64, delivered.gas_used);

    // The bare simulation stands for a tx with a DIRECT mode and a 64-byte signature but no
    // fee coins and no gas limit: the delivered tx's extra bytes are exactly those.
    let bare_real = tx_bytes(&key, num, seq, &msgs, &[], 0, SignMode::Direct, true);
    let missing = (real.len() as i64 - bare_real.len() as i64) * 10;
    prop_assert_eq!(bare_sim.gas_used as i64 + missing, delivered.gas_used);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn simulated_gas_equals_delivered_gas(c in case()) {
        run_case(&c)?;
    }
}

#[test]
fn every_key_type_and_fee_shape_is_covered() {
    for ed25519 in [false, true] {
        for fee in [None, Some(400)] {
            for sends in [vec![(10, 0)], vec![(10, 0), (20, 1), (30, 2)]] {
                run_case(&Case {
                    ed25519,
                    sends,
                    fee,
                })
                .unwrap();
            }
        }
    }
}

#[test]
fn a_tx_without_a_fee_pays_the_gas_of_one() {
    // With a zero minimum price a tx may carry no fee; it still costs the fee transfer's gas,
    // so that a fee-less simulation covers the fee a client then adds.
    // The same tx with and without a fee, each on a fresh chain in the same state.
    let key = Key::secp(9);
    let (with_app, without_app) = (setup(&[&key]), setup(&[&key]));
    let (num, _) = account(&with_app, &key.address()).unwrap();
    let to = Key::secp(10).address();
    let msgs = vec![msg_send(&key.address(), &to, &[(5, "ustor")])];
    let with_fee = tx_bytes(
        &key,
        num,
        0,
        &msgs,
        &[(1, "ustor")],
        100_000,
        SignMode::Direct,
        true,
    );
    let without = tx_bytes(&key, num, 0, &msgs, &[], 100_000, SignMode::Direct, true);
    let r1 = run_block(&with_app, std::slice::from_ref(&with_fee));
    let r2 = run_block(&without_app, std::slice::from_ref(&without));
    assert_eq!(r1.tx_results[0].code, 0, "{}", r1.tx_results[0].log);
    assert_eq!(r2.tx_results[0].code, 0, "{}", r2.tx_results[0].log);
    let bytes = (with_fee.len() as i64 - without.len() as i64) * 10;
    assert_eq!(r1.tx_results[0].gas_used, r2.tx_results[0].gas_used + bytes);
    // Nothing moved for the fee-less one.
    let collector = stoa_framework::module_address("fee_collector");
    assert_eq!(
        balance(&with_app, &collector, "ustor") - balance(&without_app, &collector, "ustor"),
        1
    );
    assert_eq!(
        balance(&with_app, &key.address(), "ustor") + 1,
        balance(&without_app, &key.address(), "ustor")
    );
}

#[test]
fn unsupported_modes_are_refused_outside_simulation() {
    let key = Key::secp(11);
    let app = setup(&[&key]);
    let (num, _) = account(&app, &key.address()).unwrap();
    let to = Key::secp(12).address();
    let msgs = vec![msg_send(&key.address(), &to, &[(5, "ustor")])];
    for (mode, what) in [
        (
            SignMode::Unspecified,
            "SIGN_MODE_UNSPECIFIED is not supported",
        ),
        (SignMode::Textual, "SIGN_MODE_TEXTUAL is not implemented"),
        (SignMode::DirectAux, "SIGN_MODE_DIRECT_AUX is not supported"),
    ] {
        let tx = tx_bytes(&key, num, 0, &msgs, &[(100, "ustor")], 100_000, mode, true);
        // Simulation accepts it...
        let sim = app.simulate(&tx).unwrap();
        assert_eq!(sim.code, 0, "{}", sim.log);
        // ...CheckTx and the block do not.
        let c = check(&app, &tx);
        assert_eq!((c.codespace.as_str(), c.code), ("sdk", 37), "{}", c.log);
        assert!(c.log.contains(what), "{}", c.log);
        let r = run_block(&app, &[tx]);
        assert_code(&r.tx_results[0], "sdk", 37, what);
    }
    assert_eq!(balance(&app, &to, "ustor"), 0);
}

#[test]
fn a_simulation_still_checks_the_sequence() {
    let key = Key::secp(13);
    let app = setup(&[&key]);
    let (num, _) = account(&app, &key.address()).unwrap();
    let to = Key::secp(14).address();
    let msgs = vec![msg_send(&key.address(), &to, &[(5, "ustor")])];
    let tx = tx_bytes(&key, num, 3, &msgs, &[], 0, SignMode::Unspecified, false);
    let sim = app.simulate(&tx).unwrap();
    assert_eq!(sim.code, 32, "{}", sim.log);
}
