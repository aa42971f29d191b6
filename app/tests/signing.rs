//! SIGN_MODE_LEGACY_AMINO_JSON and multisig accounts, at the ABCI level: the amino sign bytes
//! of a MsgSend are byte for byte the JSON the Cosmos SDK and cosmjs sign (fixtures written by
//! hand from their `StdSignDoc` rules), an amino-signed tx is accepted and a tampered one
//! refused, every registered message has an amino name and encoding, and a 2-of-3
//! `LegacyAminoPubKey` account sends with two signatures but not with one.

mod common;
use common::*;

use base64::Engine as _;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::{CompactBitArray, MultiSignature};
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use prost::Message;
use std::sync::Arc;
use stoa_app::modules::Router;
use stoa_app::tx::amino::{self, AminoSignDoc};
use stoa_framework::crypto::{MultisigKey, PubKey};
use stoa_framework::{Address, Store};
use tendermint_proto::google::protobuf::Any as TmAny;

fn tm_any(a: stoa_framework::Any) -> TmAny {
    TmAny {
        type_url: a.type_url,
        value: a.value,
    }
}

fn fw_any(a: &TmAny) -> stoa_framework::Any {
    stoa_framework::Any {
        type_url: a.type_url.clone(),
        value: a.value.clone(),
    }
}

fn single(mode: SignMode) -> ModeInfo {
    ModeInfo {
        sum: Some(mode_info::Sum::Single(mode_info::Single {
            mode: mode as i32,
        })),
    }
}

fn fee(amount: &[(u128, &str)], gas_limit: u64) -> Fee {
    Fee {
        amount: amount
            .iter()
            .map(|(a, d)| ProtoCoin {
                denom: d.to_string(),
                amount: a.to_string(),
            })
            .collect(),
        gas_limit,
        payer: String::new(),
        granter: String::new(),
    }
}

/// The amino sign bytes of a tx body and fee for one signer, by the chain's public builder.
fn amino_bytes(body: &TxBody, fee: &Fee, account_number: u64, sequence: u64) -> Vec<u8> {
    let msgs: Vec<stoa_framework::Any> = body.messages.iter().map(fw_any).collect();
    amino::sign_bytes(
        &Router::standard(),
        &AminoSignDoc {
            chain_id: CHAIN_ID,
            account_number,
            sequence,
            fee,
            memo: &body.memo,
            timeout_height: body.timeout_height,
            msgs: &msgs,
        },
    )
    .unwrap()
}

fn encode_tx(body: &TxBody, infos: Vec<SignerInfo>, fee: Fee, sigs: Vec<Vec<u8>>) -> Vec<u8> {
    #[allow(deprecated)]
    let auth = AuthInfo {
        signer_infos: infos,
        fee: Some(fee),
        tip: None,
    };
    TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth.encode_to_vec(),
        signatures: sigs,
    }
    .encode_to_vec()
}

/// A tx by `key` signed in amino JSON mode.
fn amino_tx(key: &Key, account_number: u64, sequence: u64, body: &TxBody, fee: Fee) -> Vec<u8> {
    let sig = key.sign(&amino_bytes(body, &fee, account_number, sequence));
    let info = SignerInfo {
        public_key: Some(tm_any(key.pub_key().to_any())),
        mode_info: Some(single(SignMode::LegacyAminoJson)),
        sequence,
    };
    encode_tx(body, vec![info], fee, vec![sig])
}

fn setup(funded: &[Address]) -> stoa_app::StoaApp {
    let app = new_app(Store::open_temporary().unwrap(), true);
    init(&app, &genesis_with(funded));
    run_block(&app, &[]);
    app
}

// ---- the sign doc, byte for byte ----------------------------------------------------------

const FROM: &str = "stoa1qyqszqgpqyqszqgpqyqszqgpqyqszqgpuc0td9";
const TO: &str = "stoa1qgpqyqszqgpqyqszqgpqyqszqgpqyqszdufwxn";

