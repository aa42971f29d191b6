//! `stoad keys` through the binary: add/list/show/delete/import/export round trips, the
//! Cosmos secp256k1 vector, ed25519 keys, JSON shapes and error messages.

mod cli_support;

use cli_support::*;
use stoa_framework::Address;

/// The 20 address bytes behind cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4, shown with the
/// stoa prefix.
fn abandon_stoa_address() -> String {
    let (_, bytes) = bech32::decode("cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4").unwrap();
    Address::from_slice(&bytes).unwrap().to_string()
}

#[test]
fn import_known_mnemonic_gives_the_cosmos_address() {
    let home = tempfile::tempdir().unwrap();
    let v = stoad_json(
        home.path(),
        &["keys", "import", "alice", "--mnemonic", ABANDON],
    );
    assert_eq!(v["address"], abandon_stoa_address());
    assert_eq!(v["algo"], "secp256k1");
    assert_eq!(v["name"], "alice");

    // `keys add --recover` with the mnemonic on stdin derives the same key.
    let r = stoad_stdin(
        home.path(),
        &["keys", "add", "alice2", "--recover", "--output", "json"],
        &format!("{ABANDON}\n"),
    );
    r.assert_ok();
    let v2 = r.json();
    assert_eq!(v2["address"], abandon_stoa_address());
    assert_eq!(v2["pubkey"], v["pubkey"]);
    assert_eq!(v2["mnemonic"], ABANDON);
}

#[test]
fn add_list_show_export_delete_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let a = stoad_json(home.path(), &["keys", "add", "bob"]);
    for field in ["name", "address", "pubkey", "algo", "mnemonic"] {
        assert!(a.get(field).is_some(), "keys add json lacks {field}: {a}");
    }
    let mnemonic = a["mnemonic"].as_str().unwrap().to_string();
    assert_eq!(mnemonic.split(' ').count(), 24);
    assert!(a["address"].as_str().unwrap().starts_with("stoa1"));

    let e = stoad_json(home.path(), &["keys", "add", "eve", "--algo", "ed25519"]);
    assert_eq!(e["algo"], "ed25519");

    let list = stoad_json(home.path(), &["keys", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob", "eve"]);
    assert!(
        list[0].get("mnemonic").is_none(),
        "list must not print secrets"
    );

    let text = stoad(home.path(), &["keys", "list"]);
    text.assert_ok();
    assert!(text.stdout.contains("bob") && text.stdout.contains(a["address"].as_str().unwrap()));

    let show = stoad(home.path(), &["keys", "show", "bob", "--address"]);
    show.assert_ok();
    assert_eq!(show.stdout.trim(), a["address"].as_str().unwrap());
    let show = stoad_json(home.path(), &["keys", "show", "bob"]);
    assert_eq!(show["pubkey"], a["pubkey"]);

    // Export then re-import under another name: same address, by mnemonic and by private key.
    let x = stoad_json(home.path(), &["keys", "export", "bob"]);
    assert_eq!(x["mnemonic"], mnemonic.as_str());
    let pk = x["private_key"].as_str().unwrap().to_string();
    assert_eq!(pk.len(), 64);
    let by_key = stoad_json(
        home.path(),
        &["keys", "import", "bob-pk", "--private-key", &pk],
    );
    assert_eq!(by_key["address"], a["address"]);
    let by_mn = stoad_json(
        home.path(),
        &["keys", "import", "bob-mn", "--mnemonic", &mnemonic],
    );
    assert_eq!(by_mn["address"], a["address"]);

    let ex = stoad_json(home.path(), &["keys", "export", "eve"]);
    let eve_pk = stoad_json(
        home.path(),
        &[
            "keys",
            "import",
            "eve-pk",
            "--private-key",
            ex["private_key"].as_str().unwrap(),
            "--algo",
            "ed25519",
        ],
    );
    assert_eq!(eve_pk["address"], e["address"]);

    let d = stoad_json(home.path(), &["keys", "delete", "bob"]);
    assert_eq!(d["deleted"], true);
    stoad(home.path(), &["keys", "show", "bob"]).assert_err("no key named \"bob\"");
    stoad(home.path(), &["keys", "delete", "bob"]).assert_err("no key named");
}

#[test]
fn key_files_are_private_and_names_are_checked() {
    let home = tempfile::tempdir().unwrap();
    stoad_json(home.path(), &["keys", "add", "carol"]);
    let path = home.path().join("keyring/carol.json");
    assert!(path.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    stoad(home.path(), &["keys", "add", "carol"]).assert_err("already exists");
    stoad(home.path(), &["keys", "add", "../evil"]).assert_err("invalid key name");
    stoad(
        home.path(),
        &["keys", "import", "x", "--mnemonic", "not a real mnemonic"],
    )
    .assert_err("invalid BIP39 mnemonic");
    stoad(
        home.path(),
        &["keys", "import", "y", "--private-key", "abcd"],
    )
    .assert_err("32 bytes");
    stoad(home.path(), &["keys", "import", "z"]).assert_err("exactly one of");
    stoad(home.path(), &["keys", "add", "w", "--recover"]).assert_err("needs a mnemonic");
}

#[test]
fn keyring_dir_flag_is_honoured() {
    let home = tempfile::tempdir().unwrap();
    let kr = tempfile::tempdir().unwrap();
    let kr_s = kr.path().to_str().unwrap();
    stoad_json(home.path(), &["--keyring-dir", kr_s, "keys", "add", "dave"]);
    assert!(kr.path().join("dave.json").is_file());
    assert!(!home.path().join("keyring/dave.json").exists());
}

#[test]
fn json_errors_are_json() {
    let home = tempfile::tempdir().unwrap();
    let r = stoad(home.path(), &["keys", "show", "nobody", "--output", "json"]);
    assert!(!r.ok);
    let v = r.json();
    assert!(v["error"].as_str().unwrap().contains("nobody"));
}
