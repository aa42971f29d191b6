//! The offline commands without any node: `keys add --multisig` (address as the SDK derives
//! it, order, errors), `--generate-only` then `tx sign --offline` (the signature verifies over
//! the SignDoc of the file's body and auth info), `tx encode`/`decode` round trips, and the
//! refusals (unsigned broadcast, direct-mode multisig members, too few member signatures).

mod cli_support;

use base64::Engine;
use cli_support::*;
use cosmos_sdk_proto::cosmos::crypto::multisig::LegacyAminoPubKey;
use prost::Message;
use serde_json::Value;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn add(home: &std::path::Path, name: &str, algo: &str) -> Value {
    stoad_json(home, &["keys", "add", name, "--algo", algo])
}

#[test]
fn multisig_key_has_the_sdk_address_and_sorted_members() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let k: Vec<Value> = ["k1", "k2", "k3"]
        .iter()
        .map(|n| add(h, n, "secp256k1"))
        .collect();
    let m = stoad_json(
        h,
        &[
            "keys",
            "add",
            "team",
            "--multisig",
            "k1,k2,k3",
            "--multisig-threshold",
            "2",
        ],
    );
    assert_eq!(m["algo"], "multisig", "{m}");
    let key = LegacyAminoPubKey::decode(b64(m["pubkey"].as_str().unwrap()).as_slice()).unwrap();
    assert_eq!(key.threshold, 2);
    assert_eq!(key.public_keys.len(), 3);
    // the address is the SDK's derivation of exactly this key
    assert_eq!(
        m["address"],
        stoa_cmd::multisig::address(&key).unwrap().to_string(),
        "{m}"
    );
    // members sorted by address
    let addrs: Vec<String> = key
        .public_keys
        .iter()
        .map(|pk| stoa_cmd::multisig::address_of_any(pk).unwrap().to_string())
        .collect();
    let mut sorted = addrs.clone();
    sorted.sort_by_key(|a| stoa_framework::Address::parse(a).unwrap().0);
    assert_eq!(addrs, sorted);
    let mut members: Vec<&str> = k.iter().map(|v| v["address"].as_str().unwrap()).collect();
    members.sort();
    let mut got: Vec<&str> = addrs.iter().map(String::as_str).collect();
    got.sort();
    assert_eq!(got, members);

    // --nosort keeps the given order (another address); members by address work too
    let a3 = k[2]["address"].as_str().unwrap();
    let n = stoad_json(
        h,
        &[
            "keys",
            "add",
            "team2",
            "--multisig",
            &format!("{a3},k1,k2"),
            "--multisig-threshold",
            "2",
            "--nosort",
        ],
    );
    let key2 = LegacyAminoPubKey::decode(b64(n["pubkey"].as_str().unwrap()).as_slice()).unwrap();
    assert_eq!(
        stoa_cmd::multisig::address_of_any(&key2.public_keys[0])
            .unwrap()
            .to_string(),
        a3
    );
    // listed and shown like any key; it never signs
    let list = stoad_json(h, &["keys", "list"]);
    assert!(
        list.as_array().unwrap().iter().any(|x| x["name"] == "team"),
        "{list}"
    );
    stoad(
        h,
        &[
            "keys",
            "add",
            "bad",
            "--multisig",
            "k1,k2",
            "--multisig-threshold",
            "3",
        ],
    )
    .assert_err("threshold 3");
    stoad(
        h,
        &[
            "keys",
            "add",
            "bad",
            "--multisig",
            "k1,k1",
            "--multisig-threshold",
            "1",
        ],
    )
    .assert_err("twice");
    stoad(
        h,
        &[
            "keys",
            "add",
            "bad",
            "--multisig",
            "k1,nope",
            "--multisig-threshold",
            "1",
        ],
    )
    .assert_err("nope");
    stoad(
        h,
        &[
            "keys",
            "add",
            "bad",
            "--multisig",
            "team,k1",
            "--multisig-threshold",
            "1",
        ],
    )
    .assert_err("multisig");
    stoad(h, &["keys", "add", "bad", "--multisig", "k1,k2"]).assert_err("multisig-threshold");
}

