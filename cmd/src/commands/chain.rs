//! Chain-level client commands over CometBFT RPC: `query txs --events` (tx_search, paged),
//! `query block [HEIGHT]`, `query block-results [HEIGHT]`, `query wait-tx HASH`, `status`;
//! and `completion bash|zsh|fish` (clap_complete).

use super::tx::{node_chain_id, parse_hash, wait_for_tx, TxResultOut};
use super::Ctx;
use crate::cli::NodeArgs;
use crate::client;
use crate::output::{kv_table, print_json, table};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::str::FromStr;
use std::time::Duration;
use tendermint_rpc::{Client, Order};

#[derive(Subcommand, Debug)]
pub enum ChainQuery {
    /// Search txs by their events (CometBFT tx_search), a page at a time:
    /// --events 'message.sender=stoa1...&transfer.recipient=stoa1...'
    Txs {
        /// Conditions KEY=VALUE joined by '&' (all must hold), or a CometBFT query as is
        /// (`tx.height>5 AND message.sender='stoa1...'`).
        #[arg(long, alias = "query")]
        events: String,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Txs per page (1-100).
        #[arg(long, default_value_t = 30)]
        limit: u8,
        /// asc (oldest first) or desc.
        #[arg(long, default_value = "asc")]
        order_by: String,
    },
    /// A block (latest when no height is given).
    Block { height: Option<u64> },
    /// The results of a block's txs and its FinalizeBlock events (latest when no height).
    BlockResults { height: Option<u64> },
    /// Wait until a tx is in a block, then print it.
    WaitTx {
        /// The tx hash (hex).
        hash: String,
        /// Seconds to wait.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `--events` as a CometBFT query: `a.b=c&d.e=f` -> `a.b='c' AND d.e='f'`; a text that is
/// already a query (quotes, AND, comparisons) is kept as it is.
pub fn events_query(events: &str) -> Result<tendermint_rpc::query::Query> {
    let e = events.trim();
    if e.is_empty() {
        bail!("--events is empty: give KEY=VALUE conditions such as message.sender=stoa1...");
    }
    let text = if e.contains('\'') || e.contains(" AND ") || e.contains('<') || e.contains('>') {
        e.to_string()
    } else {
        let mut parts = Vec::new();
        for cond in e.split('&') {
            let (k, v) = cond
                .split_once('=')
                .ok_or_else(|| anyhow!("--events condition {cond:?} is not KEY=VALUE"))?;
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || v.is_empty() {
                bail!("--events condition {cond:?} is not KEY=VALUE");
            }
            // tx.height is a number in CometBFT's query language.
            if k == "tx.height" {
                parts.push(format!("{k}={v}"));
            } else {
                parts.push(format!("{k}='{v}'"));
            }
        }
        parts.join(" AND ")
    };
    tendermint_rpc::query::Query::from_str(&text)
        .map_err(|e| anyhow!("--events {text:?} is not a valid query: {e}"))
}

fn height_arg(h: u64) -> Result<tendermint::block::Height> {
    tendermint::block::Height::try_from(h).map_err(|e| anyhow!("height {h}: {e}"))
}

pub async fn run(ctx: &Ctx, node: &NodeArgs, q: ChainQuery) -> Result<()> {
    let rpc = client::rpc(&node.node)?;
    match q {
        ChainQuery::Txs {
            events,
            page,
            limit,
            order_by,
        } => {
            let query = events_query(&events)?;
            if page == 0 || limit == 0 || limit > 100 {
                bail!("--page starts at 1 and --limit is 1-100");
            }
            let order = match order_by.as_str() {
                "asc" => Order::Ascending,
                "desc" => Order::Descending,
                other => bail!("--order-by must be asc or desc, not {other:?}"),
            };
            let r = rpc
                .tx_search(query, false, page, limit, order)
                .await
                .map_err(|e| client::rpc_error(&node.node, e))?;
            let txs: Vec<TxResultOut> = r.txs.iter().map(TxResultOut::from_rpc).collect();
            let page_total = r.total_count.div_ceil(u32::from(limit)).max(1);
            if ctx.json() {
                return print_json(&json!({
                    "total_count": r.total_count,
                    "count": txs.len(),
                    "page_number": page,
                    "page_total": page_total,
                    "limit": limit,
                    "txs": txs,
                }));
            }
            crate::outln!(
                "{} tx(s) match; page {page} of {page_total} ({} here)",
                r.total_count,
                txs.len()
            );
            if !txs.is_empty() {
                let mut t = table(&["Height", "Hash", "Code", "Gas used"]);
                for tx in &txs {
                    t.add_row(vec![
                        tx.height.to_string(),
                        tx.txhash.clone(),
                        tx.code.to_string(),
                        tx.gas_used.to_string(),
                    ]);
                }
                crate::outln!("{t}");
            }
            Ok(())
        }
        ChainQuery::Block { height } => {
            let r = match height {
                Some(h) => rpc.block(height_arg(h)?).await,
                None => rpc.latest_block().await,
            }
            .map_err(|e| client::rpc_error(&node.node, e))?;
            if ctx.json() {
                return print_json(&r);
            }
            let h = &r.block.header;
            crate::outln!(
                "{}",
                kv_table(&[
                    ("height", h.height.to_string()),
                    ("hash", r.block_id.hash.to_string()),
                    ("time", h.time.to_rfc3339()),
                    ("chain id", h.chain_id.to_string()),
                    ("proposer", h.proposer_address.to_string()),
                    ("txs", r.block.data.len().to_string()),
                    ("app hash", h.app_hash.to_string()),
                ])
            );
            Ok(())
        }
        ChainQuery::BlockResults { height } => {
            let r = match height {
                Some(h) => rpc.block_results(height_arg(h)?).await,
                None => rpc.latest_block_results().await,
            }
            .map_err(|e| client::rpc_error(&node.node, e))?;
            if ctx.json() {
                return print_json(&r);
            }
            let results = r.txs_results.as_deref().unwrap_or(&[]);
            crate::outln!(
                "block {}: {} tx(s), {} FinalizeBlock event(s)",
                r.height,
                results.len(),
                r.finalize_block_events.len()
            );
            if !results.is_empty() {
                let mut t = table(&["#", "Code", "Gas used / wanted", "Log"]);
                for (i, res) in results.iter().enumerate() {
                    t.add_row(vec![
                        i.to_string(),
                        res.code.value().to_string(),
                        format!("{} / {}", res.gas_used, res.gas_wanted),
                        res.log.clone(),
                    ]);
                }
                crate::outln!("{t}");
            }
            Ok(())
        }
        ChainQuery::WaitTx { hash, timeout } => {
            parse_hash(&hash)?;
            let r = wait_for_tx(&rpc, &node.node, &hash, Duration::from_secs(timeout)).await?;
            // The wait succeeded: exit 0 whatever the tx's own code is.
            TxResultOut::from_rpc(&r).print(ctx)?;
            Ok(())
        }
    }
}

/// `stoad status`: what the node says about itself, and a warning when it serves another
/// chain than the configured one.
pub async fn status(ctx: &Ctx, args: StatusArgs) -> Result<i32> {
    let node = &args.node;
    let rpc = client::rpc(&node.node)?;
    let s = rpc
        .status()
        .await
        .map_err(|e| client::rpc_error(&node.node, e))?;
    let network = s.node_info.network.to_string();
    if let Some(configured) = &node.chain_id {
        if *configured != network {
            eprintln!(
                "warning: the node at {} serves chain {network:?}, not the configured chain id {configured:?}",
                node.node
            );
        }
    }
    let si = &s.sync_info;
    let out = json!({
        "chain_id": network,
        "moniker": s.node_info.moniker.to_string(),
        "node_id": s.node_info.id.to_string(),
        "version": s.node_info.version.to_string(),
        "latest_block_height": si.latest_block_height.value(),
        "latest_block_hash": si.latest_block_hash.to_string(),
        "latest_app_hash": si.latest_app_hash.to_string(),
        "latest_block_time": si.latest_block_time.to_rfc3339(),
        "earliest_block_height": si.earliest_block_height.value(),
        "catching_up": si.catching_up,
    });
    if ctx.json() {
        print_json(&out)?;
    } else {
        let rows: Vec<(&str, String)> = out
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.as_str(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        crate::outln!("{}", kv_table(&rows));
    }
    Ok(0)
}

/// Warns when the node serves another chain than the configured one (queries answer for
/// whatever chain they reach).
pub async fn warn_for_queries(node: &NodeArgs) {
    if let Some(configured) = &node.chain_id {
        if let Some(actual) = node_chain_id(&node.node).await {
            if actual != *configured {
                eprintln!(
                    "warning: the node at {} serves chain {actual:?}, not the configured chain id {configured:?}",
                    node.node
                );
            }
        }
    }
}

pub fn completion(args: CompletionArgs) -> Result<()> {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "stoad", &mut std::io::stdout());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_become_a_cometbft_query() {
        let q = events_query("message.sender=stoa1abc&transfer.amount=5ustor").unwrap();
        assert_eq!(
            q.to_string(),
            "message.sender = 'stoa1abc' AND transfer.amount = '5ustor'"
        );
        let q = events_query("tx.height=7").unwrap();
        assert_eq!(q.to_string(), "tx.height = 7");
        let q = events_query("tx.height > 3 AND message.sender='x'").unwrap();
        assert_eq!(q.to_string(), "tx.height > 3 AND message.sender = 'x'");
        assert!(events_query("").is_err());
        assert!(events_query("nokeyvalue").is_err());
    }
}
