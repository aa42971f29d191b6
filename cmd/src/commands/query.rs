//! `stoad query ...`: balances, supply and accounts over gRPC; txs over CometBFT RPC; and
//! `query bank balances --prove`, which reads the bank store through CometBFT `abci_query`
//! and checks the Merkle proof against the app hash of the next block's header.

use super::tx::{parse_hash, TxResultOut};
use super::Ctx;
use crate::cli::{AuthQuery, BankQuery, QueryCmd, QuerySub};
use crate::output::{kv_table, print_json, table};
use crate::{app_glue, client};
use anyhow::{anyhow, bail, Result};
use base64::Engine;
use cosmos_sdk_proto::cosmos::bank::v1beta1::{
    query_client::QueryClient as BankClient, QueryAllBalancesRequest, QueryBalanceRequest,
    QuerySupplyOfRequest, QueryTotalSupplyRequest,
};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use serde_json::json;
use std::time::Duration;
use stoa_framework::Address;
use tendermint_rpc::Client;

pub async fn run(ctx: &Ctx, cmd: QueryCmd) -> Result<i32> {
    let node = &cmd.node;
    super::chain::warn_for_queries(node).await;
    match cmd.command {
        QuerySub::Chain(q) => super::chain::run(ctx, node, q).await?,
        QuerySub::Bank(BankQuery::Balances {
            address_or_key,
            denom,
            prove,
        }) => {
            let address = ctx.resolve_address(&address_or_key)?;
            match (denom, prove) {
                (Some(d), true) => proven_balance(ctx, &node.node, &address, &d).await?,
                (denom, _) => balances(ctx, &node.grpc, &address, denom.as_deref()).await?,
            }
        }
        QuerySub::Bank(BankQuery::Supply { denom }) => {
            supply(ctx, &node.grpc, denom.as_deref()).await?
        }
        QuerySub::Auth(AuthQuery::Account { address_or_key }) => {
            let address = ctx.resolve_address(&address_or_key)?.to_string();
            let channel = client::grpc(&node.grpc).await?;
            let acct = client::query_account(channel, &address)
                .await?
                .ok_or_else(|| {
                    anyhow!("account {address} not found: it has never received funds")
                })?;
            let pubkey = acct.pub_key.as_ref().map(|pk| {
                json!({ "type": pk.type_url, "key": base64::engine::general_purpose::STANDARD.encode(pubkey_bytes(pk)) })
            });
            if ctx.json() {
                print_json(&json!({
                    "address": acct.address,
                    "account_number": acct.account_number,
                    "sequence": acct.sequence,
                    "pubkey": pubkey,
                }))?;
            } else {
                let pk = pubkey
                    .map(|p| {
                        format!(
                            "{} {}",
                            p["type"].as_str().unwrap_or(""),
                            p["key"].as_str().unwrap_or("")
                        )
                    })
                    .unwrap_or_else(|| "(none yet: set by the first tx)".into());
                crate::outln!(
                    "{}",
                    kv_table(&[
                        ("address", acct.address),
                        ("account number", acct.account_number.to_string()),
                        ("sequence", acct.sequence.to_string()),
                        ("pubkey", pk),
                    ])
                );
            }
        }
        QuerySub::Storage(sub) => return super::storage::run_query(ctx, node, sub).await,
        QuerySub::Compute(c) => super::compute::run_query(ctx, node, c).await?,
        QuerySub::Intelligence(q) => super::intelligence::query(ctx, node, q).await?,
        QuerySub::Tx { hash } => {
            let h = parse_hash(&hash)?;
            let rpc = client::rpc(&node.node)?;
            let r = rpc.tx(h, false).await.map_err(|e| {
                anyhow!(
                    "tx {hash} not found via {}: {}",
                    node.node,
                    client::rpc_message(&e)
                )
            })?;
            // The query itself succeeded: exit 0 whatever the tx's own code is.
            TxResultOut::from_rpc(&r).print(ctx)?;
        }
    }
    Ok(0)
}

/// The key bytes inside a secp256k1/ed25519 PubKey Any (both are `bytes key = 1`).
fn pubkey_bytes(any: &cosmos_sdk_proto::Any) -> Vec<u8> {
    prost::Message::decode(any.value.as_slice())
        .map(|pk: cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey| pk.key)
        .unwrap_or_else(|_| any.value.clone())
}

fn coins_json(coins: &[ProtoCoin]) -> serde_json::Value {
    serde_json::Value::Array(
        coins
            .iter()
            .map(|c| json!({"denom": c.denom, "amount": c.amount}))
            .collect(),
    )
}

fn print_coins(
    ctx: &Ctx,
    title: Option<String>,
    field: &str,
    coins: &[ProtoCoin],
    extra: serde_json::Value,
) -> Result<()> {
    if ctx.json() {
        let mut v = extra;
        v[field] = coins_json(coins);
        return print_json(&v);
    }
    if let Some(t) = title {
        crate::outln!("{t}");
    }
    if coins.is_empty() {
        crate::outln!("(none)");
        return Ok(());
    }
    let mut t = table(&["Denom", "Amount"]);
    for c in coins {
        t.add_row(vec![c.denom.clone(), c.amount.clone()]);
    }
    crate::outln!("{t}");
    Ok(())
}