#[test]
fn generate_only_then_sign_offline_verifies_and_round_trips() {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{SignDoc, TxRaw};
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let alice = add(h, "alice", "secp256k1");
    let bob = add(h, "bob", "ed25519");
    let bob_addr = bob["address"].as_str().unwrap();
    // No node: generate-only with a fixed gas needs none.
    let nowhere = [
        "--node",
        "http://127.0.0.1:1",
        "--grpc",
        "http://127.0.0.1:1",
    ];
    let mut args = vec![
        "tx",
        "bank",
        "send",
        "alice",
        bob_addr,
        "10ustor",
        "--fees",
        "500ustor",
        "--generate-only",
        "--gas",
        "123456",
        "--memo",
        "hi",
        "--chain-id",
        "c-1",
    ];
    args.extend(nowhere);
    let g = stoad_json(h, &args);
    assert_eq!(g["auth_info"]["fee"]["gas_limit"], "123456", "{g}");
    assert_eq!(g["auth_info"]["fee"]["amount"][0]["amount"], "500", "{g}");
    assert_eq!(g["body"]["memo"], "hi", "{g}");
    assert_eq!(
        g["body"]["messages"][0]["from_address"], alice["address"],
        "{g}"
    );
    let dir = tempfile::tempdir().unwrap();
    let unsigned = dir.path().join("tx.json");
    std::fs::write(&unsigned, g.to_string()).unwrap();
    let unsigned_s = unsigned.to_str().unwrap();

    // an unsigned tx is not broadcast
    let mut a = vec!["tx", "broadcast", unsigned_s];
    a.extend(nowhere);
    stoad(h, &a).assert_err("not signed");
    // --offline without the numbers is refused by the flags
    stoad(
        h,
        &["tx", "sign", unsigned_s, "--from", "alice", "--offline"],
    )
    .assert_err("--account-number");
    // a multisig member may not sign in direct mode
    stoad_json(
        h,
        &[
            "keys",
            "add",
            "team",
            "--multisig",
            "alice,bob",
            "--multisig-threshold",
            "1",
        ],
    );
    let mut a = vec![
        "tx",
        "sign",
        unsigned_s,
        "--from",
        "alice",
        "--multisig",
        "team",
        "--sign-mode",
        "direct",
        "--offline",
        "--account-number",
        "1",
        "--sequence",
        "0",
        "--chain-id",
        "c-1",
    ];
    a.extend(nowhere);
    stoad(h, &a).assert_err("amino-json");

    let mut a = vec![
        "tx",
        "sign",
        unsigned_s,
        "--from",
        alice["address"].as_str().unwrap(),
        "--offline",
        "--account-number",
        "7",
        "--sequence",
        "3",
        "--chain-id",
        "c-1",
    ];
    a.extend(nowhere);
    let signed = stoad_json(h, &a);
    assert_eq!(signed["body"], g["body"]);
    assert_eq!(
        signed["auth_info"]["signer_infos"][0]["sequence"], "3",
        "{signed}"
    );
    assert_eq!(
        signed["auth_info"]["signer_infos"][0]["public_key"]["@type"],
        "/cosmos.crypto.secp256k1.PubKey",
        "{signed}"
    );

    // the signature verifies over the SignDoc of the bytes that go on the wire
    let signed_path = dir.path().join("signed.json");
    std::fs::write(&signed_path, signed.to_string()).unwrap();
    let enc = stoad_json(h, &["tx", "encode", signed_path.to_str().unwrap()]);
    let raw = TxRaw::decode(b64(enc["tx"].as_str().unwrap()).as_slice()).unwrap();
    let doc = SignDoc {
        body_bytes: raw.body_bytes.clone(),
        auth_info_bytes: raw.auth_info_bytes.clone(),
        chain_id: "c-1".into(),
        account_number: 7,
    }
    .encode_to_vec();
    let pk = b64(alice["pubkey"].as_str().unwrap());
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
    let sig = k256::ecdsa::Signature::from_slice(&raw.signatures[0]).unwrap();
    use k256::ecdsa::signature::Verifier;
    assert!(vk.verify(&doc, &sig).is_ok(), "the signature verifies");
    let doc_other_chain = SignDoc {
        body_bytes: raw.body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        chain_id: "c-2".into(),
        account_number: 7,
    }
    .encode_to_vec();
    assert!(vk.verify(&doc_other_chain, &sig).is_err());
    let dec = stoad_json(h, &["tx", "decode", enc["tx"].as_str().unwrap()]);
    assert_eq!(dec, signed);
    // text output of encode is the base64 alone
    let t = stoad(h, &["tx", "encode", signed_path.to_str().unwrap()]);
    t.assert_ok();
    assert_eq!(t.stdout.trim(), enc["tx"].as_str().unwrap());
}
