//! The intelligence market end to end through the app, driving block time: two subnets (one with
//! commit-reveal), three validators and four miners registering by burn, a nominator staking on
//! a validator, root weights setting the subnets' shares, epochs paying the owner 18% and miners
//! and validators 41% each with incentive following the weights, the nominator earning through
//! the take; pruning in a full subnet; issuance by block time (1 MIND per 12 s, the halving at
//! 10.5M, nothing past 21M); and the bad inputs, each refused with its code and nothing
//! moved. Invariants (stake held = sum of stakes, minted = issuance due) run after every block.

mod common;
use common::*;
use prost::{Message, Name};
use stoa_app::modules::Router;
use stoa_app::{AppOptions, StoaApp};
use stoa_bank::BankKeeper;
use stoa_framework::{module_address, Address, Any, Module, Store};
use stoa_intelligence::handler::commit_hash;
use stoa_intelligence::issuance::issuance_due;
use stoa_intelligence::subnet::epoch_index;
use stoa_intelligence::IntelligenceModule;
use stoa_proto::intelligence::v1 as pb;
use tendermint_abci::Application as _;
use tendermint_proto::v0_38::abci::{ExecTxResult, RequestQuery, ResponseFinalizeBlock};

const MIND: u128 = 1_000_000;
const GENESIS: i64 = 1_700_000_000;

fn app() -> StoaApp {
    let modules: Vec<Box<dyn Module>> = vec![
        Box::new(stoa_bank::BankModule::new()),
        Box::new(IntelligenceModule::new(BankKeeper)),
    ];
    let opts = AppOptions {
        min_gas_prices: stoa_app::config::parse_gas_prices("0.001ustor").unwrap(),
        check_invariants: true,
    };
    StoaApp::with_router(
        Store::open_temporary().unwrap(),
        Router::new(modules).unwrap(),
        opts,
    )
}

/// The default genesis, `umind_each` umind for every funded address (none at all when 0), and
/// the market's params for a quick test: tempo 10, a 1 MIND lock, weights every 2 blocks.
fn genesis(funded: &[Address], umind_each: u128, commit_reveal: bool) -> serde_json::Value {
    let mut g = genesis_with(funded);
    // Only the sections of this test's router (bank and intelligence).
    if let Some(obj) = g.as_object_mut() {
        obj.retain(|k, _| matches!(k.as_str(), "tx" | "fw" | "bank" | "intelligence"));
    }
    if umind_each > 0 {
        let balances = g["bank"]["balances"].as_array_mut().unwrap();
        for b in balances.iter_mut() {
            if funded.iter().any(|a| a.to_string() == b["address"]) {
                b["coins"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"denom": "umind", "amount": umind_each.to_string()}));
            }
        }
    }
    let mut p = serde_json::to_value(stoa_intelligence::IntelligenceParams::default()).unwrap();
    p["network_min_lock"] = serde_json::json!(MIND as u64);
    let h = &mut p["default_hyperparams"];
    h["tempo"] = serde_json::json!(10);
    h["weights_rate_limit"] = serde_json::json!(2);
    h["serving_rate_limit"] = serde_json::json!(5);
    h["min_burn"] = serde_json::json!(1000);
    h["immunity_period"] = serde_json::json!(5);
    h["commit_reveal"] = serde_json::json!(commit_reveal);
    g["intelligence"] = serde_json::json!({ "params": p });
    g
}