/// Follows Cosmos pagination (`next_key`, 1,000 a page) until the last page.
async fn all_pages(
    mut fetch: impl AsyncFnMut(PageRequest) -> Result<(Vec<ProtoCoin>, Option<PageResponse>)>,
) -> Result<Vec<ProtoCoin>> {
    let mut all = Vec::new();
    let mut next_key = Vec::new();
    loop {
        let page = PageRequest {
            key: next_key.clone(),
            limit: 1000,
            ..Default::default()
        };
        let (items, pagination) = fetch(page).await?;
        all.extend(items);
        match pagination {
            // A server that repeats a key would loop forever: stop there.
            Some(p) if !p.next_key.is_empty() && p.next_key != next_key => next_key = p.next_key,
            _ => return Ok(all),
        }
    }
}

async fn balances(ctx: &Ctx, grpc: &str, address: &Address, denom: Option<&str>) -> Result<()> {
    let mut bank = BankClient::new(client::grpc(grpc).await?);
    let coins = match denom {
        Some(d) => {
            let r = bank
                .balance(QueryBalanceRequest {
                    address: address.to_string(),
                    denom: d.to_string(),
                })
                .await
                .map_err(|s| client::grpc_error("bank balance query", s))?
                .into_inner();
            vec![r.balance.unwrap_or(ProtoCoin {
                denom: d.to_string(),
                amount: "0".into(),
            })]
        }
        None => {
            all_pages(async |page| {
                let r = bank
                    .all_balances(QueryAllBalancesRequest {
                        address: address.to_string(),
                        pagination: Some(page),
                        resolve_denom: false,
                    })
                    .await
                    .map_err(|s| client::grpc_error("bank balances query", s))?
                    .into_inner();
                Ok((r.balances, r.pagination))
            })
            .await?
        }
    };
    print_coins(
        ctx,
        Some(format!("balances of {address}")),
        "balances",
        &coins,
        json!({"address": address.to_string()}),
    )
}

async fn supply(ctx: &Ctx, grpc: &str, denom: Option<&str>) -> Result<()> {
    let mut bank = BankClient::new(client::grpc(grpc).await?);
    let coins = match denom {
        Some(d) => {
            let r = bank
                .supply_of(QuerySupplyOfRequest {
                    denom: d.to_string(),
                })
                .await
                .map_err(|s| client::grpc_error("bank supply query", s))?
                .into_inner();
            vec![r.amount.unwrap_or(ProtoCoin {
                denom: d.to_string(),
                amount: "0".into(),
            })]
        }
        None => {
            all_pages(async |page| {
                let r = bank
                    .total_supply(QueryTotalSupplyRequest {
                        pagination: Some(page),
                    })
                    .await
                    .map_err(|s| client::grpc_error("bank supply query", s))?
                    .into_inner();
                Ok((r.supply, r.pagination))
            })
            .await?
        }
    };
    print_coins(
        ctx,
        Some("total supply".into()),
        "supply",
        &coins,
        json!({}),
    )
}

/// Reads one balance with a proof and verifies it against the app hash that the header of
/// the next block carries (CometBFT puts the app hash of height H into header H+1).
async fn proven_balance(ctx: &Ctx, node: &str, address: &Address, denom: &str) -> Result<()> {
    let rpc = client::rpc(node)?;
    let key = app_glue::bank_balance_key(address, denom);
    let resp = rpc
        .abci_query(Some("/store/bank/key".to_string()), key.clone(), None, true)
        .await
        .map_err(|e| client::rpc_error(node, e))?;
    if resp.code.is_err() {
        bail!(
            "abci_query /store/bank/key failed with code {}: {}",
            resp.code.value(),
            resp.log
        );
    }
    let proof = resp
        .proof
        .as_ref()
        .ok_or_else(|| anyhow!("the node returned no proof for the balance"))?;
    let height = resp.height.value();
    let header = wait_for_header(&rpc, node, height + 1, Duration::from_secs(30)).await?;
    let app_hash = header.app_hash.as_bytes().to_vec();
    // The bank deletes zero balances, so an empty value is a proof of absence (amount 0).
    let value = (!resp.value.is_empty()).then_some(resp.value.as_slice());
    if !app_glue::verify_abci_proof(&app_hash, &key, value, proof)? {
        bail!(
            "proof verification FAILED for the {denom} balance of {address} at height {height} (app hash {})",
            hex::encode_upper(&app_hash)
        );
    }
    let amount = app_glue::decode_balance_value(value)?;
    let coins = vec![ProtoCoin {
        denom: denom.to_string(),
        amount: amount.to_string(),
    }];
    let app_hash_hex = hex::encode_upper(&app_hash);
    print_coins(
        ctx,
        Some(format!("balances of {address} at height {height}")),
        "balances",
        &coins,
        json!({"address": address.to_string(), "height": height, "app_hash": app_hash_hex, "proof": "verified"}),
    )?;
    if !ctx.json() {
        crate::outln!(
            "proof: verified (height {height}, app hash {app_hash_hex} from header {})",
            height + 1
        );
    }
    Ok(())
}

async fn wait_for_header(
    rpc: &tendermint_rpc::HttpClient,
    node: &str,
    height: u64,
    timeout: Duration,
) -> Result<tendermint::block::Header> {
    let h =
        tendermint::block::Height::try_from(height).map_err(|e| anyhow!("height {height}: {e}"))?;
    let r = client::poll_rpc(timeout, || rpc.header(h))
        .await
        .map_err(|e| {
            anyhow!(
                "no header at height {height} from {node} within {} s: {}",
                timeout.as_secs(),
                client::rpc_message(&e)
            )
        })?;
    Ok(r.header)
}
