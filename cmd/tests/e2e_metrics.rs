// End to end against a real cometbft: the validator comes from Stoa's genesis (app_state.validators,
// written by `stoad genesis add-validator`, CometBFT's genesis.json lists none), and stoad's
// Prometheus endpoint counts the blocks, the tx and CheckTx.
mod common;

use common::*;
use serde_json::Value;
use std::fs;
use std::time::Duration;

/// The value of the sample `name` (a full series name with its labels), if present.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn validator_from_stoa_genesis_and_metrics_after_a_tx() {
    let mut net = Net::init(&[
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "1000000000ustor",
        },
        Acct {
            name: "bob",
            algo: "ed25519",
            coins: "",
        },
    ]);
    let home = net.home_str();
    let pv = net.home.join("config").join("priv_validator_key.json");
    let out = net
        .cli(&[
            "genesis",
            "add-validator",
            "--pubkey",
            pv.to_str().unwrap(),
            "--power",
            "10",
            "--name",
            "e2e",
            "--home",
            &home,
            "--output",
            "json",
        ])
        .expect_json();
    assert_eq!(out["validators"], 1, "{out}");
    // The key again is refused (a node would otherwise halt at InitChain).
    let again = net.cli(&[
        "genesis",
        "add-validator",
        "--pubkey",
        pv.to_str().unwrap(),
        "--power",
        "1",
        "--home",
        &home,
    ]);
    assert!(!again.ok(), "a key listed twice must be refused");
    // CometBFT's own list emptied: the set can only come from InitChain.
    let gpath = net.home.join("config").join("genesis.json");
    let mut g: Value = serde_json::from_str(&fs::read_to_string(&gpath).unwrap()).unwrap();
    g["validators"] = Value::Array(vec![]);
    fs::write(&gpath, serde_json::to_string_pretty(&g).unwrap()).unwrap();
    let valid = net.cli(&["genesis", "validate", "--home", &home]);
    assert!(valid.ok(), "genesis validate: {valid}");

    net.start_processes();
    net.wait_height(2, Duration::from_secs(60));
    let vals = net.rpc("/validators").expect("/validators");
    let list = vals["validators"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{vals}");
    assert_eq!(list[0]["voting_power"], "10", "{vals}");
    let pv: Value = serde_json::from_str(&fs::read_to_string(&pv).unwrap()).unwrap();
    assert_eq!(list[0]["pub_key"]["value"], pv["pub_key"]["value"]);

    let bob = net.addr("bob");
    let r = net.send_ok("alice", &bob, "12345ustor");
    net.wait_height(r.height() + 1, Duration::from_secs(30));

    let text = http_get(net.ports.metrics, "/metrics").expect("scrape /metrics");
    let height = sample(&text, "stoa_height").expect("stoa_height");
    assert!(height >= r.height() as f64, "{text}");
    assert_eq!(
        sample(
            &text,
            "stoa_txs_total{msg_type=\"/cosmos.bank.v1beta1.MsgSend\",result=\"ok\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "stoa_check_tx_total{result=\"ok\",type=\"new\"}").unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    assert!(sample(&text, "stoa_finalize_block_seconds_count").unwrap_or(0.0) >= 2.0);
    assert!(
        sample(&text, "stoa_commit_seconds_count{checkpoint=\"false\"}").unwrap_or(0.0) >= 2.0,
        "{text}"
    );
    assert!(
        sample(&text, "stoa_store_size_bytes").unwrap_or(0.0) > 0.0,
        "{text}"
    );
    // Anything but /metrics is a 404 with a hint.
    assert!(http_get(net.ports.metrics, "/nope")
        .unwrap()
        .contains("GET /metrics"));
}