#[test]
fn msg_send_sign_bytes_are_the_cosmos_std_sign_doc() {
    let from = Address([1; 20]);
    let to = Address([2; 20]);
    assert_eq!(
        (from.to_string().as_str(), to.to_string().as_str()),
        (FROM, TO)
    );
    let body = TxBody {
        messages: vec![msg_send(&from, &to, &[(1234, "ustor"), (5, "uusdc")])],
        memo: "pay <bob> & \"co\"\n".into(),
        timeout_height: 99,
        ..Default::default()
    };
    let got = amino_bytes(&body, &fee(&[(2000, "ustor")], 200_000), 7, 3);
    // cosmjs: serializeSignDoc(makeSignDoc(msgs, fee, chainId, memo, 7, 3, 99n)); the SDK:
    // StdSignBytes. Keys sorted, compact, u64 as strings, <>& escaped as Go's json does.
    let want = concat!(
        r#"{"account_number":"7","chain_id":"stoa-test-1","#,
        r#""fee":{"amount":[{"amount":"2000","denom":"ustor"}],"gas":"200000"},"#,
        r#""memo":"pay \u003cbob\u003e \u0026 \"co\"\n","#,
        r#""msgs":[{"type":"cosmos-sdk/MsgSend","value":{"amount":[{"amount":"1234","denom":"ustor"},{"amount":"5","denom":"uusdc"}],"#,
        r#""from_address":"stoa1qyqszqgpqyqszqgpqyqszqgpqyqszqgpuc0td9","#,
        r#""to_address":"stoa1qgpqyqszqgpqyqszqgpqyqszqgpqyqszdufwxn"}}],"#,
        r#""sequence":"3","timeout_height":"99"}"#
    );
    assert_eq!(String::from_utf8(got).unwrap(), want);
}

#[test]
fn an_empty_fee_and_no_timeout_are_written_as_the_sdk_does() {
    let body = TxBody {
        messages: vec![msg_send(
            &Address([1; 20]),
            &Address([2; 20]),
            &[(1, "ustor")],
        )],
        ..Default::default()
    };
    let got = amino_bytes(&body, &fee(&[], 0), 0, 0);
    let want = concat!(
        r#"{"account_number":"0","chain_id":"stoa-test-1","fee":{"amount":[],"gas":"0"},"memo":"","#,
        r#""msgs":[{"type":"cosmos-sdk/MsgSend","value":{"amount":[{"amount":"1","denom":"ustor"}],"#,
        r#""from_address":"stoa1qyqszqgpqyqszqgpqyqszqgpqyqszqgpuc0td9","#,
        r#""to_address":"stoa1qgpqyqszqgpqyqszqgpqyqszqgpqyqszdufwxn"}}],"sequence":"0"}"#
    );
    assert_eq!(String::from_utf8(got).unwrap(), want);
}

#[test]
fn stoa_messages_use_their_module_amino_names_and_proto_fields() {
    use stoa_proto::template::v1::MsgPost;
    let post = MsgPost {
        author: FROM.into(),
        text: String::new(),
        lifetime_seconds: 3600,
    };
    // The template module is not in the chain: a router with it.
    let router = Router::new(vec![
        Box::new(stoa_bank::BankModule::new()),
        Box::new(stoa_template::TemplateModule::new(stoa_bank::BankKeeper)),
    ])
    .unwrap();
    let any = stoa_framework::Any {
        type_url: "/stoa.template.v1.MsgPost".into(),
        value: post.encode_to_vec(),
    };
    let json = amino::msg_json(&router, &any).unwrap().to_string();
    // Proto field names, sorted; a u64 as a string; the empty text left out.
    assert_eq!(
        json,
        format!(
            r#"{{"type":"stoa/template/MsgPost","value":{{"author":"{FROM}","lifetime_seconds":"3600"}}}}"#
        )
    );
}

#[test]
fn every_message_of_the_chain_has_an_amino_name_and_encoding() {
    let router = Router::standard();
    let pool = stoa_proto::descriptor_pool();
    let mut names = std::collections::BTreeSet::new();
    for url in router.msg_type_urls() {
        let route = router.for_msg(url).unwrap();
        let name = route.handler.amino_name();
        assert!(
            name.len() <= amino::MAX_AMINO_NAME && !name.is_empty(),
            "{url}: {name}"
        );
        assert!(names.insert(name), "amino name {name} used twice");
        if url.starts_with("/stoa.") {
            assert!(
                name.starts_with(&format!("stoa/{}/Msg", route.module)),
                "{url}: {name}"
            );
        }
        // A default instance of the message encodes (no field amino JSON cannot express).
        let desc = pool
            .get_message_by_name(url.trim_start_matches('/'))
            .unwrap();
        let empty = prost_reflect::DynamicMessage::new(desc);
        let any = stoa_framework::Any {
            type_url: url.to_string(),
            value: empty.encode_to_vec(),
        };
        let json = amino::msg_json(&router, &any)
            .unwrap_or_else(|e| panic!("{url}: {}", e.log))
            .to_string();
        assert!(
            json.starts_with(&format!("{{\"type\":\"{name}\"")),
            "{json}"
        );
    }
    assert_eq!(
        router
            .for_msg("/cosmos.bank.v1beta1.MsgSend")
            .unwrap()
            .handler
            .amino_name(),
        "cosmos-sdk/MsgSend"
    );
}

