// End to end against a real cometbft, the storage market with the CLI only (the commands of
// docs/STORAGE.md's walkthrough) and real 2 KiB proofs from the stoa-prover binary: register a
// provider, sign and publish a deal, seal, pre-commit, prove-commit, submit a Window PoSt in
// its deadline, then see the payment, the power and the rewards. Genesis: the storage `test`
// profile (a proving period of 60 s in 3 deadlines). Needs `cargo build -p stoa-prover`.
mod common;

use base64::Engine;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const GAS: &[&str] = &["--gas", "3000000", "--fees", "3000ustor"];

/// The stoa-prover binary next to the stoad these tests run.
fn prover_bin() -> PathBuf {
    let p = stoad_bin().with_file_name("stoa-prover");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p stoa-prover` first",
        p.display()
    );
    p
}

fn prover(args: &[&str]) -> Value {
    let out = Command::new(prover_bin())
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("run stoa-prover");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stoa-prover {args:?} failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("not JSON: {stdout}"))
}

fn hex_of_b64(v: &Value) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or_default())
        .expect("base64");
    hex::encode(bytes)
}

fn num(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_i64())
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

struct Storage<'a> {
    net: &'a Net,
}

impl Storage<'_> {
    /// `stoad tx storage ARGS` that must be included with code 0; its JSON result.
    fn tx(&self, args: &[&str]) -> Value {
        let (home, node, grpc) = (self.net.home_str(), self.net.rpc_url(), self.net.grpc_url());
        let mut a = vec!["tx", "storage"];
        a.extend_from_slice(args);
        a.extend_from_slice(GAS);
        a.extend_from_slice(&[
            "--home", &home, "--node", &node, "--grpc", &grpc, "--output", "json",
        ]);
        let r = self.net.cli(&a);
        let v = r.expect_json();
        assert_eq!(find_key(&v, "code").and_then(as_u64), Some(0), "{r}");
        v
    }

    fn q(&self, args: &[&str]) -> Value {
        let mut a = vec!["storage"];
        a.extend_from_slice(args);
        self.net.query(&a)
    }
}

#[test]
fn a_deal_sealed_proven_and_paid_through_the_cli() {
    let mut net = Net::init(&[
        Acct {
            name: "owner",
            algo: "secp256k1",
            coins: "5000000000ustor",
        },
        Acct {
            name: "worker",
            algo: "ed25519",
            coins: "100000000ustor",
        },
        Acct {
            name: "client",
            algo: "secp256k1",
            coins: "5000000000ustor",
        },
    ]);
    let home = net.home_str();
    let r = net.cli(&["genesis", "storage-profile", "test", "--home", &home]);
    assert!(r.ok(), "{r}");
    net.start_processes();
    net.wait_height(2, Duration::from_secs(60));
    let s = Storage { net: &net };
    let (owner, client) = (net.addr("owner"), net.addr("client"));
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();

    // Provider and escrow.
    s.tx(&[
        "register-provider",
        "--from",
        "owner",
        "--worker",
        "worker",
        "--sector-size",
        "2KiB",
        "--endpoint",
        "http://127.0.0.1:1234",
        "--price-per-gib-per-second",
        "1",
    ]);
    s.tx(&["add-balance", "1000000000", "--from", "owner"]);
    s.tx(&["add-balance", "1000000000", "--from", "client"]);
    let providers = s.q(&["providers"]);
    assert_eq!(providers["providers"][0]["owner"], owner.as_str());

    // The client signs a proposal for a piece; the worker publishes it.
    let data = path("data.bin");
    std::fs::write(
        &data,
        (0..1000u32).map(|i| (i * 7) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let commp = prover(&["commp", &data]);
    let prop = path("proposal.json");
    #[rustfmt::skip]
    let signed = net.cli(&[
        "client", "sign-proposal", "--from", "client", "--provider", &owner,
        "--piece-cid", commp["piece_cid"].as_str().unwrap(),
        "--piece-size", &commp["padded_piece_size"].to_string(),
        "--start-in", "45", "--duration", "300", "--price-per-second", "10",
        "--provider-collateral", "1000", "--client-collateral", "100",
        "--out", &prop, "--home", &home, "--node", &net.rpc_url(), "--output", "json",
    ]);
    let signed = signed.expect_json();
    let start = num(&signed["proposal"]["proposal"]["start"]);
    let end = num(&signed["proposal"]["proposal"]["end"]);
    s.tx(&[
        "publish-deals",
        &prop,
        "--from",
        "worker",
        "--provider",
        &owner,
    ]);
    let deals = s.q(&["deals", "--provider", &owner]);
    let deal_id = deals["deals"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(deals["deals"][0]["state"], "DEAL_STATE_PUBLISHED");

    // Seal with the chain's seal randomness and the provider's prover id; pre-commit.
    let rand = wait_for(Duration::from_secs(70), "seal randomness", || {
        let r = net.cli(&[
            "query",
            "storage",
            "seal-randomness",
            "--home",
            &home,
            "--node",
            &net.rpc_url(),
            "--grpc",
            &net.grpc_url(),
            "--output",
            "json",
        ]);
        r.ok().then(|| r.expect_json())
    });
    let prover_id = s.q(&["provider", &owner])["prover_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sector_dir = path("sector-1");
    #[rustfmt::skip]
    let sealed = prover(&[
        "seal", "--sector-size", "2KiB", "--data", &data, "--sector", "1",
        "--ticket", rand["ticket_hex"].as_str().unwrap(), "--prover-id", &prover_id,
        "--out", &sector_dir,
    ]);
    // The sector's comm_d: its one piece padded with zeros to 2 KiB.
    assert!(sealed["sectors"][0]["comm_d"].is_string(), "{sealed}");
    let expiration = (end + 120).to_string();
    #[rustfmt::skip]
    s.tx(&[
        "pre-commit", "--from", "worker", "--provider", &owner, "--sector-dir", &sector_dir,
        "--deals", &deal_id, "--seal-rand-time", rand["time"].as_str().unwrap(),
        "--expiration", &expiration,
    ]);

    // After the delay the interactive seed is drawn: prove and prove-commit.
    let seed = wait_for(Duration::from_secs(40), "the interactive seed", || {
        let pc = s.q(&["pre-commit", &owner, "1"]);
        let seed = hex_of_b64(&pc["pre_commit"]["seed"]);
        (!seed.is_empty()).then_some(seed)
    });
    let proof = prover(&["prove", "--sector", &sector_dir, "--seed", &seed]);
    #[rustfmt::skip]
    s.tx(&[
        "prove-commit", "--from", "worker", "--provider", &owner, "--sector", "1",
        "--proof", proof["proof"].as_str().unwrap(),
    ]);
    let p = s.q(&["provider", &owner]);
    assert_eq!(p["provider"]["raw_power"], "2048", "{p}");
    assert_eq!(p["provider"]["active_sectors"], "1", "{p}");
    assert_eq!(s.q(&["power"])["power"]["qa"], "2048");
    let deal = s.q(&["deal", &deal_id]);
    assert_eq!(deal["deal"]["state"], "DEAL_STATE_ACTIVE", "{deal}");

    // Window PoSt in the right deadline: `deadlines` says which is open, until when, what it
    // challenges and its randomness.
    let (index, open, randomness) = wait_for(
        Duration::from_secs(90),
        "a window challenging sector 1",
        || {
            let d = s.q(&["deadlines", &owner]);
            d["deadlines"].as_array().unwrap().iter().find_map(|x| {
                let challenged = x["challenged"].as_array()?;
                let drawn = x["randomness_for_open"] == x["open"];
                (x["is_open"] == true && drawn && challenged.iter().any(|n| n == "1")).then(|| {
                    (
                        x["index"].as_u64().unwrap().to_string(),
                        num(&x["open"]),
                        hex_of_b64(&x["randomness"]),
                    )
                })
            })
        },
    );
    let post_file = path("post.bin");
    #[rustfmt::skip]
    let post = prover(&["post", "--sectors", &sector_dir, "--randomness", &randomness, "--out", &post_file]);
    assert_eq!(post["proven"], serde_json::json!([1]), "{post}");
    #[rustfmt::skip]
    s.tx(&[
        "submit-post", "--from", "worker", "--provider", &owner, "--deadline", &index,
        "--proof", &post_file,
    ]);
    let sectors = s.q(&["sectors", &owner]);
    assert_eq!(
        num(&sectors["sectors"][0]["last_proven"]),
        open,
        "{sectors}"
    );
    assert_eq!(sectors["sectors"][0]["state"], "SECTOR_STATE_ACTIVE");

    // Once the deal has started, settling pays the provider what the client owes.
    // (`deadlines` also says the chain's time now.)
    wait_for(Duration::from_secs(90), "the deal's start", || {
        let now = num(&s.q(&["deadlines", &owner])["now"]);
        (now > start + 5).then_some(())
    });
    let provider_before = s.q(&["balance", &owner]);
    s.tx(&["settle-deals", &deal_id, "--from", "client"]);
    let deal = s.q(&["deal", &deal_id]);
    let paid: u128 = deal["deal"]["paid"].as_str().unwrap().parse().unwrap();
    assert!(paid >= 50, "at least 5 s at 10 ustor/s: {deal}");
    let provider_after = s.q(&["balance", &owner]);
    let total = |v: &Value| -> u128 { v["balance"]["total"].as_str().unwrap().parse().unwrap() };
    assert!(total(&provider_after) > total(&provider_before));
    let client_escrow = s.q(&["balance", &client]);
    assert!(total(&client_escrow) < 1_000_000_000);

    // Rewards: minted every block, the provider's share pending, then withdrawn.
    let rewards = s.q(&["rewards"]);
    assert!(
        rewards["minted_simple"]
            .as_str()
            .unwrap()
            .parse::<u128>()
            .unwrap()
            > 0,
        "{rewards}"
    );
    let pending: u128 = s.q(&["provider", &owner])["pending_rewards"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(pending > 0);
    s.tx(&["withdraw-rewards", "--from", "owner"]);
    let p = s.q(&["provider", &owner]);
    assert!(
        p["provider"]["rewards_paid"]
            .as_str()
            .unwrap()
            .parse::<u128>()
            .unwrap()
            > 0,
        "{p}"
    );
    assert!(
        p["vesting"].as_str().unwrap().parse::<u128>().unwrap() > 0,
        "{p}"
    );

    // The text tables render too.
    for args in [
        vec!["storage", "provider", owner.as_str()],
        vec!["storage", "deadlines", owner.as_str()],
        vec!["storage", "deals"],
        vec!["storage", "rewards"],
        vec!["storage", "params"],
    ] {
        let mut a = vec!["query"];
        a.extend_from_slice(&args);
        let (node, grpc) = (net.rpc_url(), net.grpc_url());
        a.extend_from_slice(&["--home", &home, "--node", &node, "--grpc", &grpc]);
        let r = net.cli(&a);
        assert!(r.ok(), "{r}");
    }
    let _ = Path::new(&sector_dir);
}
