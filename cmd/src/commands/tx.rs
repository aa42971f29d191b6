//! `stoad tx ...`: builds the messages, fetches account number and sequence over gRPC,
//! estimates gas (`--gas auto` and `--dry-run` simulate), writes the unsigned tx
//! (`--generate-only`) or signs it, broadcasts with CometBFT `broadcast_tx_sync` (or `_async`)
//! and waits until the tx is in a block. Exits non-zero when CheckTx or the block rejected it.

use super::Ctx;
use crate::cli::{BankTx, BroadcastMode, NodeArgs, TxCmd, TxFlags, TxSub};
use crate::client;
use crate::keyring::{KeyInfo, PrivKey};
use crate::output::{kv_table, print_json};
use crate::tx::{
    corrupt, fees_from_gas_prices, pubkey_any, sign_single, signer_info, to_proto_coins, tx_hash,
    unsigned_tx, SignerData, TxOptions,
};
use crate::txjson::{tx_raw_bytes, tx_to_json};
use anyhow::{anyhow, bail, Result};
use base64::Engine;
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{service_client::ServiceClient, SimulateRequest};
use cosmos_sdk_proto::Any;
use prost::Message;
use serde::Serialize;
use std::time::Duration;
use stoa_framework::{Address, Coins};
use tendermint_rpc::Client;
use tonic::transport::Channel;

pub async fn run(ctx: &Ctx, cmd: TxCmd) -> Result<i32> {
    match cmd.command {
        TxSub::Bank(BankTx::Send {
            from,
            to,
            amount,
            tx,
        }) => {
            let signer = ctx.signer(&from)?;
            let to_addr = ctx.resolve_address(&to)?;
            let coins = Coins::parse(&amount)
                .map_err(|e| anyhow!("invalid amount {amount:?}: {}", e.log))?;
            if coins.is_empty() {
                bail!("nothing to send: give an amount such as 100ustor");
            }
            let msg = MsgSend {
                from_address: signer.address()?.to_string(),
                to_address: to_addr.to_string(),
                amount: to_proto_coins(&coins),
            };
            let any = Any {
                type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
                value: msg.encode_to_vec(),
            };
            sign_and_broadcast(ctx, &cmd.node, &signer, vec![any], &tx).await
        }
        TxSub::Offline(c) => super::offline::run(ctx, &cmd.node, c).await,
        TxSub::Msg(args) => super::tx_msg::run(ctx, &cmd.node, args).await,
        TxSub::Storage(sub) => super::storage::run_tx(ctx, &cmd.node, sub).await,
        TxSub::Compute(c) => super::compute::run_tx(ctx, &cmd.node, c).await,
        TxSub::Intelligence(t) => super::intelligence::tx(ctx, &cmd.node, t).await,
    }
}

/// Who signs a tx: a key already unlocked, a keyring key (unlocked only when a signature is
/// needed, so `--generate-only` and `--dry-run` never ask for a passphrase), or a bare address
/// that no keyring key has (it can only `--generate-only`).
#[derive(Clone)]
pub enum Signer {
    Unlocked(PrivKey),
    Keyring(KeyInfo),
    Address(Address),
}

impl From<&PrivKey> for Signer {
    fn from(k: &PrivKey) -> Self {
        Signer::Unlocked(k.clone())
    }
}

impl From<&Signer> for Signer {
    fn from(s: &Signer) -> Self {
        s.clone()
    }
}

impl Signer {
    pub fn address(&self) -> Result<Address> {
        match self {
            Signer::Unlocked(k) => Ok(k.address()),
            Signer::Keyring(info) => info.address(),
            Signer::Address(a) => Ok(*a),
        }
    }

    /// The public key `Any`, when it is known without asking the chain.
    pub fn public_key(&self) -> Result<Option<Any>> {
        Ok(match self {
            Signer::Unlocked(k) => Some(pubkey_any(k.algo(), k.public_key())),
            Signer::Keyring(info) => Some(pubkey_any(
                info.algo,
                base64::engine::general_purpose::STANDARD
                    .decode(&info.pubkey)
                    .map_err(|e| anyhow!("key {:?} has a bad pubkey: {e}", info.name))?,
            )),
            Signer::Address(_) => None,
        })
    }

