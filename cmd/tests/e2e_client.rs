// End to end against a real cometbft: the client commands a Cosmos user knows. client.toml
// (written by init, read and written by `stoad config`, used without --node/--grpc, the chain id
// warning), FROM as an address, --dry-run, the offline flow (generate-only, sign offline,
// encode/decode, simulate, broadcast), and the chain queries (txs --events, block,
// block-results, wait-tx, status).
mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

/// `stoad ARGS --home HOME` with nothing else: whatever the command needs comes from client.toml.
fn stoad(net: &Net, args: &[&str]) -> Run {
    let home = net.home_str();
    let mut a: Vec<&str> = args.to_vec();
    a.extend_from_slice(&["--home", &home]);
    net.cli(&a)
}

fn ok_json(net: &Net, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--output", "json"]);
    stoad(net, &a).expect_json()
}

fn write(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

#[test]
fn client_toml_offline_flow_and_chain_queries() {
    let net = Net::start(&[
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "1000000000ustor",
        },
        Acct {
            name: "bob",
            algo: "ed25519",
            coins: "20000ustor",
        },
    ]);
    let (alice, bob) = (net.addr("alice"), net.addr("bob"));
    let dir = tempfile::tempdir().unwrap();

    // init wrote the home's own ports and chain id into client.toml
    let c = ok_json(&net, &["config"]);
    assert_eq!(c["node"], net.rpc_url().as_str(), "{c}");
    assert_eq!(c["grpc"], net.grpc_url().as_str(), "{c}");
    assert_eq!(c["chain-id"], CHAIN_ID, "{c}");
    assert_eq!(c["keyring-backend"], "test", "{c}");

    // queries and txs reach the node through client.toml alone, without a warning
    let r = stoad(&net, &["query", "bank", "balances", "alice", "-o", "json"]);
    assert!(r.ok(), "{r}");
    assert!(!r.stderr.contains("warning"), "{r}");
    assert_eq!(coins_of(&r.json().unwrap())["ustor"], 1_000_000_000);

    // `config KEY VALUE` writes; `config KEY` reads; a bad value is refused
    let r = stoad(&net, &["config", "output", "json"]);
    assert!(r.ok(), "{r}");
    let v: Value = serde_json::from_str(stoad(&net, &["config", "output"]).stdout.trim()).unwrap();
    assert_eq!(v["output"], "json", "client.toml's output applies: {v}");
    let s = stoad(&net, &["status"]);
    assert!(s.ok(), "{s}");
    let s: Value = serde_json::from_str(s.stdout.trim()).expect("status printed JSON by default");
    assert_eq!(s["chain_id"], CHAIN_ID, "{s}");
    assert_eq!(s["catching_up"], false, "{s}");
    assert!(as_u64(&s["latest_block_height"]).unwrap() >= 2, "{s}");
    assert!(!stoad(&net, &["config", "output", "yaml"]).ok());

    // another chain id configured: commands warn with the node's
    stoad(&net, &["config", "chain-id", "other-chain"]).expect_json();
    let r = stoad(&net, &["query", "bank", "balances", "alice"]);
    assert!(r.ok(), "{r}");
    assert!(
        r.stderr.contains("serves chain \"stoa-e2e\"") && r.stderr.contains("other-chain"),
        "chain id warning: {r}"
    );
    let r = stoad(&net, &["status"]);
    assert!(r.stderr.contains("other-chain"), "status warns too: {r}");
    stoad(&net, &["config", "chain-id", CHAIN_ID]).expect_json();
    stoad(&net, &["config", "output", "text"]);

    // a node given nowhere: the local default, with a warning (no silent default)
    let r = stoad(&net, &["config", "node", ""]);
    assert!(r.ok(), "{r}");
    let r = stoad(&net, &["status"]);
    assert!(r.stderr.contains("no --node and no node in"), "{r}");
    let rpc = net.rpc_url();
    stoad(&net, &["config", "node", &rpc]);

    // --dry-run: a gas estimate, nothing sent
    let d = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            "5ustor",
            "--fees",
            FEES,
            "--dry-run",
        ],
    );
    let estimate = as_u64(&d["gas_estimate"]).unwrap_or(0);
    assert!(estimate > 10_000, "gas estimate: {d}");
    assert_eq!(
        net.account(&alice).1,
        0,
        "a dry run signs and sends nothing"
    );

    // FROM as an address (of a keyring key): signed and sent
    let r = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            &alice,
            "bob",
            "1000ustor",
            "--fees",
            FEES,
            "--yes",
        ],
    );
    assert_eq!(as_u64(&r["code"]), Some(0), "{r}");
    let h1 = as_u64(&r["height"]).unwrap();
    assert!(h1 > 0, "{r}");
    // the dry run's estimate is what the tx used
    let used = as_u64(&r["gas_used"]).unwrap();
    assert!(
        used.abs_diff(estimate) <= 100,
        "estimate {estimate} vs used {used}"
    );
    assert_eq!(net.balance(&bob, "ustor"), 21_000);

    // --generate-only with an address no key has: the SDK's unsigned tx JSON
    let stranger = stoa_framework::module_address("nobody").to_string();
    let g = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            &stranger,
            &bob,
            "1ustor",
            "--generate-only",
            "--fees",
            FEES,
        ],
    );
    assert_eq!(
        g["body"]["messages"][0]["@type"], "/cosmos.bank.v1beta1.MsgSend",
        "{g}"
    );
    assert_eq!(
        g["body"]["messages"][0]["from_address"],
        stranger.as_str(),
        "{g}"
    );
    assert_eq!(g["auth_info"]["signer_infos"], serde_json::json!([]), "{g}");
    assert_eq!(g["signatures"], serde_json::json!([]), "{g}");
    // ... but it cannot be signed and sent without the key
    let r = stoad(
        &net,
        &[
            "tx", "bank", "send", &stranger, &bob, "1ustor", "--fees", FEES, "--yes",
        ],
    );
    assert!(!r.ok() && r.stderr.contains("only --generate-only"), "{r}");

    // the offline flow: generate-only, sign without any node, encode/decode, simulate, broadcast
    let unsigned = dir.path().join("unsigned.json");
    let g = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            "777ustor",
            "--generate-only",
            "--fees",
            FEES,
            "--memo",
            "offline",
        ],
    );
    write(&unsigned, &g);
    let (num, seq) = net.account(&alice);
    let (num, seq) = (num.unwrap().to_string(), seq.to_string());
    let unsigned_s = unsigned.display().to_string();
    let signed = ok_json(
        &net,
        &[
            "tx",
            "sign",
            &unsigned_s,
            "--from",
            "alice",
            "--offline",
            "--account-number",
            &num,
            "--sequence",
            &seq,
            "--node",
            "http://127.0.0.1:1",
            "--grpc",
            "http://127.0.0.1:1",
        ],
    );
    assert_eq!(signed["body"], g["body"], "signing keeps the body");
    assert_eq!(
        signed["signatures"].as_array().map(Vec::len),
        Some(1),
        "{signed}"
    );
    assert_eq!(
        signed["auth_info"]["signer_infos"][0]["mode_info"]["single"]["mode"], "SIGN_MODE_DIRECT",
        "{signed}"
    );
    let signed_path = dir.path().join("signed.json");
    write(&signed_path, &signed);
    let signed_s = signed_path.display().to_string();
    let enc = ok_json(&net, &["tx", "encode", &signed_s]);
    let b64 = enc["tx"].as_str().unwrap().to_string();
    let dec = ok_json(&net, &["tx", "decode", &b64]);
    assert_eq!(dec, signed, "encode then decode gives the same tx");
    let sim = ok_json(&net, &["tx", "simulate", &signed_s]);
    assert!(as_u64(&sim["gas_estimate"]).unwrap_or(0) > 10_000, "{sim}");
    let sim = ok_json(&net, &["tx", "simulate", &unsigned_s, "--from", "alice"]);
    assert!(as_u64(&sim["gas_estimate"]).unwrap_or(0) > 10_000, "{sim}");
    let b = ok_json(&net, &["tx", "broadcast", &signed_s]);
    assert_eq!(as_u64(&b["code"]), Some(0), "{b}");
    assert!(as_u64(&b["height"]).unwrap_or(0) > 0, "{b}");
    let offline_hash = b["txhash"].as_str().unwrap().to_string();
    assert_eq!(net.balance(&bob, "ustor"), 21_777);
    // broadcasting it again: CheckTx refuses the replay (exit 1, its code printed)
    let again = stoad(&net, &["tx", "broadcast", &signed_s, "-o", "json"]);
    assert!(!again.ok(), "{again}");
    assert_ne!(
        again.json().and_then(|v| as_u64(&v["code"])),
        Some(0),
        "{again}"
    );

    // async broadcast: the hash at once; wait-tx then finds it in a block
    let g = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            "3ustor",
            "--fees",
            FEES,
            "--broadcast-mode",
            "async",
            "--yes",
        ],
    );
    assert_eq!(as_u64(&g["height"]), Some(0), "{g}");
    let hash = g["txhash"].as_str().unwrap().to_string();
    let w = ok_json(
        &net,
        &[
            "query",
            "wait-tx",
            &hash.to_ascii_lowercase(),
            "--timeout",
            "30",
        ],
    );
    assert_eq!(as_u64(&w["code"]), Some(0), "{w}");
    assert!(as_u64(&w["height"]).unwrap_or(0) > 0, "{w}");

    // query txs --events: alice's three txs, paged
    let ev = format!("message.sender={alice}");
    let t = ok_json(&net, &["query", "txs", "--events", &ev]);
    assert_eq!(as_u64(&t["total_count"]), Some(3), "{t}");
    let hashes: Vec<&str> = t["txs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["txhash"].as_str().unwrap())
        .collect();
    assert!(
        hashes.contains(&offline_hash.as_str()) && hashes.contains(&hash.as_str()),
        "{t}"
    );
    let p2 = ok_json(
        &net,
        &[
            "query", "txs", "--events", &ev, "--limit", "2", "--page", "2",
        ],
    );
    assert_eq!(as_u64(&p2["count"]), Some(1), "{p2}");
    assert_eq!(as_u64(&p2["page_total"]), Some(2), "{p2}");
    let none = ok_json(
        &net,
        &[
            "query",
            "txs",
            "--events",
            &format!("message.sender={stranger}"),
        ],
    );
    assert_eq!(as_u64(&none["total_count"]), Some(0), "{none}");

    // query block / block-results at the first send's height
    let hs = h1.to_string();
    let blk = ok_json(&net, &["query", "block", &hs]);
    assert_eq!(blk["block"]["header"]["height"], hs.as_str(), "{blk}");
    assert_eq!(
        blk["block"]["data"]["txs"].as_array().map(Vec::len),
        Some(1),
        "{blk}"
    );
    let br = ok_json(&net, &["query", "block-results", &hs]);
    assert_eq!(br["height"], hs.as_str(), "{br}");
    assert_eq!(
        br["txs_results"][0]["code"].as_u64().unwrap_or(0),
        0,
        "{br}"
    );
    let latest = ok_json(&net, &["query", "block"]);
    assert!(
        latest["block"]["header"]["height"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= h1,
        "{latest}"
    );

    // --gas auto: simulated, then adjusted (1.3 by default), enough to run
    let a = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            "9ustor",
            "--gas",
            "auto",
            "--gas-prices",
            "0.001ustor",
        ],
    );
    assert_eq!(as_u64(&a["code"]), Some(0), "{a}");
    let (wanted, used) = (
        as_u64(&a["gas_wanted"]).unwrap(),
        as_u64(&a["gas_used"]).unwrap(),
    );
    assert!(
        wanted >= used && wanted <= used * 14 / 10,
        "gas wanted {wanted}, used {used}"
    );
    // simulated gas is delivered gas: an adjustment of 1.0 is enough
    let a = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            "9ustor",
            "--gas",
            "auto",
            "--gas-adjustment",
            "1.0",
            "--gas-prices",
            "0.001ustor",
        ],
    );
    assert_eq!(as_u64(&a["code"]), Some(0), "--gas-adjustment 1.0: {a}");

    // tx sign online (the numbers from the chain), broadcast without waiting, then wait-tx
    let g = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            "11ustor",
            "--fees",
            FEES,
            "--generate-only",
        ],
    );
    write(&unsigned, &g);
    let s2 = ok_json(&net, &["tx", "sign", &unsigned_s, "--from", "alice"]);
    write(&signed_path, &s2);
    let b = ok_json(&net, &["tx", "broadcast", &signed_s, "--no-wait"]);
    assert_eq!(as_u64(&b["code"]), Some(0), "{b}");
    assert_eq!(as_u64(&b["height"]), Some(0), "{b}");
    let w = ok_json(&net, &["query", "wait-tx", b["txhash"].as_str().unwrap()]);
    assert_eq!(as_u64(&w["code"]), Some(0), "{w}");

    // client.toml's broadcast-mode applies to every tx command; the flag overrides it
    stoad(&net, &["config", "broadcast-mode", "async"]);
    let a = ok_json(
        &net,
        &[
            "tx", "bank", "send", "alice", &bob, "1ustor", "--fees", FEES,
        ],
    );
    assert_eq!(as_u64(&a["height"]), Some(0), "async from client.toml: {a}");
    ok_json(&net, &["query", "wait-tx", a["txhash"].as_str().unwrap()]);
    let s3 = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            "1ustor",
            "--fees",
            FEES,
            "--broadcast-mode",
            "sync",
        ],
    );
    assert!(
        as_u64(&s3["height"]).unwrap_or(0) > 0,
        "the flag wins: {s3}"
    );
}