// ---- amino-signed txs through the app -----------------------------------------------------

#[test]
fn an_amino_signed_send_lands_and_a_tampered_one_is_refused() {
    for key in [Key::secp(21), Key::ed(22)] {
        let app = setup(&[key.address()]);
        let (num, _) = account(&app, &key.address()).unwrap();
        let to = Key::secp(23).address();
        let body = TxBody {
            messages: vec![msg_send(&key.address(), &to, &[(777, "ustor")])],
            memo: "amino <3".into(),
            ..Default::default()
        };
        let f = fee(&[(300, "ustor")], 200_000);
        let good = amino_tx(&key, num, 0, &body, f.clone());

        // Tampered: signed for one amount, sent with another (same signer info and fee).
        let mut other = body.clone();
        other.messages = vec![msg_send(&key.address(), &to, &[(778, "ustor")])];
        let sig = key.sign(&amino_bytes(&body, &f, num, 0));
        let info = SignerInfo {
            public_key: Some(tm_any(key.pub_key().to_any())),
            mode_info: Some(single(SignMode::LegacyAminoJson)),
            sequence: 0,
        };
        let tampered = encode_tx(&other, vec![info.clone()], f.clone(), vec![sig.clone()]);
        let c = check(&app, &tampered);
        assert_eq!((c.codespace.as_str(), c.code), ("sdk", 4), "{}", c.log);
        assert!(c.log.contains("signature verification failed"), "{}", c.log);
        // The same signature declared as DIRECT is refused too.
        let mut direct = info.clone();
        direct.mode_info = Some(single(SignMode::Direct));
        let as_direct = encode_tx(&body, vec![direct], f.clone(), vec![sig]);
        assert_eq!(check(&app, &as_direct).code, 4);

        let c = check(&app, &good);
        assert_eq!(c.code, 0, "CheckTx: {}", c.log);
        let r = run_block(&app, &[tampered, good]);
        assert_code(&r.tx_results[0], "sdk", 4, "signature verification failed");
        assert_eq!(r.tx_results[1].code, 0, "{}", r.tx_results[1].log);
        assert_eq!(balance(&app, &to, "ustor"), 777);
        assert_eq!(account(&app, &key.address()).unwrap().1, 1);

        // The next one, without the key (stored by the first), verified in the block ahead.
        let body2 = TxBody {
            messages: vec![msg_send(&key.address(), &to, &[(3, "ustor")])],
            ..Default::default()
        };
        let f2 = fee(&[(300, "ustor")], 200_000);
        let sig = key.sign(&amino_bytes(&body2, &f2, num, 1));
        let info = SignerInfo {
            public_key: None,
            mode_info: Some(single(SignMode::LegacyAminoJson)),
            sequence: 1,
        };
        let r = run_block(&app, &[encode_tx(&body2, vec![info], f2, vec![sig])]);
        assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
        assert_eq!(balance(&app, &to, "ustor"), 780);
    }
}

#[test]
fn an_amino_signature_for_another_sequence_is_refused() {
    let key = Key::secp(24);
    let app = setup(&[key.address()]);
    let (num, _) = account(&app, &key.address()).unwrap();
    let body = TxBody {
        messages: vec![msg_send(
            &key.address(),
            &Key::secp(25).address(),
            &[(1, "ustor")],
        )],
        ..Default::default()
    };
    let f = fee(&[(300, "ustor")], 200_000);
    // Amino sign bytes hold the sequence (DIRECT's hold it in the auth info).
    let sig = key.sign(&amino_bytes(&body, &f, num, 5));
    let info = SignerInfo {
        public_key: Some(tm_any(key.pub_key().to_any())),
        mode_info: Some(single(SignMode::LegacyAminoJson)),
        sequence: 0,
    };
    let c = check(&app, &encode_tx(&body, vec![info], f, vec![sig]));
    assert_eq!(c.code, 4, "{}", c.log);
}

// ---- multisig -------------------------------------------------------------------------------