    /// The private key; for a keyring key the `file` backend asks for the passphrase here.
    pub fn unlock(&self, ctx: &Ctx) -> Result<PrivKey> {
        match self {
            Signer::Unlocked(k) => Ok(k.clone()),
            Signer::Keyring(info) => ctx.keyring.unlock(&info.name)?.priv_key(),
            Signer::Address(a) => bail!(
                "no key in {} has the address {a}: only --generate-only works for it (then sign the file where the key is, with `stoad tx sign`)",
                ctx.keyring.dir().display()
            ),
        }
    }
}

/// The result of a tx as `tx` commands and `query tx` print it (stable JSON field names).
#[derive(Debug, Serialize)]
pub struct TxResultOut {
    pub txhash: String,
    /// 0 when the tx never made it into a block (rejected by CheckTx, or --no-wait).
    pub height: u64,
    pub code: u32,
    pub codespace: String,
    pub raw_log: String,
    pub gas_wanted: i64,
    pub gas_used: i64,
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize)]
pub struct EventOut {
    #[serde(rename = "type")]
    pub kind: String,
    pub attributes: Vec<AttributeOut>,
}

#[derive(Debug, Serialize)]
pub struct AttributeOut {
    pub key: String,
    pub value: String,
}

impl TxResultOut {
    pub fn from_rpc(r: &tendermint_rpc::endpoint::tx::Response) -> Self {
        let res = &r.tx_result;
        TxResultOut {
            txhash: r.hash.to_string(),
            height: r.height.value(),
            code: res.code.value(),
            codespace: res.codespace.clone(),
            raw_log: res.log.clone(),
            gas_wanted: res.gas_wanted,
            gas_used: res.gas_used,
            events: res
                .events
                .iter()
                .map(|e| EventOut {
                    kind: e.kind.clone(),
                    attributes: e
                        .attributes
                        .iter()
                        .map(|a| AttributeOut {
                            key: String::from_utf8_lossy(a.key_bytes()).into_owned(),
                            value: String::from_utf8_lossy(a.value_bytes()).into_owned(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Prints the result; returns the exit code (non-zero when the tx failed). Inside
    /// [`capture_outcome`] it is recorded for the caller instead of printed.
    pub fn print(&self, ctx: &Ctx) -> Result<i32> {
        if let Ok(code) = CAPTURED.try_with(|c| {
            *c.borrow_mut() = Some(TxOutcome {
                txhash: self.txhash.clone(),
                height: self.height,
                code: self.code,
                raw_log: self.raw_log.clone(),
            });
            if self.code == 0 {
                0
            } else {
                crate::EXIT_FAILED
            }
        }) {
            return Ok(code);
        }
        if ctx.json() {
            print_json(self)?;
        } else {
            let mut rows = vec![
                ("txhash", self.txhash.clone()),
                ("height", self.height.to_string()),
                ("code", self.code.to_string()),
            ];
            if !self.codespace.is_empty() {
                rows.push(("codespace", self.codespace.clone()));
            }
            rows.push((
                "gas used / wanted",
                format!("{} / {}", self.gas_used, self.gas_wanted),
            ));
            if !self.raw_log.is_empty() {
                rows.push(("log", self.raw_log.clone()));
            }
            crate::outln!("{}", kv_table(&rows));
            if self.code != 0 {
                eprintln!(
                    "Error: the tx failed with code {}: {}",
                    self.code, self.raw_log
                );
            }
        }
        Ok(if self.code == 0 {
            0
        } else {
            crate::EXIT_FAILED
        })
    }
}

/// What a program (the compute worker, `stoad rent`) needs of a tx it sent through
/// [`sign_and_broadcast`]: printing it is left to the program.
#[derive(Clone, Debug, Default)]
pub struct TxOutcome {
    pub txhash: String,
    /// 0 when the tx never made it into a block.
    pub height: u64,
    pub code: u32,
    pub raw_log: String,
}

tokio::task_local! {
    static CAPTURED: std::cell::RefCell<Option<TxOutcome>>;
}

/// Runs `f` (which sends a tx through [`sign_and_broadcast`]) with the tx's result recorded
/// instead of printed; returns it (None when `f` failed before a result existed).
pub async fn capture_outcome<F: std::future::Future<Output = Result<i32>>>(
    f: F,
) -> Result<Option<TxOutcome>> {
    CAPTURED
        .scope(std::cell::RefCell::new(None), async {
            f.await?;
            Ok(CAPTURED.with(|c| c.borrow_mut().take()))
        })
        .await
}

/// With `--gas auto --gas-prices`, the simulated tx pays the fee for this much gas.
const SIMULATION_FEE_GAS: u64 = 200_000;

/// The parsed `--gas`.
enum Gas {
    Fixed(u64),
    Auto,
}

fn parse_gas(s: &str) -> Result<Gas> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Gas::Auto);
    }
    s.parse::<u64>()
        .map(Gas::Fixed)
        .map_err(|_| anyhow!("--gas must be a number or \"auto\", not {s:?}"))
}

fn fee_for(flags: &TxFlags, gas_limit: u64) -> Result<Coins> {
    match (&flags.fees, &flags.gas_prices) {
        (Some(f), _) => Coins::parse(f).map_err(|e| anyhow!("invalid --fees {f:?}: {}", e.log)),
        (None, Some(p)) => fees_from_gas_prices(p, gas_limit),
        (None, None) => Ok(Coins::new()),
    }
}

/// The one place every `stoad tx ...` command builds, signs and broadcasts a tx. `key` is who
/// signs (a `&PrivKey`, or a [`Signer`]: a key name or an address resolved by
/// `Ctx::signer`); `flags` decide what happens: `--generate-only` prints the unsigned tx,
/// `--dry-run` prints the simulated gas, otherwise the tx is signed (`--sign-mode`),
/// confirmed when stdin is a terminal (unless `--yes`) and broadcast (`--broadcast-mode`).
/// Prints the result; returns the exit code.
pub async fn sign_and_broadcast(
    ctx: &Ctx,
    node: &NodeArgs,
    key: impl Into<Signer>,
    messages: Vec<Any>,
    flags: &TxFlags,
) -> Result<i32> {
    let signer: Signer = key.into();
    let gas = parse_gas(&flags.gas)?;
    if !(flags.gas_adjustment.is_finite() && flags.gas_adjustment > 0.0) {
        bail!("--gas-adjustment must be a positive number");
    }
    let address = signer.address()?.to_string();
    // Opened once, for the account query and the simulation, when either needs it.
    let mut channel: Option<Channel> = None;
    let mut account: Option<Option<client::AccountInfo>> = None;

    let mut opts = TxOptions {
        memo: flags.memo.clone(),
        timeout_height: flags.timeout_height,
        fee: Coins::new(),
        gas_limit: 0,
    };
    let simulated = if flags.dry_run || matches!(gas, Gas::Auto) {
        let ch = grpc_channel(&mut channel, &node.grpc).await?;
        let acct = fetch_account(&mut account, ch.clone(), &address).await?;
        // Simulate as Cosmos clients do: an empty signature (the chain charges a real one's
        // bytes and verification). The chain also charges the tx's bytes, so the simulated
        // tx carries a gas limit and fee as long as the final ones: first the default gas
        // limit (with --gas-prices priced at it: a fee must be there when the real one will
        // be, or the estimate misses the fee transfer), then, when the adjusted limit makes
        // the tx longer, that limit again (a few rounds at most).
        let public_key = match signer.public_key()? {
            Some(pk) => Some(pk),
            None => acct.as_ref().and_then(|a| a.pub_key.clone()),
        };
        let sequence = flags
            .sequence
            .or(acct.as_ref().map(|a| a.sequence))
            .unwrap_or(0);
        let mut sim_gas = match gas {
            Gas::Fixed(g) => g,
            Gas::Auto => SIMULATION_FEE_GAS,
        };
        let mut rounds = 0;
        loop {
            opts.gas_limit = sim_gas;
            opts.fee = fee_for(flags, sim_gas)?;
            let mut sim = unsigned_tx(messages.clone(), &opts);
            let (info, empty) = sim_signer(public_key.clone(), flags.sign_mode.proto(), sequence);
            if let Some(auth) = sim.auth_info.as_mut() {
                auth.signer_infos = vec![info];
            }
            sim.signatures = vec![empty];
            let sim_len = tx_raw_bytes(&sim).len();
            let used = simulate(ch.clone(), tx_raw_bytes(&sim)).await?;
            rounds += 1;
            if !matches!(gas, Gas::Auto) || rounds >= 3 {
                break Some(used);
            }
            let adjusted = adjust_gas(used, flags.gas_adjustment)?;
            opts.gas_limit = adjusted;
            opts.fee = fee_for(flags, adjusted)?;
            let mut fin = unsigned_tx(messages.clone(), &opts);
            if let Some(auth) = fin.auth_info.as_mut() {
                auth.signer_infos = sim.auth_info.map(|a| a.signer_infos).unwrap_or_default();
            }
            fin.signatures = sim.signatures.clone();
            if tx_raw_bytes(&fin).len() <= sim_len {
                break Some(used);
            }
            sim_gas = adjusted;
        }
    } else {
        None
    };
    if flags.dry_run {
        let used = simulated.unwrap_or(0);
        if ctx.json() {
            print_json(&serde_json::json!({ "gas_estimate": used }))?;
        } else {
            crate::outln!("gas estimate: {used}");
        }
        return Ok(0);
    }
    opts.gas_limit = match (gas, simulated) {
        (Gas::Fixed(g), _) => g,
        (Gas::Auto, used) => adjust_gas(used.unwrap_or(0), flags.gas_adjustment)?,
    };
    opts.fee = fee_for(flags, opts.gas_limit)?;
    let mut tx = unsigned_tx(messages, &opts);
    if flags.generate_only {
        print_json(&tx_to_json(&tx)?)?;
        return Ok(0);
    }
    confirm(flags.yes, &tx)?;
    // After the arguments are checked: a typo must not cost a passphrase prompt.
    let key = signer.unlock(ctx)?;
    let chain_id = crate::home::chain_id(&ctx.home, node.chain_id.as_deref())?;
    let signer_data = match (flags.account_number, flags.sequence) {
        (Some(account_number), Some(sequence)) => SignerData {
            chain_id,
            account_number,
            sequence,
        },
        _ => {
            let ch = grpc_channel(&mut channel, &node.grpc).await?;
            let acct = fetch_account(&mut account, ch, &address).await?.ok_or_else(|| {
                anyhow!(
                    "account {address} does not exist on chain: it has never received funds. Send it coins first (or pass both --account-number and --sequence)"
                )
            })?;
            SignerData {
                chain_id,
                account_number: flags.account_number.unwrap_or(acct.account_number),
                sequence: flags.sequence.unwrap_or(acct.sequence),
            }
        }
    };
    sign_single(&mut tx, &key, flags.sign_mode.proto(), &signer_data)?;
    if flags.unsafe_corrupt_signature {
        corrupt(&mut tx);
    }
    warn_if_other_chain(&node.node, &signer_data.chain_id).await;
    let mode = broadcast_mode(ctx, flags.broadcast_mode)?;
    broadcast(
        ctx,
        node,
        tx_raw_bytes(&tx),
        mode,
        flags.no_wait,
        Duration::from_secs(flags.wait_timeout),
    )
    .await
}

/// The signer info and empty signature a simulation carries for `public_key`: a single mode,
/// or for a multisig key the multi mode of its first `threshold` keys (in Amino JSON, how its
/// members sign), so the chain charges the gas of the signatures the real tx will carry.
pub fn sim_signer(
    public_key: Option<Any>,
    mode: cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode,
    sequence: u64,
) -> (cosmos_sdk_proto::cosmos::tx::v1beta1::SignerInfo, Vec<u8>) {
    use crate::multisig;
    if let Some(key) = public_key
        .as_ref()
        .and_then(|pk| multisig::decode_legacy_amino_pubkey(pk).ok())
    {
        let threshold = key.threshold as usize;
        let sigs: Vec<Option<Vec<u8>>> = (0..key.public_keys.len())
            .map(|i| (i < threshold).then(Vec::new))
            .collect();
        let (mode_info, signature) = multisig::multi_signature(
            &sigs,
            cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode::LegacyAminoJson,
        );
        let info = cosmos_sdk_proto::cosmos::tx::v1beta1::SignerInfo {
            public_key,
            mode_info: Some(mode_info),
            sequence,
        };
        return (info, signature);
    }
    (signer_info(public_key, mode, sequence), Vec::new())
}

/// `used x adjustment`, rounded up.
fn adjust_gas(used: u64, adjustment: f64) -> Result<u64> {
    let adjusted = (used as f64 * adjustment).ceil();
    if !(adjusted.is_finite() && adjusted < u64::MAX as f64) {
        bail!("simulated gas {used} x {adjustment} overflows");
    }
    Ok(adjusted as u64)
}

/// `--broadcast-mode`, else client.toml's, else sync.
pub fn broadcast_mode(ctx: &Ctx, flag: Option<BroadcastMode>) -> Result<BroadcastMode> {
    if let Some(m) = flag {
        return Ok(m);
    }
    match ctx.client.broadcast_mode.as_deref() {
        None | Some("sync") => Ok(BroadcastMode::Sync),
        Some("async") => Ok(BroadcastMode::Async),
        Some(other) => bail!("client.toml: broadcast-mode {other:?} is neither sync nor async"),
    }
}

/// Without `--yes`, when stdin is a terminal: shows the tx on stderr and asks before signing.
fn confirm(yes: bool, tx: &cosmos_sdk_proto::cosmos::tx::v1beta1::Tx) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes || !std::io::stdin().is_terminal() {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "{}", serde_json::to_string_pretty(&tx_to_json(tx)?)?)?;
    write!(
        err,
        "confirm transaction before signing and broadcasting [y/N]: "
    )?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if !matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        bail!("canceled: the tx was not signed or broadcast");
    }
    Ok(())
}

/// The account, queried once per command.
async fn fetch_account(
    cache: &mut Option<Option<client::AccountInfo>>,
    channel: Channel,
    address: &str,
) -> Result<Option<client::AccountInfo>> {
    if let Some(a) = cache {
        return Ok(a.clone());
    }
    let a = client::query_account(channel, address).await?;
    *cache = Some(a.clone());
    Ok(a)
}

/// The chain id the node at `node` serves, or None when it does not answer within 5 s.
pub async fn node_chain_id(node: &str) -> Option<String> {
    let rpc = client::rpc(node).ok()?;
    let status = tokio::time::timeout(Duration::from_secs(5), rpc.status())
        .await
        .ok()?
        .ok()?;
    Some(status.node_info.network.to_string())
}

/// Warns on stderr when the node serves another chain than `chain_id` (a tx signed for the
/// wrong chain fails its signature check; a query answers for the other chain).
pub async fn warn_if_other_chain(node: &str, chain_id: &str) {
    if let Some(actual) = node_chain_id(node).await {
        if actual != chain_id {
            eprintln!(
                "warning: the node at {node} serves chain {actual:?}, not the configured chain id {chain_id:?} (set it with `stoad config chain-id {actual}` or --chain-id)"
            );
        }
    }
}

/// Broadcasts signed tx bytes: async returns the hash at once; sync returns CheckTx's
/// rejection, or waits for the block unless `no_wait`. Prints the result; returns the exit
/// code.
pub async fn broadcast(
    ctx: &Ctx,
    node: &NodeArgs,
    tx_bytes: Vec<u8>,
    mode: BroadcastMode,
    no_wait: bool,
    wait_timeout: Duration,
) -> Result<i32> {
    let hash = tx_hash(&tx_bytes);
    let gas_wanted = crate::txjson::tx_from_bytes(&tx_bytes)
        .ok()
        .and_then(|t| t.auth_info?.fee.map(|f| f.gas_limit))
        .unwrap_or(0);
    let rpc = client::rpc(&node.node)?;
    if mode == BroadcastMode::Async {
        let r = rpc
            .broadcast_tx_async(tx_bytes)
            .await
            .map_err(|e| client::rpc_error(&node.node, e))?;
        let out = TxResultOut {
            txhash: hash,
            height: 0,
            code: r.code.value(),
            codespace: r.codespace,
            raw_log: r.log,
            gas_wanted: gas_wanted.try_into().unwrap_or(i64::MAX),
            gas_used: 0,
            events: Vec::new(),
        };
        return out.print(ctx);
    }
    let check = rpc
        .broadcast_tx_sync(tx_bytes)
        .await
        .map_err(|e| client::rpc_error(&node.node, e))?;
    if check.code.is_err() || no_wait {
        let out = TxResultOut {
            txhash: hash,
            height: 0,
            code: check.code.value(),
            codespace: check.codespace,
            raw_log: check.log,
            gas_wanted: gas_wanted.try_into().unwrap_or(i64::MAX),
            gas_used: 0,
            events: Vec::new(),
        };
        if check.code.is_err() && !ctx.json() {
            eprintln!("the tx was rejected by CheckTx and not broadcast");
        }
        return out.print(ctx);
    }
    if !ctx.json() {
        eprintln!("broadcast {hash}; waiting for it to be included...");
    }
    let included = wait_for_tx(&rpc, &node.node, &hash, wait_timeout).await?;
    TxResultOut::from_rpc(&included).print(ctx)
}

/// The channel in `cache`, connecting to `url` the first time.
async fn grpc_channel(cache: &mut Option<Channel>, url: &str) -> Result<Channel> {
    if let Some(ch) = cache {
        return Ok(ch.clone());
    }
    let ch = client::grpc(url).await?;
    *cache = Some(ch.clone());
    Ok(ch)
}

/// Simulates tx bytes over gRPC; returns the gas used.
pub async fn simulate(channel: Channel, tx_bytes: Vec<u8>) -> Result<u64> {
    let mut svc = ServiceClient::new(channel);
    let req = SimulateRequest {
        tx_bytes,
        ..Default::default()
    };
    let resp = svc
        .simulate(req)
        .await
        .map_err(|s| anyhow!("gas simulation failed: {}", s.message()))?
        .into_inner();
    let info = resp
        .gas_info
        .ok_or_else(|| anyhow!("gas simulation returned no gas info"))?;
    Ok(info.gas_used)
}

/// Parses a tx hash in hex (either case, optional 0x).
pub fn parse_hash(s: &str) -> Result<tendermint::Hash> {
    let t = s.trim().trim_start_matches("0x").to_ascii_uppercase();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("invalid tx hash {s:?}: expected 64 hex characters");
    }
    tendermint::Hash::from_hex_upper(tendermint::hash::Algorithm::Sha256, &t)
        .map_err(|e| anyhow!("invalid tx hash {s:?}: {e}"))
}

/// Polls CometBFT's `tx` endpoint until the tx is in a block or `timeout` passes.
pub async fn wait_for_tx(
    rpc: &tendermint_rpc::HttpClient,
    node: &str,
    hash: &str,
    timeout: Duration,
) -> Result<tendermint_rpc::endpoint::tx::Response> {
    let h = parse_hash(hash)?;
    // "not found" until the block is committed and indexed; anything else that persists
    // (node gone) shows up as the last error at the timeout.
    client::poll_rpc(timeout, || rpc.tx(h, false))
        .await
        .map_err(|e| {
            anyhow!(
                "tx {hash} passed CheckTx but was not found in a block within {} s (last RPC answer from {node}: {})",
                timeout.as_secs(),
                client::rpc_message(&e)
            )
        })
}
