//! The compute market end to end through the app (ABCI level, block time driven by the test):
//! two devices registered behind stake, co-staked, kept online by signed heartbeats answering
//! their challenges; an order matched to a two-device cluster paid in ucomp and a direct
//! booking paid in uusdc; settlement adding up to the last unit (supplier, stakers, fees
//! burned or sent to the buyback pool, renter refund); a device going offline (its lease
//! closed, the renter refunded pro rata, the device and its staker slashed); the buyback
//! auction filled and its proceeds burned; the bad inputs of issue 11 each refused with its
//! code; the same blocks on a second app giving the same leases and app hashes; and hourly
//! emission over simulated hours and months equal to the pure schedule, paid only to online
//! devices by weight. The module's invariants run after every block.

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QuerySupplyOfRequest, QuerySupplyOfResponse};
use prost::{Message, Name};
use stoa_app::StoaApp;
use stoa_compute::emission::{emitted_by, month_amount};
use stoa_compute::heartbeat::{challenge_answer, heartbeat_sign_bytes};
use stoa_compute::ComputeParams;
use stoa_framework::{module_address, Address, Any, Store};
use stoa_proto::compute::v1 as pb;
use tendermint_abci::Application as _;
use tendermint_proto::v0_38::abci::{RequestQuery, ResponseFinalizeBlock};

const T0: i64 = 1_700_000_000;
const MONTH: i64 = 2_629_800;

