//! `stoad query compute ...` and `stoad tx compute ...`: the compute market's queries (over
//! gRPC, every page fetched; devices ranked as end-block matching ranks them) printed as tables
//! or, with `--output json`, as the proto messages; and one tx command per message of
//! `stoa.compute.v1`, each built here and sent through `tx::sign_and_broadcast`. The heartbeat
//! command reads the device's current challenge, answers it and signs it with the worker key,
//! as the worker agent does.

use super::tx::sign_and_broadcast;
use super::Ctx;
use crate::cli::{NodeArgs, TxFlags};
use crate::client;
use crate::keyring::{Algo, PrivKey};
use crate::output::{kv_table, print_json, proto_json, table};
use anyhow::{anyhow, bail, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::Any;
use prost::{Message, Name};
use stoa_compute::emission::emitted_by;
use stoa_compute::heartbeat::{challenge_answer, heartbeat_sign_bytes};
use stoa_compute::ComputeParams;
use stoa_framework::Coins;
use stoa_proto::compute::v1 as pb;
use stoa_proto::compute::v1::query_client::QueryClient;
use tonic::transport::Channel;

// ---- queries ---------------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub enum ComputeQuery {
    /// Devices ranked as matching ranks them: those that can be matched now (online, not
    /// spoofed, free GPUs) first, best rank first (ties to the lower id), then the others.
    Devices {
        /// online, offline, jailed or retired.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        gpu_model: Option<String>,
        #[arg(long)]
        region: Option<String>,
    },
    /// One device with its health history and current challenge.
    Device { id: u64 },
    /// Orders (all, or a renter's / in one state).
    Orders {
        /// A stoa1... address or a key name.
        #[arg(long)]
        renter: Option<String>,
        /// open, matched, cancelled or expired.
        #[arg(long)]
        state: Option<String>,
    },
    /// Leases (all, or a renter's).
    Leases {
        /// A stoa1... address or a key name.
        #[arg(long)]
        renter: Option<String>,
    },
    /// One lease with its parts (device, GPUs, rate, paid, refunded).
    Lease { id: u64 },
    /// The job records of a lease.
    Jobs { lease: u64 },
    /// Stakes: a device's, a staker's, or all.
    Stakes {
        #[arg(long, conflicts_with = "staker")]
        device: Option<u64>,
        /// A stoa1... address or a key name.
        #[arg(long)]
        staker: Option<String>,
    },
    /// The buyback auction: uusdc waiting, the price now, totals sold and burned.
    Buyback,
    /// Emission: emitted so far, what the schedule says by now, this month's and this hour's
    /// amount.
    Emission,
    /// The module's params (JSON).
    Params,
}

async fn query_client(node: &NodeArgs) -> Result<QueryClient<Channel>> {
    Ok(QueryClient::new(client::grpc(&node.grpc).await?))
}

fn g(what: &str) -> impl FnOnce(tonic::Status) -> anyhow::Error + '_ {
    move |s| client::grpc_error(what, s)
}

/// Calls a paginated query until the last page; returns every item.
async fn all_pages<T, F, Fut>(mut call: F) -> Result<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<PageResponse>)>>,
{
    let mut out = Vec::new();
    let mut key = Vec::new();
    loop {
        let page = PageRequest {
            key: key.clone(),
            limit: 500,
            ..Default::default()
        };
        let (items, next) = call(page).await?;
        out.extend(items);
        match next {
            Some(p) if !p.next_key.is_empty() && p.next_key != key => key = p.next_key,
            _ => return Ok(out),
        }
    }
}

async fn params(q: &mut QueryClient<Channel>) -> Result<ComputeParams> {
    let r = q
        .params(pb::QueryParamsRequest {})
        .await
        .map_err(g("compute params query"))?
        .into_inner();
    serde_json::from_str(&r.params_json).map_err(|e| anyhow!("compute params: {e}"))
}

/// Whether end-block matching can pick the device now (as the module's `refile` decides).
pub fn matchable(d: &pb::Device) -> bool {
    d.status == "online" && !d.spoofed && d.gpus_leased < d.gpu_count
}

/// The devices in matching order: matchable first, then by rank (higher first), then id.
pub fn rank_order(devices: &mut [pb::Device]) {
    devices.sort_by_key(|d| (!matchable(d), std::cmp::Reverse(d.rank), d.id));
}

fn total_stake(d: &pb::Device) -> u128 {
    let p = |s: &str| s.parse::<u128>().unwrap_or(0);
    p(&d.self_stake).saturating_add(p(&d.co_stake))
}

fn uptime_pct(h: &pb::DeviceHealth) -> String {
    let seen = h.uptime_s.saturating_add(h.downtime_s);
    if seen == 0 {
        return "-".into();
    }
    let bps = u128::from(h.uptime_s) * 10_000 / u128::from(seen);
    format!("{}.{:02}", bps / 100, bps % 100)
}

fn prices(ps: &[pb::Price]) -> String {
    ps.iter()
        .map(|p| format!("{}{}", p.amount, p.denom))
        .collect::<Vec<_>>()
        .join(", ")
}

fn hex_short(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    hex::encode(b)
}

