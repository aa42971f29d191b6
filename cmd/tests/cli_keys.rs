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
    let path = home.path().join("keyring-test/carol.json");
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
    assert!(!home.path().join("keyring-test/dave.json").exists());
}

#[test]
fn json_errors_are_json() {
    let home = tempfile::tempdir().unwrap();
    let r = stoad(home.path(), &["keys", "show", "nobody", "--output", "json"]);
    assert!(!r.ok);
    let v = r.json();
    assert!(v["error"].as_str().unwrap().contains("nobody"));
}

/// `stoad --keyring-backend file ARGS... --output json` with `input` on stdin.
fn file_keyring(home: &std::path::Path, args: &[&str], input: &str) -> Run {
    let mut c = command(home);
    c.env("STOA_KEYRING_BACKEND", "file")
        .args(args)
        .args(["--output", "json"]);
    run_with_stdin(&mut c, input)
}

#[test]
fn the_file_keyring_seals_secrets_with_its_passphrase() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    const PASS: &str = "correct horse battery";

    // A new keyring takes its passphrase twice; too short or mismatched ones are refused.
    file_keyring(h, &["keys", "add", "a"], "short\nshort\n").assert_err("at least 8");
    file_keyring(h, &["keys", "add", "a"], "password1\npassword2\n").assert_err("do not match");
    file_keyring(h, &["keys", "add", "a"], "").assert_err("needs its passphrase");
    assert!(!h.join("keyring-file/a.json").exists());

    let r = file_keyring(
        h,
        &["keys", "add", "alice", "--recover"],
        &format!("{ABANDON}\n{PASS}\n{PASS}\n"),
    );
    r.assert_ok();
    assert_eq!(r.json()["address"], abandon_stoa_address());

    // Neither the mnemonic nor the private key is in the file; both files are private.
    let file = h.join("keyring-file/alice.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let clear = stoad_json(h, &["keys", "import", "clear", "--mnemonic", ABANDON]);
    let clear_export = stoad_json(h, &["keys", "export", "clear"]);
    let private_key = clear_export["private_key"].as_str().unwrap();
    assert!(
        !text.contains("abandon") && !text.contains(private_key),
        "{text}"
    );
    assert!(text.contains("\"sealed\""), "{text}");
    #[cfg(unix)]
    for f in [&file, &h.join("keyring-file/keyhash")] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    assert_eq!(clear["address"], abandon_stoa_address());

    // Public parts need no passphrase.
    let list = file_keyring(h, &["keys", "list"], "");
    list.assert_ok();
    assert_eq!(list.json()[0]["address"], abandon_stoa_address());
    file_keyring(h, &["keys", "show", "alice"], "").assert_ok();

    // Secrets need the right one.
    file_keyring(h, &["keys", "export", "alice"], "wrong passphrase\n")
        .assert_err("incorrect passphrase");
    let ex = file_keyring(h, &["keys", "export", "alice"], &format!("{PASS}\n"));
    ex.assert_ok();
    assert_eq!(ex.json()["private_key"], private_key);
    assert_eq!(ex.json()["mnemonic"], ABANDON);

    // A second key is sealed with the same keyring passphrase, asked once.
    file_keyring(h, &["keys", "add", "bob"], "wrong passphrase\n")
        .assert_err("incorrect passphrase");
    file_keyring(
        h,
        &["keys", "add", "bob", "--algo", "ed25519"],
        &format!("{PASS}\n"),
    )
    .assert_ok();
    file_keyring(h, &["keys", "export", "bob"], &format!("{PASS}\n")).assert_ok();

    // Sealed secrets are bound to their key: a file renamed to another key does not open.
    std::fs::copy(&file, h.join("keyring-file/mallory.json")).unwrap();
    let moved = std::fs::read_to_string(h.join("keyring-file/mallory.json"))
        .unwrap()
        .replace("\"alice\"", "\"mallory\"");
    std::fs::write(h.join("keyring-file/mallory.json"), moved).unwrap();
    file_keyring(h, &["keys", "export", "mallory"], &format!("{PASS}\n"))
        .assert_err("does not open");

    // Signing unlocks the key: a wrong passphrase stops the tx before any connection; the
    // right one gets as far as the (absent) node.
    let to = abandon_stoa_address();
    #[rustfmt::skip]
    let send = [
        "tx", "bank", "send", "alice", &to, "1ustor", "--chain-id", "c", "--fees", "1ustor",
        "--sequence", "0", "--node", "http://127.0.0.1:9", "--grpc", "http://127.0.0.1:9",
    ];
    file_keyring(h, &send, "wrong passphrase\n").assert_err("incorrect passphrase");
    file_keyring(h, &send, &format!("{PASS}\n")).assert_err("cannot reach gRPC");
}

#[test]
fn init_records_the_keyring_backend_in_client_toml() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::create_dir_all(h.join("config")).unwrap();
    // No client.toml: file. With one, its keyring-backend, unless the flag or variable says otherwise.
    let without_backend_variable = |args: &[&str]| {
        let mut c = command(h);
        c.env_remove("STOA_KEYRING_BACKEND").args(args);
        run_with_stdin(&mut c, "")
    };
    without_backend_variable(&["keys", "add", "k"]).assert_err("needs its passphrase");
    std::fs::write(h.join("config/client.toml"), "keyring-backend = \"test\"\n").unwrap();
    without_backend_variable(&["keys", "add", "k"]).assert_ok();
    assert!(h.join("keyring-test/k.json").is_file());
    std::fs::write(h.join("config/client.toml"), "keyring-backend = \"os\"\n").unwrap();
    without_backend_variable(&["keys", "list"]).assert_err("unknown keyring backend");
}
