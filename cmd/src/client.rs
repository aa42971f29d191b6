//! Connections to a running node: CometBFT RPC (broadcast, tx lookup, proofs, headers) and
//! stoad's gRPC query server (accounts, balances, supply, simulation), with errors that say
//! which endpoint failed and how to point the CLI elsewhere.

use anyhow::{anyhow, Context, Result};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    query_client::QueryClient as AuthClient, BaseAccount, QueryAccountRequest,
};
use std::future::Future;
use std::time::{Duration, Instant};
use tendermint_rpc::HttpClient;
use tonic::transport::{Channel, Endpoint};

/// A CometBFT RPC client for `--node`.
pub fn rpc(node: &str) -> Result<HttpClient> {
    HttpClient::new(node).map_err(|e| anyhow!("invalid --node URL {node:?}: {e}"))
}

/// The message of an RPC error without the backtrace that tendermint-rpc's error report
/// carries in its Display.
pub fn rpc_message(e: &tendermint_rpc::Error) -> String {
    use tendermint_rpc::error::ErrorDetail;
    match e.detail() {
        ErrorDetail::Response(r) => match r.source.data() {
            Some(d) if !d.is_empty() => format!("{}: {d}", r.source.message()),
            _ => r.source.message().to_string(),
        },
        ErrorDetail::HttpRequestFailed(h) => format!("HTTP request failed: {}", h.status),
        other => other.to_string(),
    }
}

/// Explains an RPC failure in terms of the `--node` flag.
pub fn rpc_error(node: &str, e: tendermint_rpc::Error) -> anyhow::Error {
    anyhow!(
        "CometBFT RPC at {node} failed: {} (is the node running? set --node)",
        rpc_message(&e)
    )
}

/// How often [`poll_rpc`] retries.
const POLL_INTERVAL: Duration = Duration::from_millis(300);

/// Calls `call` every 300 ms until it succeeds or `timeout` has passed since the first call;
/// then the error is the last RPC failure.
pub async fn poll_rpc<T, F, Fut>(timeout: Duration, mut call: F) -> Result<T, tendermint_rpc::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, tendermint_rpc::Error>>,
{
    let start = Instant::now();
    loop {
        match call().await {
            Ok(r) => return Ok(r),
            Err(e) if start.elapsed() >= timeout => return Err(e),
            Err(_) => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

/// A gRPC channel to `--grpc`.
pub async fn grpc(url: &str) -> Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| anyhow!("invalid --grpc URL {url:?}: {e}"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30));
    endpoint.connect().await.map_err(|e| {
        anyhow!("cannot reach gRPC at {url}: {e} (is `stoad start` running? set --grpc)")
    })
}

/// Explains a gRPC status.
pub fn grpc_error(what: &str, status: tonic::Status) -> anyhow::Error {
    anyhow!("{what} failed: {} ({:?})", status.message(), status.code())
}

/// An account as `cosmos.auth.v1beta1.Query/Account` returns it.
#[derive(Clone, Debug)]
pub struct AccountInfo {
    pub address: String,
    pub account_number: u64,
    pub sequence: u64,
    pub pub_key: Option<cosmos_sdk_proto::Any>,
}

/// The account at `address`, or None when the chain has no such account yet.
pub async fn query_account(channel: Channel, address: &str) -> Result<Option<AccountInfo>> {
    let mut client = AuthClient::new(channel);
    let resp = match client
        .account(QueryAccountRequest {
            address: address.to_string(),
        })
        .await
    {
        Ok(r) => r.into_inner(),
        Err(s) if s.code() == tonic::Code::NotFound => return Ok(None),
        Err(s) => return Err(grpc_error("auth account query", s)),
    };
    let Some(any) = resp.account else {
        return Ok(None);
    };
    if any.type_url != "/cosmos.auth.v1beta1.BaseAccount" {
        return Err(anyhow!(
            "account {address} is a {}, which stoad cannot sign for",
            any.type_url
        ));
    }
    let base: BaseAccount =
        prost::Message::decode(any.value.as_slice()).context("decoding BaseAccount")?;
    Ok(Some(AccountInfo {
        address: base.address,
        account_number: base.account_number,
        sequence: base.sequence,
        pub_key: base.pub_key,
    }))
}
