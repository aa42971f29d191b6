// End to end against a real cometbft: the intelligence market driven only through the CLI. Two
// subnets (the second with commit-reveal), three validators and four miners; after epochs the
// metagraph shows incentive following the weights, the owner receives 18% and miners and
// validators 41% each of what the subnet was paid, a nominator earns through a validator whose
// owner keeps its take, and registration into a full subnet prunes the lowest-emission neuron.
mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use stoa_intelligence::subnet::{epoch_due, epoch_index};

const MIND: u128 = 1_000_000;
/// Short epochs: one every TEMPO + 1 blocks, subnet k's at heights h with (h + k + 1) % 20 == 0.
const TEMPO: u64 = 19;

struct Market {
    net: Net,
}

impl Market {
    fn base(&self, mut a: Vec<String>) -> Vec<String> {
        let (home, node, grpc) = (self.net.home_str(), self.net.rpc_url(), self.net.grpc_url());
        for x in [
            "--home", &home, "--node", &node, "--grpc", &grpc, "--output", "json",
        ] {
            a.push(x.to_string());
        }
        a
    }

    /// `stoad tx intelligence ARGS` (gas and fees for any of its messages).
    fn tx(&self, args: &[&str]) -> TxResult {
        let mut a: Vec<String> = ["tx", "intelligence"]
            .iter()
            .chain(args)
            .map(|s| s.to_string())
            .collect();
        for x in [
            "--gas",
            "600000",
            "--fees",
            "1000ustor",
            "--chain-id",
            CHAIN_ID,
        ] {
            a.push(x.to_string());
        }
        let a = self.base(a);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let r = self.net.cli(&refs);
        let text = format!("{}\n{}", r.stdout.trim(), r.stderr.trim());
        let json = r
            .json()
            .unwrap_or_else(|| panic!("tx printed no JSON: {r}"));
        TxResult {
            exit_ok: r.ok(),
            json,
            text,
        }
    }

    fn tx_ok(&self, args: &[&str]) -> TxResult {
        let r = self.tx(args);
        assert!(
            r.exit_ok && r.code() == 0 && r.height() > 0,
            "tx intelligence {args:?} failed: {r:?}"
        );
        r
    }

    fn q(&self, args: &[&str]) -> Value {
        let mut a = vec!["intelligence"];
        a.extend_from_slice(args);
        self.net.query(&a)
    }

    fn metagraph(&self, netuid: u32) -> Vec<Value> {
        self.q(&["metagraph", &netuid.to_string()])
            .as_array()
            .expect("metagraph JSON is an array")
            .clone()
    }

    fn umind(&self, who: &str) -> u128 {
        self.net.balance(&self.net.addr(who), "umind")
    }

    fn height(&self) -> u64 {
        self.net.height().expect("height")
    }

    /// Waits until no subnet runs its epoch for the next few blocks (all epochs sit at heights
    /// 17..=19 mod 20), so balance and stake queries made now all see the same payouts.
    fn quiet(&self) -> u64 {
        wait_for(Duration::from_secs(60), "a quiet height", || {
            let h = self.height();
            (h % 20 <= 10).then_some(h)
        })
    }

    /// No subnet paid an epoch after `from` up to now: queries made since then agree.
    fn still_quiet(&self, from: u64) {
        let now = self.height();
        for h in from + 1..=now {
            assert!(
                !epoch_due(1, TEMPO, h) && !epoch_due(2, TEMPO, h),
                "an epoch ran at {h} during a snapshot taken from {from} to {now}"
            );
        }
    }

    /// The EventEpoch of `netuid` at `height`, if it ran its epoch there.
    fn epoch_event(&self, netuid: u32, height: u64) -> Option<[u128; 3]> {
        let r = self
            .net
            .rpc(&format!("/block_results?height={height}"))
            .unwrap_or_else(|e| panic!("block_results {height}: {e}"));
        let events = r["finalize_block_events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        events.iter().find_map(|e| {
            if e["type"] != "stoa.intelligence.v1.EventEpoch" {
                return None;
            }
            let get = |k: &str| -> u128 {
                e["attributes"]
                    .as_array()
                    .and_then(|a| a.iter().find(|x| x["key"] == k))
                    .and_then(|x| x["value"].as_str())
                    .and_then(|v| v.trim_matches('"').parse().ok())
                    .unwrap_or(0)
            };
            (get("netuid") == netuid as u128).then(|| {
                [
                    get("paid_owner"),
                    get("paid_miners"),
                    get("paid_validators"),
                ]
            })
        })
    }
}

