//! Tx construction without a node: the TxRaw decodes, the signature verifies over the
//! SIGN_MODE_DIRECT SignDoc, the public key Any has the right type URL, and the hidden
//! --unsafe-corrupt-signature path really breaks the signature. Also the offline errors of
//! `stoad tx bank send` (unknown key, bad amount, no chain id).

mod cli_support;

use cli_support::*;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{AuthInfo, SignDoc, TxBody, TxRaw};
use prost::Message;
use stoa_cmd::keyring::{Algo, PrivKey};
use stoa_cmd::tx::{build_signed_tx, fees_from_gas_prices, tx_hash, SignerData, TxOptions};
use stoa_framework::Coins;

fn sample(algo: Algo, corrupt: bool) -> (PrivKey, Vec<u8>, SignerData) {
    let key = PrivKey::from_mnemonic(algo, ABANDON).unwrap();
    let msg = cosmos_sdk_proto::Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: vec![1, 2, 3],
    };
    let opts = TxOptions {
        memo: "hello".into(),
        timeout_height: 77,
        fee: Coins::parse("500ustor").unwrap(),
        gas_limit: 123_456,
    };
    let signer = SignerData {
        chain_id: "stoa-x".into(),
        account_number: 5,
        sequence: 9,
    };
    let bytes = build_signed_tx(&key, vec![msg], &opts, &signer, corrupt).unwrap();
    (key, bytes, signer)
}

fn sign_doc_bytes(raw: &TxRaw, signer: &SignerData) -> Vec<u8> {
    SignDoc {
        body_bytes: raw.body_bytes.clone(),
        auth_info_bytes: raw.auth_info_bytes.clone(),
        chain_id: signer.chain_id.clone(),
        account_number: signer.account_number,
    }
    .encode_to_vec()
}

#[test]
fn secp256k1_tx_round_trip() {
    use k256::ecdsa::signature::Verifier;
    let (key, bytes, signer) = sample(Algo::Secp256k1, false);
    let raw = TxRaw::decode(bytes.as_slice()).unwrap();
    let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
    assert_eq!(body.memo, "hello");
    assert_eq!(body.timeout_height, 77);
    assert_eq!(body.messages[0].type_url, "/cosmos.bank.v1beta1.MsgSend");
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
    let fee = auth.fee.unwrap();
    assert_eq!(fee.gas_limit, 123_456);
    assert_eq!(
        (fee.amount[0].denom.as_str(), fee.amount[0].amount.as_str()),
        ("ustor", "500")
    );
    let si = &auth.signer_infos[0];
    assert_eq!(si.sequence, 9);
    let pk = si.public_key.as_ref().unwrap();
    assert_eq!(pk.type_url, "/cosmos.crypto.secp256k1.PubKey");
    let pk =
        cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey::decode(pk.value.as_slice()).unwrap();
    assert_eq!(pk.key, key.public_key());

    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk.key).unwrap();
    let sig = k256::ecdsa::Signature::from_slice(&raw.signatures[0]).unwrap();
    vk.verify(&sign_doc_bytes(&raw, &signer), &sig).unwrap();
    assert_eq!(tx_hash(&bytes).len(), 64);

    let (_, bad, _) = sample(Algo::Secp256k1, true);
    let bad = TxRaw::decode(bad.as_slice()).unwrap();
    assert_eq!(bad.signatures[0].len(), 64);
    let verified = k256::ecdsa::Signature::from_slice(&bad.signatures[0])
        .map(|s| vk.verify(&sign_doc_bytes(&bad, &signer), &s).is_ok())
        .unwrap_or(false);
    assert!(!verified, "the corrupted signature must not verify");
}

#[test]
fn ed25519_tx_round_trip() {
    use ed25519_dalek::Verifier;
    let (key, bytes, signer) = sample(Algo::Ed25519, false);
    let raw = TxRaw::decode(bytes.as_slice()).unwrap();
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
    let pk = auth.signer_infos[0].public_key.as_ref().unwrap();
    assert_eq!(pk.type_url, "/cosmos.crypto.ed25519.PubKey");
    let vk =
        ed25519_dalek::VerifyingKey::from_bytes(&key.public_key().try_into().unwrap()).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&raw.signatures[0]).unwrap();
    vk.verify(&sign_doc_bytes(&raw, &signer), &sig).unwrap();
    let (_, bad, _) = sample(Algo::Ed25519, true);
    let bad = TxRaw::decode(bad.as_slice()).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&bad.signatures[0]).unwrap();
    assert!(vk.verify(&sign_doc_bytes(&bad, &signer), &sig).is_err());
}

#[test]
fn gas_prices_round_up() {
    assert_eq!(
        fees_from_gas_prices("0.001ustor", 200_001)
            .unwrap()
            .to_string(),
        "201ustor"
    );
    assert_eq!(
        fees_from_gas_prices("0.001ustor,0.0001uusdc", 100_000)
            .unwrap()
            .to_string(),
        "100ustor,10uusdc"
    );
    assert!(fees_from_gas_prices("ustor", 1).is_err());
    assert!(fees_from_gas_prices("0.001", 1).is_err());
}

#[test]
fn send_fails_clearly_before_touching_the_network() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // No key.
    stoad(
        h,
        &[
            "tx",
            "bank",
            "send",
            "ghost",
            "stoa1xyz",
            "1ustor",
            "--chain-id",
            "c",
        ],
    )
    .assert_err("no key named \"ghost\"");
    stoad_json(h, &["keys", "import", "alice", "--mnemonic", ABANDON]);
    let to = stoa_framework::Address([3u8; 20]).to_string();
    stoad(
        h,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &to,
            "lots",
            "--chain-id",
            "c",
        ],
    )
    .assert_err("invalid amount");
    stoad(
        h,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            "nobody",
            "1ustor",
            "--chain-id",
            "c",
        ],
    )
    .assert_err("neither a stoa1");
    // No genesis to read a chain id from.
    stoad(h, &["tx", "bank", "send", "alice", &to, "1ustor"]).assert_err("no --chain-id");
    stoad(
        h,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &to,
            "1ustor",
            "--chain-id",
            "c",
            "--gas",
            "lots",
        ],
    )
    .assert_err("--gas must be");
    // Nothing listens on this port: the error names the endpoint and the flag.
    let r = stoad(
        h,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &to,
            "1ustor",
            "--chain-id",
            "c",
            "--grpc",
            "http://127.0.0.1:1",
            "--output",
            "json",
        ],
    );
    r.assert_err("--grpc");
    assert!(r.json()["error"].as_str().unwrap().contains("127.0.0.1:1"));
    // With both numbers given no gRPC is needed; the RPC failure names --node.
    stoad(
        h,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &to,
            "1ustor",
            "--chain-id",
            "c",
            "--account-number",
            "0",
            "--sequence",
            "0",
            "--node",
            "http://127.0.0.1:1",
        ],
    )
    .assert_err("--node");
}
