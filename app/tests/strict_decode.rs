//! Issue 13 points 1 and 4 at the ABCI level: every reshaping of a signed tx (another spelling of
//! the unsigned `TxRaw` envelope, or unknown fields in the signed parts) is refused by CheckTx,
//! by ProcessProposal and in a block, and the original still lands afterwards; and the input
//! rules Cosmos SDK applies (Coins.Validate, canonical amounts, BIP-173 addresses, query height).

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
use prost::Message;
use stoa_framework::{sdk, Address, Store};
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Any;
use tendermint_proto::v0_38::abci::{
    response_process_proposal::ProposalStatus, RequestProcessProposal, RequestQuery,
};

struct Env {
    app: stoa_app::StoaApp,
    alice: Key,
    bob: Address,
}

fn setup() -> Env {
    let alice = Key::secp(11);
    let bob = Key::secp(12).address();
    let app = new_app(Store::open_temporary().unwrap(), true);
    init(&app, &genesis_with(&[alice.address()]));
    run_block(&app, &[]);
    Env { app, alice, bob }
}

fn spec(env: &Env, seq: u64, msgs: Vec<Any>) -> TxSpec {
    let (num, _) = account(&env.app, &env.alice.address()).unwrap_or((0, 0));
    TxSpec::new(num, seq, msgs)
}

fn send_any(from: &Address, to: &str, amount: &[(&str, &str)]) -> Any {
    Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: MsgSend {
            from_address: from.to_string(),
            to_address: to.into(),
            amount: amount
                .iter()
                .map(|(d, a)| ProtoCoin {
                    denom: d.to_string(),
                    amount: a.to_string(),
                })
                .collect(),
        }
        .encode_to_vec(),
    }
}

fn field(out: &mut Vec<u8>, number: u8, bytes: &[u8]) {
    prost::encoding::bytes::encode(u32::from(number), &bytes.to_vec(), out);
}

fn proposal_status(env: &Env, txs: &[Vec<u8>]) -> i32 {
    let height = env.app.last_commit().0 + 1;
    env.app
        .process_proposal(RequestProcessProposal {
            txs: txs.iter().map(|t| t.clone().into()).collect(),
            height: height as i64,
            ..Default::default()
        })
        .status
}

/// Refused everywhere a tx can enter, with (codespace, code); nothing moves.
fn assert_refused(env: &Env, tx: &[u8], code: u32, what: &str) {
    let before = balance(&env.app, &env.alice.address(), "ustor");
    let c = check(&env.app, tx);
    assert_eq!(
        (c.codespace.as_str(), c.code),
        ("sdk", code),
        "{what}: CheckTx {}",
        c.log
    );
    assert_eq!(
        proposal_status(env, &[tx.to_vec()]),
        ProposalStatus::Reject as i32,
        "{what}: ProcessProposal"
    );
    let r = run_block(&env.app, &[tx.to_vec()]);
    assert_ne!(r.tx_results[0].code, 0, "{what}: executed in a block");
    assert_eq!(
        balance(&env.app, &env.alice.address(), "ustor"),
        before,
        "{what}: moved funds"
    );
}

/// The original is accepted everywhere and lands, under the hash its signer computed.
fn assert_lands(env: &Env, tx: &[u8]) {
    let c = check(&env.app, tx);
    assert_eq!(c.code, 0, "CheckTx: {}", c.log);
    assert_eq!(
        proposal_status(env, &[tx.to_vec()]),
        ProposalStatus::Accept as i32
    );
    let r = run_block(&env.app, &[tx.to_vec()]);
    assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
}