fn field(n: &Value, k: &str) -> u128 {
    as_u128(&n[k]).unwrap_or_else(|| panic!("no {k} in {n}"))
}

fn by_hotkey<'a>(m: &'a [Value], hotkey: &str) -> &'a Value {
    m.iter()
        .find(|n| n["hotkey"] == hotkey)
        .unwrap_or_else(|| panic!("{hotkey} not in the metagraph: {m:?}"))
}

#[test]
fn subnets_weights_epochs_stake_and_pruning_through_the_cli() {
    let names = [
        "owner1", "owner2", "v1", "v2", "v3", "m1", "m2", "m3", "m4", "nom", "late",
    ];
    let accts: Vec<Acct> = names
        .iter()
        .map(|n| Acct {
            name: n,
            algo: "secp256k1",
            coins: "100000000ustor,1000000000umind",
        })
        .collect();
    let mut net = Net::init(&accts);
    // Short epochs, cheap locks and burns, no rate limits, no immunity.
    let gpath = net.home.join("config/genesis.json");
    let mut g: Value = serde_json::from_str(&std::fs::read_to_string(&gpath).unwrap()).unwrap();
    let p = &mut g["app_state"]["intelligence"]["params"];
    p["network_min_lock"] = json!(10 * MIND as u64);
    let h = &mut p["default_hyperparams"];
    h["tempo"] = json!(TEMPO);
    h["immunity_period"] = json!(0);
    h["min_burn"] = json!(1000);
    h["weights_rate_limit"] = json!(0);
    h["serving_rate_limit"] = json!(0);
    h["commit_reveal"] = json!(false);
    std::fs::write(&gpath, serde_json::to_string_pretty(&g).unwrap()).unwrap();
    net.start_processes();
    net.wait_height(2, Duration::from_secs(60));
    let m = Market { net };
    let addr = |k: &str| m.net.addr(k);

    // Two subnets; the second uses commit-reveal and holds four neurons.
    m.tx_ok(&["register-subnet", "owner1"]);
    m.tx_ok(&["register-subnet", "owner2"]);
    m.tx_ok(&[
        "set-hyperparams",
        "owner2",
        "2",
        "commit_reveal=true",
        "max_allowed_uids=4",
        "max_allowed_validators=4",
    ]);
    let subnets = m.q(&["subnets"]);
    let list = subnets["subnets"].as_array().unwrap();
    assert_eq!(list.len(), 3, "root and two subnets: {subnets}");
    assert_eq!(list[1]["owner"], addr("owner1"));
    let s2 = m.q(&["subnet", "2"]);
    assert_eq!(s2["subnet"]["hyperparams"]["commit_reveal"], true, "{s2}");
    assert_eq!(s2["subnet"]["hyperparams"]["max_allowed_uids"], 4, "{s2}");
    assert!(as_u64(&s2["current_burn"]).unwrap() >= 1000, "{s2}");

    // Subnet 1: v1 v2 v3 (uids 0-2), m1..m4 (uids 3-6). Subnet 2: v2 v3 (0-1), m3 m4 (2-3).
    for k in ["v1", "v2", "v3", "m1", "m2", "m3", "m4"] {
        m.tx_ok(&["burned-register", k, "1", k]);
    }
    for k in ["v2", "v3", "m3", "m4"] {
        m.tx_ok(&["burned-register", k, "2", k]);
    }
    // Validators stake on themselves; a nominator stakes on v1 (take: the default 18%).
    for k in ["v1", "v2", "v3"] {
        m.tx_ok(&["add-stake", k, k, "100000000umind"]);
    }
    m.tx_ok(&["add-stake", "nom", &addr("v1"), "50000000"]);
    m.tx_ok(&["serve-axon", "m1", "1", "10.0.0.1", "8091"]);

    // Subnet 1: every validator weights m1..m4 1:2:3:4.
    for k in ["v1", "v2", "v3"] {
        m.tx_ok(&[
            "set-weights",
            k,
            "1",
            "--uids",
            "3,4,5,6",
            "--values",
            "10000,20000,30000,40000",
        ]);
    }
    // Subnet 2: direct weights are refused; commit m3:m4 = 3:1, reveal in the next epoch.
    let r = m.tx(&["set-weights", "v2", "2", "--uids", "2,3", "--values", "3,1"]);
    assert_eq!(
        (r.codespace().as_str(), r.code()),
        ("intelligence", 17),
        "{r:?}"
    );
    let weights = ["--uids", "2,3", "--values", "3,1", "--salt", "5a17"];
    let mut commits = Vec::new();
    for k in ["v2", "v3"] {
        let mut a = vec!["commit-weights", k, "2"];
        a.extend_from_slice(&weights);
        let r = m.tx_ok(&a);
        commits.push((k, epoch_index(2, TEMPO, r.height())));
    }
    // Each reveal in the epoch after its commit's: its window opens at that epoch's first block.
    for (k, e) in commits {
        m.net
            .wait_height((e + 1) * (TEMPO + 1) - 3, Duration::from_secs(90));
        let mut a = vec!["reveal-weights", k, "2"];
        a.extend_from_slice(&weights);
        let r = m.tx_ok(&a);
        assert_eq!(
            epoch_index(2, TEMPO, r.height()),
            e + 1,
            "{k} revealed in time"
        );
    }

    // Two epochs of each subnet after the weights: permits are granted at the first.
    let after = m.height();
    let next = |net: u16, from: u64| (from + 1..).find(|h| epoch_due(net, TEMPO, *h)).unwrap();
    let e2 = next(2, next(2, after));
    let e1 = next(1, next(1, after));
    m.net.wait_height(e1.max(e2) + 1, Duration::from_secs(120));

    // Subnet 1: incentive follows the weights, 1:2:3:4.
    let g1 = m.metagraph(1);
    assert_eq!(g1.len(), 7);
    for k in [
        "uid",
        "hotkey",
        "coldkey",
        "stake",
        "rank",
        "trust",
        "validator_trust",
        "consensus",
        "incentive",
        "dividends",
        "emission",
        "validator_permit",
        "active",
        "last_update",
        "axon",
    ] {
        assert!(g1[0].get(k).is_some(), "metagraph JSON has {k}: {}", g1[0]);
    }
    let inc: Vec<u128> = ["m1", "m2", "m3", "m4"]
        .iter()
        .map(|k| field(by_hotkey(&g1, &addr(k)), "incentive"))
        .collect();
    for (i, x) in inc.iter().enumerate() {
        let want = 6553.5 * (i + 1) as f64;
        assert!(
            (*x as f64 - want).abs() < 0.01 * want,
            "incentive {inc:?} follows 1:2:3:4"
        );
    }
    for k in ["v1", "v2", "v3"] {
        let n = by_hotkey(&g1, &addr(k));
        assert_eq!(n["validator_permit"], true, "{n}");
        assert!(field(n, "dividends") > 0, "{n}");
        assert!(field(n, "validator_trust") > 0, "{n}");
    }
    assert_eq!(by_hotkey(&g1, &addr("m1"))["axon"]["port"], 8091);
    let neuron = m.q(&["neuron", "1", "6"]);
    assert_eq!(neuron["hotkey"], addr("m4"), "{neuron}");
    // Subnet 2: the revealed weights count (m3 above m4).
    let g2 = m.metagraph(2);
    let (i3, i4) = (
        field(by_hotkey(&g2, &addr("m3")), "incentive"),
        field(by_hotkey(&g2, &addr("m4")), "incentive"),
    );
    assert!(i3 > i4 && i4 > 0, "subnet 2 incentive m3 {i3} m4 {i4}");

    // One full round of epochs between two quiet heights.
    let h0 = m.quiet();
    let owner0 = m.umind("owner1");
    let v1_0 = m.umind("v1");
    let miners0: Vec<u128> = ["m1", "m2"].iter().map(|k| m.umind(k)).collect();
    let delegates0 = m.q(&["delegates"]);
    let nom0 = m.q(&["stake", "nom"]);
    m.still_quiet(h0);
    m.net.wait_height(h0 + 20, Duration::from_secs(60));
    let h1 = m.quiet();
    let owner1 = m.umind("owner1");
    let v1_1 = m.umind("v1");
    let miners1: Vec<u128> = ["m1", "m2"].iter().map(|k| m.umind(k)).collect();
    let delegates1 = m.q(&["delegates"]);
    let nom1 = m.q(&["stake", "nom"]);
    m.still_quiet(h1);

    let mut paid = [0u128; 3];
    let mut epochs = 0;
    for h in h0 + 1..=h1 {
        if let Some(e) = m.epoch_event(1, h) {
            epochs += 1;
            for k in 0..3 {
                paid[k] += e[k];
            }
        }
    }
    assert!(epochs >= 1, "subnet 1 ran an epoch in {h0}..={h1}");
    let [owner_paid, miners_paid, validators_paid] = paid;
    let total = owner_paid + miners_paid + validators_paid;
    assert_eq!(owner1 - owner0, owner_paid, "the owner received its cut");
    // 18% (floored per epoch; Yuma's rounding dust stays pending, a few units).
    assert!(
        owner_paid * 1000 / 180 <= total + 10 && total <= owner_paid * 1000 / 180 + 10,
        "owner {owner_paid} of {total}"
    );
    for part in [miners_paid, validators_paid] {
        assert!(
            part.abs_diff(total * 41 / 100) <= total / 1000 + 10,
            "miners {miners_paid} and validators {validators_paid} each 41% of {total}"
        );
    }
    // Miners' coldkeys received their server emission.
    assert!(miners1[1] - miners0[1] > miners1[0] - miners0[0] && miners1[0] > miners0[0]);

    // The nominator earned; v1's owner kept the take: take / rest = 1800 / 8200.
    let pool = |d: &Value| -> u128 {
        d["delegates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["hotkey"] == addr("v1"))
            .map(|x| field(x, "total_stake"))
            .unwrap()
    };
    let grown = pool(&delegates1) - pool(&delegates0);
    let take = v1_1 - v1_0;
    assert!(grown > 0 && take > 0, "v1 pool grew {grown}, take {take}");
    assert!(
        (take * 8200).abs_diff(grown * 1800) <= 8200 * 2 * epochs as u128,
        "take {take} against pool growth {grown}"
    );
    let worth = |s: &Value| field(&s["stakes"][0], "amount");
    assert!(worth(&nom1) > worth(&nom0), "{nom0} -> {nom1}");
    assert!(worth(&nom0) >= 50 * MIND, "{nom0}");

    // Subnet 2 is full (4 of 4): a newcomer prunes the neuron with the lowest emission at the
    // last epoch (ties: earliest registration, then lowest uid); no immunity in this genesis.
    let hq = m.quiet();
    let g2 = m.metagraph(2);
    let victim = g2
        .iter()
        .min_by_key(|n| {
            (
                field(n, "emission"),
                field(n, "block_at_registration"),
                field(n, "uid"),
            )
        })
        .unwrap()
        .clone();
    let second = g2
        .iter()
        .filter(|n| n["uid"] != victim["uid"])
        .map(|n| field(n, "emission"))
        .min()
        .unwrap();
    assert!(
        field(&victim, "emission") < second,
        "emission alone picks the victim: {victim} (next lowest {second})"
    );
    let r = m.tx_ok(&["burned-register", "late", "2", "late"]);
    for h in hq + 1..=r.height() {
        assert!(
            !epoch_due(2, TEMPO, h),
            "subnet 2 ran an epoch at {h} meanwhile"
        );
    }
    let gone = victim["hotkey"].as_str().unwrap().to_string();
    let pruned: Vec<String> = r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "stoa.intelligence.v1.EventNeuronRegistered")
        .flat_map(|e| e["attributes"].as_array().unwrap().clone())
        .filter(|a| a["key"] == "pruned")
        .map(|a| a["value"].as_str().unwrap().trim_matches('"').to_string())
        .collect();
    assert_eq!(
        pruned,
        vec![gone.clone()],
        "the registration event names the pruned neuron"
    );
    let g2 = m.metagraph(2);
    assert_eq!(g2.len(), 4);
    assert_eq!(by_hotkey(&g2, &addr("late"))["uid"], victim["uid"]);
    assert!(g2.iter().all(|n| n["hotkey"] != gone.as_str()));

    // The issuance so far: about 1 MIND per 12 s of block time, and minted.
    let iss = m.q(&["issuance"]);
    assert_eq!(as_u64(&iss["reward_per_12s"]), Some(MIND as u64), "{iss}");
    assert!(as_u64(&iss["issued"]).unwrap() > 0, "{iss}");
}