pub async fn run_query(ctx: &Ctx, node: &NodeArgs, cmd: ComputeQuery) -> Result<()> {
    let mut q = query_client(node).await?;
    match cmd {
        ComputeQuery::Devices {
            status,
            gpu_model,
            region,
        } => {
            let req = pb::QueryDevicesRequest {
                status: status.unwrap_or_default(),
                gpu_model: gpu_model.unwrap_or_default(),
                region: region.unwrap_or_default(),
                pagination: None,
            };
            let mut devices = all_pages(|page| {
                let mut q = q.clone();
                let mut r = req.clone();
                r.pagination = Some(page);
                async move {
                    let r = q
                        .devices(r)
                        .await
                        .map_err(g("compute devices query"))?
                        .into_inner();
                    Ok((r.devices, r.pagination))
                }
            })
            .await?;
            rank_order(&mut devices);
            if ctx.json() {
                return print_json(&proto_json(&pb::QueryDevicesResponse {
                    devices,
                    pagination: None,
                })?);
            }
            let mut t = table(&[
                "rank",
                "device",
                "GPU",
                "region",
                "status",
                "uptime %",
                "stake",
                "price/GPU-h",
                "jobs ok/failed",
            ]);
            for (i, d) in devices.iter().enumerate() {
                let h = d.health.unwrap_or_default();
                t.add_row(vec![
                    if matchable(d) {
                        (i + 1).to_string()
                    } else {
                        "-".into()
                    },
                    d.id.to_string(),
                    format!(
                        "{} x {}{}",
                        d.gpu_model,
                        d.gpu_count,
                        if d.gpus_leased > 0 {
                            format!(" ({} leased)", d.gpus_leased)
                        } else {
                            String::new()
                        }
                    ),
                    d.region.clone(),
                    if d.spoofed {
                        format!("{} (spoofed)", d.status)
                    } else {
                        d.status.clone()
                    },
                    uptime_pct(&h),
                    total_stake(d).to_string(),
                    prices(&d.prices),
                    format!("{}/{}", h.jobs_ok, h.jobs_failed),
                ]);
            }
            crate::outln!("{t}");
            if devices.is_empty() {
                crate::outln!("(no devices)");
            }
        }
        ComputeQuery::Device { id } => {
            let r = q
                .device(pb::QueryDeviceRequest { device_id: id })
                .await
                .map_err(g("compute device query"))?
                .into_inner();
            if ctx.json() {
                return print_json(&proto_json(&r)?);
            }
            let d = r.device.clone().unwrap_or_default();
            let h = d.health.unwrap_or_default();
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            crate::outln!(
                "{}",
                kv_table(&[
                    ("device", d.id.to_string()),
                    ("owner", d.owner.clone()),
                    ("status", d.status.clone()),
                    ("spoofed", d.spoofed.to_string()),
                    (
                        "GPUs",
                        format!(
                            "{} x {} ({} GiB VRAM), {} leased",
                            d.gpu_model, d.gpu_count, d.vram_gib, d.gpus_leased
                        )
                    ),
                    (
                        "host",
                        format!(
                            "{} cores, {} GiB RAM, {} Mbit/s",
                            d.cpu_cores, d.ram_gib, d.bandwidth_mbps
                        )
                    ),
                    ("region", d.region.clone()),
                    ("prices per GPU-hour", prices(&d.prices)),
                    ("self stake", d.self_stake.clone()),
                    (
                        "co-stake",
                        format!("{} ({} shares)", d.co_stake, d.co_shares)
                    ),
                    ("staker share", format!("{} bps", d.staker_share_bps)),
                    ("rank score", d.rank.to_string()),
                    ("uptime %", uptime_pct(&h)),
                    (
                        "uptime / downtime",
                        format!("{} s / {} s", h.uptime_s, h.downtime_s)
                    ),
                    (
                        "jobs ok / failed",
                        format!("{} / {}", h.jobs_ok, h.jobs_failed)
                    ),
                    ("last heartbeat", h.last_heartbeat.to_string()),
                    ("last challenge", d.last_challenge.to_string()),
                    ("current challenge", r.challenge_time.to_string()),
                    ("worker key (base64)", b64(&d.worker_key)),
                    ("enc key (base64)", b64(&d.enc_key)),
                    ("attestations", d.attestations.len().to_string()),
                ])
            );
            let mut t = table(&["time", "net Mbit/s", "GPU util %", "GPU °C"]);
            for s in &r.history {
                t.add_row(vec![
                    s.time.to_string(),
                    s.net_mbps.to_string(),
                    format!("{}.{:02}", s.gpu_util_bps / 100, s.gpu_util_bps % 100),
                    s.gpu_temp_c.to_string(),
                ]);
            }
            crate::outln!("health history ({} samples):\n{t}", r.history.len());
        }
        ComputeQuery::Orders { renter, state } => {
            let renter = match renter {
                Some(r) => Some(ctx.resolve_address(&r)?.to_string()),
                None => None,
            };
            let mut orders = all_pages(|page| {
                let mut q = q.clone();
                async move {
                    let r = q
                        .orders(pb::QueryOrdersRequest {
                            pagination: Some(page),
                        })
                        .await
                        .map_err(g("compute orders query"))?
                        .into_inner();
                    Ok((r.orders, r.pagination))
                }
            })
            .await?;
            orders.retain(|o| {
                renter.as_ref().is_none_or(|r| &o.renter == r)
                    && state.as_ref().is_none_or(|s| &o.state == s)
            });
            if ctx.json() {
                return print_json(&proto_json(&pb::QueryOrdersResponse {
                    orders,
                    pagination: None,
                })?);
            }
            let mut t = table(&[
                "order",
                "renter",
                "GPU",
                "region",
                "seconds",
                "max price",
                "deposit",
                "state",
                "lease",
            ]);
            for o in &orders {
                t.add_row(vec![
                    o.id.to_string(),
                    o.renter.clone(),
                    format!("{} x {}", o.gpu_model, o.gpu_count),
                    if o.region.is_empty() {
                        "any".into()
                    } else {
                        o.region.clone()
                    },
                    o.duration_s.to_string(),
                    format!("{}{}", o.max_price, o.denom),
                    format!("{}{}", o.deposit, o.denom),
                    o.state.clone(),
                    if o.state == "matched" {
                        o.lease_id.to_string()
                    } else {
                        "-".into()
                    },
                ]);
            }
            crate::outln!("{t}");
        }
        ComputeQuery::Leases { renter } => {
            let renter = match renter {
                Some(r) => ctx.resolve_address(&r)?.to_string(),
                None => String::new(),
            };
            let leases = all_pages(|page| {
                let mut q = q.clone();
                let renter = renter.clone();
                async move {
                    let r = q
                        .leases(pb::QueryLeasesRequest {
                            renter,
                            pagination: Some(page),
                        })
                        .await
                        .map_err(g("compute leases query"))?
                        .into_inner();
                    Ok((r.leases, r.pagination))
                }
            })
            .await?;
            if ctx.json() {
                return print_json(&proto_json(&pb::QueryLeasesResponse {
                    leases,
                    pagination: None,
                })?);
            }
            let mut t = table(&[
                "lease",
                "order",
                "renter",
                "devices (GPUs)",
                "rate/s",
                "state",
                "created",
                "ends",
                "closed (reason)",
            ]);
            for l in &leases {
                t.add_row(lease_row(l));
            }
            crate::outln!("{t}");
        }
        ComputeQuery::Lease { id } => {
            let r = q
                .lease(pb::QueryLeaseRequest { lease_id: id })
                .await
                .map_err(g("compute lease query"))?
                .into_inner();
            if ctx.json() {
                return print_json(&proto_json(&r)?);
            }
            let l = r.lease.unwrap_or_default();
            let row = lease_row(&l);
            crate::outln!(
                "{}",
                kv_table(&[
                    ("lease", row[0].clone()),
                    ("order", row[1].clone()),
                    ("renter", row[2].clone()),
                    ("denom", l.denom.clone()),
                    ("rate/s", row[4].clone()),
                    ("state", row[5].clone()),
                    ("created", row[6].clone()),
                    ("ends", row[7].clone()),
                    ("closed (reason)", row[8].clone()),
                    ("renter fee", l.renter_fee.clone()),
                ])
            );
            let mut t = table(&[
                "device",
                "GPUs",
                "price/GPU-h",
                "rate/s",
                "paid",
                "refunded",
            ]);
            for p in &l.parts {
                t.add_row(vec![
                    p.device_id.to_string(),
                    p.gpu_count.to_string(),
                    p.price_per_gpu_hour.clone(),
                    p.rate_per_s.clone(),
                    p.paid.clone(),
                    p.refunded.clone(),
                ]);
            }
            crate::outln!("{t}");
        }
        ComputeQuery::Jobs { lease } => {
            let jobs = all_pages(|page| {
                let mut q = q.clone();
                async move {
                    let r = q
                        .jobs(pb::QueryJobsRequest {
                            lease_id: lease,
                            pagination: Some(page),
                        })
                        .await
                        .map_err(g("compute jobs query"))?
                        .into_inner();
                    Ok((r.jobs, r.pagination))
                }
            })
            .await?;
            if ctx.json() {
                return print_json(&proto_json(&pb::QueryJobsResponse {
                    jobs,
                    pagination: None,
                })?);
            }
            let mut t = table(&[
                "job",
                "device",
                "status",
                "exit",
                "payload bytes",
                "payload sha256",
                "log sha256",
                "result sha256",
                "started",
                "ended",
            ]);
            for j in &jobs {
                t.add_row(vec![
                    j.job_id.to_string(),
                    j.device_id.to_string(),
                    j.status.clone(),
                    j.exit_code.to_string(),
                    j.payload_size.to_string(),
                    hex_short(&j.payload_hash),
                    hex_short(&j.log_hash),
                    hex_short(&j.result_hash),
                    j.started.to_string(),
                    j.ended.to_string(),
                ]);
            }
            crate::outln!("{t}");
        }
        ComputeQuery::Stakes { device, staker } => {
            let staker = match staker {
                Some(s) => ctx.resolve_address(&s)?.to_string(),
                None => String::new(),
            };
            // The service lists one device's stakes or one staker's; "all" walks the devices.
            let devices: Vec<u64> = match (device, staker.is_empty()) {
                (Some(d), _) => vec![d],
                (None, false) => vec![0],
                (None, true) => {
                    all_pages(|page| {
                        let mut q = q.clone();
                        async move {
                            let r = q
                                .devices(pb::QueryDevicesRequest {
                                    pagination: Some(page),
                                    ..Default::default()
                                })
                                .await
                                .map_err(g("compute devices query"))?
                                .into_inner();
                            Ok((r.devices.iter().map(|d| d.id).collect(), r.pagination))
                        }
                    })
                    .await?
                }
            };
            let mut stakes = Vec::new();
            for d in devices {
                let staker = staker.clone();
                stakes.extend(
                    all_pages(|page| {
                        let mut q = q.clone();
                        let staker = staker.clone();
                        async move {
                            let r = q
                                .stakes(pb::QueryStakesRequest {
                                    device_id: d,
                                    staker,
                                    pagination: Some(page),
                                })
                                .await
                                .map_err(g("compute stakes query"))?
                                .into_inner();
                            Ok((r.stakes, r.pagination))
                        }
                    })
                    .await?,
                );
            }
            if ctx.json() {
                return print_json(&proto_json(&pb::QueryStakesResponse {
                    stakes,
                    pagination: None,
                })?);
            }
            let mut t = table(&["device", "staker", "shares", "amount"]);
            for s in &stakes {
                t.add_row(vec![
                    s.device_id.to_string(),
                    s.staker.clone(),
                    s.shares.clone(),
                    s.amount.clone(),
                ]);
            }
            crate::outln!("{t}");
        }
        ComputeQuery::Buyback => {
            let r = q
                .buyback(pb::QueryBuybackRequest {})
                .await
                .map_err(g("compute buyback query"))?
                .into_inner();
            if ctx.json() {
                return print_json(&proto_json(&r)?);
            }
            let b = r.buyback.unwrap_or_default();
            crate::outln!(
                "{}",
                kv_table(&[
                    ("uusdc for sale", b.pool),
                    ("price now (ucomp per uusdc)", r.price),
                    ("round start", b.round_start.to_string()),
                    ("round start price", b.start_price),
                    ("uusdc sold", b.sold_total),
                    ("ucomp burned", b.burned_total),
                ])
            );
        }
        ComputeQuery::Emission => {
            let p = params(&mut q).await?;
            let r = q
                .emission(pb::QueryEmissionRequest {})
                .await
                .map_err(g("compute emission query"))?
                .into_inner();
            let e = r.emission.clone().unwrap_or_default();
            let hour = this_hour(&p, &e);
            if ctx.json() {
                let mut v = proto_json(&r)?;
                v["this_hour"] = serde_json::Value::String(hour.to_string());
                return print_json(&v);
            }
            crate::outln!(
                "{}",
                kv_table(&[
                    ("emitted so far (ucomp)", e.emitted),
                    ("scheduled by the last block", r.scheduled),
                    ("this hour's amount", hour.to_string()),
                    ("month", r.month.to_string()),
                    ("this month's amount", r.month_amount),
                    ("started at", e.start.to_string()),
                    ("last tick", e.last_tick.to_string()),
                ])
            );
        }
        ComputeQuery::Params => {
            let r = q
                .params(pb::QueryParamsRequest {})
                .await
                .map_err(g("compute params query"))?
                .into_inner();
            let v: serde_json::Value =
                serde_json::from_str(&r.params_json).map_err(|e| anyhow!("compute params: {e}"))?;
            if ctx.json() {
                return print_json(&v);
            }
            let rows: Vec<(String, String)> = v
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
                .unwrap_or_default();
            let rows: Vec<(&str, String)> =
                rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            crate::outln!("{}", kv_table(&rows));
        }
    }
    Ok(())
}

