//! `stoad tx ...`: builds the messages, fetches account number and sequence over gRPC,
//! estimates gas (`--gas auto` simulates), signs, broadcasts with CometBFT `broadcast_tx_sync`
//! and waits until the tx is in a block. Exits non-zero when CheckTx or the block rejected it.

use super::Ctx;
use crate::cli::{BankTx, NodeArgs, TxCmd, TxFlags, TxSub};
use crate::client;
use crate::keyring::PrivKey;
use crate::output::{kv_table, print_json};
use crate::tx::{
    build_signed_tx, fees_from_gas_prices, to_proto_coins, tx_hash, SignerData, TxOptions,
};
use anyhow::{anyhow, bail, Result};
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{service_client::ServiceClient, SimulateRequest};
use cosmos_sdk_proto::Any;
use prost::Message;
use serde::Serialize;
use std::time::Duration;
use stoa_framework::Coins;
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
            let sender = ctx.keyring.get(&from)?;
            let to_addr = ctx.resolve_address(&to)?;
            let coins = Coins::parse(&amount)
                .map_err(|e| anyhow!("invalid amount {amount:?}: {}", e.log))?;
            if coins.is_empty() {
                bail!("nothing to send: give an amount such as 100ustor");
            }
            // After the arguments are checked: a typo must not cost a passphrase prompt.
            let key = ctx.keyring.unlock(&sender.name)?.priv_key()?;
            let msg = MsgSend {
                from_address: key.address().to_string(),
                to_address: to_addr.to_string(),
                amount: to_proto_coins(&coins),
            };
            let any = Any {
                type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
                value: msg.encode_to_vec(),
            };
            sign_and_broadcast(ctx, &cmd.node, &key, vec![any], &tx).await
        }
        TxSub::Intelligence(t) => super::intelligence::tx(ctx, &cmd.node, t).await,
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

    /// Prints the result; returns the exit code (non-zero when the tx failed).
    pub fn print(&self, ctx: &Ctx) -> Result<i32> {
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

/// Signs `messages` with `key` and broadcasts them; prints the result; returns the exit code.
pub async fn sign_and_broadcast(
    ctx: &Ctx,
    node: &NodeArgs,
    key: &PrivKey,
    messages: Vec<Any>,
    flags: &TxFlags,
) -> Result<i32> {
    let chain_id = crate::home::chain_id(&ctx.home, node.chain_id.as_deref())?;
    let gas = parse_gas(&flags.gas)?;
    if !(flags.gas_adjustment.is_finite() && flags.gas_adjustment > 0.0) {
        bail!("--gas-adjustment must be a positive number");
    }
    let address = key.address().to_string();
    // Opened once, for the account query and the simulation, when either needs it.
    let mut channel: Option<Channel> = None;

    let signer = match (flags.account_number, flags.sequence) {
        (Some(account_number), Some(sequence)) => SignerData {
            chain_id,
            account_number,
            sequence,
        },
        _ => {
            let ch = grpc_channel(&mut channel, &node.grpc).await?;
            let account = client::query_account(ch, &address).await?.ok_or_else(|| {
                anyhow!(
                    "account {address} does not exist on chain: it has never received funds. Send it coins first (or pass both --account-number and --sequence)"
                )
            })?;
            SignerData {
                chain_id,
                account_number: flags.account_number.unwrap_or(account.account_number),
                sequence: flags.sequence.unwrap_or(account.sequence),
            }
        }
    };

    let mut opts = TxOptions {
        memo: flags.memo.clone(),
        timeout_height: flags.timeout_height,
        fee: Coins::new(),
        gas_limit: 0,
    };
    opts.gas_limit = match gas {
        Gas::Fixed(g) => g,
        Gas::Auto => {
            // Simulate as Cosmos clients do: gas_limit 0 (the simulation meters without a
            // limit), signed, so the estimate includes the signature check. The fee must be
            // non-zero when the real one will be, or the estimate misses the fee transfer:
            // with --gas-prices, price it at the default gas limit.
            opts.fee = fee_for(flags, SIMULATION_FEE_GAS)?;
            let sim_tx = build_signed_tx(key, messages.clone(), &opts, &signer, false)?;
            let ch = grpc_channel(&mut channel, &node.grpc).await?;
            let used = simulate(ch, sim_tx).await?;
            let adjusted = (used as f64 * flags.gas_adjustment).ceil();
            if !(adjusted.is_finite() && adjusted < u64::MAX as f64) {
                bail!("simulated gas {used} x {} overflows", flags.gas_adjustment);
            }
            adjusted as u64
        }
    };
    opts.fee = fee_for(flags, opts.gas_limit)?;

    let tx_bytes = build_signed_tx(
        key,
        messages,
        &opts,
        &signer,
        flags.unsafe_corrupt_signature,
    )?;
    let hash = tx_hash(&tx_bytes);
    let rpc = client::rpc(&node.node)?;
    let check = rpc
        .broadcast_tx_sync(tx_bytes)
        .await
        .map_err(|e| client::rpc_error(&node.node, e))?;
    if check.code.is_err() || flags.no_wait {
        let out = TxResultOut {
            txhash: hash,
            height: 0,
            code: check.code.value(),
            codespace: check.codespace,
            raw_log: check.log,
            gas_wanted: opts.gas_limit.try_into().unwrap_or(i64::MAX),
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
    let included = wait_for_tx(
        &rpc,
        &node.node,
        &hash,
        Duration::from_secs(flags.wait_timeout),
    )
    .await?;
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

async fn simulate(channel: Channel, tx_bytes: Vec<u8>) -> Result<u64> {
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
