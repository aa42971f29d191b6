//! `stoad query intelligence ...`, `stoad tx intelligence ...` and `stoad sim yuma-epoch`: the
//! intelligence market from the command line (subnets, metagraph, stake, issuance; one tx
//! command per message, through `sign_and_broadcast`; one Yuma epoch through the module's code).

use super::tx::sign_and_broadcast;
use super::Ctx;
use crate::cli::{NodeArgs, TxFlags};
use crate::client;
use crate::output::{kv_table, print_json, proto_json, table};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use cosmos_sdk_proto::Any;
use prost::{Message, Name};
use std::io::Read;
use stoa_intelligence::handler::commit_hash;
use stoa_intelligence::yuma;
use stoa_proto::intelligence::v1 as pb;
use stoa_proto::intelligence::v1::query_client::QueryClient;
use tendermint_rpc::Client;

/// Exit code of `sim yuma-epoch` for input it cannot use (not JSON, wrong shape, bad values).
pub const EXIT_BAD_INPUT: i32 = 2;

// ---- sim yuma-epoch ------------------------------------------------------------------------

/// `stoad sim yuma-epoch`: stdin -> [`yuma_epoch_json`] -> stdout; malformed input is one line
/// on stderr and exit code 2.
pub fn sim_yuma_epoch(_ctx: &Ctx) -> Result<i32> {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("Error: reading the epoch input from stdin: {e}");
        return Ok(EXIT_BAD_INPUT);
    }
    match yuma_epoch_json(&bytes) {
        Ok(out) => {
            crate::outln!("{out}");
            Ok(0)
        }
        Err(msg) => {
            eprintln!("Error: {msg}");
            Ok(EXIT_BAD_INPUT)
        }
    }
}

/// One epoch from its JSON input (the module's `yuma::EpochInput`, unknown fields refused) to
/// its JSON output (compact, fields in a fixed order, so the same input gives the same bytes).
pub fn yuma_epoch_json(bytes: &[u8]) -> Result<String, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("malformed epoch input: stdin is empty (expected one JSON object)".into());
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("malformed epoch input: {e}"))?;
    let input: yuma::EpochInput = serde_json::from_value(value.clone()).map_err(|e| {
        let at = culprit(&value)
            .map(|k| format!("field `{k}`: "))
            .unwrap_or_default();
        format!("malformed epoch input: {at}{e}")
    })?;
    let out = yuma::epoch(&input).map_err(|e| format!("malformed epoch input: {}", e.log))?;
    serde_json::to_string(&out).map_err(|e| format!("cannot print the epoch output: {e}"))
}

/// The top-level field whose value alone makes the input fail to parse (serde names missing
/// and unknown fields itself, but not the field of a value out of its type).
fn culprit(value: &serde_json::Value) -> Option<String> {
    let base = serde_json::to_value(yuma::EpochInput::default()).ok()?;
    value.as_object()?.iter().find_map(|(k, v)| {
        base.get(k)?;
        let mut t = base.clone();
        t[k] = v.clone();
        serde_json::from_value::<yuma::EpochInput>(t)
            .is_err()
            .then(|| k.clone())
    })
}

// ---- queries -------------------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub enum IntelligenceQuery {
    /// Every subnet (netuid 0 is root).
    Subnets,
    /// One subnet: owner, lock, hyperparameters and the burn a registration pays now.
    Subnet { netuid: u32 },
    /// A subnet's neurons, one row per uid (JSON: an array of neuron objects).
    Metagraph { netuid: u32 },
    /// One neuron of a subnet.
    Neuron { netuid: u32, uid: u32 },
    /// The stakes of a coldkey (a stoa1... address or a key name) and what they are worth.
    Stake { coldkey: String },
    /// Hotkeys that accept stake: owner, take, total stake.
    Delegates,
    /// MIND issued so far, the issuance due by the last block's time, the current reward.
    Issuance,
}

async fn qclient(node: &NodeArgs) -> Result<QueryClient<tonic::transport::Channel>> {
    Ok(QueryClient::new(client::grpc(&node.grpc).await?))
}

/// A u16 proportion (of 65535) for people: four decimals.
fn prop(v: u32) -> String {
    format!("{:.4}", v as f64 / 65535.0)
}