#[test]
fn multisig_addresses_are_derived_as_the_sdk_and_cosmjs_do() {
    // A 2-of-3 key from terra.js's tests, whose address cosmjs's pubkeyToAddress agrees with.
    let key = |b64: &str| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        PubKey::Secp256k1(bytes.try_into().unwrap())
    };
    let multi = PubKey::Multisig(Arc::new(
        MultisigKey::new(
            2,
            vec![
                key("A/PwvW/JLEnhb0/o5g+AnOqMN+FFT24gjJfDtA1tBsBv"),
                key("A9XR3uRxAD5L9kkYotz094hH6ye92YLraSO/sGhWalxb"),
                key("AyETa9Y9ihObzeRPWMP0MBAa0Mqune3I+5KonOCPTtkv"),
            ],
        )
        .unwrap(),
    ));
    let (_, want) = bech32::decode("terra1gufrav46pnpwf03yu7xz76ylkmatsxtplrxnmc").unwrap();
    assert_eq!(multi.address().0.to_vec(), want);
    // Its Any round-trips.
    let any = multi.to_any();
    assert_eq!(any.type_url, "/cosmos.crypto.multisig.LegacyAminoPubKey");
    assert_eq!(PubKey::from_any(&any).unwrap(), multi);
    // Bad thresholds and nesting are refused.
    assert!(
        MultisigKey::new(0, vec![key("A/PwvW/JLEnhb0/o5g+AnOqMN+FFT24gjJfDtA1tBsBv")]).is_err()
    );
    assert!(
        MultisigKey::new(2, vec![key("A/PwvW/JLEnhb0/o5g+AnOqMN+FFT24gjJfDtA1tBsBv")]).is_err()
    );
    assert!(MultisigKey::new(1, vec![multi.clone()]).is_err());
}

#[allow(clippy::too_many_arguments)]
/// A tx by a multisig account: the keys at `signed` (ascending) sign, each in `modes`.
fn multisig_tx(
    multi: &PubKey,
    keys: &[Key],
    signed: &[usize],
    modes: &[SignMode],
    account_number: u64,
    sequence: u64,
    body: &TxBody,
    f: Fee,
) -> Vec<u8> {
    let n = keys.len();
    let mut elems = vec![0u8; n.div_ceil(8)];
    for k in signed {
        elems[k / 8] |= 1 << (7 - k % 8);
    }
    let info = SignerInfo {
        public_key: Some(tm_any(multi.to_any())),
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Multi(mode_info::Multi {
                bitarray: Some(CompactBitArray {
                    extra_bits_stored: (n % 8) as u32,
                    elems,
                }),
                mode_infos: modes.iter().map(|m| single(*m)).collect(),
            })),
        }),
        sequence,
    };
    #[allow(deprecated)]
    let auth = AuthInfo {
        signer_infos: vec![info.clone()],
        fee: Some(f.clone()),
        tip: None,
    };
    let direct_doc = cosmos_sdk_proto::cosmos::tx::v1beta1::SignDoc {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth.encode_to_vec(),
        chain_id: CHAIN_ID.into(),
        account_number,
    }
    .encode_to_vec();
    let sigs: Vec<Vec<u8>> = signed
        .iter()
        .zip(modes)
        .map(|(k, m)| match m {
            SignMode::Direct => keys[*k].sign(&direct_doc),
            _ => keys[*k].sign(&amino_bytes(body, &f, account_number, sequence)),
        })
        .collect();
    let sig = MultiSignature { signatures: sigs }.encode_to_vec();
    encode_tx(body, vec![info], f, vec![sig])
}