/// What the tick ending the current hour mints: the schedule's growth over the hour that
/// started at the last tick (the same function the module pays by).
pub fn this_hour(p: &ComputeParams, e: &pb::Emission) -> u128 {
    if e.start == 0 {
        return 0;
    }
    let t = e.last_tick.max(e.start) - e.start;
    let s = &p.emission;
    emitted_by(s, t.saturating_add(s.tick_seconds)).saturating_sub(emitted_by(s, t))
}

fn lease_row(l: &pb::Lease) -> Vec<String> {
    let rate: u128 = l
        .parts
        .iter()
        .map(|p| p.rate_per_s.parse::<u128>().unwrap_or(0))
        .sum();
    vec![
        l.id.to_string(),
        l.order_id.to_string(),
        l.renter.clone(),
        l.parts
            .iter()
            .map(|p| format!("{} ({})", p.device_id, p.gpu_count))
            .collect::<Vec<_>>()
            .join(", "),
        format!("{rate}{}", l.denom),
        l.state.clone(),
        l.created_at.to_string(),
        l.ends_at.to_string(),
        if l.state == "closed" {
            format!("{} ({})", l.closed_at, l.close_reason)
        } else {
            "-".into()
        },
    ]
}

// ---- transactions ----------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub enum ComputeTx {
    /// Register a device behind self-stake (default: the per-device formula's minimum).
    RegisterDevice(Box<RegisterDeviceArgs>),
    /// Change a device's keys, prices, region or staker share, or add self-stake.
    UpdateDevice(Box<UpdateDeviceArgs>),
    /// Retire a device (no active lease): its self-stake unbonds.
    DeregisterDevice {
        /// The owner's key name.
        from: String,
        device: u64,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Co-stake ucomp on a device: stoad tx compute stake KEY DEVICE 100000000ucomp
    Stake {
        from: String,
        device: u64,
        /// ucomp, e.g. 100000000ucomp (or a bare number of ucomp).
        amount: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Unstake (unbonds; during a lease the slashable part stays locked).
    Unstake {
        from: String,
        device: u64,
        amount: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Claim a staker's (or the owner's) rewards on a device.
    ClaimRewards {
        from: String,
        device: u64,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Answer the device's current challenge, signed by its worker key.
    Heartbeat(Box<HeartbeatArgs>),
    /// Attest a device (attestors named in params only).
    Attest {
        from: String,
        device: u64,
        /// Mark the device spoofed (jails it); without it, a clean attestation.
        #[arg(long)]
        spoofed: bool,
        /// sha256 of the benchmark report (hex).
        #[arg(long)]
        report_hash: Option<String>,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Order GPUs, matched at end block to the best-ranked fitting devices.
    CreateOrder(Box<CreateOrderArgs>),
    /// Cancel an open order (its deposit is refunded).
    CancelOrder {
        from: String,
        order: u64,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Book a named device directly.
    BookDevice(Box<BookDeviceArgs>),
    /// Pay a lease's suppliers what its streams owe so far.
    SettleLease {
        from: String,
        lease: u64,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Close a lease (renter): settled, the rest refunded.
    CloseLease {
        from: String,
        lease: u64,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Buy uusdc from the buyback pool for ucomp, which is burned.
    FillBuyback {
        from: String,
        /// uusdc to buy, e.g. 5000uusdc (or a bare number).
        amount: String,
        /// Most ucomp to pay.
        #[arg(long)]
        max_ucomp: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Record a job on a lease (device owner or worker account).
    ReportJob(Box<ReportJobArgs>),
}

#[derive(Args, Debug)]
pub struct RegisterDeviceArgs {
    /// The owner's key name (signs and stakes).
    pub from: String,
    /// The worker's ed25519 key: a key name in the keyring...
    #[arg(long, conflicts_with = "worker_pubkey")]
    pub worker_key: Option<String>,
    /// ... or its 32-byte public key (hex or base64).
    #[arg(long)]
    pub worker_pubkey: Option<String>,
    /// The x25519 public key renters seal job payloads to (32 bytes, hex or base64).
    #[arg(long)]
    pub enc_pubkey: String,
    #[arg(long)]
    pub gpu_model: String,
    #[arg(long, default_value_t = 1)]
    pub gpu_count: u32,
    #[arg(long, default_value_t = 0)]
    pub vram_gib: u32,
    #[arg(long, default_value_t = 0)]
    pub cpu_cores: u32,
    #[arg(long, default_value_t = 0)]
    pub ram_gib: u32,
    #[arg(long, default_value_t = 0)]
    pub bandwidth_mbps: u32,
    #[arg(long, default_value = "")]
    pub region: String,
    /// The URL renters send jobs to (the worker agent's endpoint), e.g. http://203.0.113.7:8700.
    #[arg(long, default_value = "")]
    pub endpoint: String,
    /// Price per GPU-hour, e.g. 360000ucomp; repeat for each denom.
    #[arg(long = "price", required = true)]
    pub prices: Vec<String>,
    /// Self-stake in ucomp; default: the per-device formula's minimum (from the chain's params).
    #[arg(long)]
    pub self_stake: Option<String>,
    /// Basis points of income and rewards that go to co-stakers.
    #[arg(long, default_value_t = 0)]
    pub staker_share_bps: u32,
    #[command(flatten)]
    pub tx: TxFlags,
}

#[derive(Args, Debug)]
pub struct UpdateDeviceArgs {
    pub from: String,
    pub device: u64,
    #[arg(long, conflicts_with = "worker_pubkey")]
    pub worker_key: Option<String>,
    #[arg(long)]
    pub worker_pubkey: Option<String>,
    #[arg(long)]
    pub enc_pubkey: Option<String>,
    /// Replaces every price: e.g. --price 360000ucomp --price 36000uusdc.
    #[arg(long = "price")]
    pub prices: Vec<String>,
    #[arg(long)]
    pub region: Option<String>,
    /// A new endpoint URL for the device (unchanged when not given).
    #[arg(long)]
    pub endpoint: Option<String>,
    #[arg(long)]
    pub staker_share_bps: Option<u32>,
    /// Extra self-stake, ucomp.
    #[arg(long)]
    pub add_self_stake: Option<String>,
    #[command(flatten)]
    pub tx: TxFlags,
}

#[derive(Args, Debug)]
pub struct HeartbeatArgs {
    /// The key that signs and pays for the tx (owner, worker or anyone).
    pub from: String,
    pub device: u64,
    /// The worker's ed25519 key name, which signs the heartbeat itself.
    #[arg(long)]
    pub worker: String,
    #[arg(long, default_value_t = 0)]
    pub net_mbps: u32,
    #[arg(long, default_value_t = 0)]
    pub gpu_util_bps: u32,
    #[arg(long, default_value_t = 0)]
    pub gpu_temp_c: u32,
    #[command(flatten)]
    pub tx: TxFlags,
}

#[derive(Args, Debug)]
pub struct CreateOrderArgs {
    pub from: String,
    #[arg(long)]
    pub gpu_model: String,
    #[arg(long, default_value_t = 1)]
    pub gpu_count: u32,
    /// Lease length in seconds.
    #[arg(long)]
    pub duration: u64,
    /// Highest price per GPU-hour, with the denom paid in, e.g. 400000ucomp.
    #[arg(long)]
    pub max_price: String,
    /// Only devices in this region (default: any).
    #[arg(long, default_value = "")]
    pub region: String,
    #[command(flatten)]
    pub tx: TxFlags,
}

#[derive(Args, Debug)]
pub struct BookDeviceArgs {
    pub from: String,
    pub device: u64,
    #[arg(long, default_value_t = 1)]
    pub gpu_count: u32,
    #[arg(long)]
    pub duration: u64,
    /// Highest price per GPU-hour, with the denom paid in, e.g. 40000uusdc.
    #[arg(long)]
    pub max_price: String,
    #[command(flatten)]
    pub tx: TxFlags,
}

#[derive(Args, Debug)]
pub struct ReportJobArgs {
    pub from: String,
    pub lease: u64,
    pub device: u64,
    pub job: u64,
    /// running, succeeded or failed.
    #[arg(long)]
    pub status: String,
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub exit_code: i32,
    /// sha256 of the (encrypted) payload, hex.
    #[arg(long)]
    pub payload_hash: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub payload_size: u64,
    #[arg(long)]
    pub log_hash: Option<String>,
    #[arg(long)]
    pub result_hash: Option<String>,
    #[command(flatten)]
    pub tx: TxFlags,
}

fn any<M: Message + Name>(m: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

/// 32 bytes given as 64 hex characters or base64.
pub fn bytes32(s: &str, what: &str) -> Result<Vec<u8>> {
    let t = s.trim();
    let b = if t.len() == 64 && t.bytes().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(t)?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|_| anyhow!("{what} must be 32 bytes in hex or base64, not {s:?}"))?
    };
    if b.len() != 32 {
        bail!("{what} must be 32 bytes, got {}", b.len());
    }
    Ok(b)
}

fn opt_hash(s: &Option<String>, what: &str) -> Result<Vec<u8>> {
    s.as_deref()
        .map(|h| bytes32(h, what))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// One coin `100ucomp` as (amount, denom).
fn coin(s: &str, what: &str) -> Result<(u128, String)> {
    let c = Coins::parse(s).map_err(|e| anyhow!("invalid {what} {s:?}: {}", e.log))?;
    let mut it = c.iter();
    match (it.next(), it.next()) {
        (Some(c), None) => Ok((c.amount, c.denom)),
        _ => bail!("{what} must be one coin such as 100ucomp, not {s:?}"),
    }
}

/// An amount of `denom`: a bare number of base units, or a coin that must be in `denom`.
fn amount_in(s: &str, denom: &str, what: &str) -> Result<String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(s.trim_start_matches('0').to_string()).map(|v| {
            if v.is_empty() {
                "0".into()
            } else {
                v
            }
        });
    }
    let (a, d) = coin(s, what)?;
    if d != denom {
        bail!("{what} must be in {denom}, not {d}");
    }
    Ok(a.to_string())
}

fn price_list(ps: &[String]) -> Result<Vec<pb::Price>> {
    ps.iter()
        .map(|p| {
            let (amount, denom) = coin(p, "--price")?;
            Ok(pb::Price {
                denom,
                amount: amount.to_string(),
            })
        })
        .collect()
}

/// The worker's ed25519 public key from a key name or given bytes.
fn worker_pubkey(ctx: &Ctx, name: &Option<String>, raw: &Option<String>) -> Result<Vec<u8>> {
    if let Some(n) = name {
        let info = ctx.keyring.get(n)?;
        if info.algo != Algo::Ed25519 {
            bail!("worker key {n:?} is {:?}: a worker key must be ed25519 (keys add NAME --algo ed25519)", info.algo);
        }
        return base64::engine::general_purpose::STANDARD
            .decode(&info.pubkey)
            .map_err(|e| anyhow!("key {n:?}: bad public key: {e}"));
    }
    match raw {
        Some(r) => bytes32(r, "--worker-pubkey"),
        None => Ok(Vec::new()),
    }
}

/// The unlocked key of `from`, after the arguments were checked.
fn signer(ctx: &Ctx, from: &str) -> Result<PrivKey> {
    let info = ctx.keyring.get(from)?;
    ctx.keyring.unlock(&info.name)?.priv_key()
}

pub async fn run_tx(ctx: &Ctx, node: &NodeArgs, cmd: ComputeTx) -> Result<i32> {
    let (from, msg, flags): (String, Any, TxFlags) = match cmd {
        ComputeTx::RegisterDevice(a) => {
            let a = *a;
            let worker = worker_pubkey(ctx, &a.worker_key, &a.worker_pubkey)?;
            if worker.is_empty() {
                bail!("give the worker key: --worker-key NAME or --worker-pubkey HEX");
            }
            let enc = bytes32(&a.enc_pubkey, "--enc-pubkey")?;
            let prices = price_list(&a.prices)?;
            let owner = ctx.keyring.get(&a.from)?.address()?;
            let self_stake = match &a.self_stake {
                Some(s) => amount_in(s, "ucomp", "--self-stake")?,
                None => {
                    let p = params(&mut query_client(node).await?).await?;
                    p.required_stake(&a.gpu_model, a.gpu_count)
                        .map_err(|e| anyhow!("{}", e.log))?
                        .to_string()
                }
            };
            let m = pb::MsgRegisterDevice {
                owner: owner.to_string(),
                worker_key: worker,
                enc_key: enc,
                gpu_model: a.gpu_model,
                gpu_count: a.gpu_count,
                vram_gib: a.vram_gib,
                cpu_cores: a.cpu_cores,
                ram_gib: a.ram_gib,
                bandwidth_mbps: a.bandwidth_mbps,
                region: a.region,
                endpoint: a.endpoint,
                prices,
                self_stake,
                staker_share_bps: a.staker_share_bps,
            };
            (a.from, any(&m), a.tx)
        }
        ComputeTx::UpdateDevice(a) => {
            let a = *a;
            let m = pb::MsgUpdateDevice {
                owner: ctx.keyring.get(&a.from)?.address()?.to_string(),
                device_id: a.device,
                worker_key: worker_pubkey(ctx, &a.worker_key, &a.worker_pubkey)?,
                enc_key: a
                    .enc_pubkey
                    .as_deref()
                    .map(|e| bytes32(e, "--enc-pubkey"))
                    .transpose()?
                    .unwrap_or_default(),
                prices: price_list(&a.prices)?,
                region: a.region.unwrap_or_default(),
                endpoint: a.endpoint.unwrap_or_default(),
                staker_share_bps: a.staker_share_bps.unwrap_or(0),
                add_self_stake: a
                    .add_self_stake
                    .as_deref()
                    .map(|s| amount_in(s, "ucomp", "--add-self-stake"))
                    .transpose()?
                    .unwrap_or_default(),
            };
            (a.from, any(&m), a.tx)
        }
        ComputeTx::DeregisterDevice { from, device, tx } => {
            let m = pb::MsgDeregisterDevice {
                owner: ctx.keyring.get(&from)?.address()?.to_string(),
                device_id: device,
            };
            (from, any(&m), tx)
        }
        ComputeTx::Stake {
            from,
            device,
            amount,
            tx,
        } => {
            let m = pb::MsgStake {
                staker: ctx.keyring.get(&from)?.address()?.to_string(),
                device_id: device,
                amount: amount_in(&amount, "ucomp", "amount")?,
            };
            (from, any(&m), tx)
        }
        ComputeTx::Unstake {
            from,
            device,
            amount,
            tx,
        } => {
            let m = pb::MsgUnstake {
                staker: ctx.keyring.get(&from)?.address()?.to_string(),
                device_id: device,
                amount: amount_in(&amount, "ucomp", "amount")?,
            };
            (from, any(&m), tx)
        }
        ComputeTx::ClaimRewards { from, device, tx } => {
            let m = pb::MsgClaimRewards {
                staker: ctx.keyring.get(&from)?.address()?.to_string(),
                device_id: device,
            };
            (from, any(&m), tx)
        }
        ComputeTx::Heartbeat(a) => {
            let a = *a;
            let sender = ctx.keyring.get(&a.from)?.address()?;
            let worker_info = ctx.keyring.get(&a.worker)?;
            if worker_info.algo != Algo::Ed25519 {
                bail!("worker key {:?} must be ed25519", a.worker);
            }
            let r = query_client(node)
                .await?
                .device(pb::QueryDeviceRequest {
                    device_id: a.device,
                })
                .await
                .map_err(g("compute device query"))?
                .into_inner();
            let seed: [u8; 32] = r.challenge_seed.as_slice().try_into().map_err(|_| {
                anyhow!(
                    "the challenge of {} is not drawn yet: retry after the next block",
                    r.challenge_time
                )
            })?;
            let mut m = pb::MsgHeartbeat {
                sender: sender.to_string(),
                device_id: a.device,
                challenge_time: r.challenge_time,
                answer: challenge_answer(a.device, &seed),
                net_mbps: a.net_mbps,
                gpu_util_bps: a.gpu_util_bps,
                gpu_temp_c: a.gpu_temp_c,
                signature: Vec::new(),
            };
            let worker = ctx.keyring.unlock(&worker_info.name)?.priv_key()?;
            m.signature = worker.sign(&heartbeat_sign_bytes(&m))?;
            (a.from, any(&m), a.tx)
        }
        ComputeTx::Attest {
            from,
            device,
            spoofed,
            report_hash,
            tx,
        } => {
            let m = pb::MsgAttest {
                attestor: ctx.keyring.get(&from)?.address()?.to_string(),
                device_id: device,
                spoofed,
                report_hash: opt_hash(&report_hash, "--report-hash")?,
            };
            (from, any(&m), tx)
        }
        ComputeTx::CreateOrder(a) => {
            let a = *a;
            let (max, denom) = coin(&a.max_price, "--max-price")?;
            let m = pb::MsgCreateOrder {
                renter: ctx.keyring.get(&a.from)?.address()?.to_string(),
                gpu_model: a.gpu_model,
                region: a.region,
                gpu_count: a.gpu_count,
                duration_s: a.duration,
                max_price: max.to_string(),
                denom,
            };
            (a.from, any(&m), a.tx)
        }
        ComputeTx::CancelOrder { from, order, tx } => {
            let m = pb::MsgCancelOrder {
                renter: ctx.keyring.get(&from)?.address()?.to_string(),
                order_id: order,
            };
            (from, any(&m), tx)
        }
        ComputeTx::BookDevice(a) => {
            let a = *a;
            let (max, denom) = coin(&a.max_price, "--max-price")?;
            let m = pb::MsgBookDevice {
                renter: ctx.keyring.get(&a.from)?.address()?.to_string(),
                device_id: a.device,
                gpu_count: a.gpu_count,
                duration_s: a.duration,
                denom,
                max_price: max.to_string(),
            };
            (a.from, any(&m), a.tx)
        }
        ComputeTx::SettleLease { from, lease, tx } => {
            let m = pb::MsgSettleLease {
                sender: ctx.keyring.get(&from)?.address()?.to_string(),
                lease_id: lease,
            };
            (from, any(&m), tx)
        }
        ComputeTx::CloseLease { from, lease, tx } => {
            let m = pb::MsgCloseLease {
                renter: ctx.keyring.get(&from)?.address()?.to_string(),
                lease_id: lease,
            };
            (from, any(&m), tx)
        }
        ComputeTx::FillBuyback {
            from,
            amount,
            max_ucomp,
            tx,
        } => {
            let m = pb::MsgFillBuyback {
                buyer: ctx.keyring.get(&from)?.address()?.to_string(),
                amount: amount_in(&amount, "uusdc", "amount")?,
                max_ucomp: amount_in(&max_ucomp, "ucomp", "--max-ucomp")?,
            };
            (from, any(&m), tx)
        }
        ComputeTx::ReportJob(a) => {
            let a = *a;
            let m = pb::MsgReportJob {
                sender: ctx.keyring.get(&a.from)?.address()?.to_string(),
                lease_id: a.lease,
                device_id: a.device,
                job_id: a.job,
                payload_hash: opt_hash(&a.payload_hash, "--payload-hash")?,
                payload_size: a.payload_size,
                status: a.status,
                exit_code: a.exit_code,
                log_hash: opt_hash(&a.log_hash, "--log-hash")?,
                result_hash: opt_hash(&a.result_hash, "--result-hash")?,
            };
            (a.from, any(&m), a.tx)
        }
    };
    let key = signer(ctx, &from)?;
    sign_and_broadcast(ctx, node, &key, vec![msg], &flags).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: u64, status: &str, rank: u64, leased: u32) -> pb::Device {
        pb::Device {
            id,
            status: status.into(),
            rank,
            gpu_count: 4,
            gpus_leased: leased,
            ..Default::default()
        }
    }

    #[test]
    fn devices_are_listed_in_matching_order() {
        let mut v = vec![
            dev(0, "online", 5, 0),
            dev(1, "offline", 99, 0),
            dev(2, "online", 7, 0),
            dev(3, "online", 7, 4), // fully leased: not matchable
            dev(4, "online", 5, 1),
        ];
        rank_order(&mut v);
        assert_eq!(
            v.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![2, 0, 4, 1, 3]
        );
    }

    #[test]
    fn amounts_and_keys_parse() {
        assert_eq!(amount_in("100", "ucomp", "a").unwrap(), "100");
        assert_eq!(amount_in("100ucomp", "ucomp", "a").unwrap(), "100");
        assert!(amount_in("100uusdc", "ucomp", "a").is_err());
        assert_eq!(coin("400000ucomp", "p").unwrap(), (400_000, "ucomp".into()));
        assert!(coin("1ucomp,2uusdc", "p").is_err());
        let h = "ab".repeat(32);
        assert_eq!(bytes32(&h, "k").unwrap(), vec![0xab; 32]);
        let b = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert_eq!(bytes32(&b, "k").unwrap(), vec![7; 32]);
        assert!(bytes32("abcd", "k").is_err());
    }

    #[test]
    fn this_hour_is_the_schedules_growth_over_the_hour() {
        let p = ComputeParams::default();
        let e = pb::Emission {
            start: 1_000,
            emitted: String::new(),
            last_tick: 1_000 + 7_200,
        };
        assert_eq!(
            this_hour(&p, &e),
            emitted_by(&p.emission, 10_800) - emitted_by(&p.emission, 7_200)
        );
        assert_eq!(this_hour(&p, &pb::Emission::default()), 0);
    }
}
