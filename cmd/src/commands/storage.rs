//! `stoad tx storage ...`, `stoad query storage ...`, `stoad client sign-proposal` and
//! `stoad genesis storage-profile`: the storage market from the command line (its clap types
//! and their implementation). Proofs come from `stoa-prover` as the files it writes; proposals
//! travel as JSON files (the `ClientDealProposal` message, proto field names).

use super::tx::sign_and_broadcast;
use super::Ctx;
use crate::cli::{NodeArgs, TxFlags};
use crate::client;
use crate::output::{kv_table, print_json, proto_json, table};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use prost::{Message, Name};
use prost_reflect::ReflectMessage;
use std::path::{Path, PathBuf};
use stoa_framework::Address;
use stoa_proto::storage::v1 as pb;
use stoa_proto::storage::v1::query_client::QueryClient;
use tendermint_rpc::Client;
use tonic::transport::Channel;

// ---- clap types --------------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub enum StorageTx {
    /// Register a storage provider: FROM is its owner (and its id), --worker signs its sector
    /// and deal messages.
    RegisterProvider {
        #[arg(long)]
        from: String,
        /// Worker key name or address (default: the owner).
        #[arg(long)]
        worker: Option<String>,
        /// Sector size: 2KiB, 8MiB, 512MiB or 32GiB (the chain's params say which are allowed).
        #[arg(long)]
        sector_size: String,
        /// The HTTP address the provider's agent serves.
        #[arg(long, default_value = "")]
        endpoint: String,
        /// Ask: price per GiB per second (ustor).
        #[arg(long, default_value = "0")]
        price_per_gib_per_second: String,
        #[arg(long, default_value_t = 128)]
        min_piece_size: u64,
        /// Default: the sector size.
        #[arg(long)]
        max_piece_size: Option<u64>,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Move AMOUNT ustor from FROM's account into a market escrow (FROM's, or --to's).
    AddBalance {
        amount: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Withdraw AMOUNT ustor of FROM's unlocked escrow.
    WithdrawBalance {
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Publish client-signed proposals (files of `stoad client sign-proposal`); FROM is the
    /// provider's worker.
    PublishDeals {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        from: String,
        /// The provider (default: the proposals' provider).
        #[arg(long)]
        provider: Option<String>,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Settle the payments of deals up to now (anyone may).
    SettleDeals {
        #[arg(required = true)]
        deal_ids: Vec<u64>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Pre-commit a sealed sector (FROM: the worker).
    PreCommit {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        provider: ProviderArg,
        /// The sealed sector's directory (`stoa-prover seal --out`): number, comm_r and
        /// comm_d are read from its meta.json.
        #[arg(long, required_unless_present_all = ["sector", "comm_r", "comm_d"])]
        sector_dir: Option<PathBuf>,
        #[arg(long)]
        sector: Option<u64>,
        #[arg(long)]
        comm_r: Option<String>,
        #[arg(long)]
        comm_d: Option<String>,
        /// Deal ids packed in the sector, comma separated (none: a committed-capacity sector).
        #[arg(long, value_delimiter = ',')]
        deals: Vec<u64>,
        /// The time whose seal randomness (`query storage seal-randomness`) sealed it.
        #[arg(long)]
        seal_rand_time: i64,
        /// Expiration, a block time in seconds.
        #[arg(long)]
        expiration: i64,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Prove-commit a pre-committed sector with the PoRep proof file(s) of `stoa-prover prove`:
    /// several files are the partitions in order, one tx each.
    ProveCommit {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        provider: ProviderArg,
        #[arg(long)]
        sector: u64,
        #[arg(long = "proof", required = true, num_args = 1..)]
        proofs: Vec<PathBuf>,
        /// Partition of a single --proof file (default: files are partitions 0, 1, ...).
        #[arg(long)]
        partition: Option<u32>,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Submit a Window PoSt (the file of `stoa-prover post`) for a deadline while it is open.
    SubmitPost {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        provider: ProviderArg,
        #[arg(long)]
        deadline: u32,
        #[arg(long)]
        proof: PathBuf,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Declare sectors faulty before their deadline's fault cutoff.
    DeclareFaults {
        #[arg(required = true)]
        sectors: Vec<u64>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        provider: ProviderArg,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Declare faulty sectors recovered: their next Window PoSt must prove them.
    DeclareFaultsRecovered {
        #[arg(required = true)]
        sectors: Vec<u64>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        provider: ProviderArg,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Terminate sectors early (termination fee from their pledge, their deals end).
    TerminateSectors {
        #[arg(required = true)]
        sectors: Vec<u64>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        provider: ProviderArg,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Move sectors' expiration later.
    ExtendSectors {
        #[arg(required = true)]
        sectors: Vec<u64>,
        #[arg(long)]
        new_expiration: i64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        provider: ProviderArg,
        #[command(flatten)]
        tx: TxFlags,
    },
    /// Withdraw the provider's rewards (FROM: the owner): part liquid, the rest vesting.
    WithdrawRewards {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxFlags,
    },
}

/// The provider a worker acts for.
#[derive(Args, Debug, Clone)]
pub struct ProviderArg {
    /// The provider (its owner's address or key name; default: the signer, when the worker is
    /// the owner).
    #[arg(long)]
    pub provider: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum StorageQuery {
    /// Every registered provider.
    Providers,
    /// One provider: power, sectors by state, pledge, escrow, rewards and vesting, faults.
    Provider { provider: String },
    /// Deals, optionally of one client, provider or state (published, active).
    Deals {
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        state: Option<String>,
    },
    /// One deal.
    Deal { id: u64 },
    /// A provider's sectors.
    Sectors { provider: String },
    /// A pre-committed sector (its interactive seed once drawn).
    PreCommit { provider: String, sector: u64 },
    /// A provider's deadlines: which is open now and until when, what each challenges.
    Deadlines { provider: String },
    /// Network raw and quality-adjusted power.
    Power,
    /// Minted by simple and baseline minting, the reward rate now.
    Rewards,
    /// The module's params.
    Params,
    /// A market escrow balance.
    Balance { address: String },
    /// The seal randomness (ticket) of a time, for `stoa-prover seal --ticket`.
    SealRandomness {
        /// Block time in seconds (default: a minute before the latest block).
        #[arg(long)]
        time: Option<i64>,
    },
}

#[derive(Args, Debug)]
pub struct ClientCmd {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(subcommand)]
    pub command: ClientSub,
}

#[derive(Subcommand, Debug)]
pub enum ClientSub {
    /// Sign a deal proposal with the client's key and write it to a file for the provider
    /// (`stoad tx storage publish-deals FILE`).
    SignProposal(SignProposalArgs),
}

#[derive(Args, Debug)]
pub struct SignProposalArgs {
    /// The client's key.
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub provider: String,
    /// The piece's data: its piece CID and padded size are computed (as `stoa-prover commp`).
    #[arg(long, conflicts_with_all = ["piece_cid", "piece_size"])]
    pub data: Option<PathBuf>,
    #[arg(long, requires = "piece_size")]
    pub piece_cid: Option<String>,
    /// Padded piece size (a power of two).
    #[arg(long)]
    pub piece_size: Option<u64>,
    /// Start, a block time in seconds.
    #[arg(
        long,
        conflicts_with = "start_in",
        required_unless_present = "start_in"
    )]
    pub start: Option<i64>,
    /// Start this many seconds after the latest block.
    #[arg(long)]
    pub start_in: Option<i64>,
    /// End, a block time in seconds.
    #[arg(
        long,
        conflicts_with = "duration",
        required_unless_present = "duration"
    )]
    pub end: Option<i64>,
    /// End this many seconds after the start.
    #[arg(long)]
    pub duration: Option<i64>,
    /// ustor per second.
    #[arg(long)]
    pub price_per_second: String,
    #[arg(long)]
    pub provider_collateral: String,
    #[arg(long, default_value = "0")]
    pub client_collateral: String,
    #[arg(long, default_value = "")]
    pub label: String,
    /// Where to write the signed proposal (JSON).
    #[arg(long)]
    pub out: PathBuf,
}

// ---- tx ----------------------------------------------------------------------------------

fn any<M: Message + Name>(m: &M) -> cosmos_sdk_proto::Any {
    cosmos_sdk_proto::Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

fn hex32(s: &str, what: &str) -> Result<Vec<u8>> {
    let b = hex::decode(s.trim().trim_start_matches("0x"))
        .map_err(|e| anyhow!("{what}: not hex: {e}"))?;
    if b.len() != 32 {
        bail!("{what}: {} bytes, expected 32", b.len());
    }
    Ok(b)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn parse_seal_size(s: &str) -> Result<i32> {
    let proof = match s.trim().to_ascii_lowercase().as_str() {
        "2kib" => pb::RegisteredSealProof::StackedDrg2kibV1,
        "8mib" => pb::RegisteredSealProof::StackedDrg8mibV1,
        "512mib" => pb::RegisteredSealProof::StackedDrg512mibV1,
        "32gib" => pb::RegisteredSealProof::StackedDrg32gibV1,
        other => bail!("unknown sector size {other:?}: 2KiB, 8MiB, 512MiB or 32GiB"),
    };
    Ok(proof as i32)
}

fn size_name(seal_proof: i32) -> String {
    match pb::RegisteredSealProof::try_from(seal_proof) {
        Ok(pb::RegisteredSealProof::StackedDrg2kibV1) => "2KiB".into(),
        Ok(pb::RegisteredSealProof::StackedDrg8mibV1) => "8MiB".into(),
        Ok(pb::RegisteredSealProof::StackedDrg512mibV1) => "512MiB".into(),
        Ok(pb::RegisteredSealProof::StackedDrg32gibV1) => "32GiB".into(),
        _ => format!("seal proof {seal_proof}"),
    }
}

fn sector_bytes(seal_proof: i32) -> u64 {
    match pb::RegisteredSealProof::try_from(seal_proof) {
        Ok(pb::RegisteredSealProof::StackedDrg2kibV1) => 2 << 10,
        Ok(pb::RegisteredSealProof::StackedDrg8mibV1) => 8 << 20,
        Ok(pb::RegisteredSealProof::StackedDrg512mibV1) => 512 << 20,
        Ok(pb::RegisteredSealProof::StackedDrg32gibV1) => 32 << 30,
        _ => 0,
    }
}

/// comm_r, comm_d and the sector number from a sealed sector's meta.json.
fn sector_meta(dir: &Path) -> Result<(u64, Vec<u8>, Vec<u8>)> {
    let path = dir.join("meta.json");
    let v: serde_json::Value = serde_json::from_slice(&read(&path)?)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    let field = |k: &str| -> Result<Vec<u8>> {
        let s = v
            .get(k)
            .and_then(|x| x.as_str())
            .ok_or_else(|| anyhow!("{} has no {k}", path.display()))?;
        hex32(s, k)
    };
    let n = v
        .get("sector_number")
        .and_then(|x| x.as_u64())
        .ok_or_else(|| anyhow!("{} has no sector_number", path.display()))?;
    Ok((n, field("comm_r")?, field("comm_d")?))
}

/// A signed proposal file as `sign-proposal` writes it.
pub fn read_proposal(path: &Path) -> Result<pb::ClientDealProposal> {
    let bytes = read(path)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let desc = pb::ClientDealProposal::default().descriptor();
    let dynamic = prost_reflect::DynamicMessage::deserialize(desc, &mut de)
        .with_context(|| format!("{} is not a signed deal proposal", path.display()))?;
    dynamic
        .transcode_to::<pb::ClientDealProposal>()
        .with_context(|| format!("{}: not a ClientDealProposal", path.display()))
}

pub async fn run_tx(ctx: &Ctx, node: &NodeArgs, cmd: StorageTx) -> Result<i32> {
    // Every message is signed by --from; `msgs` builds them once its address is known.
    let (from, tx, msgs): (String, TxFlags, Vec<cosmos_sdk_proto::Any>) = match cmd {
        StorageTx::RegisterProvider {
            from,
            worker,
            sector_size,
            endpoint,
            price_per_gib_per_second,
            min_piece_size,
            max_piece_size,
            tx,
        } => {
            let owner = ctx.resolve_address(&from)?;
            let worker = match worker {
                Some(w) => ctx.resolve_address(&w)?,
                None => owner,
            };
            let seal_proof = parse_seal_size(&sector_size)?;
            let m = pb::MsgRegisterProvider {
                owner: owner.to_string(),
                worker: worker.to_string(),
                seal_proof,
                peer_endpoint: endpoint,
                price_per_gib_per_second,
                min_piece_size,
                max_piece_size: max_piece_size.unwrap_or(sector_bytes(seal_proof)),
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::AddBalance {
            amount,
            from,
            to,
            tx,
        } => {
            let sender = ctx.resolve_address(&from)?;
            let to = match to {
                Some(t) => ctx.resolve_address(&t)?.to_string(),
                None => String::new(),
            };
            let m = pb::MsgAddBalance {
                sender: sender.to_string(),
                address: to,
                amount: amount_arg(&amount)?,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::WithdrawBalance { amount, from, tx } => {
            let m = pb::MsgWithdrawBalance {
                address: ctx.resolve_address(&from)?.to_string(),
                amount: amount_arg(&amount)?,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::PublishDeals {
            files,
            from,
            provider,
            tx,
        } => {
            let deals = files
                .iter()
                .map(|f| read_proposal(f))
                .collect::<Result<Vec<_>>>()?;
            let provider = match provider {
                Some(p) => ctx.resolve_address(&p)?.to_string(),
                None => {
                    let first = deals
                        .first()
                        .and_then(|d| d.proposal.as_ref())
                        .map(|p| p.provider.clone())
                        .unwrap_or_default();
                    if deals
                        .iter()
                        .any(|d| d.proposal.as_ref().map(|p| &p.provider) != Some(&first))
                    {
                        bail!("the proposals name different providers: give --provider");
                    }
                    first
                }
            };
            let m = pb::MsgPublishDeals {
                worker: ctx.resolve_address(&from)?.to_string(),
                provider,
                deals,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::SettleDeals { deal_ids, from, tx } => {
            let m = pb::MsgSettleDealPayments {
                sender: ctx.resolve_address(&from)?.to_string(),
                deal_ids,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::PreCommit {
            from,
            provider,
            sector_dir,
            sector,
            comm_r,
            comm_d,
            deals,
            seal_rand_time,
            expiration,
            tx,
        } => {
            let (mut n, mut r, mut d) = (None, None, None);
            if let Some(dir) = &sector_dir {
                let (mn, mr, md) = sector_meta(dir)?;
                (n, r, d) = (Some(mn), Some(mr), Some(md));
            }
            let n = sector.or(n).ok_or_else(|| anyhow!("give --sector"))?;
            let r = match comm_r {
                Some(h) => hex32(&h, "--comm-r")?,
                None => r.ok_or_else(|| anyhow!("give --comm-r"))?,
            };
            let d = match comm_d {
                Some(h) => hex32(&h, "--comm-d")?,
                None => d.ok_or_else(|| anyhow!("give --comm-d"))?,
            };
            let worker = ctx.resolve_address(&from)?;
            let m = pb::MsgPreCommitSector {
                worker: worker.to_string(),
                provider: provider_of(ctx, &provider, &worker)?,
                sector_number: n,
                comm_r: r,
                comm_d: d,
                deal_ids: deals,
                seal_rand_time,
                expiration,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::ProveCommit {
            from,
            provider,
            sector,
            proofs,
            partition,
            tx,
        } => {
            if partition.is_some() && proofs.len() > 1 {
                bail!("--partition goes with a single --proof file");
            }
            let worker = ctx.resolve_address(&from)?;
            let provider = provider_of(ctx, &provider, &worker)?;
            let mut msgs = Vec::new();
            for (i, path) in proofs.iter().enumerate() {
                msgs.push(any(&pb::MsgProveCommitSector {
                    worker: worker.to_string(),
                    provider: provider.clone(),
                    sector_number: sector,
                    proof: read(path)?,
                    partition: partition.unwrap_or(i as u32),
                }));
            }
            // One tx per partition: each is sized to fit a tx on its own.
            let key = ctx.keyring.unlock(&from)?.priv_key()?;
            let mut code = 0;
            for m in msgs {
                code = sign_and_broadcast(ctx, node, &key, vec![m], &tx).await?;
                if code != 0 {
                    return Ok(code);
                }
            }
            return Ok(code);
        }
        StorageTx::SubmitPost {
            from,
            provider,
            deadline,
            proof,
            tx,
        } => {
            let worker = ctx.resolve_address(&from)?;
            let m = pb::MsgSubmitWindowPoSt {
                worker: worker.to_string(),
                provider: provider_of(ctx, &provider, &worker)?,
                deadline,
                proof: read(&proof)?,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::DeclareFaults {
            sectors,
            from,
            provider,
            tx,
        } => {
            let worker = ctx.resolve_address(&from)?;
            let m = pb::MsgDeclareFaults {
                worker: worker.to_string(),
                provider: provider_of(ctx, &provider, &worker)?,
                sector_numbers: sectors,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::DeclareFaultsRecovered {
            sectors,
            from,
            provider,
            tx,
        } => {
            let worker = ctx.resolve_address(&from)?;
            let m = pb::MsgDeclareFaultsRecovered {
                worker: worker.to_string(),
                provider: provider_of(ctx, &provider, &worker)?,
                sector_numbers: sectors,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::TerminateSectors {
            sectors,
            from,
            provider,
            tx,
        } => {
            let worker = ctx.resolve_address(&from)?;
            let m = pb::MsgTerminateSectors {
                worker: worker.to_string(),
                provider: provider_of(ctx, &provider, &worker)?,
                sector_numbers: sectors,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::ExtendSectors {
            sectors,
            new_expiration,
            from,
            provider,
            tx,
        } => {
            let worker = ctx.resolve_address(&from)?;
            let m = pb::MsgExtendSectorExpiration {
                worker: worker.to_string(),
                provider: provider_of(ctx, &provider, &worker)?,
                sector_numbers: sectors,
                new_expiration,
            };
            (from, tx, vec![any(&m)])
        }
        StorageTx::WithdrawRewards { from, tx } => {
            let m = pb::MsgWithdrawRewards {
                owner: ctx.resolve_address(&from)?.to_string(),
            };
            (from, tx, vec![any(&m)])
        }
    };
    // After the arguments are checked: a typo must not cost a passphrase prompt.
    let key = ctx.keyring.unlock(&from)?.priv_key()?;
    sign_and_broadcast(ctx, node, &key, msgs, &tx).await
}

fn amount_arg(s: &str) -> Result<String> {
    let t = s.trim().trim_end_matches("ustor");
    t.parse::<u128>()
        .map_err(|_| anyhow!("invalid amount {s:?}: a whole number of ustor"))?;
    Ok(t.to_string())
}

fn provider_of(ctx: &Ctx, p: &ProviderArg, signer: &Address) -> Result<String> {
    Ok(match &p.provider {
        Some(x) => ctx.resolve_address(x)?.to_string(),
        None => signer.to_string(),
    })
}

// ---- client ------------------------------------------------------------------------------

/// The latest block's time (CometBFT RPC).
async fn latest_block_time(node: &str) -> Result<i64> {
    let rpc = client::rpc(node)?;
    let status = rpc.status().await.map_err(|e| client::rpc_error(node, e))?;
    Ok(status.sync_info.latest_block_time.unix_timestamp())
}

pub async fn run_client(ctx: &Ctx, cmd: ClientCmd) -> Result<i32> {
    match cmd.command {
        ClientSub::SignProposal(a) => {
            let (piece_cid, piece_size) = match (&a.data, &a.piece_cid, a.piece_size) {
                (Some(f), _, _) => {
                    let bytes = read(f)?;
                    let (comm, size) = stoa_prover::piece_commitment(&bytes);
                    (stoa_prover::piece_cid(&comm), size)
                }
                (None, Some(c), Some(s)) => (c.clone(), s),
                _ => bail!("give --data FILE, or --piece-cid and --piece-size"),
            };
            let start = match (a.start, a.start_in) {
                (Some(s), _) => s,
                (None, Some(d)) => latest_block_time(&cmd.node.node).await? + d,
                (None, None) => bail!("give --start or --start-in"),
            };
            let end = match (a.end, a.duration) {
                (Some(e), _) => e,
                (None, Some(d)) => start + d,
                (None, None) => bail!("give --end or --duration"),
            };
            let info = ctx.keyring.get(&a.from)?;
            let provider = ctx.resolve_address(&a.provider)?;
            let proposal = pb::DealProposal {
                piece_cid,
                piece_size,
                client: info.address()?.to_string(),
                provider: provider.to_string(),
                label: a.label,
                start,
                end,
                price_per_second: amount_arg(&a.price_per_second)?,
                provider_collateral: amount_arg(&a.provider_collateral)?,
                client_collateral: amount_arg(&a.client_collateral)?,
            };
            let key = ctx.keyring.unlock(&a.from)?.priv_key()?;
            let pk = crate::tx::pubkey_any(key.algo(), key.public_key());
            let signed = pb::ClientDealProposal {
                signature: key.sign(&stoa_storage::market::sign_bytes(&proposal))?,
                proposal: Some(proposal),
                pub_key_type_url: pk.type_url,
                pub_key: pk.value,
            };
            let json = proto_json(&signed)?;
            std::fs::write(&a.out, serde_json::to_string_pretty(&json)?)
                .with_context(|| format!("cannot write {}", a.out.display()))?;
            if ctx.json() {
                print_json(&serde_json::json!({"file": a.out, "proposal": json}))?;
            } else {
                let p = signed.proposal.unwrap_or_default();
                crate::outln!(
                    "{}",
                    kv_table(&[
                        ("file", a.out.display().to_string()),
                        ("piece", format!("{} ({} bytes)", p.piece_cid, p.piece_size)),
                        ("client", p.client),
                        ("provider", p.provider),
                        ("start .. end", format!("{} .. {}", p.start, p.end)),
                        ("price per second", p.price_per_second),
                    ])
                );
            }
            Ok(0)
        }
    }
}

// ---- genesis -----------------------------------------------------------------------------

/// `stoad genesis storage-profile NAME`: replaces the genesis' storage params with a profile.
pub fn genesis_profile(ctx: &Ctx, name: &str) -> Result<()> {
    let params = stoa_storage::StorageParams::profile(name)
        .ok_or_else(|| anyhow!("unknown storage profile {name:?}: public, devnet or test"))?;
    let mut genesis = crate::home::read_genesis(&ctx.home)?;
    let app_state = genesis
        .get_mut("app_state")
        .and_then(|v| v.as_object_mut())
        .ok_or_else(|| anyhow!("the genesis has no app_state: run `stoad init` first"))?;
    app_state.insert(
        "storage".into(),
        serde_json::json!({ "params": serde_json::to_value(&params)? }),
    );
    crate::home::write_genesis(&ctx.home, &genesis)?;
    if ctx.json() {
        print_json(&serde_json::json!({"profile": name, "params": params}))?;
    } else {
        let sizes: Vec<String> = params
            .allowed_seal_proofs
            .iter()
            .map(|p| size_name(*p))
            .collect();
        crate::outln!(
            "storage profile {name}: sector sizes {}, proving period {} s in {} deadlines{}",
            sizes.join(", "),
            params.proving_period,
            params.deadlines,
            if name == "public" {
                ""
            } else {
                " (INSECURE: small sectors reseal within a PoSt window; devnets and tests only)"
            }
        );
    }
    Ok(())
}

// ---- queries -----------------------------------------------------------------------------

async fn qc(node: &NodeArgs) -> Result<QueryClient<Channel>> {
    Ok(QueryClient::new(client::grpc(&node.grpc).await?))
}

fn q<T>(what: &str, r: std::result::Result<tonic::Response<T>, tonic::Status>) -> Result<T> {
    r.map(|r| r.into_inner())
        .map_err(|s| client::grpc_error(&format!("storage {what} query"), s))
}

fn sector_state(s: i32) -> &'static str {
    match pb::SectorState::try_from(s) {
        Ok(pb::SectorState::Active) => "active",
        Ok(pb::SectorState::Faulty) => "faulty",
        _ => "unspecified",
    }
}

fn deal_state(s: i32) -> &'static str {
    match pb::DealState::try_from(s) {
        Ok(pb::DealState::Published) => "published",
        Ok(pb::DealState::Active) => "active",
        _ => "unspecified",
    }
}

fn ids(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// Every page of a paginated storage query.
async fn pages<T>(
    mut fetch: impl AsyncFnMut(
        cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest,
    ) -> Result<(
        Vec<T>,
        Option<cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse>,
    )>,
) -> Result<Vec<T>> {
    let mut all = Vec::new();
    let mut next = Vec::new();
    loop {
        let page = cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest {
            key: next.clone(),
            limit: 1000,
            ..Default::default()
        };
        let (items, p) = fetch(page).await?;
        all.extend(items);
        match p {
            Some(p) if !p.next_key.is_empty() && p.next_key != next => next = p.next_key,
            _ => return Ok(all),
        }
    }
}

fn json_list<M: ReflectMessage>(field: &str, items: &[M]) -> Result<serde_json::Value> {
    let list = items.iter().map(proto_json).collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({ field: list }))
}

pub async fn run_query(ctx: &Ctx, node: &NodeArgs, cmd: StorageQuery) -> Result<i32> {
    let mut c = qc(node).await?;
    match cmd {
        StorageQuery::Providers => {
            let list = pages(async |page| {
                let r = q(
                    "providers",
                    c.providers(pb::QueryProvidersRequest {
                        pagination: Some(page),
                    })
                    .await,
                )?;
                Ok((r.providers, r.pagination))
            })
            .await?;
            if ctx.json() {
                return print_json(&json_list("providers", &list)?).map(|_| 0);
            }
            let mut t = table(&[
                "Provider",
                "Worker",
                "Size",
                "Raw power",
                "QA power",
                "Active",
                "Faulty",
                "Pledge",
                "Endpoint",
            ]);
            for p in &list {
                t.add_row(vec![
                    p.owner.clone(),
                    p.worker.clone(),
                    size_name(p.seal_proof),
                    p.raw_power.to_string(),
                    p.qa_power.to_string(),
                    p.active_sectors.to_string(),
                    p.faulty_sectors.to_string(),
                    p.pledge.clone(),
                    p.peer_endpoint.clone(),
                ]);
            }
            crate::outln!("{t}");
        }
        StorageQuery::Provider { provider } => {
            let a = ctx.resolve_address(&provider)?;
            let r = q(
                "provider",
                c.provider(pb::QueryProviderRequest {
                    provider: a.to_string(),
                })
                .await,
            )?;
            // The prover id `stoa-prover seal --prover-id` needs: the address, zero-padded.
            let prover_id = hex::encode(stoa_storage::miner::prover_id(&a));
            if ctx.json() {
                let mut v = proto_json(&r)?;
                v["prover_id"] = serde_json::json!(prover_id);
                return print_json(&v).map(|_| 0);
            }
            let p = r.provider.clone().unwrap_or_default();
            let e = r.escrow.clone().unwrap_or_default();
            let healthy = p.active_sectors.saturating_sub(p.faulty_sectors);
            crate::outln!(
                "{}",
                kv_table(&[
                    ("provider", p.owner.clone()),
                    ("worker", p.worker.clone()),
                    ("sector size", size_name(p.seal_proof)),
                    ("endpoint", p.peer_endpoint.clone()),
                    (
                        "ask",
                        format!(
                            "{} ustor/GiB/s, pieces {}..{} bytes",
                            p.price_per_gib_per_second, p.min_piece_size, p.max_piece_size
                        )
                    ),
                    (
                        "raw / QA power",
                        format!("{} / {} bytes", p.raw_power, p.qa_power)
                    ),
                    (
                        "sectors",
                        format!(
                            "{healthy} active, {} faulty ({} recovering), {} pre-committed",
                            p.faulty_sectors, r.recovering_sectors, r.precommitted_sectors
                        )
                    ),
                    ("pledge", format!("{} ustor", p.pledge)),
                    (
                        "pre-commit deposits",
                        format!("{} ustor", p.precommit_deposits)
                    ),
                    (
                        "escrow (total / locked)",
                        format!("{} / {} ustor", e.total, e.locked)
                    ),
                    ("rewards pending", format!("{} ustor", r.pending_rewards)),
                    ("rewards vesting", format!("{} ustor", r.vesting)),
                    ("rewards paid", format!("{} ustor", p.rewards_paid)),
                    ("proving period start", p.proving_period_start.to_string()),
                    ("prover id", prover_id),
                ])
            );
        }
        StorageQuery::Deals {
            client,
            provider,
            state,
        } => {
            let client = client
                .map(|x| ctx.resolve_address(&x).map(|a| a.to_string()))
                .transpose()?
                .unwrap_or_default();
            let provider = provider
                .map(|x| ctx.resolve_address(&x).map(|a| a.to_string()))
                .transpose()?
                .unwrap_or_default();
            let state = match state.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("") | Some("any") => 0,
                Some("published") => pb::DealState::Published as i32,
                Some("active") => pb::DealState::Active as i32,
                Some(other) => bail!("unknown deal state {other:?}: published or active"),
            };
            let list = pages(async |page| {
                let r = q(
                    "deals",
                    c.deals(pb::QueryDealsRequest {
                        client: client.clone(),
                        provider: provider.clone(),
                        state,
                        pagination: Some(page),
                    })
                    .await,
                )?;
                Ok((r.deals, r.pagination))
            })
            .await?;
            if ctx.json() {
                return print_json(&json_list("deals", &list)?).map(|_| 0);
            }
            let mut t = table(&[
                "ID", "Client", "Provider", "Piece", "Size", "Start", "End", "Price/s", "State",
                "Sector", "Paid",
            ]);
            for d in &list {
                let p = d.proposal.clone().unwrap_or_default();
                t.add_row(vec![
                    d.id.to_string(),
                    p.client,
                    p.provider,
                    p.piece_cid,
                    p.piece_size.to_string(),
                    p.start.to_string(),
                    p.end.to_string(),
                    p.price_per_second,
                    deal_state(d.state).into(),
                    if d.state == pb::DealState::Active as i32 {
                        d.sector_number.to_string()
                    } else {
                        "-".into()
                    },
                    d.paid.clone(),
                ]);
            }
            crate::outln!("{t}");
        }
        StorageQuery::Deal { id } => {
            let r = q("deal", c.deal(pb::QueryDealRequest { id }).await)?;
            if ctx.json() {
                return print_json(&proto_json(&r)?).map(|_| 0);
            }
            let d = r.deal.unwrap_or_default();
            let p = d.proposal.clone().unwrap_or_default();
            crate::outln!(
                "{}",
                kv_table(&[
                    ("id", d.id.to_string()),
                    ("state", deal_state(d.state).into()),
                    ("client", p.client),
                    ("provider", p.provider),
                    ("piece", format!("{} ({} bytes)", p.piece_cid, p.piece_size)),
                    ("label", p.label),
                    ("start .. end", format!("{} .. {}", p.start, p.end)),
                    ("price per second", format!("{} ustor", p.price_per_second)),
                    (
                        "collateral (provider / client)",
                        format!("{} / {} ustor", p.provider_collateral, p.client_collateral)
                    ),
                    ("sector", d.sector_number.to_string()),
                    ("activated at", d.activated_at.to_string()),
                    ("paid", format!("{} ustor", d.paid)),
                ])
            );
        }
        StorageQuery::Sectors { provider } => {
            let a = ctx.resolve_address(&provider)?.to_string();
            let list = pages(async |page| {
                let r = q(
                    "sectors",
                    c.sectors(pb::QuerySectorsRequest {
                        provider: a.clone(),
                        pagination: Some(page),
                    })
                    .await,
                )?;
                Ok((r.sectors, r.pagination))
            })
            .await?;
            if ctx.json() {
                return print_json(&json_list("sectors", &list)?).map(|_| 0);
            }
            let mut t = table(&[
                "Sector",
                "State",
                "Deadline",
                "Activation",
                "Expiration",
                "QA power",
                "Pledge",
                "Last proven",
                "Deals",
            ]);
            for s in &list {
                let state = if s.recovering {
                    "faulty (recovering)"
                } else {
                    sector_state(s.state)
                };
                t.add_row(vec![
                    s.sector_number.to_string(),
                    state.into(),
                    s.deadline.to_string(),
                    s.activation.to_string(),
                    s.expiration.to_string(),
                    s.qa_power.to_string(),
                    s.pledge.clone(),
                    s.last_proven.to_string(),
                    ids(&s.deal_ids),
                ]);
            }
            crate::outln!("{t}");
        }
        StorageQuery::PreCommit { provider, sector } => {
            let a = ctx.resolve_address(&provider)?.to_string();
            let r = q(
                "pre-commit",
                c.pre_commit(pb::QueryPreCommitRequest {
                    provider: a,
                    sector_number: sector,
                })
                .await,
            )?;
            if ctx.json() {
                return print_json(&proto_json(&r)?).map(|_| 0);
            }
            let pc = r.pre_commit.unwrap_or_default();
            let parts =
                stoa_prover::PoRepPartition::count(pc.porep_challenges, pc.porep_per_partition);
            crate::outln!(
                "{}",
                kv_table(&[
                    ("sector", pc.sector_number.to_string()),
                    ("comm_r", hex::encode(&pc.comm_r)),
                    ("comm_d", hex::encode(&pc.comm_d)),
                    ("deals", ids(&pc.deal_ids)),
                    ("pre-committed at", pc.precommitted_at.to_string()),
                    ("deposit", format!("{} ustor", pc.deposit)),
                    (
                        "seed",
                        if pc.seed.is_empty() {
                            "(not drawn yet: wait for the prove-commit delay)".into()
                        } else {
                            hex::encode(&pc.seed)
                        }
                    ),
                    (
                        "PoRep",
                        format!(
                            "{} challenges, {} per partition ({} partitions, proven: {})",
                            pc.porep_challenges,
                            pc.porep_per_partition,
                            parts,
                            pc.proven_partitions
                                .iter()
                                .map(u32::to_string)
                                .collect::<Vec<_>>()
                                .join(",")
                        )
                    ),
                ])
            );
        }
        StorageQuery::Deadlines { provider } => {
            let a = ctx.resolve_address(&provider)?.to_string();
            let r = q(
                "deadlines",
                c.deadlines(pb::QueryDeadlinesRequest { provider: a }).await,
            )?;
            if ctx.json() {
                return print_json(&proto_json(&r)?).map(|_| 0);
            }
            let cur = r.deadlines.iter().find(|d| d.is_open);
            match cur {
                Some(d) => crate::outln!(
                    "now {}: deadline {} is open until {} ({} s left); challenged: [{}]",
                    r.now,
                    d.index,
                    d.close,
                    d.close - r.now,
                    ids(&d.challenged)
                ),
                None => crate::outln!("now {}: no deadline open", r.now),
            }
            let mut t = table(&[
                "Deadline",
                "Open",
                "Close",
                "Open now",
                "Sectors",
                "Challenged",
                "Randomness (for this window)",
            ]);
            for d in &r.deadlines {
                let rand = if !d.randomness.is_empty() && d.randomness_for_open == d.open {
                    hex::encode(&d.randomness)
                } else {
                    "(not drawn yet)".into()
                };
                t.add_row(vec![
                    d.index.to_string(),
                    d.open.to_string(),
                    d.close.to_string(),
                    if d.is_open { "yes" } else { "" }.into(),
                    ids(&d.sectors),
                    ids(&d.challenged),
                    rand,
                ]);
            }
            crate::outln!("{t}");
        }
        StorageQuery::Power => {
            let r = q("power", c.power(pb::QueryPowerRequest {}).await)?;
            if ctx.json() {
                return print_json(&proto_json(&r)?).map(|_| 0);
            }
            let p = r.power.unwrap_or_default();
            crate::outln!(
                "{}",
                kv_table(&[
                    ("raw power", format!("{} bytes", p.raw)),
                    ("QA power", format!("{} bytes", p.qa)),
                ])
            );
        }
        StorageQuery::Rewards => {
            let r = q("rewards", c.rewards(pb::QueryRewardsRequest {}).await)?;
            if ctx.json() {
                return print_json(&proto_json(&r)?).map(|_| 0);
            }
            crate::outln!(
                "{}",
                kv_table(&[
                    (
                        "minted by simple minting",
                        format!("{} ustor", r.minted_simple)
                    ),
                    (
                        "minted by baseline minting",
                        format!("{} ustor", r.minted_baseline)
                    ),
                    (
                        "last block's reward",
                        format!("{} ustor", r.last_block_reward)
                    ),
                    (
                        "simple minting now",
                        format!("{} ustor/s", r.reward_per_second_now)
                    ),
                    ("baseline power now", format!("{} bytes", r.baseline_power)),
                ])
            );
        }
        StorageQuery::Params => {
            let r = q("params", c.params(pb::QueryParamsRequest {}).await)?;
            let json = r.params.map(|p| p.json).unwrap_or_default();
            let v: serde_json::Value =
                serde_json::from_str(&json).context("the params are not JSON")?;
            print_json(&v)?;
        }
        StorageQuery::Balance { address } => {
            let a = ctx.resolve_address(&address)?.to_string();
            let r = q(
                "balance",
                c.balance(pb::QueryBalanceRequest { address: a }).await,
            )?;
            if ctx.json() {
                return print_json(&proto_json(&r)?).map(|_| 0);
            }
            let b = r.balance.unwrap_or_default();
            crate::outln!(
                "{}",
                kv_table(&[
                    ("address", b.address),
                    ("total", format!("{} ustor", b.total)),
                    ("locked", format!("{} ustor", b.locked)),
                ])
            );
        }
        StorageQuery::SealRandomness { time } => {
            let time = match time {
                Some(t) => t,
                None => latest_block_time(&node.node).await? - 60,
            };
            let r = q(
                "seal randomness",
                c.seal_randomness(pb::QuerySealRandomnessRequest { time })
                    .await,
            )?;
            if ctx.json() {
                let mut v = proto_json(&r)?;
                v["time"] = serde_json::json!(time.to_string());
                v["ticket_hex"] = serde_json::json!(hex::encode(&r.ticket));
                return print_json(&v).map(|_| 0);
            }
            crate::outln!(
                "{}",
                kv_table(&[
                    ("time", time.to_string()),
                    ("ticket", hex::encode(&r.ticket)),
                ])
            );
        }
    }
    Ok(0)
}
