//! The compute market's end-block matching (`stoa_compute::market::match_orders`) against an
//! on-disk store holding 10,000, 100,000 and 1,000,000 registered online devices and 1,000
//! open orders: once with the default params (100 orders tried per block, round robin) and
//! once trying all 1,000 in the block. Orders ask for a GPU model, sometimes a region, one to
//! sixteen GPUs (clusters across devices); each iteration matches them from the same committed
//! state (its writes are discarded). Growth with the device count must stay flat: matching
//! reads the (model, rank) index, never all devices.
//!
//! Run: `cargo bench -p stoa-app --bench compute_matching` (`STOA_BENCH_DEVICES=10000,100000`
//! to choose the sizes).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use stoa_app::{AppOptions, StoaApp};
use stoa_compute::device::refile;
use stoa_compute::state::{DEVICES, NEXT_DEVICE, NEXT_ORDER, OPEN_ORDERS, ORDERS};
use stoa_compute::ComputeParams;
use stoa_framework::{Address, BlockInfo, Ctx, ExecMode, State, Store};
use stoa_proto::compute::v1 as pb;

#[global_allocator]
static ALLOCATOR: stoa_app::allocator::Allocator = stoa_app::allocator::Allocator;

const ORDERS_OPEN: u64 = 1_000;
const MODELS: [&str; 6] = ["H100", "A100", "L40S", "RTX4090", "RTX3090", "CPU"];
const REGIONS: [&str; 4] = ["eu", "us", "asia", "sa"];
const CHAIN_ID: &str = "stoa-bench";
const T0: i64 = 1_700_000_000;

/// A small deterministic mixer for the synthetic data.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn block(height: u64, time: i64) -> BlockInfo {
    BlockInfo {
        chain_id: CHAIN_ID.into(),
        height,
        time_seconds: time,
        time_nanos: 0,
        hash: vec![height as u8; 32],
        proposer: vec![1; 20],
    }
}

fn device(id: u64, owner: &Address) -> pb::Device {
    let r = mix(id);
    let gpus = [1u32, 1, 2, 4, 8][(r % 5) as usize];
    let price = 360_000 + (r >> 8) % 400_000;
    let stake = 200_000_000u128 * 4 * u128::from(gpus) + u128::from((r >> 20) % 1_000) * 1_000_000;
    let up = 3_600 + (r >> 30) % 100_000;
    pb::Device {
        id,
        owner: owner.to_string(),
        worker_key: vec![1; 32],
        enc_key: vec![2; 32],
        gpu_model: MODELS[((r >> 4) % MODELS.len() as u64) as usize].into(),
        gpu_count: gpus,
        vram_gib: 80,
        cpu_cores: 32,
        ram_gib: 256,
        bandwidth_mbps: 10_000,
        region: REGIONS[((r >> 6) % REGIONS.len() as u64) as usize].into(),
        prices: vec![pb::Price {
            denom: "ucomp".into(),
            amount: price.to_string(),
        }],
        self_stake: stake.to_string(),
        co_stake: "0".into(),
        co_shares: "0".into(),
        status: "online".into(),
        health: Some(pb::DeviceHealth {
            last_heartbeat: T0,
            uptime_s: up,
            downtime_s: (r >> 50) % 3_600,
            ..Default::default()
        }),
        staker_share_bps: 1_000,
        registered_at: T0,
        ..Default::default()
    }
}

/// The order's deposit as `MsgCreateOrder` escrows it (cost at the max price + 0.25%).
fn deposit(max: u128, gpus: u32, secs: u64) -> u128 {
    let cost = max * u128::from(gpus) / 3_600 * u128::from(secs);
    cost + cost * 25 / 10_000
}

fn order(id: u64, renter: &Address) -> pb::Order {
    let r = mix(id ^ 0xabcdef);
    let gpus = [1u32, 1, 2, 4, 8, 16][(r % 6) as usize];
    let max = 800_000u128;
    let secs = 3_600;
    pb::Order {
        id,
        renter: renter.to_string(),
        gpu_model: MODELS[((r >> 4) % MODELS.len() as u64) as usize].into(),
        region: if (r >> 8).is_multiple_of(4) {
            REGIONS[((r >> 12) % REGIONS.len() as u64) as usize].into()
        } else {
            String::new()
        },
        gpu_count: gpus,
        duration_s: secs,
        max_price: max.to_string(),
        denom: "ucomp".into(),
        deposit: deposit(max, gpus, secs).to_string(),
        state: "open".into(),
        created_at: T0,
        lease_id: 0,
    }
}

struct Market {
    store: Store,
    version: u64,
    _dir: tempfile::TempDir,
}

fn commit(store: &Store, state: &mut State, version: u64) {
    let writes = state.take_writes();
    store.prepare_owned(version, writes).expect("prepare");
    store.commit().expect("commit");
}

