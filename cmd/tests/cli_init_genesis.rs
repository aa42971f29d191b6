//! `stoad init` and `stoad genesis add-account|validate` on temporary homes: chain id and
//! app_state written, config.toml patched, reserve coins moved with supply unchanged.

mod cli_support;

use cli_support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn genesis(home: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.join("config/genesis.json")).unwrap())
        .unwrap()
}

/// Supply per denom = the sum of all genesis balances.
fn supply(g: &Value) -> BTreeMap<String, u128> {
    let mut out = BTreeMap::new();
    for b in g["app_state"]["bank"]["balances"].as_array().unwrap() {
        for c in b["coins"].as_array().unwrap() {
            *out.entry(c["denom"].as_str().unwrap().to_string())
                .or_insert(0) += c["amount"].as_str().unwrap().parse::<u128>().unwrap();
        }
    }
    out
}

fn balance(g: &Value, addr: &str, denom: &str) -> u128 {
    g["app_state"]["bank"]["balances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["address"] == addr)
        .flat_map(|b| b["coins"].as_array().unwrap().iter())
        .filter(|c| c["denom"] == denom)
        .map(|c| c["amount"].as_str().unwrap().parse::<u128>().unwrap())
        .sum()
}

fn reserve() -> String {
    stoa_framework::module_address("reserve").to_string()
}

#[test]
fn init_on_existing_genesis_sets_chain_id_and_app_state() {
    let home = tempfile::tempdir().unwrap();
    fake_home(home.path(), "stoa-test-1");
    let g = genesis(home.path());
    assert_eq!(g["chain_id"], "stoa-test-1");
    assert!(g["app_state"]["bank"]["balances"].is_array());
    assert_eq!(balance(&g, &reserve(), "ustor"), 900_000_000_000_000);
    assert_eq!(balance(&g, &reserve(), "ucomp"), 500_000_000_000_000);
    assert!(home.path().join("config/app.toml").is_file());
    let cfg = std::fs::read_to_string(home.path().join("config/config.toml")).unwrap();
    // The default ABCI address: the owner-only unix socket under the home.
    let sock = std::path::absolute(home.path().join("data/stoad.sock")).unwrap();
    assert!(
        cfg.contains(&format!("proxy_app = \"unix://{}\"", sock.display())),
        "{cfg}"
    );
    assert!(
        cfg.contains("timeout_commit = \"1s\""),
        "untouched without --fast-blocks"
    );

    // Idempotent: a second init keeps a changed app_state; --overwrite resets it.
    stoad_json(
        home.path(),
        &["genesis", "add-account", &reserve_free_addr(), "5uusdc"],
    );
    let v = stoad_json(
        home.path(),
        &["init", "--fast-blocks", "--moniker", "val-0"],
    );
    assert_eq!(v["chain_id"], "stoa-test-1");
    assert_eq!(v["app_state"], "kept");
    assert_eq!(v["moniker"], "val-0");
    assert_eq!(
        balance(&genesis(home.path()), &reserve_free_addr(), "uusdc"),
        5
    );
    let cfg = std::fs::read_to_string(home.path().join("config/config.toml")).unwrap();
    assert!(
        cfg.contains("[consensus]\ntimeout_commit = \"500ms\""),
        "{cfg}"
    );
    assert!(cfg.contains("moniker = \"val-0\""));
    let v = stoad_json(home.path(), &["init", "--overwrite"]);
    assert_eq!(v["app_state"], "default");
    assert_eq!(
        balance(&genesis(home.path()), &reserve_free_addr(), "uusdc"),
        0
    );
}

fn reserve_free_addr() -> String {
    stoa_framework::Address([9u8; 20]).to_string()
}

#[test]
fn init_needs_a_chain_id_for_a_new_home_and_rejects_bad_ones() {
    let home = tempfile::tempdir().unwrap();
    stoad(home.path(), &["init"]).assert_err("--chain-id is required");
    fake_home(home.path(), "ok-1");
    stoad(home.path(), &["init", "--chain-id", "has space"]).assert_err("invalid chain id");
}

#[test]
fn init_with_cometbft_creates_a_home() {
    if !cometbft_available() {
        eprintln!("skipping: cometbft is not installed (testnet/install-cometbft.sh)");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let v = stoad_json(
        home.path(),
        &[
            "init",
            "--chain-id",
            "stoa-cbft-1",
            "--moniker",
            "m0",
            "--rpc-laddr",
            "tcp://127.0.0.1:36657",
        ],
    );
    assert_eq!(v["created"], true);
    assert_eq!(v["chain_id"], "stoa-cbft-1");
    assert_eq!(v["node_id"].as_str().unwrap().len(), 40);
    let g = genesis(home.path());
    assert_eq!(g["chain_id"], "stoa-cbft-1");
    assert!(
        g["validators"].is_array() || home.path().join("config/priv_validator_key.json").is_file()
    );
    assert_eq!(balance(&g, &reserve(), "ustor"), 900_000_000_000_000);
    let cfg = std::fs::read_to_string(home.path().join("config/config.toml")).unwrap();
    // The default ABCI address: the owner-only unix socket under the home.
    let sock = std::path::absolute(home.path().join("data/stoad.sock")).unwrap();
    assert!(
        cfg.contains(&format!("proxy_app = \"unix://{}\"", sock.display())),
        "{cfg}"
    );
    assert!(cfg.contains("laddr = \"tcp://127.0.0.1:36657\""));
    assert!(cfg.contains("moniker = \"m0\""));
    // The app's own RPC client (gRPC BroadcastTx/GetTx) follows --rpc-laddr.
    let app_toml = std::fs::read_to_string(home.path().join("config/app.toml")).unwrap();
    assert!(
        app_toml.contains("rpc_addr = \"http://127.0.0.1:36657\""),
        "{app_toml}"
    );
    // Running again does not re-run cometbft init or change the validator key.
    let key = std::fs::read(home.path().join("config/priv_validator_key.json")).unwrap();
    let v = stoad_json(home.path(), &["init"]);
    assert_eq!(v["created"], false);
    assert_eq!(
        std::fs::read(home.path().join("config/priv_validator_key.json")).unwrap(),
        key
    );
}

#[test]
fn add_account_moves_reserve_coins_and_keeps_supply() {
    let home = tempfile::tempdir().unwrap();
    fake_home(home.path(), "stoa-gen-1");
    let before = supply(&genesis(home.path()));

    let key = stoad_json(
        home.path(),
        &["keys", "import", "alice", "--mnemonic", ABANDON],
    );
    let alice = key["address"].as_str().unwrap().to_string();
    let v = stoad_json(
        home.path(),
        &[
            "genesis",
            "add-account",
            "alice",
            "1000000ustor,2000ucomp,777uusdc",
        ],
    );
    assert_eq!(v["address"], alice);
    assert_eq!(v["from_reserve"], "2000ucomp,1000000ustor");
    assert_eq!(v["new_supply"], "777uusdc");
    assert_eq!(v["account_number"], 0);

    let g = genesis(home.path());
    assert_eq!(balance(&g, &alice, "ustor"), 1_000_000);
    assert_eq!(balance(&g, &alice, "uusdc"), 777);
    assert_eq!(
        balance(&g, &reserve(), "ustor"),
        900_000_000_000_000 - 1_000_000
    );
    let after = supply(&g);
    assert_eq!(after["ustor"], before["ustor"]);
    assert_eq!(after["ucomp"], before["ucomp"]);
    assert_eq!(after["uusdc"], 777);

    // A second grant to the same account adds up; another account gets the next number.
    stoad_json(home.path(), &["genesis", "add-account", &alice, "1ustor"]);
    assert_eq!(balance(&genesis(home.path()), &alice, "ustor"), 1_000_001);
    let other = stoad_json(
        home.path(),
        &["genesis", "add-account", &reserve_free_addr(), "10ustor"],
    );
    assert_eq!(other["account_number"], 1);

    let val = stoad_json(home.path(), &["genesis", "validate"]);
    assert_eq!(val["valid"], true);
    // Every module's validate_genesis ran too.
    assert_eq!(val["module_validation"], true);
    let ustor = val["supply"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["denom"] == "ustor")
        .unwrap();
    assert_eq!(ustor["amount"], "900000000000000");
}

#[test]
fn add_account_errors_are_clear() {
    let home = tempfile::tempdir().unwrap();
    fake_home(home.path(), "stoa-gen-2");
    let addr = reserve_free_addr();
    stoad(
        home.path(),
        &["genesis", "add-account", &addr, "900000000000001ustor"],
    )
    .assert_err("the reserve holds only");
    stoad(home.path(), &["genesis", "add-account", &addr, "12"]).assert_err("invalid coins");
    stoad(home.path(), &["genesis", "add-account", "nobody", "1ustor"])
        .assert_err("neither a stoa1... address nor a key");
    stoad(
        home.path(),
        &["genesis", "add-account", "stoa1xyz", "1ustor"],
    )
    .assert_err("invalid address");
    stoad(
        home.path(),
        &["genesis", "add-account", &reserve(), "1ustor"],
    )
    .assert_err("reserve module account itself");
    stoad(home.path(), &["genesis", "add-account", &addr, "5ufoo"])
        .assert_err("denom \"ufoo\" is not a bank denom");
    // Nothing was written by the failed attempts.
    let g = genesis(home.path());
    assert_eq!(balance(&g, &addr, "ustor"), 0);
}

#[test]
fn validate_catches_a_broken_genesis() {
    let home = tempfile::tempdir().unwrap();
    fake_home(home.path(), "stoa-gen-3");
    let mut g = genesis(home.path());
    // Over the ustor cap: 2,000,000,000 STOR.
    g["app_state"]["bank"]["balances"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"address": reserve_free_addr(), "coins": [{"denom": "ustor", "amount": "1100000000000001"}]}));
    std::fs::write(home.path().join("config/genesis.json"), g.to_string()).unwrap();
    stoad(home.path(), &["genesis", "validate"]).assert_err("exceeds the max_supply");

    g["app_state"]["bank"]["balances"][1]["coins"][0]["amount"] = "x".into();
    std::fs::write(home.path().join("config/genesis.json"), g.to_string()).unwrap();
    stoad(home.path(), &["genesis", "validate"]).assert_err("amount");
}

#[test]
fn validate_runs_the_modules_checks() {
    let home = tempfile::tempdir().unwrap();
    fake_home(home.path(), "stoa-gen-4");
    let mut g = genesis(home.path());
    g["app_state"]["nosuchmodule"] = serde_json::json!({});
    std::fs::write(home.path().join("config/genesis.json"), g.to_string()).unwrap();
    stoad(home.path(), &["genesis", "validate"]).assert_err("no module owns");
}

#[test]
fn init_without_cometbft_says_how_to_install_it() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = command(home.path())
        .args(["init", "--chain-id", "x-1"])
        .env("PATH", empty.path())
        .env("HOME", empty.path())
        .env_remove("STOA_COMETBFT")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("testnet/install-cometbft.sh"), "{stderr}");
}