fn any<M: Message + Name>(m: M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

/// A signed tx of `key` at its current sequence.
fn tx(app: &StoaApp, key: &Key, msgs: Vec<Any>) -> Vec<u8> {
    let (num, seq) = account(app, &key.address()).unwrap();
    let mut spec = TxSpec::new(num, seq, msgs);
    spec.gas_limit = 5_000_000;
    spec.fee = vec![(5_000, "ustor")];
    build_tx(key, &spec)
}

/// One tx in its own block; its result.
fn exec(app: &StoaApp, key: &Key, msgs: Vec<Any>) -> ExecTxResult {
    let t = tx(app, key, msgs);
    run_block(app, &[t]).tx_results.remove(0)
}

fn ok(r: &ExecTxResult) {
    assert_eq!(r.code, 0, "{}", r.log);
}

fn query<Q: Message, R: Message + Default>(app: &StoaApp, path: &str, q: Q) -> R {
    let r = app.query(RequestQuery {
        data: q.encode_to_vec().into(),
        path: path.into(),
        height: 0,
        prove: false,
    });
    assert_eq!(r.code, 0, "{path}: {}", r.log);
    R::decode(r.value.as_ref()).unwrap()
}

fn subnet(app: &StoaApp, netuid: u32) -> pb::Subnet {
    let r: pb::QuerySubnetResponse = query(
        app,
        "/stoa.intelligence.v1.Query/Subnet",
        pb::QuerySubnetRequest { netuid },
    );
    r.subnet.unwrap()
}

fn metagraph(app: &StoaApp, netuid: u32) -> Vec<pb::Neuron> {
    let r: pb::QueryMetagraphResponse = query(
        app,
        "/stoa.intelligence.v1.Query/Metagraph",
        pb::QueryMetagraphRequest {
            netuid,
            pagination: None,
        },
    );
    r.neurons
}

fn stake_of(app: &StoaApp, coldkey: &Address) -> Vec<pb::StakeEntry> {
    let r: pb::QueryStakeResponse = query(
        app,
        "/stoa.intelligence.v1.Query/Stake",
        pb::QueryStakeRequest {
            coldkey: coldkey.to_string(),
        },
    );
    r.stakes
}

fn register(coldkey: &Address, netuid: u32, hotkey: &Address) -> Any {
    any(pb::MsgBurnedRegister {
        coldkey: coldkey.to_string(),
        netuid,
        hotkey: hotkey.to_string(),
    })
}

fn set_weights(hotkey: &Address, netuid: u32, uids: &[u32], values: &[u32]) -> Any {
    any(pb::MsgSetWeights {
        hotkey: hotkey.to_string(),
        netuid,
        uids: uids.to_vec(),
        values: values.to_vec(),
        version_key: 0,
    })
}

fn add_stake(coldkey: &Address, hotkey: &Address, amount: u64) -> Any {
    any(pb::MsgAddStake {
        coldkey: coldkey.to_string(),
        hotkey: hotkey.to_string(),
        amount,
    })
}

/// The `EventEpoch`s of a block: (netuid, owner, miners, validators).
fn epochs(r: &ResponseFinalizeBlock) -> Vec<(u64, u128, u128, u128)> {
    let num = |e: &tendermint_proto::v0_38::abci::Event, k: &str| -> u128 {
        let v = &e.attributes.iter().find(|a| a.key == k).unwrap().value;
        let j: serde_json::Value = serde_json::from_str(v).unwrap();
        match j {
            serde_json::Value::String(s) => s.parse().unwrap(),
            other => other.as_u64().unwrap() as u128,
        }
    };
    r.events
        .iter()
        .filter(|e| e.r#type == "stoa.intelligence.v1.EventEpoch")
        .map(|e| {
            (
                num(e, "netuid") as u64,
                num(e, "paid_owner"),
                num(e, "paid_miners"),
                num(e, "paid_validators"),
            )
        })
        .collect()
}

/// Runs empty blocks up to `height` and returns the epochs that ran.
fn run_to(app: &StoaApp, height: u64) -> Vec<(u64, u128, u128, u128)> {
    let mut out = Vec::new();
    while app.last_commit().0 < height {
        out.extend(epochs(&run_block(app, &[])));
    }
    out
}

#[test]
fn subnets_validators_miners_weights_epochs_and_a_nominator() {
    let owner1 = Key::secp(1);
    let owner2 = Key::secp(2);
    let vals: Vec<Key> = (10..13).map(Key::ed).collect();
    let miners: Vec<Key> = (20..24).map(Key::ed).collect();
    let nominator = Key::secp(30);
    let mut funded = vec![owner1.address(), owner2.address(), nominator.address()];
    funded.extend(vals.iter().chain(&miners).map(|k| k.address()));
    let app = app();
    init(&app, &genesis(&funded, 1_000 * MIND, false));
    run_block(&app, &[]);

    // Block 2: two subnets, each locking 1 MIND.
    let before = balance(&app, &owner1.address(), "umind");
    let r = run_block(
        &app,
        &[
            tx(
                &app,
                &owner1,
                vec![any(pb::MsgRegisterSubnet {
                    owner: owner1.address().to_string(),
                })],
            ),
            tx(
                &app,
                &owner2,
                vec![any(pb::MsgRegisterSubnet {
                    owner: owner2.address().to_string(),
                })],
            ),
        ],
    );
    r.tx_results.iter().for_each(ok);
    assert_eq!(before - balance(&app, &owner1.address(), "umind"), MIND);
    assert_eq!(
        balance(&app, &module_address("intelligence_lock"), "umind"),
        2 * MIND
    );
    assert_eq!(subnet(&app, 2).netuid, 2);

    // Block 3: validators on both subnets and root, miners two per subnet; validators stake
    // 3, 2 and 1 MIND on themselves and the nominator 2 MIND on the first.
    let mut txs = Vec::new();
    for (i, v) in vals.iter().enumerate() {
        let a = v.address();
        txs.push(tx(
            &app,
            v,
            vec![
                register(&a, 1, &a),
                register(&a, 2, &a),
                register(&a, 0, &a),
                add_stake(&a, &a, (3 - i as u64) * MIND as u64),
            ],
        ));
    }
    for (i, m) in miners.iter().enumerate() {
        let a = m.address();
        txs.push(tx(&app, m, vec![register(&a, 1 + (i as u32) / 2, &a)]));
    }
    txs.push(tx(
        &app,
        &nominator,
        vec![add_stake(
            &nominator.address(),
            &vals[0].address(),
            2 * MIND as u64,
        )],
    ));
    let r = run_block(&app, &txs);
    r.tx_results.iter().for_each(ok);
    let mg1 = metagraph(&app, 1);
    assert_eq!(mg1.len(), 5, "3 validators and 2 miners");
    assert_eq!(mg1[3].hotkey, miners[0].address().to_string());
    assert_eq!(
        mg1[0].stake,
        5 * MIND as u64,
        "self stake plus the nominator's"
    );
    let burn_now: pb::QuerySubnetResponse = query(
        &app,
        "/stoa.intelligence.v1.Query/Subnet",
        pb::QuerySubnetRequest { netuid: 1 },
    );
    assert!(
        burn_now.current_burn > 1000,
        "each registration raised the burn"
    );

    // Subnet 2 turns commit-reveal on (block 4).
    let mut h = subnet(&app, 2).hyperparams.unwrap();
    h.commit_reveal = true;
    ok(&exec(
        &app,
        &owner2,
        vec![any(pb::MsgSetHyperparams {
            owner: owner2.address().to_string(),
            netuid: 2,
            hyperparams: Some(h),
        })],
    ));

    // Block 5: weights on subnet 1 favour miner uid 3 three to one; root weights favour
    // subnet 1 two to one; subnet 2's validators commit (epoch index 0 there: blocks 0..=7).
    let salt = b"pepper".to_vec();
    let w2 = [3u32, 4];
    let v2 = [10_000u32, 50_000];
    let mut txs = Vec::new();
    for v in &vals {
        let a = v.address();
        let hash = commit_hash(&a, 2, &[3, 4], &[10_000, 50_000], &salt, 0);
        txs.push(tx(
            &app,
            v,
            vec![
                set_weights(&a, 1, &[3, 4], &[60_000, 20_000]),
                set_weights(&a, 0, &[1, 2], &[65_535, 32_767]),
                any(pb::MsgCommitWeights {
                    hotkey: a.to_string(),
                    netuid: 2,
                    hash,
                }),
            ],
        ));
    }
    let r = run_block(&app, &txs);
    r.tx_results.iter().for_each(ok);

    // Block 6, still the commit's epoch: a reveal is too early.
    let a0 = vals[0].address();
    let reveal = |salt: &[u8]| {
        any(pb::MsgRevealWeights {
            hotkey: a0.to_string(),
            netuid: 2,
            uids: w2.to_vec(),
            values: v2.to_vec(),
            salt: salt.to_vec(),
            version_key: 0,
        })
    };
    assert_code(
        &exec(&app, &vals[0], vec![reveal(&salt)]),
        "intelligence",
        20,
        "epoch 0",
    );
    run_to(&app, 8);
    // Block 9 (epoch index 1): a wrong salt does not match; the right reveals do.
    assert_code(
        &exec(&app, &vals[0], vec![reveal(b"salt")]),
        "intelligence",
        21,
        "differs",
    );
    let mut txs = Vec::new();
    for v in &vals {
        txs.push(tx(
            &app,
            v,
            vec![any(pb::MsgRevealWeights {
                hotkey: v.address().to_string(),
                netuid: 2,
                uids: w2.to_vec(),
                values: v2.to_vec(),
                salt: salt.clone(),
                version_key: 0,
            })],
        ));
    }
    run_block(&app, &txs).tx_results.iter().for_each(ok);

    // Let the first epochs hand out permits, then run a few with weights in place.
    let owner1_before = balance(&app, &owner1.address(), "umind");
    let miner0_before = balance(&app, &miners[0].address(), "umind");
    let v0_before = balance(&app, &vals[0].address(), "umind");
    let ran = run_to(&app, 64);
    let paid1: Vec<_> = ran.iter().filter(|e| e.0 == 1).collect();
    assert!(paid1.len() >= 4, "{ran:?}");
    // From the second epoch on, validators hold permits and miners have incentive.
    let (mut o, mut m, mut v) = (0u128, 0u128, 0u128);
    for e in &paid1[1..] {
        o += e.1;
        m += e.2;
        v += e.3;
    }
    let total = o + m + v;
    assert!(total > 0);
    assert!(
        (o * 1000 / total).abs_diff(180) <= 1,
        "owner {o} of {total}"
    );
    assert!(
        (m * 1000 / total).abs_diff(410) <= 1,
        "miners {m} of {total}"
    );
    assert!(
        (v * 1000 / total).abs_diff(410) <= 1,
        "validators {v} of {total}"
    );
    assert!(balance(&app, &owner1.address(), "umind") > owner1_before);
    assert!(balance(&app, &miners[0].address(), "umind") > miner0_before);

    // Incentive follows the weights: uid 3 (weighted 3) above uid 4 (weighted 1), on subnet 2
    // (revealed) uid 4 above uid 3.
    let mg1 = metagraph(&app, 1);
    assert!(mg1[3].incentive > 2 * mg1[4].incentive, "{mg1:?}");
    assert!(mg1[0].validator_permit && !mg1[3].validator_permit);
    assert!(mg1[0].dividends > mg1[2].dividends);
    let mg2 = metagraph(&app, 2);
    assert!(mg2[4].incentive > mg2[3].incentive, "{mg2:?}");
    // Root weighted subnet 1 two to one.
    let (s1, s2) = (
        subnet(&app, 1).emission_share,
        subnet(&app, 2).emission_share,
    );
    assert!(s1 > s2 * 3 / 2 && s1 < s2 * 5 / 2, "shares {s1} {s2}");

    // The nominator's 2 MIND grew with the dividends; the validator's owner got the take.
    let st = stake_of(&app, &nominator.address());
    assert_eq!(st.len(), 1);
    assert!(st[0].amount > 2 * MIND as u64, "{st:?}");
    assert!(balance(&app, &vals[0].address(), "umind") > v0_before);
    // It withdraws what it is worth and no more.
    let worth = st[0].amount;
    let r = exec(
        &app,
        &nominator,
        vec![any(pb::MsgRemoveStake {
            coldkey: nominator.address().to_string(),
            hotkey: vals[0].address().to_string(),
            amount: worth + 1,
        })],
    );
    assert_code(&r, "intelligence", 22, "holds");
    let before = balance(&app, &nominator.address(), "umind");
    ok(&exec(
        &app,
        &nominator,
        vec![any(pb::MsgRemoveStake {
            coldkey: nominator.address().to_string(),
            hotkey: vals[0].address().to_string(),
            amount: worth,
        })],
    ));
    assert_eq!(
        balance(&app, &nominator.address(), "umind") - before,
        worth as u128
    );

    // The owner dissolves subnet 2 and gets its lock back.
    let before = balance(&app, &owner2.address(), "umind");
    ok(&exec(
        &app,
        &owner2,
        vec![any(pb::MsgDissolveSubnet {
            owner: owner2.address().to_string(),
            netuid: 2,
        })],
    ));
    assert_eq!(balance(&app, &owner2.address(), "umind") - before, MIND);
    assert!(metagraph_missing(&app, 2));
}

fn metagraph_missing(app: &StoaApp, netuid: u32) -> bool {
    let r = app.query(RequestQuery {
        data: pb::QueryMetagraphRequest {
            netuid,
            pagination: None,
        }
        .encode_to_vec()
        .into(),
        path: "/stoa.intelligence.v1.Query/Metagraph".into(),
        height: 0,
        prove: false,
    });
    r.code != 0
}

#[test]
fn a_full_subnet_prunes_the_lowest_emission_non_immune_neuron() {
    let owner = Key::secp(1);
    let ks: Vec<Key> = (40..44).map(Key::ed).collect();
    let mut funded = vec![owner.address()];
    funded.extend(ks.iter().map(|k| k.address()));
    let app = app();
    init(&app, &genesis(&funded, 1_000 * MIND, false));
    run_block(&app, &[]);
    ok(&exec(
        &app,
        &owner,
        vec![any(pb::MsgRegisterSubnet {
            owner: owner.address().to_string(),
        })],
    ));
    let mut h = subnet(&app, 1).hyperparams.unwrap();
    h.max_allowed_uids = 2;
    h.max_allowed_validators = 2;
    ok(&exec(
        &app,
        &owner,
        vec![any(pb::MsgSetHyperparams {
            owner: owner.address().to_string(),
            netuid: 1,
            hyperparams: Some(h),
        })],
    ));
    // uid 0 registers first and stakes (so the epoch pays it), uid 1 later with nothing.
    let a = ks[0].address();
    ok(&exec(
        &app,
        &ks[0],
        vec![register(&a, 1, &a), add_stake(&a, &a, MIND as u64)],
    ));
    let b = ks[1].address();
    ok(&exec(&app, &ks[1], vec![register(&b, 1, &b)]));
    run_to(&app, 21); // epochs at 9 and 20 pay uid 0 by stake
    let mg = metagraph(&app, 1);
    assert!(mg[0].emission > 0 && mg[1].emission == 0, "{mg:?}");

    // A third hotkey takes uid 1: lowest emission, though registered later than uid 0.
    let c = ks[2].address();
    let r = exec(&app, &ks[2], vec![register(&c, 1, &c)]);
    ok(&r);
    let pruned = format!("{:?}", b.to_string());
    assert_eq!(
        event_attr(&r, "stoa.intelligence.v1.EventNeuronRegistered", "pruned"),
        vec![pruned.as_str()]
    );
    let mg = metagraph(&app, 1);
    assert_eq!(mg[1].hotkey, c.to_string());
    assert_eq!(mg[0].hotkey, a.to_string());
    // Now uid 1 is immune and uid 0 is not: a fourth takes uid 0.
    let d = ks[3].address();
    ok(&exec(&app, &ks[3], vec![register(&d, 1, &d)]));
    let mg = metagraph(&app, 1);
    assert_eq!(mg[0].hotkey, d.to_string());
    // The pruned hotkey's stake (grown by its dividends) stays its coldkey's.
    assert!(stake_of(&app, &a)[0].amount > MIND as u64);
}

#[test]
fn bad_inputs_are_refused_with_their_codes_and_move_nothing() {
    let owner = Key::secp(1);
    let v = Key::ed(50);
    let stranger = Key::ed(51);
    let poor = Key::ed(52);
    let app = app();
    let mut g = genesis(
        &[owner.address(), v.address(), stranger.address()],
        1_000 * MIND,
        false,
    );
    // No epoch during the test (it would pay the owner and the validator).
    g["intelligence"]["params"]["default_hyperparams"]["tempo"] = serde_json::json!(1000);
    init(&app, &g);
    run_block(&app, &[]);
    // `poor` has fees but no MIND.
    let fees = msg_send(&owner.address(), &poor.address(), &[(1_000_000, "ustor")]);
    ok(&run_block(&app, &[tx(&app, &owner, vec![fees])]).tx_results[0]);
    ok(&exec(
        &app,
        &owner,
        vec![any(pb::MsgRegisterSubnet {
            owner: owner.address().to_string(),
        })],
    ));
    let a = v.address();
    ok(&exec(&app, &v, vec![register(&a, 1, &a)]));
    ok(&exec(
        &app,
        &owner,
        vec![register(&owner.address(), 1, &owner.address())],
    ));

    let snapshot = |app: &StoaApp| {
        [&owner, &v, &stranger, &poor]
            .iter()
            .map(|k| balance(app, &k.address(), "umind"))
            .collect::<Vec<_>>()
    };
    let before = snapshot(&app);
    let s = stranger.address();
    // Weights from a hotkey without a uid.
    assert_code(
        &exec(&app, &stranger, vec![set_weights(&s, 1, &[0], &[1])]),
        "intelligence",
        10,
        "no uid",
    );
    // uids and values of different lengths (refused before execution).
    assert_code(
        &exec(&app, &v, vec![set_weights(&a, 1, &[0, 1], &[1])]),
        "intelligence",
        12,
        "2 uids, 1 values",
    );
    // Weights twice within the rate limit.
    ok(&exec(&app, &v, vec![set_weights(&a, 1, &[1], &[1])]));
    assert_code(
        &exec(&app, &v, vec![set_weights(&a, 1, &[1], &[2])]),
        "intelligence",
        11,
        "limit 2",
    );
    // Stake removal beyond the stake.
    let r = exec(
        &app,
        &v,
        vec![any(pb::MsgRemoveStake {
            coldkey: a.to_string(),
            hotkey: a.to_string(),
            amount: 1,
        })],
    );
    assert_code(&r, "intelligence", 22, "holds 0");
    // Registration with too little balance.
    let p = poor.address();
    assert_code(
        &exec(&app, &poor, vec![register(&p, 1, &p)]),
        "intelligence",
        8,
        "has 0umind",
    );
    // A hotkey registered under another coldkey.
    assert_code(
        &exec(&app, &stranger, vec![register(&s, 1, &a)]),
        "intelligence",
        6,
        "belongs to",
    );
    // Reveal with no commit on a subnet without commit-reveal, and a commit there.
    let r = exec(
        &app,
        &v,
        vec![any(pb::MsgCommitWeights {
            hotkey: a.to_string(),
            netuid: 1,
            hash: vec![0; 32],
        })],
    );
    assert_code(&r, "intelligence", 18, "subnet 1");
    let r = exec(
        &app,
        &v,
        vec![any(pb::MsgRevealWeights {
            hotkey: a.to_string(),
            netuid: 1,
            uids: vec![1],
            values: vec![1],
            salt: vec![],
            version_key: 0,
        })],
    );
    assert_code(&r, "intelligence", 19, "subnet 1");
    // A take above 18%.
    let r = exec(
        &app,
        &v,
        vec![any(pb::MsgSetTake {
            coldkey: a.to_string(),
            hotkey: a.to_string(),
            take_bps: 1801,
        })],
    );
    assert_code(&r, "intelligence", 23, "at most 1800");
    assert_eq!(snapshot(&app), before, "no MIND moved");

    // A reveal after its window (the epoch after the commit's) is refused and stores nothing.
    let mut h = subnet(&app, 1).hyperparams.unwrap();
    h.commit_reveal = true;
    h.tempo = 2;
    ok(&exec(
        &app,
        &owner,
        vec![any(pb::MsgSetHyperparams {
            owner: owner.address().to_string(),
            netuid: 1,
            hyperparams: Some(h),
        })],
    ));
    let salt = b"late".to_vec();
    ok(&exec(
        &app,
        &v,
        vec![any(pb::MsgCommitWeights {
            hotkey: a.to_string(),
            netuid: 1,
            hash: commit_hash(&a, 1, &[1], &[7], &salt, 0),
        })],
    ));
    let committed = epoch_index(1, 2, app.last_commit().0);
    let updated = |app: &StoaApp| {
        metagraph(app, 1)
            .iter()
            .find(|n| n.hotkey == a.to_string())
            .map(|n| n.last_update)
            .unwrap()
    };
    let last = updated(&app);
    // Epochs of subnet 1 are 3 blocks long: 7 blocks on, the window has passed.
    run_to(&app, app.last_commit().0 + 7);
    let late = any(pb::MsgRevealWeights {
        hotkey: a.to_string(),
        netuid: 1,
        uids: vec![1],
        values: vec![7],
        salt,
        version_key: 0,
    });
    let now = epoch_index(1, 2, app.last_commit().0 + 1);
    assert!(now > committed + 1, "epoch {now} is past the window");
    let window = format!("committed in epoch {committed}, now {now}");
    assert_code(&exec(&app, &v, vec![late]), "intelligence", 20, &window);
    assert_eq!(updated(&app), last, "no weights stored");
}

#[test]
fn issuance_follows_block_time_with_halvings_and_the_cap() {
    let k = Key::secp(1);
    let app = app();
    // No MIND at genesis: the bank's 21M cap is all the market's.
    init(&app, &genesis(&[k.address()], 0, false));
    let issuance = |app: &StoaApp| -> pb::QueryIssuanceResponse {
        query(
            app,
            "/stoa.intelligence.v1.Query/Issuance",
            pb::QueryIssuanceRequest {},
        )
    };
    // Blocks 5 s apart: 5/12 MIND each, cumulative so nothing drifts.
    run_to(&app, 24);
    let i = issuance(&app);
    assert_eq!(i.issued as u128, 10 * MIND, "120 s");
    assert_eq!(i.reward_per_12s as u128, MIND);
    let emission_account = module_address("intelligence");
    assert_eq!(
        balance(&app, &emission_account, "umind"),
        10 * MIND,
        "no subnet yet: held"
    );

    // Jump block time to the first halving, then 24 s later: 1 more MIND.
    let era = 126_000_000i64;
    let at = |app: &StoaApp, t: i64| {
        let h = app.last_commit().0 + 1;
        let mut req = block_request(h, &[]);
        req.time = Some(tendermint_proto::google::protobuf::Timestamp {
            seconds: GENESIS + t,
            nanos: 0,
        });
        app.finalize_block(req);
        tendermint_abci::Application::commit(app);
    };
    at(&app, era);
    assert_eq!(issuance(&app).issued as u128, 10_500_000 * MIND);
    at(&app, era + 24);
    assert_eq!(issuance(&app).issued as u128, 10_500_000 * MIND + MIND);
    assert_eq!(issuance(&app).reward_per_12s as u128, MIND / 2);
    assert_eq!(issuance_due(era + 24), 10_500_000 * MIND + MIND);
    // Far in the future: exactly 21M, and nothing more after.
    at(&app, 100 * era);
    assert_eq!(issuance(&app).issued as u128, 21_000_000 * MIND);
    at(&app, 200 * era);
    assert_eq!(issuance(&app).issued as u128, 21_000_000 * MIND);
    assert_eq!(balance(&app, &emission_account, "umind"), 21_000_000 * MIND);
}
