//! The end block of a height where several intelligence subnets run their epoch at once: 8
//! subnets of 256 uids (64 validators with stake weighting all 256 uids, 192 miners), epochs
//! every 2 blocks (tempo 1, netuids 1, 3, ..., 15: an epoch runs at a height h when
//! `(h + netuid + 1) % 2 == 0`, so all 8 fall on the even heights; the even netuids are
//! registered and dissolved to get there). Times FinalizeBlock + Commit of empty blocks with
//! and without those 8 epochs, after warm-up, and prints the median and the worst of each.
//!
//! Run: `cargo bench -p stoa-app --bench intelligence_epochs`

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use prost::{Message, Name};
use std::time::{Duration, Instant};
use stoa_app::modules::Router;
use stoa_app::{AppOptions, StoaApp};
use stoa_bank::BankKeeper;
use stoa_framework::{Address, Any, Module, Store};
use stoa_intelligence::IntelligenceModule;
use stoa_proto::intelligence::v1 as pb;
use tendermint_abci::Application as _;

#[global_allocator]
static ALLOCATOR: stoa_app::allocator::Allocator = stoa_app::allocator::Allocator;

const SUBNETS: u32 = 16;
const VALIDATORS: u64 = 64;
const UIDS: u32 = 256;
const MIND: u128 = 1_000_000;

