//! `stoad worker run`: the supplier's agent for one device. On first run it makes the worker's
//! keys (ed25519 for heartbeats and reports, x25519 for jobs), registers the device (GPUs from
//! `nvidia-smi`, else the CPU) with its endpoint, signed by the owner's key, which also funds
//! the worker key's account for fees; then it keeps heartbeats on time, watches and settles
//! its leases, and takes sealed jobs over HTTP. Its state lives in HOME/worker/.

use super::Ctx;
use crate::agent::state::{load_or_create_keys, AgentState};
use crate::agent::worker::Agent;
use crate::agent::{chain, hardware, seal, server};
use crate::cli::{NodeArgs, TxFlags};
use crate::client;
use crate::keyring::{Keyring, Passphrase};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::Any;
use prost::Message;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stoa_framework::Coins;
use stoa_proto::compute::v1 as pb;

#[derive(Subcommand, Debug)]
pub enum WorkerCmd {
    /// Run the agent of one device until stopped (Ctrl-C / SIGTERM); restart it with the same
    /// --home and it carries on.
    Run(Box<WorkerRunArgs>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DockerMode {
    /// Jobs naming an image run in `docker run` when a Docker engine answers.
    Auto,
    /// Every job runs as a local process.
    Never,
}

#[derive(Args, Debug)]
pub struct WorkerRunArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Keyring key of the device's owner: signs the registration (first run) and endpoint
    /// updates, and funds the worker key's account.
    #[arg(long)]
    pub owner: Option<String>,
    /// Address the job endpoint listens on.
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub listen: String,
    /// The URL renters reach the endpoint at, put on chain (default http://LISTEN).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Prices per GPU-hour in base units, e.g. 3600000ucomp,360000uusdc (first run).
    #[arg(long)]
    pub price: Option<String>,
    #[arg(long, default_value = "")]
    pub region: String,
    /// Self-stake in ucomp (default: exactly what the chain's formula asks).
    #[arg(long)]
    pub self_stake: Option<u128>,
    /// Basis points of income and rewards for co-stakers.
    #[arg(long, default_value_t = 0)]
    pub staker_share_bps: u32,
    /// Register this GPU model instead of what nvidia-smi reports (or "CPU").
    #[arg(long)]
    pub gpu_model: Option<String>,
    /// Register this many GPUs (CPU devices: job slots) instead of the detected count.
    #[arg(long)]
    pub gpu_count: Option<u32>,
    #[arg(long, default_value_t = 1_000)]
    pub bandwidth_mbps: u32,
    /// Sent from the owner to the worker key's account when it has none, for its tx fees.
    #[arg(long, default_value = "5000000ustor")]
    pub fund_worker: String,
    #[arg(long, value_enum, default_value_t = DockerMode::Auto)]
    pub docker: DockerMode,
    /// Longest a job may run, whatever it asks.
    #[arg(long, default_value_t = 3_600)]
    pub max_job_seconds: u64,
    /// Largest sealed job accepted, in bytes.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_payload: usize,
    /// Settle each active lease (collect the earnings so far) this often, in seconds.
    #[arg(long, default_value_t = 3_600)]
    pub settle_every: u64,
    #[command(flatten)]
    pub tx: TxFlags,
}

pub async fn run(ctx: &Ctx, cmd: WorkerCmd) -> Result<i32> {
    match cmd {
        WorkerCmd::Run(args) => run_agent(ctx, *args).await,
    }
}

fn prices(s: &str) -> Result<Vec<pb::Price>> {
    let coins = Coins::parse(s).map_err(|e| anyhow!("--price {s:?}: {}", e.log))?;
    if coins.is_empty() {
        bail!("--price must name at least one price, e.g. 3600000ucomp");
    }
    Ok(coins
        .iter()
        .map(|c| pb::Price {
            denom: c.denom,
            amount: c.amount.to_string(),
        })
        .collect())
}

async fn run_agent(ctx: &Ctx, args: WorkerRunArgs) -> Result<i32> {
    let home = ctx.home.clone();
    let keys = load_or_create_keys(&home)?;
    let mut st = AgentState::load(&home)?;
    let node = chain::with_chain_id(ctx, &args.node).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let endpoint = args
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let mut q = chain::compute(&node).await?;
    let worker_addr = keys.worker.address().to_string();
    let enc_pub = seal::public_bytes(&keys.enc).to_vec();
    let owner_key = match &args.owner {
        Some(name) => Some(ctx.keyring.unlock(name)?.priv_key()?),
        None => None,
    };

    let device_id = match st.device_id {
        Some(id) => {
            let d = chain::device(&mut q, id)
                .await?
                .device
                .ok_or_else(|| anyhow!("device {id} of {} is not on chain", home.display()))?;
            if d.worker_key != keys.worker.public_key() {
                bail!(
                    "device {id} on chain has another worker key than {}",
                    home.display()
                );
            }
            if d.endpoint != endpoint || d.enc_key != enc_pub {
                match &owner_key {
                    Some(k) => {
                        let m = pb::MsgUpdateDevice {
                            owner: k.address().to_string(),
                            device_id: id,
                            enc_key: enc_pub.clone(),
                            endpoint: endpoint.clone(),
                            ..Default::default()
                        };
                        chain::send(ctx, &node, k, vec![chain::any(&m)], &args.tx).await?;
                        eprintln!("stoad worker: device {id} now at {endpoint}");
                    }
                    None => eprintln!(
                        "stoad worker: device {id}'s endpoint on chain is {:?}, not {endpoint:?}: pass --owner to update it",
                        d.endpoint
                    ),
                }
            }
            id
        }
        None => {
            let owner = owner_key.as_ref().ok_or_else(|| {
                anyhow!("the device is not registered yet: pass --owner KEY (and --price)")
            })?;
            let price = args
                .price
                .as_deref()
                .ok_or_else(|| anyhow!("registering needs --price, e.g. 3600000ucomp"))?;
            // Leases opened before the device exists cannot be its own.
            st.lease_cursor = chain::next_lease_id(&mut q).await?;
            let hw = hardware::detect();
            let model = args.gpu_model.clone().unwrap_or(hw.gpu_model.clone());
            let count = args.gpu_count.unwrap_or(hw.gpu_count);
            let params = chain::params(&mut q).await?;
            let need = params
                .required_stake(&model, count)
                .map_err(|e| anyhow!("{}", e.log))?;
            let stake = args.self_stake.unwrap_or(need);
            let mut msgs: Vec<Any> = Vec::new();
            let ch = client::grpc(&node.grpc).await?;
            if client::query_account(ch, &worker_addr).await?.is_none()
                && !args.fund_worker.is_empty()
            {
                let coins = Coins::parse(&args.fund_worker)
                    .map_err(|e| anyhow!("--fund-worker: {}", e.log))?;
                msgs.push(Any {
                    type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
                    value: MsgSend {
                        from_address: owner.address().to_string(),
                        to_address: worker_addr.clone(),
                        amount: crate::tx::to_proto_coins(&coins),
                    }
                    .encode_to_vec(),
                });
            }
            msgs.push(chain::any(&pb::MsgRegisterDevice {
                owner: owner.address().to_string(),
                worker_key: keys.worker.public_key(),
                enc_key: enc_pub.clone(),
                gpu_model: model.clone(),
                gpu_count: count,
                vram_gib: hw.vram_gib,
                cpu_cores: hw.cpu_cores,
                ram_gib: hw.ram_gib,
                bandwidth_mbps: args.bandwidth_mbps,
                region: args.region.clone(),
                prices: prices(price)?,
                self_stake: stake.to_string(),
                staker_share_bps: args.staker_share_bps,
                endpoint: endpoint.clone(),
            }));
            let out = chain::send(ctx, &node, owner, msgs, &args.tx).await?;
            let resp = chain::msg_responses(&node, &out.txhash).await?;
            let id = resp
                .last()
                .map(|a| pb::MsgRegisterDeviceResponse::decode(a.value.as_slice()))
                .transpose()?
                .ok_or_else(|| anyhow!("the registration returned no device id"))?
                .device_id;
            eprintln!(
                "stoad worker: registered device {id} ({count} x {model}, self-stake {stake} {}) at {endpoint}; worker account {worker_addr}",
                params.stake_denom
            );
            st.device_id = Some(id);
            st.save(&home)?;
            id
        }
    };

    let docker = args.docker == DockerMode::Auto && crate::agent::jobs::docker_available().await;
    let agent = Arc::new(Agent {
        ctx: Ctx {
            home: home.clone(),
            output: ctx.output,
            keyring: Keyring::new(
                ctx.keyring.dir().to_path_buf(),
                ctx.keyring.backend(),
                Passphrase::Prompt,
            ),
            client: ctx.client.clone(),
        },
        node,
        flags: args.tx.clone(),
        keys,
        device_id,
        home,
        state: Mutex::new(st),
        tx_lock: tokio::sync::Mutex::new(()),
        docker,
        max_job_seconds: args.max_job_seconds,
        max_payload: args.max_payload,
        settle_every: Duration::from_secs(args.settle_every.max(1)),
        net_mbps: args.bandwidth_mbps,
        json_log: ctx.json(),
        report_failures: Mutex::new(Default::default()),
        in_flight: Mutex::new(Default::default()),
    });
    agent.log(
        "started",
        serde_json::json!({
            "device": device_id, "endpoint": endpoint, "worker_address": worker_addr,
            "docker": docker,
        }),
    );
    agent.fail_interrupted()?;
    tokio::spawn(server::serve(listener, agent.clone()));
    let a = agent.clone();
    tokio::spawn(async move { a.heartbeat_loop().await });
    let a = agent.clone();
    tokio::spawn(async move { a.lease_loop().await });

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    agent.log("stopped", serde_json::json!({ "device": device_id }));
    Ok(0)
}