/// A chain at genesis (escrow funded for the orders), then `n` devices and the orders written
/// and committed in chunks, as if registered and heartbeating.
fn market(n: u64, params: &ComputeParams) -> Market {
    let renter = Address::from_slice(&[7; 20]).expect("address");
    let owner = Address::from_slice(&[8; 20]).expect("address");
    let escrow: u128 = (0..ORDERS_OPEN)
        .map(|i| order(i, &renter).deposit.parse::<u128>().expect("deposit"))
        .sum();
    let mut genesis = stoa_app::default_app_state();
    let balances = genesis["bank"]["balances"]
        .as_array_mut()
        .expect("balances");
    balances.push(serde_json::json!({
        "address": renter.to_string(),
        "coins": [{"denom": "ucomp", "amount": escrow.to_string()}],
    }));
    genesis["compute"] = serde_json::json!({ "params": params });
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 1000).expect("store");
    let app = StoaApp::new(store.clone(), AppOptions::default());
    app.apply_genesis(CHAIN_ID, 1, &genesis).expect("genesis");
    let hdr = stoa_app::lifecycle::BlockHeader {
        height: 1,
        time_seconds: T0,
        time_nanos: 0,
        hash: vec![1; 32],
        proposer: vec![1; 20],
    };
    app.execute_block(&hdr, &[]).expect("block 1");
    app.commit_block().expect("commit 1");
    drop(app);
    let mut version = store.last_commit().map_or(0, |c| c.version);
    let started = Instant::now();
    let chunk = 50_000;
    let mut next = 0;
    while next < n {
        let mut state = State::new(store.clone());
        {
            let mut ctx = Ctx::unmetered(&mut state, block(version + 1, T0), ExecMode::Finalize);
            ctx.in_module(stoa_compute::MODULE_NAME, |ctx| {
                for id in next..(next + chunk).min(n) {
                    let mut d = device(id, &owner);
                    refile(ctx, &mut d)?;
                    DEVICES.save(ctx, &id, &d)?;
                }
                NEXT_DEVICE.save(ctx, &(next + chunk).min(n))
            })
            .expect("devices");
        }
        version += 1;
        commit(&store, &mut state, version);
        next += chunk;
    }
    let mut state = State::new(store.clone());
    {
        let mut ctx = Ctx::unmetered(&mut state, block(version + 1, T0), ExecMode::Finalize);
        ctx.in_module(stoa_compute::MODULE_NAME, |ctx| {
            // The deposits move into escrow, as `MsgCreateOrder` moves them.
            let coins =
                stoa_framework::Coins::from_list(vec![stoa_framework::Coin::new(escrow, "ucomp")])?;
            stoa_bank::BankSend::send_to_module(
                &stoa_bank::BankKeeper,
                ctx,
                &renter,
                stoa_compute::ESCROW,
                &coins,
            )?;
            for id in 0..ORDERS_OPEN {
                ORDERS.save(ctx, &id, &order(id, &renter))?;
                OPEN_ORDERS.save(ctx, &id, &vec![1])?;
            }
            NEXT_ORDER.save(ctx, &ORDERS_OPEN)
        })
        .expect("orders");
    }
    version += 1;
    commit(&store, &mut state, version);
    eprintln!(
        "compute_matching: {n} devices and {ORDERS_OPEN} orders written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Market {
        store,
        version,
        _dir: dir,
    }
}

impl Market {
    /// One end-block matching on top of the committed state; returns (time, leases opened).
    fn match_once(&self) -> (Duration, u64) {
        let mut state = State::new(self.store.clone());
        let mut ctx = Ctx::unmetered(
            &mut state,
            block(self.version + 1, T0 + 5),
            ExecMode::Finalize,
        );
        let start = Instant::now();
        ctx.in_module(stoa_compute::MODULE_NAME, |ctx| {
            stoa_compute::market::match_orders(&stoa_bank::BankKeeper, ctx)
        })
        .expect("match");
        let took = start.elapsed();
        let leases = ctx
            .events()
            .iter()
            .filter(|e| e.kind == "stoa.compute.v1.EventLeaseOpened")
            .count() as u64;
        (took, leases)
    }
}

fn sizes() -> Vec<u64> {
    std::env::var("STOA_BENCH_DEVICES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

/// Stores `params` as a new committed version (the next matching reads them).
fn set_params(m: &mut Market, params: &ComputeParams) {
    let mut state = State::new(m.store.clone());
    {
        let mut ctx = Ctx::unmetered(&mut state, block(m.version + 1, T0), ExecMode::Finalize);
        ctx.in_module(stoa_compute::MODULE_NAME, |ctx| {
            stoa_framework::params::store(ctx, params)
        })
        .expect("params");
    }
    m.version += 1;
    commit(&m.store, &mut state, m.version);
}

fn bench(c: &mut Criterion) {
    stoa_app::allocator::keep_freed_memory();
    let mut group = c.benchmark_group("compute_matching");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut summary = Vec::new();
    for n in sizes() {
        let all = ComputeParams {
            max_orders_per_block: ORDERS_OPEN as u32,
            ..Default::default()
        };
        let mut m = market(n, &all);
        for (label, params) in [
            ("all_1000_orders_tried", all.clone()),
            ("default_100_orders_tried", ComputeParams::default()),
        ] {
            set_params(&mut m, &params);
            let mut times = Vec::new();
            let mut leases = 0;
            group.bench_function(BenchmarkId::new(label, n), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (t, l) = m.match_once();
                        times.push(t);
                        leases = l;
                        total += t;
                    }
                    total
                })
            });
            times.sort();
            let med = times[times.len() / 2];
            summary.push(format!(
                "{n:>9} devices, {label:>24}: median {:>7.1} ms, {leases} leases opened",
                med.as_secs_f64() * 1e3
            ));
        }
    }
    group.finish();
    println!("\n== compute end-block matching, {ORDERS_OPEN} open orders ==");
    for line in summary {
        println!("{line}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