#[test]
fn every_reshaping_of_a_signed_tx_is_refused_and_the_original_lands() {
    let env = setup();
    let msg = msg_send(&env.alice.address(), &env.bob, &[(1_000, "ustor")]);
    let original = build_tx(&env.alice, &spec(&env, 0, vec![msg.clone()]));
    let raw = TxRaw::decode(original.as_slice()).unwrap();
    let (body, auth, sig) = (&raw.body_bytes, &raw.auth_info_bytes, &raw.signatures[0]);

    let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
    // 1. An unknown field appended to the envelope (prost would skip it).
    let mut v = original.clone();
    field(&mut v, 4, b"junk");
    variants.push(("appended unknown field", v));
    // 2. The envelope's fields reordered.
    let mut v = Vec::new();
    field(&mut v, 2, auth);
    field(&mut v, 1, body);
    field(&mut v, 3, sig);
    variants.push(("reordered fields", v));
    // 3. The body's length prefix padded to a longer varint.
    let mut v = vec![0x0a];
    let mut len = Vec::new();
    prost::encoding::encode_varint(body.len() as u64, &mut len);
    *len.last_mut().unwrap() |= 0x80;
    len.push(0x00);
    v.extend_from_slice(&len);
    v.extend_from_slice(body);
    field(&mut v, 2, auth);
    field(&mut v, 3, sig);
    variants.push(("padded length prefix", v));
    // 4. The body duplicated with junk in the first copy (prost keeps the last).
    let mut v = Vec::new();
    field(&mut v, 1, b"junk junk junk");
    field(&mut v, 1, body);
    field(&mut v, 2, auth);
    field(&mut v, 3, sig);
    variants.push(("duplicated field", v));
    // 4b. The same with a valid but different first copy.
    let mut v = Vec::new();
    field(&mut v, 1, auth);
    v.extend_from_slice(&original);
    variants.push(("duplicated field, other bytes first", v));
    // 5. An unknown field inside the message, signed by its sender.
    let mut inner = msg.value.clone();
    field(&mut inner, 9, b"x");
    let v = build_tx(
        &env.alice,
        &spec(
            &env,
            0,
            vec![Any {
                type_url: msg.type_url.clone(),
                value: inner,
            }],
        ),
    );
    variants.push(("unknown field inside a message", v));
    // 6. An unknown critical field in the body and in the auth info, signed.
    for (what, in_body, number) in [
        ("unknown field in the body", true, 4u32),
        ("unknown field in the auth info", false, 9),
        (
            "field 2048 of the body (critical: bit 11 clear)",
            true,
            2048,
        ),
    ] {
        let tx = build_tx(&env.alice, &spec(&env, 0, vec![msg.clone()]));
        let mut raw = TxRaw::decode(tx.as_slice()).unwrap();
        let target = if in_body {
            &mut raw.body_bytes
        } else {
            &mut raw.auth_info_bytes
        };
        prost::encoding::bytes::encode(number, &b"x".to_vec(), target);
        variants.push((what, resign(&env, raw)));
    }

    for (what, tx) in &variants {
        assert_ne!(tx, &original);
        assert_refused(&env, tx, sdk::TX_DECODE.code, what);
    }
    assert_lands(&env, &original);
    assert_eq!(balance(&env.app, &env.bob, "ustor"), 1_000);
}

/// Signs `raw`'s body and auth info again as alice (account 0 of the test genesis order).
fn resign(env: &Env, mut raw: TxRaw) -> Vec<u8> {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::SignDoc;
    let (num, _) = account(&env.app, &env.alice.address()).unwrap();
    let doc = SignDoc {
        body_bytes: raw.body_bytes.clone(),
        auth_info_bytes: raw.auth_info_bytes.clone(),
        chain_id: CHAIN_ID.into(),
        account_number: num,
    };
    raw.signatures = vec![env.alice.sign(&doc.encode_to_vec())];
    raw.encode_to_vec()
}

#[test]
fn a_non_critical_body_field_is_ignored() {
    let env = setup();
    let msg = msg_send(&env.alice.address(), &env.bob, &[(7, "ustor")]);
    let tx = build_tx(&env.alice, &spec(&env, 0, vec![msg]));
    let mut raw = TxRaw::decode(tx.as_slice()).unwrap();
    prost::encoding::bytes::encode(1025, &b"hint".to_vec(), &mut raw.body_bytes);
    assert_lands(&env, &resign(&env, raw));
    assert_eq!(balance(&env.app, &env.bob, "ustor"), 7);
}