fn any<M: Message + Name>(m: M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

fn signed(app: &StoaApp, key: &Key, msgs: Vec<Any>) -> Vec<u8> {
    let (num, seq) = account(app, &key.address()).expect("funded account");
    let mut spec = TxSpec::new(num, seq, msgs);
    spec.gas_limit = 50_000_000;
    // The chain's floor price is 0.001ustor per unit of gas.
    spec.fee = vec![(50_000, "ustor")];
    build_tx(key, &spec)
}

fn ok(app: &StoaApp, txs: &[Vec<u8>]) {
    let r = run_block(app, txs);
    for t in &r.tx_results {
        assert_eq!(t.code, 0, "{}", t.log);
    }
}

/// FinalizeBlock + Commit of an empty block: its time and how many subnet epochs it ran.
fn timed_block(app: &StoaApp) -> (Duration, usize) {
    let h = app.last_commit().0 + 1;
    let t = Instant::now();
    let r = app.finalize_block(block_request(h, &[]));
    app.commit();
    let d = t.elapsed();
    let epochs = r
        .events
        .iter()
        .filter(|e| e.r#type == "stoa.intelligence.v1.EventEpoch")
        .count();
    (d, epochs)
}

fn main() {
    stoa_app::allocator::keep_freed_memory();
    let validators: Vec<Key> = (0..VALIDATORS).map(|i| Key::ed(100 + i)).collect();
    let owner = Key::secp(1);
    let miners = Key::secp(2);
    let mut funded: Vec<Address> = validators.iter().map(Key::address).collect();
    funded.push(owner.address());
    funded.push(miners.address());

    let modules: Vec<Box<dyn Module>> = vec![
        Box::new(stoa_bank::BankModule::new()),
        Box::new(IntelligenceModule::new(BankKeeper)),
    ];
    let opts = AppOptions {
        min_gas_prices: vec![],
        check_invariants: false,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let app = StoaApp::with_router(
        Store::open(dir.path(), 100).expect("store"),
        Router::new(modules).expect("router"),
        opts,
    );
    let mut g = genesis_with(&funded);
    g.as_object_mut()
        .unwrap()
        .retain(|k, _| matches!(k.as_str(), "tx" | "fw" | "bank" | "intelligence"));
    for b in g["bank"]["balances"].as_array_mut().unwrap() {
        b["coins"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"denom": "umind", "amount": (10_000 * MIND).to_string()}));
    }
    let mut p = serde_json::to_value(stoa_intelligence::IntelligenceParams::default()).unwrap();
    p["network_min_lock"] = serde_json::json!(MIND as u64);
    let h = &mut p["default_hyperparams"];
    h["tempo"] = serde_json::json!(1);
    h["min_burn"] = serde_json::json!(1000);
    h["burn_increase_permille"] = serde_json::json!(1000);
    h["weights_rate_limit"] = serde_json::json!(0);
    h["commit_reveal"] = serde_json::json!(false);
    h["max_allowed_uids"] = serde_json::json!(UIDS);
    h["max_allowed_validators"] = serde_json::json!(VALIDATORS);
    g["intelligence"] = serde_json::json!({ "params": p });
    init(&app, &g);
    run_block(&app, &[]);

    // Subnets 1..=16; validators register on each and stake; miners fill the rest.
    let regs: Vec<Any> = (0..SUBNETS)
        .map(|_| {
            any(pb::MsgRegisterSubnet {
                owner: owner.address().to_string(),
            })
        })
        .collect();
    ok(&app, &[signed(&app, &owner, regs)]);
    let drop: Vec<Any> = (1..=SUBNETS)
        .filter(|n| n % 2 == 0)
        .map(|netuid| {
            any(pb::MsgDissolveSubnet {
                owner: owner.address().to_string(),
                netuid,
            })
        })
        .collect();
    ok(&app, &[signed(&app, &owner, drop)]);
    let nets: Vec<u32> = (1..=SUBNETS).filter(|n| n % 2 == 1).collect();
    let txs: Vec<Vec<u8>> = validators
        .iter()
        .map(|v| {
            let a = v.address().to_string();
            let mut msgs: Vec<Any> = nets
                .iter()
                .map(|&net| {
                    any(pb::MsgBurnedRegister {
                        coldkey: a.clone(),
                        netuid: net,
                        hotkey: a.clone(),
                    })
                })
                .collect();
            msgs.push(any(pb::MsgAddStake {
                coldkey: a.clone(),
                hotkey: a.clone(),
                amount: (100 * MIND) as u64,
            }));
            signed(&app, v, msgs)
        })
        .collect();
    ok(&app, &txs);
    let ma = miners.address().to_string();
    for &net in &nets {
        let msgs = (0..(UIDS as u64 - VALIDATORS))
            .map(|m| {
                any(pb::MsgBurnedRegister {
                    coldkey: ma.clone(),
                    netuid: net,
                    hotkey: Key::ed(10_000 + m).address().to_string(),
                })
            })
            .collect();
        ok(&app, &[signed(&app, &miners, msgs)]);
    }
    // Every validator weights every uid of every subnet.
    let txs: Vec<Vec<u8>> = validators
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let msgs = nets
                .iter()
                .map(|&net| {
                    any(pb::MsgSetWeights {
                        hotkey: v.address().to_string(),
                        netuid: net,
                        uids: (0..UIDS).collect(),
                        values: (0..UIDS)
                            .map(|j| ((i as u32 * 7919 + j * 104_729) % 65_535) + 1)
                            .collect(),
                        version_key: 0,
                    })
                })
                .collect();
            signed(&app, v, msgs)
        })
        .collect();
    ok(&app, &txs);

    // Warm-up: permits are handed out at the first epochs, bonds build up.
    for _ in 0..6 {
        run_block(&app, &[]);
    }
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let h = app.last_commit().0 + 1;
        let (d, epochs) = timed_block(&app);
        if h.is_multiple_of(2) {
            assert_eq!(epochs, nets.len(), "height {h}");
            with.push(d);
        } else {
            assert_eq!(epochs, 0, "height {h}");
            without.push(d);
        }
    }
    let show = |name: &str, v: &mut Vec<Duration>| {
        v.sort();
        println!(
            "{name}: median {:?}, worst {:?} over {} blocks",
            v[v.len() / 2],
            v[v.len() - 1],
            v.len()
        );
    };
    println!(
        "end block with {} subnet epochs of {UIDS} uids ({VALIDATORS} validators weighting all) at once:",
        nets.len()
    );
    show("  heights with the 8 epochs", &mut with);
    show(
        "  heights without (issuance only; root's empty epoch)",
        &mut without,
    );
}
