// End to end against a real cometbft: the compute market through `stoad tx compute` and
// `stoad query compute` only. A supplier registers a device (self-stake by the chain's formula),
// a staker backs it, its worker heartbeats (answering the challenge, signed by the worker key)
// and it comes online; a renter's order is matched to it at end block; the worker reports a
// job; the lease is settled and closed; the tables and the JSON (proto field names) show each
// step. Bad input through the CLI: a heartbeat signed by another key is refused by CheckTx
// (code 5), a booking above the device's free GPUs and an order below any price are refused.
mod common;

use common::*;
use serde_json::Value;

const GAS: &[&str] = &["--gas", "1000000", "--fees", "5000ustor"];

fn tx(net: &Net, args: &[&str]) -> TxResult {
    let (home, node, grpc) = (net.home_str(), net.rpc_url(), net.grpc_url());
    let mut a = vec!["tx", "compute"];
    a.extend_from_slice(args);
    a.extend_from_slice(GAS);
    a.extend_from_slice(&[
        "--chain-id",
        CHAIN_ID,
        "--home",
        &home,
        "--node",
        &node,
        "--grpc",
        &grpc,
        "--output",
        "json",
    ]);
    let r = net.cli(&a);
    let text = format!("{}\n{}", r.stdout.trim(), r.stderr.trim());
    TxResult {
        exit_ok: r.ok(),
        json: r.json().unwrap_or(Value::Null),
        text,
    }
}

#[track_caller]
fn tx_ok(net: &Net, args: &[&str]) -> TxResult {
    let r = tx(net, args);
    assert!(
        r.exit_ok && r.code() == 0 && r.height() > 0,
        "tx compute {args:?} failed: {r:?}"
    );
    r
}

fn q(net: &Net, args: &[&str]) -> Value {
    let mut a = vec!["compute"];
    a.extend_from_slice(args);
    net.query(&a)
}