fn any<M: Message + Name>(m: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

/// An account with its number and next sequence.
struct Acct {
    key: Key,
    num: u64,
    seq: u64,
}

impl Acct {
    fn addr(&self) -> Address {
        self.key.address()
    }
    fn tx(&mut self, msgs: Vec<Any>) -> Vec<u8> {
        let mut spec = TxSpec::new(self.num, self.seq, msgs);
        spec.gas_limit = 2_000_000;
        spec.fee = vec![(2_000, "ustor")];
        self.seq += 1;
        build_tx(&self.key, &spec)
    }
}

/// Several apps fed the same blocks; every block must give every app the same app hash.
struct Chain {
    apps: Vec<StoaApp>,
    height: u64,
    time: i64,
}

impl Chain {
    fn new(n: usize, genesis: &serde_json::Value) -> Chain {
        let apps: Vec<StoaApp> = (0..n)
            .map(|_| new_app(Store::open_temporary().unwrap(), true))
            .collect();
        for a in &apps {
            init(a, genesis);
        }
        Chain {
            apps,
            height: 0,
            time: T0,
        }
    }

    fn app(&self) -> &StoaApp {
        &self.apps[0]
    }

    /// A block `dt` seconds after the last one.
    fn block(&mut self, dt: i64, txs: &[Vec<u8>]) -> ResponseFinalizeBlock {
        self.height += 1;
        self.time += dt;
        let mut req = block_request(self.height, txs);
        req.time = Some(tendermint_proto::google::protobuf::Timestamp {
            seconds: self.time,
            nanos: 0,
        });
        let mut first: Option<ResponseFinalizeBlock> = None;
        for a in &self.apps {
            let r = a.finalize_block(req.clone());
            a.commit();
            match &first {
                None => first = Some(r),
                Some(f) => assert_eq!(f.app_hash, r.app_hash, "apps diverged at {}", self.height),
            }
        }
        let r = first.unwrap();
        assert_eq!(r.tx_results.len(), txs.len());
        r
    }

    fn ok(&mut self, dt: i64, txs: &[Vec<u8>]) -> ResponseFinalizeBlock {
        let r = self.block(dt, txs);
        for (i, t) in r.tx_results.iter().enumerate() {
            assert_eq!(t.code, 0, "block {} tx {i}: {}", self.height, t.log);
        }
        r
    }

    fn query<Q: Message, R: Message + Default>(&self, path: &str, q: &Q) -> R {
        let r = self.app().query(RequestQuery {
            data: q.encode_to_vec().into(),
            path: path.into(),
            height: 0,
            prove: false,
        });
        assert_eq!(r.code, 0, "{path}: {}", r.log);
        R::decode(r.value.as_ref()).unwrap()
    }

    fn device(&self, id: u64) -> pb::QueryDeviceResponse {
        self.query(
            "/stoa.compute.v1.Query/Device",
            &pb::QueryDeviceRequest { device_id: id },
        )
    }

    fn lease(&self, id: u64) -> pb::Lease {
        let r: pb::QueryLeaseResponse = self.query(
            "/stoa.compute.v1.Query/Lease",
            &pb::QueryLeaseRequest { lease_id: id },
        );
        r.lease.unwrap()
    }

    fn bal(&self, a: &Address, denom: &str) -> u128 {
        balance(self.app(), a, denom)
    }

    fn supply(&self, denom: &str) -> u128 {
        let r: QuerySupplyOfResponse = self.query(
            "/cosmos.bank.v1beta1.Query/SupplyOf",
            &QuerySupplyOfRequest {
                denom: denom.into(),
            },
        );
        r.amount.unwrap().amount.parse().unwrap()
    }

    /// A heartbeat for `device` answering its current challenge, signed by `worker`.
    fn heartbeat(&self, sender: &Address, device: u64, worker: &Key) -> pb::MsgHeartbeat {
        let q = self.device(device);
        let seed: [u8; 32] = q.challenge_seed.as_slice().try_into().unwrap();
        let mut m = pb::MsgHeartbeat {
            sender: sender.to_string(),
            device_id: device,
            challenge_time: q.challenge_time,
            answer: challenge_answer(device, &seed),
            net_mbps: 900,
            gpu_util_bps: 5_000,
            gpu_temp_c: 60,
            signature: vec![],
        };
        m.signature = worker.sign(&heartbeat_sign_bytes(&m));
        m
    }
}

fn worker_key(k: &Key) -> Vec<u8> {
    match k.pub_key() {
        stoa_bank::PubKey::Ed25519(b) => b.to_vec(),
        _ => unreachable!(),
    }
}

fn price(denom: &str, amount: u128) -> pb::Price {
    pb::Price {
        denom: denom.into(),
        amount: amount.to_string(),
    }
}

fn register(
    owner: &Address,
    worker: &Key,
    model: &str,
    gpus: u32,
    region: &str,
    stake: u128,
) -> Any {
    any(&pb::MsgRegisterDevice {
        owner: owner.to_string(),
        worker_key: worker_key(worker),
        enc_key: vec![7; 32],
        gpu_model: model.into(),
        gpu_count: gpus,
        vram_gib: 24,
        cpu_cores: 16,
        ram_gib: 64,
        bandwidth_mbps: 1_000,
        region: region.into(),
        prices: vec![price("ucomp", 360_000), price("uusdc", 36_000)],
        self_stake: stake.to_string(),
        staker_share_bps: 2_000,
        endpoint: "http://127.0.0.1:8700".into(),
    })
}

/// The test genesis: funded accounts (their ucomp taken out of the reserve, so the ucomp cap
/// still leaves room for the whole emission) and the compute params given.
fn genesis(accts: &[Address], p: &ComputeParams) -> serde_json::Value {
    let mut g = genesis_with(accts);
    let reserve = module_address("reserve").to_string();
    for b in g["bank"]["balances"].as_array_mut().unwrap() {
        if b["address"] == reserve.as_str() {
            for c in b["coins"].as_array_mut().unwrap() {
                if c["denom"] == "ucomp" {
                    let have: u128 = c["amount"].as_str().unwrap().parse().unwrap();
                    c["amount"] = (have - FUNDS * accts.len() as u128).to_string().into();
                }
            }
        }
    }
    g["compute"] = serde_json::json!({ "params": p });
    g
}

fn accounts(chain: &Chain, keys: Vec<Key>) -> Vec<Acct> {
    keys.into_iter()
        .map(|key| {
            let (num, seq) = account(chain.app(), &key.address()).unwrap();
            Acct { key, num, seq }
        })
        .collect()
}

const STAKE: u128 = 800_000_000; // 200 COMP x 1 (RTX3090) x 4 GPUs

#[test]
fn devices_leases_fees_offline_and_buyback_add_up_and_replay_identically() {
    let keys: Vec<Key> = (1..=6).map(Key::secp).collect();
    let (w0, w1, w2) = (Key::ed(11), Key::ed(12), Key::ed(13));
    let mut p = ComputeParams {
        attestors: vec![keys[5].address().to_string()],
        ..Default::default()
    };
    p.emission.tick_seconds = 1_000_000_000; // no emission in this test
    let g = genesis(&keys.iter().map(Key::address).collect::<Vec<_>>(), &p);
    let mut c = Chain::new(2, &g);
    c.ok(5, &[]);
    let mut a = accounts(&c, keys);
    let [o0, o1, staker, renter, buyer, attestor] = &mut a[..] else {
        unreachable!()
    };

    // A stake below the formula is refused; three devices registered (the third a spoofed CPU).
    let low = o0.tx(vec![register(
        &o0.addr(),
        &w0,
        "RTX3090",
        4,
        "eu",
        STAKE - 1,
    )]);
    let r = c.block(5, &[low]);
    assert_code(&r.tx_results[0], "compute", 3, "the formula asks 800000000");
    let txs = [
        o0.tx(vec![register(&o0.addr(), &w0, "RTX3090", 4, "eu", STAKE)]),
        o1.tx(vec![register(&o1.addr(), &w1, "RTX3090", 4, "us", STAKE)]),
        o0.tx(vec![register(&o0.addr(), &w2, "CPU", 1, "eu", 200_000_000)]),
        staker.tx(vec![any(&pb::MsgStake {
            staker: staker.addr().to_string(),
            device_id: 1,
            amount: "100000000".into(),
        })]),
        attestor.tx(vec![any(&pb::MsgAttest {
            attestor: attestor.addr().to_string(),
            device_id: 2,
            spoofed: true,
            report_hash: vec![1; 32],
        })]),
    ];
    c.ok(5, &txs);
    let stake_acct = module_address("compute_stake");
    assert_eq!(
        c.bal(&stake_acct, "ucomp"),
        2 * STAKE + 200_000_000 + 100_000_000
    );

    // Booking an offline device is refused; then heartbeats bring devices online. A heartbeat
    // signed by another key, a wrong answer and a late answer are refused.
    let book = |r: &mut Acct, dev: u64, gpus: u32, denom: &str| {
        let addr = r.addr().to_string();
        r.tx(vec![any(&pb::MsgBookDevice {
            renter: addr,
            device_id: dev,
            gpu_count: gpus,
            duration_s: 3_600,
            denom: denom.into(),
            max_price: "1000000".into(),
        })])
    };
    let t = book(renter, 0, 1, "ucomp");
    let r = c.block(5, &[t]);
    assert_code(&r.tx_results[0], "compute", 10, "device 0 is offline");

    let forged = {
        let mut m = c.heartbeat(&o0.addr(), 0, &w0);
        m.signature = w1.sign(&heartbeat_sign_bytes(&m));
        o0.tx(vec![any(&m)])
    };
    let wrong = {
        let mut m = c.heartbeat(&o0.addr(), 0, &w0);
        m.answer = vec![0; 32];
        m.signature = w0.sign(&heartbeat_sign_bytes(&m));
        o0.tx(vec![any(&m)])
    };
    let refused = check(c.app(), &forged);
    assert_eq!((refused.codespace.as_str(), refused.code), ("compute", 5));
    let r = c.block(5, &[forged, wrong]);
    assert_code(&r.tx_results[0], "compute", 5, "device 0");
    assert_code(&r.tx_results[1], "compute", 7, "device 0 challenge");
    let stale = c.heartbeat(&o0.addr(), 0, &w0);
    c.ok(60, &[]);
    c.ok(60, &[]);
    let late = o0.tx(vec![any(&stale)]);
    let r = c.block(5, &[late]);
    assert_code(&r.tx_results[0], "compute", 6, "window 120 s");

    let beat = |c: &Chain, a: &mut Acct, dev: u64, w: &Key| {
        let m = c.heartbeat(&a.addr(), dev, w);
        a.tx(vec![any(&m)])
    };
    let txs = [
        beat(&c, o0, 0, &w0),
        beat(&c, o1, 1, &w1),
        beat(&c, o0, 2, &w2),
    ];
    c.ok(5, &txs);
    for id in 0..2 {
        assert_eq!(c.device(id).device.unwrap().status, "online");
    }
    // The spoofed device's heartbeats are recorded, but it stays jailed.
    let d2 = c.device(2).device.unwrap();
    assert_eq!((d2.status.as_str(), d2.spoofed), ("jailed", true));
    let listed: pb::QueryDevicesResponse = c.query(
        "/stoa.compute.v1.Query/Devices",
        &pb::QueryDevicesRequest {
            status: "online".into(),
            gpu_model: "RTX3090".into(),
            region: "us".into(),
            pagination: None,
        },
    );
    assert_eq!(
        listed.devices.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![1]
    );
    assert_eq!(c.device(0).history.len(), 1);
    // A second answer to the same challenge is refused.
    let again = beat(&c, o0, 0, &w0);
    let r = c.block(5, &[again]);
    assert_code(&r.tx_results[0], "compute", 21, "answered");

    // The spoofed device cannot be booked; an order below any price is refused.
    let t = book(renter, 2, 1, "ucomp");
    let cheap = {
        let addr = renter.addr().to_string();
        renter.tx(vec![any(&pb::MsgCreateOrder {
            renter: addr,
            gpu_model: "RTX3090".into(),
            region: String::new(),
            gpu_count: 1,
            duration_s: 60,
            max_price: "100".into(),
            denom: "ucomp".into(),
        })])
    };
    let r = c.block(5, &[t, cheap]);
    assert_code(&r.tx_results[0], "compute", 10, "spoofed");
    assert_code(&r.tx_results[1], "compute", 9, "below any device");
    renter.seq -= 1; // refused by the stateless check: no sequence bump

    // An order for 6 GPUs paid in ucomp: matched at end block to a cluster, device 1 first
    // (more stake), then 2 GPUs of device 0; then 2 more GPUs of device 0 booked in uusdc.
    let renter_ucomp = c.bal(&renter.addr(), "ucomp");
    let ucomp_supply = c.supply("ucomp");
    let order = {
        let addr = renter.addr().to_string();
        renter.tx(vec![any(&pb::MsgCreateOrder {
            renter: addr,
            gpu_model: "RTX3090".into(),
            region: String::new(),
            gpu_count: 6,
            duration_s: 7_200,
            max_price: "1000000".into(),
            denom: "ucomp".into(),
        })])
    };
    let r = c.ok(5, &[order]);
    assert!(r
        .events
        .iter()
        .any(|e| e.r#type == "stoa.compute.v1.EventLeaseOpened"));
    let lease = c.lease(0);
    let parts: Vec<(u64, u32, &str)> = lease
        .parts
        .iter()
        .map(|p| (p.device_id, p.gpu_count, p.rate_per_s.as_str()))
        .collect();
    assert_eq!(parts, vec![(1, 4, "400"), (0, 2, "200")]);
    let start = c.time;
    // Escrow 600/s x 7200 s, and the renter's 0.25% on top (burned at once).
    let escrow_a = 600 * 7_200u128;
    let fee_a = escrow_a * 25 / 10_000;
    assert_eq!(
        renter_ucomp - c.bal(&renter.addr(), "ucomp"),
        escrow_a + fee_a
    );
    assert_eq!(ucomp_supply - c.supply("ucomp"), fee_a);

    let t = book(renter, 0, 2, "uusdc");
    let renter_usdc = c.bal(&renter.addr(), "uusdc");
    c.ok(5, &[t]);
    let escrow_b = 20 * 3_600u128; // 36,000 uusdc per GPU-hour x 2
    let fee_b = escrow_b * 225 / 10_000;
    assert_eq!(
        renter_usdc - c.bal(&renter.addr(), "uusdc"),
        escrow_b + fee_b
    );
    let bb = module_address("compute_buyback");
    assert_eq!(c.bal(&bb, "uusdc"), fee_b);

    // Unstaking beyond what is free during the lease is refused (5% is slashable and locked);
    // a job report by a device not on the lease is refused; device 0 reports a job.
    let un = {
        let addr = staker.addr().to_string();
        staker.tx(vec![any(&pb::MsgUnstake {
            staker: addr,
            device_id: 1,
            amount: "100000000".into(),
        })])
    };
    let job = |a: &mut Acct, dev: u64, status: &str| {
        let addr = a.addr().to_string();
        a.tx(vec![any(&pb::MsgReportJob {
            sender: addr,
            lease_id: 0,
            device_id: dev,
            job_id: 1,
            payload_hash: vec![9; 32],
            payload_size: 1_024,
            status: status.into(),
            exit_code: 0,
            log_hash: vec![8; 32],
            result_hash: vec![7; 32],
        })])
    };
    let txs = [un, job(o0, 2, "running"), job(o0, 0, "succeeded")];
    let r = c.block(5, &txs);
    assert_code(
        &r.tx_results[0],
        "compute",
        11,
        "95000000 of 100000000 is free",
    );
    assert_code(
        &r.tx_results[1],
        "compute",
        12,
        "device 2 is not on lease 0",
    );
    assert_eq!(r.tx_results[2].code, 0, "{}", r.tx_results[2].log);
    let jobs: pb::QueryJobsResponse = c.query(
        "/stoa.compute.v1.Query/Jobs",
        &pb::QueryJobsRequest {
            lease_id: 0,
            pagination: None,
        },
    );
    assert_eq!(jobs.jobs[0].status, "succeeded");
    assert_eq!(c.device(0).device.unwrap().health.unwrap().jobs_ok, 1);

    // Heartbeats go on for both devices; at start + 1000 s the lease is settled.
    let (o0_before, o1_before) = (c.bal(&o0.addr(), "ucomp"), c.bal(&o1.addr(), "ucomp"));
    let supply_before = c.supply("ucomp");
    for _ in 0..16 {
        let txs = [
            beat(&c, o0, 0, &w0),
            beat(&c, o1, 1, &w1),
            beat(&c, o0, 2, &w2),
        ];
        c.ok(60, &txs);
    }
    let settle = {
        let addr = renter.addr().to_string();
        renter.tx(vec![any(&pb::MsgSettleLease {
            sender: addr,
            lease_id: 0,
        })])
    };
    let dt = start + 1_000 - c.time;
    c.ok(dt, &[settle]);
    // Device 1: 400/s x 1000 s, 0.25% burned, 20% of the rest to its staker's pool.
    let pay1 = 400_000u128;
    let fee1 = pay1 / 400;
    let stakers1 = (pay1 - fee1) * 2_000 / 10_000;
    let pay0 = 200_000u128;
    let fee0 = pay0 / 400;
    assert_eq!(
        c.bal(&o1.addr(), "ucomp") - o1_before,
        pay1 - fee1 - stakers1
    );
    assert_eq!(c.bal(&o0.addr(), "ucomp") - o0_before, pay0 - fee0);
    assert_eq!(supply_before - c.supply("ucomp"), fee0 + fee1);
    let rewards = module_address("compute_rewards");
    assert_eq!(c.bal(&rewards, "ucomp"), stakers1);

    // The staker claims its share: all of it but the pool's rounding dust (under a unit),
    // which stays in the rewards account.
    let claim = {
        let addr = staker.addr().to_string();
        staker.tx(vec![any(&pb::MsgClaimRewards {
            staker: addr,
            device_id: 1,
        })])
    };
    let before = c.bal(&staker.addr(), "ucomp");
    c.ok(5, &[claim]);
    let got = c.bal(&staker.addr(), "ucomp") - before;
    assert!(got + 1 >= stakers1 && got <= stakers1, "{got}");
    assert_eq!(got + c.bal(&rewards, "ucomp"), stakers1);

    // Device 1 stops heartbeating: offline after 180 s, lease 0 closed. Device 1's part is
    // paid up to its last heartbeat, device 0's up to now; the rest goes back to the renter;
    // device 1 and its staker lose 5%.
    let last1 = c.device(1).device.unwrap().health.unwrap().last_heartbeat;
    let renter_before = c.bal(&renter.addr(), "ucomp");
    let (o0_before, o1_before) = (c.bal(&o0.addr(), "ucomp"), c.bal(&o1.addr(), "ucomp"));
    let supply_before = c.supply("ucomp");
    let mut closed_at = 0;
    for _ in 0..6 {
        let txs = [beat(&c, o0, 0, &w0), beat(&c, o0, 2, &w2)];
        let r = c.ok(50, &txs);
        if r.events
            .iter()
            .any(|e| e.r#type == "stoa.compute.v1.EventLeaseClosed")
        {
            closed_at = c.time;
            break;
        }
    }
    assert!(closed_at > 0, "lease 0 closed when device 1 went offline");
    // In the first block at or after its last heartbeat + offline_after (blocks are 50 s
    // apart), though its offline check was queued at its first heartbeat's deadline.
    assert!(
        closed_at >= last1 + 180 && closed_at < last1 + 180 + 50,
        "{closed_at} vs {last1}"
    );
    let l = c.lease(0);
    assert_eq!(
        (l.state.as_str(), l.close_reason.as_str()),
        ("closed", "device_offline")
    );
    assert_eq!(c.device(1).device.unwrap().status, "offline");
    // (Device 1 was last settled after its last heartbeat: nothing more is paid for it.)
    let t1 = last1.max(start + 1_000);
    let paid1 = 400 * (t1 - start) as u128 - pay1;
    let paid0 = 200 * (closed_at - start) as u128 - pay0;
    let refund = escrow_a - 400 * (t1 - start) as u128 - 200 * (closed_at - start) as u128;
    assert_eq!(c.bal(&renter.addr(), "ucomp") - renter_before, refund);
    let stakers1b = (paid1 - paid1 / 400) * 2_000 / 10_000;
    assert_eq!(
        c.bal(&o1.addr(), "ucomp") - o1_before,
        paid1 - paid1 / 400 - stakers1b
    );
    assert_eq!(c.bal(&o0.addr(), "ucomp") - o0_before, paid0 - paid0 / 400);
    let slash_self = STAKE / 20;
    let slash_co = 100_000_000 / 20;
    assert_eq!(
        supply_before - c.supply("ucomp"),
        paid0 / 400 + paid1 / 400 + slash_self + slash_co
    );
    let d1 = c.device(1).device.unwrap();
    assert_eq!(d1.self_stake, (STAKE - slash_self).to_string());
    let stakes: pb::QueryStakesResponse = c.query(
        "/stoa.compute.v1.Query/Stakes",
        &pb::QueryStakesRequest {
            device_id: 1,
            staker: String::new(),
            pagination: None,
        },
    );
    assert_eq!(
        stakes.stakes[0].amount,
        (100_000_000 - slash_co).to_string()
    );
    // Device 1 is no longer matched: an order for 4 GPUs waits (device 0 has 4 free).
    let o = {
        let addr = renter.addr().to_string();
        renter.tx(vec![any(&pb::MsgCreateOrder {
            renter: addr,
            gpu_model: "RTX3090".into(),
            region: "us".into(),
            gpu_count: 1,
            duration_s: 600,
            max_price: "1000000".into(),
            denom: "ucomp".into(),
        })])
    };
    c.ok(5, &[o]);
    let orders: pb::QueryOrdersResponse = c.query(
        "/stoa.compute.v1.Query/Orders",
        &pb::QueryOrdersRequest { pagination: None },
    );
    assert_eq!(orders.orders.last().unwrap().state, "open");

    // Lease 1 (uusdc, device 0) runs its escrow dry and closes; its supplier fees (2.25%) went
    // to the buyback pool, which a buyer fills with ucomp that is burned.
    let o0_usdc = c.bal(&o0.addr(), "uusdc");
    let end = c.lease(1).ends_at;
    while c.time <= end {
        let txs = [beat(&c, o0, 0, &w0), beat(&c, o0, 2, &w2)];
        c.ok(60, &txs);
    }
    let l = c.lease(1);
    assert_eq!(
        (l.state.as_str(), l.close_reason.as_str()),
        ("closed", "insufficient_funds")
    );
    // Device 0 answered far more than history_len (24) challenges: its history is the ring's
    // 24 latest samples in time order, the last one its last heartbeat; it never went offline.
    let q0 = c.device(0);
    let last0 = q0.device.as_ref().unwrap().health.unwrap().last_heartbeat;
    assert_eq!(q0.device.as_ref().unwrap().status, "online");
    assert_eq!(q0.history.len(), 24);
    assert!(q0.history.windows(2).all(|w| w[0].time < w[1].time));
    assert_eq!(q0.history.last().unwrap().time, last0);
    let supplier_fee = escrow_b * 225 / 10_000;
    assert_eq!(
        c.bal(&o0.addr(), "uusdc") - o0_usdc,
        escrow_b - supplier_fee
    );
    let pool = fee_b + supplier_fee;
    assert_eq!(c.bal(&bb, "uusdc"), pool);
    let q: pb::QueryBuybackResponse = c.query(
        "/stoa.compute.v1.Query/Buyback",
        &pb::QueryBuybackRequest {},
    );
    let price: stoa_framework::fixed::Dec = q.price.parse().unwrap();
    let cost = price.mul_ceil(pool).unwrap();
    let fill = |b: &mut Acct, max: u128| {
        let addr = b.addr().to_string();
        b.tx(vec![any(&pb::MsgFillBuyback {
            buyer: addr,
            amount: pool.to_string(),
            max_ucomp: max.to_string(),
        })])
    };
    let too_little = fill(buyer, cost / 2);
    let r = c.block(0, &[too_little]);
    assert_code(&r.tx_results[0], "compute", 17, "at most");
    let supply_before = c.supply("ucomp");
    let buyer_usdc = c.bal(&buyer.addr(), "uusdc");
    let t = fill(buyer, cost);
    c.ok(0, &[t]);
    assert_eq!(c.bal(&buyer.addr(), "uusdc") - buyer_usdc, pool);
    assert_eq!(supply_before - c.supply("ucomp"), cost);
    assert_eq!(c.bal(&bb, "uusdc"), 0);

    // Both apps agree on the leases (the app hashes were compared at every block).
    let leases = |app: &StoaApp| {
        let r = app.query(RequestQuery {
            data: pb::QueryLeasesRequest::default().encode_to_vec().into(),
            path: "/stoa.compute.v1.Query/Leases".into(),
            height: 0,
            prove: false,
        });
        pb::QueryLeasesResponse::decode(r.value.as_ref())
            .unwrap()
            .leases
    };
    assert_eq!(leases(&c.apps[0]), leases(&c.apps[1]));
    assert_eq!(leases(&c.apps[0]).len(), 2);
}

/// The figures `stoad sim compute-emission` prints (cmd/tests/cli_sim_compute.rs has the same
/// literals): ucomp emitted after month 1 and after month 12, and the pool.
const MONTH_1: u128 = 3_524_486_199_736;
const YEAR_1: u128 = 40_000_000_000_000;
const POOL: u128 = 300_000_000_000_000;

#[test]
fn emission_follows_the_schedule_to_online_devices_by_weight() {
    let keys: Vec<Key> = (21..=24).map(Key::secp).collect();
    let (w0, w1, w2) = (Key::ed(31), Key::ed(32), Key::ed(33));
    // Devices stay online without heartbeats for the months this test jumps over.
    let p = ComputeParams {
        offline_after: 100 * 12 * MONTH,
        ..Default::default()
    };
    let g = genesis(&keys.iter().map(Key::address).collect::<Vec<_>>(), &p);
    let mut c = Chain::new(1, &g);
    c.ok(5, &[]);
    let start = c.time; // the first end block starts the emission
    let mut a = accounts(&c, keys);
    let [o0, o1, o2, staker] = &mut a[..] else {
        unreachable!()
    };
    // Weights (multiplier x GPUs, COMPUTE.md rule 8): 1.5 x 2 = 3, 1 x 4 = 4, 4 x 1 = 4.
    let (wt0, wt1, wt2) = (3u128, 4u128, 4u128);
    let txs = [
        o0.tx(vec![register(
            &o0.addr(),
            &w0,
            "RTX4090",
            2,
            "eu",
            600_000_000,
        )]),
        o1.tx(vec![register(&o1.addr(), &w1, "RTX3090", 4, "us", STAKE)]),
        o2.tx(vec![register(
            &o2.addr(),
            &w2,
            "H100",
            1,
            "us",
            800_000_000,
        )]),
        staker.tx(vec![any(&pb::MsgStake {
            staker: staker.addr().to_string(),
            device_id: 1,
            amount: "100000000".into(),
        })]),
    ];
    c.ok(5, &txs);
    // Devices 0 and 1 come online; device 2 only after month 12.
    let beat = |c: &Chain, a: &mut Acct, dev: u64, w: &Key| {
        let m = c.heartbeat(&a.addr(), dev, w);
        a.tx(vec![any(&m)])
    };
    let txs = [beat(&c, o0, 0, &w0), beat(&c, o1, 1, &w1)];
    c.ok(5, &txs);
    let emission = |c: &Chain| -> pb::QueryEmissionResponse {
        c.query(
            "/stoa.compute.v1.Query/Emission",
            &pb::QueryEmissionRequest {},
        )
    };
    assert_eq!(emission(&c).emission.unwrap().start, start);

    // Hour by hour for a day: each tick mints exactly what the schedule adds.
    let supply0 = c.supply("ucomp");
    for _ in 0..24 {
        c.ok(3_600, &[]);
    }
    let e = emission(&c);
    let t = e.emission.as_ref().unwrap().last_tick - start;
    let want = emitted_by(&p.emission, t);
    assert_eq!(e.emission.unwrap().emitted, want.to_string());
    assert_eq!(c.supply("ucomp") - supply0, want);

    // To the end of month 1, of month 12, and past the pool's end (month 198): the same
    // function, and the same figures `stoad sim compute-emission` prints.
    let at = |c: &mut Chain, when: i64| {
        let dt = start + when - c.time;
        c.ok(dt, &[]);
        let e = emission(c);
        assert_eq!(e.emission.as_ref().unwrap().last_tick, start + when);
        let got: u128 = e.emission.unwrap().emitted.parse().unwrap();
        assert_eq!(got, emitted_by(&p.emission, when));
        got
    };
    assert_eq!(at(&mut c, MONTH), MONTH_1);
    assert_eq!(MONTH_1, month_amount(&p.emission, 1));
    let year = at(&mut c, 12 * MONTH);
    assert_eq!(year, YEAR_1);
    assert!(year.abs_diff(40_000_000_000_000) <= 1, "{year}");
    // Device 2 comes online now: it shares only what is emitted from here on.
    let txs = [beat(&c, o2, 2, &w2)];
    c.ok(5, &txs);
    assert_eq!(at(&mut c, 200 * MONTH), POOL);
    assert_eq!(POOL, p.emission.total);
    assert_eq!(c.supply("ucomp") - supply0, POOL);

    // Paid out by weight to the devices online at each tick: year one to devices 0 and 1
    // (3 : 4), the rest to all three (3 : 4 : 4); device 1's staker gets 20% of device 1's.
    let before: Vec<u128> = [o0.addr(), o1.addr(), o2.addr(), staker.addr()]
        .iter()
        .map(|x| c.bal(x, "ucomp"))
        .collect();
    let claim = |a: &mut Acct, dev: u64| {
        let addr = a.addr().to_string();
        a.tx(vec![any(&pb::MsgClaimRewards {
            staker: addr,
            device_id: dev,
        })])
    };
    let txs = [claim(o0, 0), claim(staker, 1), claim(o2, 2)];
    c.ok(5, &txs);
    let gain: Vec<u128> = [o0.addr(), o1.addr(), o2.addr(), staker.addr()]
        .iter()
        .zip(&before)
        .map(|(x, b)| c.bal(x, "ucomp") - b)
        .collect();
    let rest = POOL - YEAR_1;
    let share = |w: u128| YEAR_1 * w / (wt0 + wt1) + rest * w / (wt0 + wt1 + wt2);
    let want0 = share(wt0);
    let want1 = share(wt1);
    let want2 = rest * wt2 / (wt0 + wt1 + wt2);
    assert!(gain[0].abs_diff(want0) <= 3, "{gain:?} vs {want0}");
    assert!(gain[2].abs_diff(want2) <= 3, "{gain:?} vs {want2}");
    assert!(
        (gain[1] + gain[3]).abs_diff(want1) <= 3,
        "{gain:?} vs {want1}"
    );
    assert!(gain[3].abs_diff(want1 * 2_000 / 10_000) <= 3, "{gain:?}");
    // Nothing is left unpaid but rounding dust.
    let rewards = module_address("compute_rewards");
    assert!(
        c.bal(&rewards, "ucomp") <= 10,
        "{}",
        c.bal(&rewards, "ucomp")
    );
}