fn axon_text(a: &Option<pb::AxonInfo>) -> String {
    match a {
        Some(a) if !a.ip.is_empty() => format!("{}:{}", a.ip, a.port),
        _ => "-".into(),
    }
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

pub async fn query(ctx: &Ctx, node: &NodeArgs, q: IntelligenceQuery) -> Result<()> {
    let mut c = qclient(node).await?;
    match q {
        IntelligenceQuery::Subnets => {
            let r = c
                .subnets(pb::QuerySubnetsRequest {})
                .await
                .map_err(|s| client::grpc_error("subnets query", s))?
                .into_inner();
            if ctx.json() {
                return print_json(&proto_json(&r)?);
            }
            let mut t = table(&[
                "Netuid",
                "Owner",
                "Neurons",
                "Tempo",
                "Locked",
                "Pending emission",
                "Emission share",
                "Last epoch",
            ]);
            for s in &r.subnets {
                let h = s.hyperparams.unwrap_or_default();
                t.add_row(vec![
                    s.netuid.to_string(),
                    if s.owner.is_empty() {
                        "(root)".into()
                    } else {
                        s.owner.clone()
                    },
                    s.n.to_string(),
                    h.tempo.to_string(),
                    format!("{}umind", s.locked),
                    format!("{}umind", s.pending_emission),
                    format!("{:.4}", s.emission_share as f64 / 4_294_967_296.0),
                    s.last_epoch_block.to_string(),
                ]);
            }
            crate::outln!("{t}");
        }
        IntelligenceQuery::Subnet { netuid } => {
            let r = c
                .subnet(pb::QuerySubnetRequest { netuid })
                .await
                .map_err(|s| client::grpc_error("subnet query", s))?
                .into_inner();
            if ctx.json() {
                return print_json(&proto_json(&r)?);
            }
            let s = r.subnet.unwrap_or_default();
            let mut rows = vec![
                ("netuid", s.netuid.to_string()),
                ("owner", s.owner.clone()),
                ("locked", format!("{}umind", s.locked)),
                ("neurons", s.n.to_string()),
                ("current burn", format!("{}umind", r.current_burn)),
                ("pending emission", format!("{}umind", s.pending_emission)),
                ("emission share (of 2^32)", s.emission_share.to_string()),
                ("last epoch block", s.last_epoch_block.to_string()),
                ("registered at", s.registered_at.to_string()),
            ];
            let h = s.hyperparams.unwrap_or_default();
            // Every hyperparameter by its proto name, as `tx intelligence set-hyperparams` takes it.
            let hj = proto_json(&h)?;
            let mut hp_rows = Vec::new();
            if let Some(m) = hj.as_object() {
                for (k, v) in m {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    hp_rows.push((k.clone(), v));
                }
            }
            for (k, v) in &hp_rows {
                rows.push((k.as_str(), v.clone()));
            }
            crate::outln!("{}", kv_table(&rows));
        }
        IntelligenceQuery::Metagraph { netuid } => {
            let neurons = metagraph(&mut c, netuid).await?;
            if ctx.json() {
                let v = neurons
                    .iter()
                    .map(neuron_json)
                    .collect::<Result<Vec<_>>>()?;
                return print_json(&v);
            }
            let mut t = table(&[
                "UID",
                "Hotkey",
                "Coldkey",
                "Stake",
                "Rank",
                "Trust",
                "V-trust",
                "Consensus",
                "Incentive",
                "Dividends",
                "Emission",
                "Permit",
                "Active",
                "Updated",
                "Axon",
            ]);
            for n in &neurons {
                t.add_row(vec![
                    n.uid.to_string(),
                    n.hotkey.clone(),
                    n.coldkey.clone(),
                    n.stake.to_string(),
                    prop(n.rank),
                    prop(n.trust),
                    prop(n.validator_trust),
                    prop(n.consensus),
                    prop(n.incentive),
                    prop(n.dividends),
                    n.emission.to_string(),
                    yes(n.validator_permit),
                    yes(n.active),
                    n.last_update.to_string(),
                    axon_text(&n.axon),
                ]);
            }
            crate::outln!("subnet {netuid}: {} neurons", neurons.len());
            crate::outln!("{t}");
        }
        IntelligenceQuery::Neuron { netuid, uid } => {
            let r = c
                .neuron(pb::QueryNeuronRequest { netuid, uid })
                .await
                .map_err(|s| client::grpc_error("neuron query", s))?
                .into_inner();
            let n = r
                .neuron
                .ok_or_else(|| anyhow!("no neuron {netuid}/{uid}"))?;
            if ctx.json() {
                return print_json(&neuron_json(&n)?);
            }
            let bonds = n
                .bonds
                .iter()
                .map(|b| format!("{}:{}", b.uid, b.value))
                .collect::<Vec<_>>()
                .join(" ");
            crate::outln!(
                "{}",
                kv_table(&[
                    ("netuid", n.netuid.to_string()),
                    ("uid", n.uid.to_string()),
                    ("hotkey", n.hotkey.clone()),
                    ("coldkey", n.coldkey.clone()),
                    ("stake", format!("{}umind", n.stake)),
                    ("rank", prop(n.rank)),
                    ("trust", prop(n.trust)),
                    ("validator trust", prop(n.validator_trust)),
                    ("consensus", prop(n.consensus)),
                    ("incentive", prop(n.incentive)),
                    ("dividends", prop(n.dividends)),
                    ("emission (last epoch)", format!("{}umind", n.emission)),
                    ("validator permit", yes(n.validator_permit)),
                    ("active", yes(n.active)),
                    ("stake weight", prop(n.stake_weight)),
                    ("registered at block", n.block_at_registration.to_string()),
                    ("last update", n.last_update.to_string()),
                    ("axon", axon_text(&n.axon)),
                    ("bonds (uid:value)", bonds),
                ])
            );
        }
        IntelligenceQuery::Stake { coldkey } => {
            let coldkey = ctx.resolve_address(&coldkey)?.to_string();
            let r = c
                .stake(pb::QueryStakeRequest {
                    coldkey: coldkey.clone(),
                })
                .await
                .map_err(|s| client::grpc_error("stake query", s))?
                .into_inner();
            if ctx.json() {
                return print_json(&proto_json(&r)?);
            }
            if r.stakes.is_empty() {
                crate::outln!("{coldkey} has no stake");
                return Ok(());
            }
            let mut t = table(&["Hotkey", "Shares", "Worth (umind)"]);
            for s in &r.stakes {
                t.add_row(vec![
                    s.hotkey.clone(),
                    s.shares.clone(),
                    s.amount.to_string(),
                ]);
            }
            crate::outln!("stakes of {coldkey}");
            crate::outln!("{t}");
        }
        IntelligenceQuery::Delegates => {
            let r = c
                .delegates(pb::QueryDelegatesRequest {})
                .await
                .map_err(|s| client::grpc_error("delegates query", s))?
                .into_inner();
            if ctx.json() {
                return print_json(&proto_json(&r)?);
            }
            let mut t = table(&["Hotkey", "Owner", "Take", "Total stake", "Shares"]);
            for d in &r.delegates {
                t.add_row(vec![
                    d.hotkey.clone(),
                    d.owner.clone(),
                    format!("{:.2}%", d.take_bps as f64 / 100.0),
                    d.total_stake.to_string(),
                    d.total_shares.clone(),
                ]);
            }
            crate::outln!("{t}");
        }
        IntelligenceQuery::Issuance => {
            let r = c
                .issuance(pb::QueryIssuanceRequest {})
                .await
                .map_err(|s| client::grpc_error("issuance query", s))?
                .into_inner();
            let block_secs = last_block_interval(node).await;
            // The reward of one block of the last block's length (issuance is by time).
            let per_block = block_secs.map(|s| r.reward_per_12s as u128 * s as u128 / 12);
            if ctx.json() {
                let mut v = proto_json(&r)?;
                v["last_block_seconds"] = serde_json::json!(block_secs);
                v["reward_per_block"] = serde_json::json!(per_block.map(|p| p.to_string()));
                return print_json(&v);
            }
            let mind = |u: u64| format!("{}.{:06} MIND", u / 1_000_000, u % 1_000_000);
            crate::outln!(
                "{}",
                kv_table(&[
                    ("issued", mind(r.issued)),
                    ("due by block time", mind(r.due)),
                    ("reward per 12 s", mind(r.reward_per_12s)),
                    (
                        "reward per block",
                        match (per_block, block_secs) {
                            (Some(p), Some(s)) =>
                                format!("{} (last block took {s} s)", mind(p as u64)),
                            _ => "unknown (no previous block)".into(),
                        }
                    ),
                ])
            );
        }
    }
    Ok(())
}

/// A neuron as JSON: its proto fields, `axon` null for a neuron that never served one (proto
/// JSON would leave the field out).
fn neuron_json(n: &pb::Neuron) -> Result<serde_json::Value> {
    let mut v = proto_json(n)?;
    if v.get("axon").is_none() {
        v["axon"] = serde_json::Value::Null;
    }
    Ok(v)
}

/// Every neuron of a subnet, following the metagraph's pages.
async fn metagraph(
    c: &mut QueryClient<tonic::transport::Channel>,
    netuid: u32,
) -> Result<Vec<pb::Neuron>> {
    let mut all = Vec::new();
    let mut key = Vec::new();
    loop {
        let r = c
            .metagraph(pb::QueryMetagraphRequest {
                netuid,
                pagination: Some(PageRequest {
                    key: key.clone(),
                    limit: 1000,
                    ..Default::default()
                }),
            })
            .await
            .map_err(|s| client::grpc_error("metagraph query", s))?
            .into_inner();
        all.extend(r.neurons);
        match r.pagination {
            Some(p) if !p.next_key.is_empty() && p.next_key != key => key = p.next_key,
            _ => return Ok(all),
        }
    }
}

/// Seconds between the last two blocks' headers (block time is what issuance follows).
async fn last_block_interval(node: &NodeArgs) -> Option<u64> {
    let rpc = client::rpc(&node.node).ok()?;
    let latest = rpc.latest_block().await.ok()?;
    let h = latest.block.header.height.value();
    let prev = tendermint::block::Height::try_from(h.checked_sub(1)?).ok()?;
    let before = rpc.header(prev).await.ok()?.header;
    let (a, b) = (
        before.time.unix_timestamp(),
        latest.block.header.time.unix_timestamp(),
    );
    u64::try_from(b.checked_sub(a)?).ok()
}

// ---- transactions --------------------------------------------------------------------------

/// `--uids 1,2 --values 100,200` (and the version key) for set-weights, commit and reveal.
#[derive(Args, Debug, Clone)]
pub struct WeightArgs {
    /// The uids weighted, comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub uids: Vec<u32>,
    /// One weight (0..=65535) per uid, comma separated; the chain max-upscales them.
    #[arg(long, value_delimiter = ',', required = true)]
    pub values: Vec<u32>,
    /// The subnet's weights version key (at least its `weights_version_key`).
    #[arg(long, default_value_t = 0)]
    pub version_key: u64,
}

/// `KEY=VALUE` pairs applied to a subnet's current hyperparameters (keys: the proto field
/// names `query intelligence subnet` lists).
fn apply_hyperparams(h: pb::Hyperparams, pairs: &[String]) -> Result<pb::Hyperparams> {
    use prost_reflect::{Kind, ReflectMessage, Value};
    let mut m = h.transcode_to_dynamic();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("{p:?} is not KEY=VALUE, e.g. tempo=99"))?;
        let f = m.descriptor().get_field_by_name(k).ok_or_else(|| {
            anyhow!("no hyperparameter {k:?} (`stoad query intelligence subnet N` lists them)")
        })?;
        let bad = |e: String| anyhow!("{k}={v:?}: {e}");
        let value = match f.kind() {
            Kind::Uint64 => Value::U64(v.parse().map_err(|e| bad(format!("{e}")))?),
            Kind::Uint32 => Value::U32(v.parse().map_err(|e| bad(format!("{e}")))?),
            Kind::Bool => Value::Bool(v.parse().map_err(|e| bad(format!("{e}")))?),
            other => bail!("hyperparameter {k} ({other:?}) cannot be set from the command line"),
        };
        m.set_field(&f, value);
    }
    m.transcode_to::<pb::Hyperparams>()
        .map_err(|e| anyhow!("hyperparameters: {e}"))
}