/// `stoad query compute ARGS` as text (the tables).
fn q_text(net: &Net, args: &[&str]) -> String {
    let (home, node, grpc) = (net.home_str(), net.rpc_url(), net.grpc_url());
    let mut a = vec!["query", "compute"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--home", &home, "--node", &node, "--grpc", &grpc]);
    let r = net.cli(&a);
    assert!(r.ok(), "query compute {args:?}: {r}");
    r.stdout
}

fn u(v: &Value) -> u128 {
    as_u128(v).unwrap_or_else(|| panic!("not an amount: {v}"))
}

#[test]
fn a_device_registered_staked_heartbeating_and_leased_through_the_cli() {
    let net = Net::start(&[
        Acct {
            name: "owner",
            algo: "secp256k1",
            coins: "1000000000ustor,2000000000ucomp",
        },
        Acct {
            name: "worker",
            algo: "ed25519",
            coins: "1000000000ustor",
        },
        Acct {
            name: "staker",
            algo: "secp256k1",
            coins: "1000000000ustor,500000000ucomp",
        },
        Acct {
            name: "renter",
            algo: "secp256k1",
            coins: "1000000000ustor,1000000000ucomp,1000000000uusdc",
        },
        Acct {
            name: "intruder",
            algo: "ed25519",
            coins: "1000000000ustor",
        },
    ]);
    let (owner, renter, staker, worker) = (
        net.addr("owner"),
        net.addr("renter"),
        net.addr("staker"),
        net.addr("worker"),
    );

    // Params: the chain's, as JSON.
    let params = q(&net, &["params"]);
    assert_eq!(params["stake_denom"], "ucomp", "{params}");
    assert_eq!(params["heartbeat_interval"], 60, "{params}");

    // Register: 2 x RTX3090, self-stake defaulted to the formula (200 COMP x 1 x 2).
    let enc = "11".repeat(32);
    let r = tx_ok(
        &net,
        &[
            "register-device",
            "owner",
            "--worker-key",
            "worker",
            "--enc-pubkey",
            &enc,
            "--gpu-model",
            "RTX3090",
            "--gpu-count",
            "2",
            "--vram-gib",
            "24",
            "--region",
            "eu",
            "--price",
            "360000ucomp",
            "--price",
            "36000uusdc",
            "--staker-share-bps",
            "2000",
        ],
    );
    assert!(
        r.json.to_string().contains("EventDeviceRegistered"),
        "{r:?}"
    );
    let d = q(&net, &["device", "0"]);
    assert_eq!(d["device"]["owner"], owner.as_str(), "{d}");
    assert_eq!(d["device"]["self_stake"], "400000000", "{d}");
    assert_eq!(d["device"]["status"], "offline", "{d}");
    // Proto field names in snake case, defaults included.
    assert_eq!(d["device"]["gpus_leased"], 0, "{d}");
    assert!(d["device"].get("gpuModel").is_none(), "{d}");

    // A staker backs it.
    tx_ok(&net, &["stake", "staker", "0", "100000000ucomp"]);
    let s = q(&net, &["stakes", "--device", "0"]);
    assert_eq!(s["stakes"][0]["staker"], staker.as_str(), "{s}");
    assert_eq!(s["stakes"][0]["amount"], "100000000", "{s}");
    assert_eq!(
        q(&net, &["stakes", "--staker", "staker"])["stakes"],
        s["stakes"]
    );
    assert_eq!(q(&net, &["stakes"])["stakes"], s["stakes"]);

    // A heartbeat signed by a key that is not the device's worker key: refused before the
    // block (CheckTx runs the same precheck), code 5; the device stays offline.
    let bad = tx(
        &net,
        &["heartbeat", "intruder", "0", "--worker", "intruder"],
    );
    assert!(!bad.exit_ok, "{bad:?}");
    assert_eq!(
        (bad.codespace().as_str(), bad.code()),
        ("compute", 5),
        "{bad:?}"
    );
    // The worker answers the challenge: online, one health sample.
    tx_ok(
        &net,
        &[
            "heartbeat",
            "worker",
            "0",
            "--worker",
            "worker",
            "--net-mbps",
            "900",
            "--gpu-util-bps",
            "5000",
            "--gpu-temp-c",
            "61",
        ],
    );
    let d = q(&net, &["device", "0"]);
    assert_eq!(d["device"]["status"], "online", "{d}");
    assert_eq!(d["history"].as_array().map(Vec::len), Some(1), "{d}");
    assert_eq!(d["history"][0]["gpu_temp_c"], 61, "{d}");
    let table = q_text(&net, &["devices"]);
    assert!(table.contains("RTX3090 x 2"), "{table}");
    assert!(table.contains("online"), "{table}");
    assert!(
        table.contains("500000000"),
        "total stake in the table: {table}"
    );
    let listed = q(
        &net,
        &["devices", "--status", "online", "--gpu-model", "RTX3090"],
    );
    assert_eq!(
        listed["devices"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let none = q(&net, &["devices", "--region", "us"]);
    assert_eq!(none["devices"].as_array().map(Vec::len), Some(0), "{none}");

    // Bad orders: below any price (refused), more GPUs than the device has free (refused).
    let cheap = tx(
        &net,
        &[
            "create-order",
            "renter",
            "--gpu-model",
            "RTX3090",
            "--duration",
            "600",
            "--max-price",
            "100ucomp",
        ],
    );
    assert_eq!(
        (cheap.codespace().as_str(), cheap.code()),
        ("compute", 9),
        "{cheap:?}"
    );
    let big = tx(
        &net,
        &[
            "book-device",
            "renter",
            "0",
            "--gpu-count",
            "3",
            "--duration",
            "600",
            "--max-price",
            "400000ucomp",
        ],
    );
    assert_eq!(
        (big.codespace().as_str(), big.code()),
        ("compute", 10),
        "{big:?}"
    );

    // An order for both GPUs, matched at end block of its own block.
    let renter_before = net.balance(&renter, "ucomp");
    tx_ok(
        &net,
        &[
            "create-order",
            "renter",
            "--gpu-model",
            "RTX3090",
            "--gpu-count",
            "2",
            "--duration",
            "600",
            "--max-price",
            "400000ucomp",
        ],
    );
    let orders = q(&net, &["orders", "--renter", "renter"]);
    assert_eq!(orders["orders"][0]["state"], "matched", "{orders}");
    let lease_id = as_u64(&orders["orders"][0]["lease_id"])
        .unwrap()
        .to_string();
    assert_eq!(
        q(&net, &["orders", "--state", "open"])["orders"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let lease = q(&net, &["lease", &lease_id]);
    let l = &lease["lease"];
    assert_eq!(l["renter"], renter.as_str(), "{lease}");
    assert_eq!(l["state"], "active", "{lease}");
    assert_eq!(l["parts"][0]["device_id"], "0", "{lease}");
    assert_eq!(l["parts"][0]["gpu_count"], 2, "{lease}");
    assert_eq!(l["parts"][0]["rate_per_s"], "200", "{lease}");
    // Paid: 200/s x 600 s and the renter's 0.25% on top; the rest of the deposit came back.
    let cost = 200u128 * 600;
    assert_eq!(
        renter_before - net.balance(&renter, "ucomp"),
        cost + cost * 25 / 10_000
    );
    let leases = q(&net, &["leases", "--renter", "renter"]);
    assert_eq!(
        leases["leases"].as_array().map(Vec::len),
        Some(1),
        "{leases}"
    );
    let text = q_text(&net, &["leases"]);
    assert!(text.contains("0 (2)"), "{text}");
    assert_eq!(q(&net, &["device", "0"])["device"]["gpus_leased"], 2);

    // The worker reports a job (the worker key's account may); a device not on the lease
    // cannot.
    let h = "ab".repeat(32);
    tx_ok(
        &net,
        &[
            "report-job",
            "worker",
            &lease_id,
            "0",
            "1",
            "--status",
            "succeeded",
            "--payload-hash",
            &h,
            "--payload-size",
            "2048",
            "--result-hash",
            &h,
        ],
    );
    let jobs = q(&net, &["jobs", &lease_id]);
    assert_eq!(jobs["jobs"][0]["status"], "succeeded", "{jobs}");
    assert_eq!(jobs["jobs"][0]["payload_size"], "2048", "{jobs}");
    let not_on = tx(
        &net,
        &[
            "report-job",
            "worker",
            &lease_id,
            "7",
            "2",
            "--status",
            "running",
        ],
    );
    assert_ne!(not_on.code(), 0, "{not_on:?}");

    // Unstaking more than is free during the lease is refused (code 11).
    let un = tx(&net, &["unstake", "staker", "0", "100000000ucomp"]);
    assert_eq!(
        (un.codespace().as_str(), un.code()),
        ("compute", 11),
        "{un:?}"
    );

    // Settle, then close: the owner is paid, the renter refunded, the lease closed.
    let owner_before = net.balance(&owner, "ucomp");
    tx_ok(&net, &["settle-lease", "renter", &lease_id]);
    assert!(net.balance(&owner, "ucomp") > owner_before);
    tx_ok(&net, &["close-lease", "renter", &lease_id]);
    let l = q(&net, &["lease", &lease_id]);
    assert_eq!(l["lease"]["state"], "closed", "{l}");
    assert_eq!(l["lease"]["close_reason"], "cancelled", "{l}");
    let paid: u128 = u(&l["lease"]["parts"][0]["paid"]);
    let refunded: u128 = u(&l["lease"]["parts"][0]["refunded"]);
    assert_eq!(paid + refunded, cost, "{l}");
    assert_eq!(q(&net, &["device", "0"])["device"]["gpus_leased"], 0);

    // Emission, buyback, the staker's rewards.
    let e = q(&net, &["emission"]);
    assert!(
        e["emission"]["start"].as_str().is_some_and(|s| s != "0"),
        "{e}"
    );
    assert!(e.get("this_hour").is_some(), "{e}");
    assert_eq!(e["month"], "1", "{e}");
    let b = q(&net, &["buyback"]);
    assert_eq!(b["buyback"]["pool"], "", "nothing paid in uusdc yet: {b}");
    tx_ok(&net, &["claim-rewards", "staker", "0"]);
    tx_ok(&net, &["update-device", "owner", "0", "--region", "us"]);
    assert_eq!(q(&net, &["device", "0"])["device"]["region"], "us");
    let w = q(&net, &["devices"]);
    assert_eq!(w["devices"][0]["owner"], owner.as_str());
    let _ = worker;
}