#[test]
fn a_two_of_three_multisig_sends_with_two_signatures_not_one() {
    let keys = vec![Key::secp(31), Key::ed(32), Key::secp(33)];
    let multi = PubKey::Multisig(Arc::new(
        MultisigKey::new(2, keys.iter().map(Key::pub_key).collect()).unwrap(),
    ));
    let addr = multi.address();
    let app = setup(&[addr]);
    let (num, _) = account(&app, &addr).unwrap();
    let to = Key::secp(34).address();
    let body = |n: u128| TxBody {
        messages: vec![msg_send(&addr, &to, &[(n, "ustor")])],
        ..Default::default()
    };
    let f = || fee(&[(500, "ustor")], 300_000);
    use SignMode::{Direct, LegacyAminoJson as Amino};

    // One signature of a 2-of-3: refused, nothing moves.
    let one = multisig_tx(&multi, &keys, &[1], &[Amino], num, 0, &body(10), f());
    let c = check(&app, &one);
    assert_eq!((c.codespace.as_str(), c.code), ("sdk", 4), "{}", c.log);
    assert!(c.log.contains("not enough signatures"), "{}", c.log);
    // Two signatures, but one of them bad (signed another amount): refused.
    let mut bad = multisig_tx(
        &multi,
        &keys,
        &[0, 2],
        &[Amino, Amino],
        num,
        0,
        &body(10),
        f(),
    );
    let good_other = multisig_tx(
        &multi,
        &keys,
        &[0, 2],
        &[Amino, Amino],
        num,
        0,
        &body(11),
        f(),
    );
    {
        let raw = TxRaw::decode(bad.as_slice()).unwrap();
        let other = TxRaw::decode(good_other.as_slice()).unwrap();
        let mut s = MultiSignature::decode(raw.signatures[0].as_slice()).unwrap();
        let o = MultiSignature::decode(other.signatures[0].as_slice()).unwrap();
        s.signatures[1] = o.signatures[1].clone();
        bad = TxRaw {
            signatures: vec![s.encode_to_vec()],
            ..raw
        }
        .encode_to_vec();
    }
    assert_eq!(check(&app, &bad).code, 4);

    // Keys 0 (secp256k1) and 1 (ed25519), in amino JSON as `tx multi-sign` does: it lands.
    let two = multisig_tx(
        &multi,
        &keys,
        &[0, 1],
        &[Amino, Amino],
        num,
        0,
        &body(1000),
        f(),
    );
    let c = check(&app, &two);
    assert_eq!(c.code, 0, "CheckTx: {}", c.log);
    let r = run_block(&app, &[one, bad, two]);
    assert_code(&r.tx_results[0], "sdk", 4, "not enough signatures");
    assert_eq!(r.tx_results[1].code, 4, "{}", r.tx_results[1].log);
    let res = &r.tx_results[2];
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(balance(&app, &to, "ustor"), 1000);
    // The account now holds the multisig key.
    let acc = account(&app, &addr).unwrap();
    assert_eq!(acc, (num, 1));

    // Gas is charged per signing key: the same tx signed by keys 0 and 2 (both secp256k1)
    // costs 1000 - 590 more than by 0 and 1 (secp256k1 + ed25519).
    let by_0_2 = multisig_tx(
        &multi,
        &keys,
        &[0, 2],
        &[Amino, Direct],
        num,
        1,
        &body(5),
        f(),
    );
    let by_0_1 = multisig_tx(
        &multi,
        &keys,
        &[0, 1],
        &[Amino, Direct],
        num,
        1,
        &body(5),
        f(),
    );
    let g02 = app.simulate(&by_0_2).unwrap();
    let g01 = app.simulate(&by_0_1).unwrap();
    assert_eq!((g02.code, g01.code), (0, 0), "{} {}", g02.log, g01.log);
    assert_eq!(g02.gas_used - g01.gas_used, 1000 - 590);
    // Mixed modes (amino and direct parts) are accepted; the stored key needs no pubkey now.
    let r = run_block(&app, &[by_0_2]);
    assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
    assert_eq!(balance(&app, &to, "ustor"), 1005);
}

#[test]
fn a_multisig_account_cannot_sign_as_a_single_key() {
    let keys = [Key::secp(41), Key::secp(42)];
    let multi = PubKey::Multisig(Arc::new(
        MultisigKey::new(1, keys.iter().map(Key::pub_key).collect()).unwrap(),
    ));
    let addr = multi.address();
    let app = setup(&[addr]);
    let (num, _) = account(&app, &addr).unwrap();
    let body = TxBody {
        messages: vec![msg_send(&addr, &Key::secp(43).address(), &[(1, "ustor")])],
        ..Default::default()
    };
    let f = fee(&[(500, "ustor")], 300_000);
    let sig = keys[0].sign(&amino_bytes(&body, &f, num, 0));
    let info = SignerInfo {
        public_key: Some(tm_any(multi.to_any())),
        mode_info: Some(single(SignMode::LegacyAminoJson)),
        sequence: 0,
    };
    let c = check(&app, &encode_tx(&body, vec![info], f, vec![sig]));
    assert_eq!(c.code, 4, "{}", c.log);
    assert!(c.log.contains("ModeInfo.Multi"), "{}", c.log);
}