#[derive(Subcommand, Debug)]
pub enum IntelligenceTx {
    /// Register a subnet, locking the network lock (returned on dissolution).
    RegisterSubnet {
        /// The owner's key.
        owner: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Dissolve an owned subnet: the lock comes back, neurons are removed.
    DissolveSubnet {
        owner: String,
        netuid: u32,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Change an owned subnet's hyperparameters: KEY=VALUE pairs (e.g. tempo=99
    /// commit_reveal=false); the others keep their current values.
    SetHyperparams {
        owner: String,
        netuid: u32,
        #[arg(required = true, value_name = "KEY=VALUE")]
        params: Vec<String>,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Register HOTKEY on a subnet, burning the current burn from COLDKEY.
    BurnedRegister {
        /// The paying coldkey's key (the hotkey's owner from then on).
        coldkey: String,
        netuid: u32,
        /// A stoa1... address or key name.
        hotkey: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Publish a neuron's endpoint (signed by its hotkey).
    ServeAxon {
        hotkey: String,
        netuid: u32,
        ip: String,
        port: u32,
        #[arg(long, default_value_t = 4)]
        protocol: u32,
        /// The axon's software version.
        #[arg(long = "axon-version", default_value_t = 0)]
        axon_version: u64,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Set weights directly (subnets without commit-reveal).
    SetWeights {
        hotkey: String,
        netuid: u32,
        #[command(flatten)]
        weights: WeightArgs,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Commit to weights: sends sha256(hotkey, netuid, uids, values, salt, version key),
    /// computed here; reveal them in the next epoch with the same arguments.
    CommitWeights {
        hotkey: String,
        netuid: u32,
        #[command(flatten)]
        weights: WeightArgs,
        /// The salt, in hex (keep it for the reveal).
        #[arg(long)]
        salt: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Reveal committed weights (in the epoch after the commit's).
    RevealWeights {
        hotkey: String,
        netuid: u32,
        #[command(flatten)]
        weights: WeightArgs,
        /// The commit's salt, in hex.
        #[arg(long)]
        salt: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Stake AMOUNT umind from COLDKEY on HOTKEY (a delegate's pool).
    AddStake {
        coldkey: String,
        hotkey: String,
        /// umind, e.g. 5000000 or 5000000umind.
        amount: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Unstake AMOUNT umind (at most what COLDKEY's shares of HOTKEY are worth).
    RemoveStake {
        coldkey: String,
        hotkey: String,
        amount: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Set the take of a hotkey COLDKEY owns, in basis points (at most 1800).
    SetTake {
        coldkey: String,
        hotkey: String,
        take_bps: u32,
        #[command(flatten)]
        tx: TxFlags,
    },
}

/// An amount of umind: digits, optionally followed by `umind`.
fn parse_umind(s: &str) -> Result<u64> {
    let digits = s.strip_suffix("umind").unwrap_or(s);
    digits
        .parse::<u64>()
        .map_err(|_| anyhow!("invalid amount {s:?}: give umind, e.g. 1000000 or 1000000umind"))
}

fn parse_salt(s: &str) -> Result<Vec<u8>> {
    hex::decode(s.trim_start_matches("0x")).map_err(|e| anyhow!("--salt {s:?} is not hex: {e}"))
}

fn any<M: Message + Name>(m: M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

/// u16 uids and values as the commit hash takes them (the chain refuses larger ones anyway).
fn u16s(what: &str, v: &[u32]) -> Result<Vec<u16>> {
    v.iter()
        .map(|x| u16::try_from(*x).map_err(|_| anyhow!("{what} {x} is above 65535")))
        .collect()
}

pub async fn tx(ctx: &Ctx, node: &NodeArgs, t: IntelligenceTx) -> Result<i32> {
    // (signing key name, message, flags); every address argument is resolved before unlocking.
    let (signer, msg, flags): (String, Any, TxFlags) = match t {
        IntelligenceTx::RegisterSubnet { owner, tx } => {
            let a = ctx.resolve_address(&owner)?.to_string();
            (owner, any(pb::MsgRegisterSubnet { owner: a }), tx)
        }
        IntelligenceTx::DissolveSubnet { owner, netuid, tx } => {
            let a = ctx.resolve_address(&owner)?.to_string();
            (owner, any(pb::MsgDissolveSubnet { owner: a, netuid }), tx)
        }
        IntelligenceTx::SetHyperparams {
            owner,
            netuid,
            params,
            tx,
        } => {
            let a = ctx.resolve_address(&owner)?.to_string();
            let mut c = qclient(node).await?;
            let s = c
                .subnet(pb::QuerySubnetRequest { netuid })
                .await
                .map_err(|s| client::grpc_error("subnet query", s))?
                .into_inner()
                .subnet
                .ok_or_else(|| anyhow!("no subnet {netuid}"))?;
            let h = apply_hyperparams(s.hyperparams.unwrap_or_default(), &params)?;
            let m = pb::MsgSetHyperparams {
                owner: a,
                netuid,
                hyperparams: Some(h),
            };
            (owner, any(m), tx)
        }
        IntelligenceTx::BurnedRegister {
            coldkey,
            netuid,
            hotkey,
            tx,
        } => {
            let m = pb::MsgBurnedRegister {
                coldkey: ctx.resolve_address(&coldkey)?.to_string(),
                netuid,
                hotkey: ctx.resolve_address(&hotkey)?.to_string(),
            };
            (coldkey, any(m), tx)
        }
        IntelligenceTx::ServeAxon {
            hotkey,
            netuid,
            ip,
            port,
            protocol,
            axon_version,
            tx,
        } => {
            let m = pb::MsgServeAxon {
                hotkey: ctx.resolve_address(&hotkey)?.to_string(),
                netuid,
                ip,
                port,
                protocol,
                version: axon_version,
            };
            (hotkey, any(m), tx)
        }
        IntelligenceTx::SetWeights {
            hotkey,
            netuid,
            weights,
            tx,
        } => {
            let m = pb::MsgSetWeights {
                hotkey: ctx.resolve_address(&hotkey)?.to_string(),
                netuid,
                uids: weights.uids,
                values: weights.values,
                version_key: weights.version_key,
            };
            (hotkey, any(m), tx)
        }
        IntelligenceTx::CommitWeights {
            hotkey,
            netuid,
            weights,
            salt,
            tx,
        } => {
            let a = ctx.resolve_address(&hotkey)?;
            if weights.uids.len() != weights.values.len() {
                bail!(
                    "{} uids but {} values",
                    weights.uids.len(),
                    weights.values.len()
                );
            }
            let net = u16::try_from(netuid).map_err(|_| anyhow!("netuid {netuid} above 65535"))?;
            let hash = commit_hash(
                &a,
                net,
                &u16s("uid", &weights.uids)?,
                &u16s("value", &weights.values)?,
                &parse_salt(&salt)?,
                weights.version_key,
            );
            let m = pb::MsgCommitWeights {
                hotkey: a.to_string(),
                netuid,
                hash,
            };
            (hotkey, any(m), tx)
        }
        IntelligenceTx::RevealWeights {
            hotkey,
            netuid,
            weights,
            salt,
            tx,
        } => {
            let m = pb::MsgRevealWeights {
                hotkey: ctx.resolve_address(&hotkey)?.to_string(),
                netuid,
                uids: weights.uids,
                values: weights.values,
                salt: parse_salt(&salt)?,
                version_key: weights.version_key,
            };
            (hotkey, any(m), tx)
        }
        IntelligenceTx::AddStake {
            coldkey,
            hotkey,
            amount,
            tx,
        } => {
            let m = pb::MsgAddStake {
                coldkey: ctx.resolve_address(&coldkey)?.to_string(),
                hotkey: ctx.resolve_address(&hotkey)?.to_string(),
                amount: parse_umind(&amount)?,
            };
            (coldkey, any(m), tx)
        }
        IntelligenceTx::RemoveStake {
            coldkey,
            hotkey,
            amount,
            tx,
        } => {
            let m = pb::MsgRemoveStake {
                coldkey: ctx.resolve_address(&coldkey)?.to_string(),
                hotkey: ctx.resolve_address(&hotkey)?.to_string(),
                amount: parse_umind(&amount)?,
            };
            (coldkey, any(m), tx)
        }
        IntelligenceTx::SetTake {
            coldkey,
            hotkey,
            take_bps,
            tx,
        } => {
            let m = pb::MsgSetTake {
                coldkey: ctx.resolve_address(&coldkey)?.to_string(),
                hotkey: ctx.resolve_address(&hotkey)?.to_string(),
                take_bps,
            };
            (coldkey, any(m), tx)
        }
    };
    // After the arguments are checked: a typo must not cost a passphrase prompt.
    let key = ctx.keyring.unlock(&signer)?.priv_key()?;
    sign_and_broadcast(ctx, node, &key, vec![msg], &flags).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_epoch_input_is_an_error_not_a_panic() {
        for bad in ["", "[]", "{", "{\"n\": 1}", "{\"n\": -1}", "null"] {
            assert!(yuma_epoch_json(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        crate::cli::Cli::command().debug_assert();
    }

    #[test]
    fn hyperparameters_by_name() {
        let h = pb::Hyperparams::default();
        let h = apply_hyperparams(h, &["tempo=99".into(), "commit_reveal=true".into()]).unwrap();
        assert_eq!((h.tempo, h.commit_reveal), (99, true));
        assert!(apply_hyperparams(h, &["tempo".into()]).is_err());
        assert!(apply_hyperparams(h, &["nope=1".into()]).is_err());
        assert!(apply_hyperparams(h, &["kappa=-1".into()]).is_err());
    }

    #[test]
    fn amounts_take_an_optional_umind_suffix() {
        assert_eq!(parse_umind("5").unwrap(), 5);
        assert_eq!(parse_umind("5umind").unwrap(), 5);
        assert!(parse_umind("5ustor").is_err());
        assert!(parse_umind("-5").is_err());
    }
}