#[test]
fn completion_scripts_name_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = std::process::Command::new(stoad_bin())
            .args(["completion", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("stoad") && text.contains("multi-sign"),
            "{shell}: {text}"
        );
    }
}

/// A 2-of-3 multisig account end to end: the members sign the generate-only file in Amino
/// JSON (one of them offline), multi-sign combines two signatures, the chain accepts it.
#[test]
fn multisig_two_of_three_offline_flow() {
    let net = Net::start(&[
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "1000000000ustor",
        },
        Acct {
            name: "k1",
            algo: "secp256k1",
            coins: "",
        },
        Acct {
            name: "k2",
            algo: "secp256k1",
            coins: "",
        },
        Acct {
            name: "k3",
            algo: "ed25519",
            coins: "",
        },
    ]);
    let dir = tempfile::tempdir().unwrap();
    let alice = net.addr("alice");
    let team = ok_json(
        &net,
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
    let team_addr = team["address"].as_str().unwrap().to_string();
    // alice funds it with an Amino JSON signature (as a Ledger signs)
    let f = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &team_addr,
            "100000ustor",
            "--fees",
            FEES,
            "--sign-mode",
            "amino-json",
        ],
    );
    assert_eq!(as_u64(&f["code"]), Some(0), "amino-json send: {f}");

    let unsigned = dir.path().join("unsigned.json");
    let g = ok_json(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "team",
            &alice,
            "4321ustor",
            "--fees",
            FEES,
            "--generate-only",
            "--gas",
            "auto",
        ],
    );
    // --gas auto simulated the multisig's two signatures: enough, not the default 200000
    let gas_limit: u64 = g["auth_info"]["fee"]["gas_limit"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(gas_limit > 30_000 && gas_limit < 200_000, "{g}");
    write(&unsigned, &g);
    let unsigned_s = unsigned.display().to_string();
    let (num, seq) = net.account(&team_addr);
    let (num, seq) = (num.unwrap().to_string(), seq.to_string());
    let k1 = dir.path().join("k1.json");
    let k3 = dir.path().join("k3.json");
    let (k1_s, k3_s) = (k1.display().to_string(), k3.display().to_string());
    // k1 asks the chain for the multisig's numbers; k3 signs offline
    stoad(
        &net,
        &[
            "tx",
            "sign",
            &unsigned_s,
            "--from",
            "k1",
            "--multisig",
            "team",
            "--output-document",
            &k1_s,
        ],
    )
    .expect_json_or_ok();
    stoad(
        &net,
        &[
            "tx",
            "sign",
            &unsigned_s,
            "--from",
            "k3",
            "--multisig",
            &team_addr,
            "--offline",
            "--account-number",
            &num,
            "--sequence",
            &seq,
            "--output-document",
            &k3_s,
        ],
    )
    .expect_json_or_ok();
    let sig: Value = serde_json::from_str(&std::fs::read_to_string(&k1).unwrap()).unwrap();
    assert_eq!(
        sig["signatures"][0]["data"]["single"]["mode"], "SIGN_MODE_LEGACY_AMINO_JSON",
        "{sig}"
    );
    // one signature is not enough
    let r = stoad(&net, &["tx", "multi-sign", &unsigned_s, "team", &k1_s]);
    assert!(!r.ok() && r.stderr.contains("needs 2"), "{r}");
    let signed = ok_json(
        &net,
        &["tx", "multi-sign", &unsigned_s, "team", &k1_s, &k3_s],
    );
    assert_eq!(
        signed["auth_info"]["signer_infos"][0]["public_key"]["@type"],
        "/cosmos.crypto.multisig.LegacyAminoPubKey",
        "{signed}"
    );
    let signed_path = dir.path().join("signed.json");
    write(&signed_path, &signed);
    let b = ok_json(
        &net,
        &["tx", "broadcast", &signed_path.display().to_string()],
    );
    assert_eq!(as_u64(&b["code"]), Some(0), "{b}");
    assert_eq!(net.balance(&team_addr, "ustor"), 100_000 - 4321 - 1000);
    assert_eq!(
        net.account(&team_addr).1,
        1,
        "the multisig's sequence moved"
    );
    let used = as_u64(&b["gas_used"]).unwrap();
    assert!(
        used <= gas_limit,
        "simulated {gas_limit} covers used {used}"
    );
}

trait OkRun {
    fn expect_json_or_ok(self);
}
impl OkRun for Run {
    fn expect_json_or_ok(self) {
        assert!(self.ok(), "command failed: {self}");
    }
}