/// Point 4: what Cosmos SDK refuses is refused, each with its code; the valid spellings land.
#[test]
fn input_rules_match_cosmos_sdk() {
    let env = setup();
    let from = env.alice.address();
    let bob = env.bob.to_string();
    let bech32m = {
        use bech32::{Bech32m, Hrp};
        bech32::encode::<Bech32m>(Hrp::parse("stoa").unwrap(), env.bob.as_bytes()).unwrap()
    };
    let mut mixed = bob.clone().into_bytes();
    mixed[1] = mixed[1].to_ascii_uppercase();
    let mixed = String::from_utf8(mixed).unwrap();

    let refused: Vec<(&str, Any, u32)> = vec![
        (
            "unsorted coins",
            send_any(&from, &bob, &[("ustor", "1"), ("ucomp", "1")]),
            sdk::INVALID_COINS.code,
        ),
        (
            "duplicate denom",
            send_any(&from, &bob, &[("ustor", "1"), ("ustor", "1")]),
            sdk::INVALID_COINS.code,
        ),
        (
            "zero amount",
            send_any(&from, &bob, &[("ustor", "0")]),
            sdk::INVALID_COINS.code,
        ),
        (
            "amount +5",
            send_any(&from, &bob, &[("ustor", "+5")]),
            sdk::INVALID_COINS.code,
        ),
        (
            "amount 00005",
            send_any(&from, &bob, &[("ustor", "00005")]),
            sdk::INVALID_COINS.code,
        ),
        (
            "invalid denom",
            send_any(&from, &bob, &[("1stor", "5")]),
            sdk::INVALID_COINS.code,
        ),
        (
            "bech32m address",
            send_any(&from, &bech32m, &[("ustor", "5")]),
            sdk::INVALID_ADDRESS.code,
        ),
        (
            "mixed-case address",
            send_any(&from, &mixed, &[("ustor", "5")]),
            sdk::INVALID_ADDRESS.code,
        ),
    ];
    for (what, msg, code) in refused {
        let tx = build_tx(&env.alice, &spec(&env, 0, vec![msg]));
        assert_refused(&env, &tx, code, what);
    }
    // Fees follow Coins.Validate too.
    for (what, fee) in [
        ("unsorted fee", vec![(200, "ustor"), (200, "ucomp")]),
        ("zero fee coin", vec![(0, "ucomp"), (200, "ustor")]),
    ] {
        let mut s = spec(&env, 0, vec![msg_send(&from, &env.bob, &[(5, "ustor")])]);
        s.fee = fee;
        let tx = build_tx(&env.alice, &s);
        assert_refused(&env, &tx, sdk::INVALID_COINS.code, what);
    }

    // An all-uppercase address is BIP-173 valid and lands, crediting the same account.
    let upper = send_any(
        &from,
        &bob.to_uppercase(),
        &[("ucomp", "3"), ("ustor", "5")],
    );
    assert_lands(&env, &build_tx(&env.alice, &spec(&env, 0, vec![upper])));
    assert_eq!(balance(&env.app, &env.bob, "ustor"), 5);
    assert_eq!(balance(&env.app, &env.bob, "ucomp"), 3);
}

#[test]
fn a_negative_query_height_is_refused() {
    let env = setup();
    let req = cosmos_sdk_proto::cosmos::bank::v1beta1::QueryBalanceRequest {
        address: env.alice.address().to_string(),
        denom: "ustor".into(),
    };
    for height in [-1i64, i64::MIN] {
        let r = env.app.query(RequestQuery {
            data: req.encode_to_vec().into(),
            path: "/cosmos.bank.v1beta1.Query/Balance".into(),
            height,
            prove: false,
        });
        assert_eq!(
            r.code,
            sdk::INVALID_REQUEST.code,
            "height {height}: {}",
            r.log
        );
        assert!(r.value.is_empty());
    }
}

#[test]
fn query_errors_echo_a_capped_input() {
    let env = setup();
    let path = format!("/cosmos.bank.v1beta1.Query/{}", "x".repeat(100_000));
    let r = env.app.query(RequestQuery {
        data: Default::default(),
        path,
        height: 0,
        prove: false,
    });
    assert_ne!(r.code, 0);
    assert!(r.log.len() < 1_000, "a {}-byte log", r.log.len());
    let req = cosmos_sdk_proto::cosmos::bank::v1beta1::QueryBalanceRequest {
        address: "stoa1".to_string() + &"q".repeat(3_000_000),
        denom: "ustor".into(),
    };
    let r = env.app.query(RequestQuery {
        data: req.encode_to_vec().into(),
        path: "/cosmos.bank.v1beta1.Query/Balance".into(),
        height: 0,
        prove: false,
    });
    assert_ne!(r.code, 0);
    assert!(r.log.len() < 1_000, "a {}-byte log", r.log.len());
}
