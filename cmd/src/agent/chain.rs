//! What the worker and the renter ask of the chain: the compute module's gRPC queries, the
//! compute params, an account's public key, and txs sent through `sign_and_broadcast` with
//! their outcome and message responses returned instead of printed.

use crate::cli::{NodeArgs, TxFlags};
use crate::client;
use crate::commands::tx::{capture_outcome, parse_hash, sign_and_broadcast, TxOutcome};
use crate::commands::Ctx;
use crate::keyring::PrivKey;
use anyhow::{anyhow, bail, Context, Result};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use cosmos_sdk_proto::Any;
use prost::Message;
use stoa_compute::ComputeParams;
use stoa_proto::compute::v1 as pb;
use stoa_proto::compute::v1::query_client::QueryClient;
use tendermint_rpc::Client;
use tonic::transport::Channel;

/// `node` with its chain id filled: the flag, else the home's genesis, else the node's own
/// (a worker's home has no genesis).
pub async fn with_chain_id(ctx: &Ctx, node: &NodeArgs) -> Result<NodeArgs> {
    let mut node = node.clone();
    if node.chain_id.is_some() {
        return Ok(node);
    }
    if let Ok(id) = crate::home::chain_id(&ctx.home, None) {
        node.chain_id = Some(id);
        return Ok(node);
    }
    let status = client::rpc(&node.node)?
        .status()
        .await
        .map_err(|e| client::rpc_error(&node.node, e))?;
    node.chain_id = Some(status.node_info.network.to_string());
    Ok(node)
}

/// The compute module's query client.
pub async fn compute(node: &NodeArgs) -> Result<QueryClient<Channel>> {
    Ok(QueryClient::new(client::grpc(&node.grpc).await?))
}

pub async fn params(q: &mut QueryClient<Channel>) -> Result<ComputeParams> {
    let r = q
        .params(pb::QueryParamsRequest {})
        .await
        .map_err(|s| client::grpc_error("compute params query", s))?
        .into_inner();
    serde_json::from_str(&r.params_json).context("decoding the compute params")
}

pub async fn device(q: &mut QueryClient<Channel>, id: u64) -> Result<pb::QueryDeviceResponse> {
    q.device(pb::QueryDeviceRequest { device_id: id })
        .await
        .map_err(|s| client::grpc_error(&format!("device {id} query"), s))
        .map(|r| r.into_inner())
}

/// A lease, or None when there is no such lease (yet).
pub async fn lease(q: &mut QueryClient<Channel>, id: u64) -> Result<Option<pb::Lease>> {
    match q.lease(pb::QueryLeaseRequest { lease_id: id }).await {
        Ok(r) => Ok(r.into_inner().lease),
        Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
        Err(s) => Err(client::grpc_error(&format!("lease {id} query"), s)),
    }
}

pub async fn jobs(q: &mut QueryClient<Channel>, lease_id: u64) -> Result<Vec<pb::Job>> {
    let r = q
        .jobs(pb::QueryJobsRequest {
            lease_id,
            pagination: None,
        })
        .await
        .map_err(|s| client::grpc_error(&format!("jobs of lease {lease_id} query"), s))?;
    Ok(r.into_inner().jobs)
}

/// The newest leases of `renter` (newest first).
pub async fn recent_leases(
    q: &mut QueryClient<Channel>,
    renter: &str,
    limit: u64,
) -> Result<Vec<pb::Lease>> {
    let r = q
        .leases(pb::QueryLeasesRequest {
            renter: renter.to_string(),
            pagination: Some(PageRequest {
                limit,
                reverse: true,
                ..Default::default()
            }),
        })
        .await
        .map_err(|s| client::grpc_error("leases query", s))?;
    Ok(r.into_inner().leases)
}

/// The id the next lease will get: one past the newest lease (0 on a chain without any).
pub async fn next_lease_id(q: &mut QueryClient<Channel>) -> Result<u64> {
    let r = q
        .leases(pb::QueryLeasesRequest {
            renter: String::new(),
            pagination: Some(PageRequest {
                limit: 1,
                reverse: true,
                ..Default::default()
            }),
        })
        .await
        .map_err(|s| client::grpc_error("leases query", s))?;
    Ok(r.into_inner().leases.first().map_or(0, |l| l.id + 1))
}

/// The public key of an account that has signed a tx (None before its first tx).
pub async fn account_pubkey(node: &NodeArgs, address: &str) -> Result<Option<Any>> {
    let ch = client::grpc(&node.grpc).await?;
    Ok(client::query_account(ch, address)
        .await?
        .and_then(|a| a.pub_key))
}

/// Sends `msgs` signed by `key`; an error unless the tx landed with code 0.
pub async fn send(
    ctx: &Ctx,
    node: &NodeArgs,
    key: &PrivKey,
    msgs: Vec<Any>,
    flags: &TxFlags,
) -> Result<TxOutcome> {
    let what: Vec<String> = msgs.iter().map(|m| m.type_url.clone()).collect();
    // An agent's txs are its own decisions: never stop to ask at a terminal.
    let flags = &TxFlags {
        yes: true,
        ..flags.clone()
    };
    let out = capture_outcome(sign_and_broadcast(ctx, node, key, msgs, flags))
        .await?
        .ok_or_else(|| anyhow!("the tx ({}) produced no result", what.join(", ")))?;
    if out.code != 0 {
        bail!(
            "tx {} ({}) failed with code {}: {}",
            out.txhash,
            what.join(", "),
            out.code,
            out.raw_log
        );
    }
    if out.height == 0 {
        bail!("tx {} was not included in a block", out.txhash);
    }
    Ok(out)
}

/// The message responses of an included tx, in message order.
pub async fn msg_responses(node: &NodeArgs, txhash: &str) -> Result<Vec<Any>> {
    let rpc = client::rpc(&node.node)?;
    let r = rpc
        .tx(parse_hash(txhash)?, false)
        .await
        .map_err(|e| client::rpc_error(&node.node, e))?;
    let raw = r.tx_result.data.as_ref();
    // Some tendermint-rpc dialects hand the JSON's base64 text over undecoded.
    let data = TxMsgData::decode(raw)
        .or_else(|e| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(raw)
                .map_err(|_| e)
                .and_then(|b| TxMsgData::decode(b.as_slice()))
        })
        .context("decoding the tx's data")?;
    Ok(data.msg_responses)
}

/// The first message response of an included tx, decoded as `M`.
pub async fn first_response<M: Message + Default>(node: &NodeArgs, txhash: &str) -> Result<M> {
    let any = msg_responses(node, txhash)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("tx {txhash} has no message response"))?;
    M::decode(any.value.as_slice()).context("decoding the message response")
}

/// An `Any` of one of Stoa's messages.
pub fn any<M: Message + prost::Name>(m: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}
