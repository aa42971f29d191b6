//! gRPC (tonic): every query path a module answers (`/pkg.Service/Method`, e.g.
//! `/cosmos.bank.v1beta1.Query/Balance`) is served by one generic route that passes the raw
//! request bytes to the same router as ABCI Query (`query::grpc_query`) and returns its raw
//! answer, so a module's query service needs no code here. `cosmos.tx.v1beta1.Service` is
//! written out because `BroadcastTx` and `GetTx` go to CometBFT's RPC. Reflection serves every
//! file of `stoa_proto::FILE_DESCRIPTOR_SET`. Paths no one answers get `UNIMPLEMENTED`.

// tonic's service traits return `Result<_, Status>` by value; helpers follow that shape.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use anyhow::Context;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txpb;
use prost::bytes::{Buf, BufMut, Bytes};
use prost::Message;
use stoa_framework::address::echo_input;
use stoa_framework::BECH32_PREFIX;
use tendermint_rpc::{Client as _, HttpClient};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, Body as HttpBody, StdError};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use crate::app::StoaApp;
use crate::config::AppConfig;
use crate::query::{cap_log, grpc_code, grpc_query, parse_tx_hash, QueryError, SIMULATE_PATH};

/// The encoded descriptors reflection serves: every proto file in stoa-proto's list.
pub use stoa_proto::FILE_DESCRIPTOR_SET;

/// The metadata key Cosmos SDK uses for the query height, both ways.
pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";

/// Answered here rather than by a module: the address prefix is the app's, not state.
const BECH32_PREFIX_PATH: &str = "/cosmos.auth.v1beta1.Query/Bech32Prefix";

/// tendermint-rpc's errors carry a whole trace; a gRPC status travels in a header, so keep
/// the first line, capped.
/// The first line of an error, at most 300 characters: what a gRPC answer quotes of it.
pub(crate) fn short(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let line = s.lines().next().unwrap_or_default();
    line.chars().take(300).collect()
}

/// A client of the node's CometBFT RPC at `addr` (app.toml `rpc_addr`), for the services that
/// read the node rather than the state.
pub(crate) fn comet_rpc(addr: &str) -> Result<HttpClient, Status> {
    HttpClient::new(addr)
        .map_err(|e| Status::internal(format!("CometBFT RPC address {addr}: {}", short(&e))))
}

fn to_status(e: QueryError) -> Status {
    let code = grpc_code(&e);
    Status::new(
        code,
        cap_log(format!(
            "{} (codespace {}, code {})",
            e.log, e.codespace, e.code
        )),
    )
}

/// The height a request asks for in its metadata (0 = the latest).
fn requested_height(metadata: &MetadataMap) -> Result<u64, Status> {
    match metadata.get(HEIGHT_HEADER).map(|v| v.to_str()) {
        None => Ok(0),
        Some(Ok(v)) => v
            .parse::<u64>()
            .map_err(|_| Status::invalid_argument(format!("bad {HEIGHT_HEADER}"))),
        Some(Err(_)) => Err(Status::invalid_argument(format!("bad {HEIGHT_HEADER}"))),
    }
}

/// Runs a query on a blocking thread (the store reads disk); the answer and the height it was
/// answered at, which goes back in the metadata.
async fn query_raw(
    app: StoaApp,
    path: String,
    data: Vec<u8>,
    metadata: &MetadataMap,
) -> Result<Response<Vec<u8>>, Status> {
    let height = requested_height(metadata)?;
    let (bytes, answered_at) = tokio::task::spawn_blocking(move || {
        grpc_query(app.store(), app.router(), &path, &data, height)
    })
    .await
    .map_err(|e| Status::internal(format!("query task: {e}")))?
    .map_err(to_status)?;
    let mut response = Response::new(bytes);
    if let Ok(v) = answered_at.to_string().parse() {
        response.metadata_mut().insert(HEIGHT_HEADER, v);
    }
    Ok(response)
}

/// A gRPC codec that leaves messages as bytes: the generic route neither decodes requests nor
/// encodes answers, the module does.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// One unary call of the generic route: the request's path and bytes to `grpc_query`.
struct RawQuery {
    app: StoaApp,
    path: String,
}

impl tonic::server::UnaryService<Bytes> for RawQuery {
    type Response = Vec<u8>;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, Status>> + Send>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let app = self.app.clone();
        let path = std::mem::take(&mut self.path);
        Box::pin(async move {
            if path == BECH32_PREFIX_PATH {
                let answer = auth::Bech32PrefixResponse {
                    bech32_prefix: BECH32_PREFIX.into(),
                };
                return Ok(Response::new(answer.encode_to_vec()));
            }
            let (metadata, _, data) = request.into_parts();
            query_raw(app, path, data.to_vec(), &metadata).await
        })
    }
}

/// The generic route: a tower service for any gRPC path, answered by the module the router
/// finds for it (`Router::for_query`); a path no module answers gets `UNIMPLEMENTED` without
/// reading its body. Installed as the fallback of the tonic router, so every method that no
/// written-out service claims comes here.
#[derive(Clone)]
pub struct QueryRoute {
    app: StoaApp,
}

impl QueryRoute {
    pub fn new(app: StoaApp) -> Self {
        QueryRoute { app }
    }

    /// Whether the route answers `path` (a module's query path, or one answered here).
    pub fn serves(&self, path: &str) -> bool {
        path == BECH32_PREFIX_PATH
            || path == crate::query::AUTH_PARAMS_PATH
            || self.app.router().for_query(path).is_some()
    }
}

impl<B> tonic::codegen::Service<http::Request<B>> for QueryRoute
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let path = req.uri().path().to_string();
        if !self.serves(&path) {
            let status = Status::unimplemented(format!("{} is not served", short_path(&path)));
            return Box::pin(async move { Ok(status.into_http()) });
        }
        let method = RawQuery {
            app: self.app.clone(),
            path,
        };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.unary(method, req).await)
        })
    }
}

/// A client's path echoed in a status, capped (it travels in a header).
fn short_path(path: &str) -> String {
    path.chars().take(120).collect()
}

/// `cosmos.tx.v1beta1.Service`, written out: `Simulate` runs through `grpc_query`, but
/// `BroadcastTx` and `GetTx` go to CometBFT's RPC.
#[derive(Clone)]
pub struct TxService {
    app: StoaApp,
    rpc_addr: String,
}

impl TxService {
    pub fn new(app: StoaApp, rpc_addr: impl Into<String>) -> Self {
        TxService {
            app,
            rpc_addr: rpc_addr.into(),
        }
    }

    fn rpc(&self) -> Result<HttpClient, Status> {
        comet_rpc(&self.rpc_addr)
    }

    async fn broadcast(
        &self,
        req: txpb::BroadcastTxRequest,
    ) -> Result<txpb::BroadcastTxResponse, Status> {
        if req.tx_bytes.is_empty() {
            return Err(Status::invalid_argument("invalid empty tx"));
        }
        let client = self.rpc()?;
        let hash = hex::encode_upper(crate::tx::decode::tx_hash(&req.tx_bytes));
        // CometBFT refuses a duplicate, a full mempool or an oversized tx with an RPC error;
        // clients expect a TxResponse with the Cosmos SDK's code for it (as its
        // `CheckCometError`), so that a resent tx reads as "already in the mempool".
        let unavailable = |e: tendermint_rpc::Error| match comet_refusal(&e.to_string()) {
            Some((code, log)) => RefusedOr::Answer(txpb::BroadcastTxResponse {
                tx_response: Some(TxResponse {
                    txhash: hash.clone(),
                    codespace: stoa_framework::sdk::CODESPACE.into(),
                    code,
                    raw_log: log.into(),
                    ..Default::default()
                }),
            }),
            None => RefusedOr::Status(Status::unavailable(format!("CometBFT RPC: {}", short(&e)))),
        };
        let r = match txpb::BroadcastMode::try_from(req.mode) {
            Ok(txpb::BroadcastMode::Sync) => match client.broadcast_tx_sync(req.tx_bytes).await {
                Ok(r) => r,
                Err(e) => return unavailable(e).into_result(),
            },
            Ok(txpb::BroadcastMode::Async) => {
                let r = match client.broadcast_tx_async(req.tx_bytes).await {
                    Ok(r) => r,
                    Err(e) => return unavailable(e).into_result(),
                };
                tendermint_rpc::endpoint::broadcast::tx_sync::Response {
                    codespace: r.codespace,
                    code: r.code,
                    data: r.data,
                    log: r.log,
                    hash: r.hash,
                }
            }
            _ => return Err(Status::invalid_argument(
                "unsupported broadcast mode; supported: BROADCAST_MODE_SYNC, BROADCAST_MODE_ASYNC",
            )),
        };
        Ok(txpb::BroadcastTxResponse {
            tx_response: Some(TxResponse {
                txhash: r.hash.to_string(),
                codespace: r.codespace,
                code: r.code.value(),
                data: hex::encode_upper(&r.data),
                raw_log: r.log,
                ..Default::default()
            }),
        })
    }

    async fn get_tx_by_hash(&self, hash: &str) -> Result<txpb::GetTxResponse, Status> {
        // Any case of hex is a hash; a malformed one is refused with a capped echo.
        let bytes = parse_tx_hash(hash).map_err(|e| to_status(e.into()))?;
        let h = tendermint::Hash::Sha256(bytes);
        let client = self.rpc()?;
        let r = client.tx(h, false).await.map_err(|e| {
            // CometBFT answers an unknown hash with an RPC error saying "not found"; an error
            // of its own about the request is the request's fault; anything else means it could
            // not be asked.
            let msg = cap_log(format!("tx {}: {}", echo_input(hash), short(&e)));
            match e.detail() {
                // "not found" in the message, as the SDK says it: clients (cosmpy's
                // wait_to_complete) poll until the message stops saying so.
                _ if e.to_string().contains("not found") => {
                    Status::not_found(format!("tx not found: {}", echo_input(hash)))
                }
                tendermint_rpc::error::ErrorDetail::Response(_) => Status::invalid_argument(msg),
                _ => Status::unavailable(msg),
            }
        })?;
        // The block time, as Cosmos SDK reports it; best effort.
        let timestamp = match client.block(r.height).await {
            Ok(b) => b.block.header.time.to_rfc3339(),
            Err(_) => String::new(),
        };
        let (tx, tx_response) = tx_and_response(r, timestamp)?;
        Ok(txpb::GetTxResponse {
            tx: Some(tx),
            tx_response: Some(tx_response),
        })
    }
}

/// A CometBFT tx lookup as the Cosmos SDK answers it: the decoded `Tx` and its `TxResponse`
/// (hash in upper-case hex, `data` the hex of the result's bytes, once).
fn tx_and_response(
    r: tendermint_rpc::endpoint::tx::Response,
    timestamp: String,
) -> Result<(txpb::Tx, TxResponse), Status> {
    let raw = txpb::TxRaw::decode(r.tx.as_slice())
        .map_err(|e| Status::internal(format!("stored tx: {e}")))?;
    let tx = txpb::Tx {
        body: txpb::TxBody::decode(raw.body_bytes.as_slice()).ok(),
        auth_info: txpb::AuthInfo::decode(raw.auth_info_bytes.as_slice()).ok(),
        signatures: raw.signatures,
    };
    let result: tendermint_proto::v0_38::abci::ExecTxResult = r.tx_result.into();
    let tx_response = TxResponse {
        height: i64::try_from(r.height.value()).unwrap_or(i64::MAX),
        txhash: r.hash.to_string(),
        codespace: result.codespace,
        code: result.code,
        data: hex::encode_upper(&result.data),
        raw_log: result.log,
        logs: vec![],
        info: result.info,
        gas_wanted: result.gas_wanted,
        gas_used: result.gas_used,
        tx: Some(tendermint_proto::google::protobuf::Any {
            type_url: "/cosmos.tx.v1beta1.Tx".into(),
            value: tx.encode_to_vec(),
        }),
        timestamp,
        events: result.events,
    };
    Ok((tx, tx_response))
}

/// The most txs one GetTxsEvent page returns (CometBFT's own cap per page).
const MAX_TXS_PAGE: u64 = 100;

impl TxService {
    /// GetTxsEvent: CometBFT's `tx_search` with the Cosmos SDK's query syntax (`query`, or the
    /// deprecated `events` joined with AND), pages from 1, at most 100 txs a page.
    async fn txs_event(
        &self,
        req: txpb::GetTxsEventRequest,
    ) -> Result<txpb::GetTxsEventResponse, Status> {
        #[allow(deprecated)]
        let q = if req.query.trim().is_empty() {
            req.events.join(" AND ")
        } else {
            req.query.clone()
        };
        if q.trim().is_empty() {
            return Err(Status::invalid_argument("query cannot be empty"));
        }
        let query: tendermint_rpc::query::Query = q.parse().map_err(|e| {
            Status::invalid_argument(cap_log(format!(
                "invalid query {}: {}",
                echo_input(&q),
                short(&e)
            )))
        })?;
        let limit = match req.limit {
            0 => MAX_TXS_PAGE,
            l => l.min(MAX_TXS_PAGE),
        };
        let page = u32::try_from(req.page.max(1))
            .map_err(|_| Status::invalid_argument("page too large"))?;
        let order = if req.order_by == txpb::OrderBy::Desc as i32 {
            tendermint_rpc::Order::Descending
        } else {
            tendermint_rpc::Order::Ascending
        };
        let client = self.rpc()?;
        let r = client
            .tx_search(query, false, page, limit as u8, order)
            .await
            .map_err(|e| match e.detail() {
                tendermint_rpc::error::ErrorDetail::Response(_) => {
                    Status::invalid_argument(format!("tx search: {}", short(&e)))
                }
                _ => Status::unavailable(format!("CometBFT RPC: {}", short(&e))),
            })?;
        let mut times: std::collections::BTreeMap<u64, String> = Default::default();
        let mut txs = Vec::with_capacity(r.txs.len());
        let mut tx_responses = Vec::with_capacity(r.txs.len());
        for t in r.txs {
            let h = t.height.value();
            if let std::collections::btree_map::Entry::Vacant(slot) = times.entry(h) {
                let time = match client.block(t.height).await {
                    Ok(b) => b.block.header.time.to_rfc3339(),
                    Err(_) => String::new(),
                };
                slot.insert(time);
            }
            let (tx, resp) = tx_and_response(t, times.get(&h).cloned().unwrap_or_default())?;
            txs.push(tx);
            tx_responses.push(resp);
        }
        let total = u64::from(r.total_count);
        #[allow(deprecated)]
        Ok(txpb::GetTxsEventResponse {
            txs,
            tx_responses,
            pagination: None,
            total,
        })
    }

    /// GetBlockWithTxs: the block at a height and its txs decoded (offset/limit pagination
    /// over the block's txs).
    async fn block_with_txs(
        &self,
        req: txpb::GetBlockWithTxsRequest,
    ) -> Result<txpb::GetBlockWithTxsResponse, Status> {
        let height = u64::try_from(req.height)
            .ok()
            .filter(|h| *h > 0)
            .and_then(|h| tendermint::block::Height::try_from(h).ok())
            .ok_or_else(|| {
                Status::invalid_argument(format!("invalid height {}: must be positive", req.height))
            })?;
        let client = self.rpc()?;
        let latest = client
            .latest_block()
            .await
            .map_err(|e| Status::unavailable(format!("CometBFT RPC: {}", short(&e))))?;
        if height > latest.block.header.height {
            return Err(Status::invalid_argument(format!(
                "requested block height {height} is bigger than the chain length {}",
                latest.block.header.height
            )));
        }
        let r = client
            .block(height)
            .await
            .map_err(|e| Status::unavailable(format!("CometBFT RPC: {}", short(&e))))?;
        let all = r.block.data.clone();
        let (offset, limit) = match &req.pagination {
            Some(p) => (
                p.offset as usize,
                if p.limit == 0 {
                    usize::MAX
                } else {
                    p.limit as usize
                },
            ),
            None => (0, usize::MAX),
        };
        let txs = all
            .iter()
            .skip(offset)
            .take(limit)
            .map(|raw| tx_decode(raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(txpb::GetBlockWithTxsResponse {
            txs,
            block_id: Some(r.block_id.into()),
            block: Some(r.block.into()),
            pagination: Some(
                cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse {
                    next_key: vec![],
                    total: all.len() as u64,
                },
            ),
        })
    }
}

#[tonic::async_trait]
impl txpb::service_server::Service for TxService {
    async fn simulate(
        &self,
        request: Request<txpb::SimulateRequest>,
    ) -> Result<Response<txpb::SimulateResponse>, Status> {
        let (metadata, _, req) = request.into_parts();
        let answer = query_raw(
            self.app.clone(),
            SIMULATE_PATH.into(),
            req.encode_to_vec(),
            &metadata,
        )
        .await?;
        let (metadata, bytes, extensions) = answer.into_parts();
        let resp = txpb::SimulateResponse::decode(bytes.as_slice())
            .map_err(|e| Status::internal(format!("decoding the answer: {e}")))?;
        Ok(Response::from_parts(metadata, resp, extensions))
    }

    async fn broadcast_tx(
        &self,
        request: Request<txpb::BroadcastTxRequest>,
    ) -> Result<Response<txpb::BroadcastTxResponse>, Status> {
        self.broadcast(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_tx(
        &self,
        request: Request<txpb::GetTxRequest>,
    ) -> Result<Response<txpb::GetTxResponse>, Status> {
        self.get_tx_by_hash(&request.into_inner().hash)
            .await
            .map(Response::new)
    }

    async fn get_txs_event(
        &self,
        request: Request<txpb::GetTxsEventRequest>,
    ) -> Result<Response<txpb::GetTxsEventResponse>, Status> {
        self.txs_event(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_block_with_txs(
        &self,
        request: Request<txpb::GetBlockWithTxsRequest>,
    ) -> Result<Response<txpb::GetBlockWithTxsResponse>, Status> {
        self.block_with_txs(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn tx_decode(
        &self,
        request: Request<txpb::TxDecodeRequest>,
    ) -> Result<Response<txpb::TxDecodeResponse>, Status> {
        let tx = tx_decode(&request.into_inner().tx_bytes)?;
        Ok(Response::new(txpb::TxDecodeResponse { tx: Some(tx) }))
    }

    async fn tx_encode(
        &self,
        request: Request<txpb::TxEncodeRequest>,
    ) -> Result<Response<txpb::TxEncodeResponse>, Status> {
        let tx_bytes = tx_encode(request.into_inner().tx.as_ref())?;
        Ok(Response::new(txpb::TxEncodeResponse { tx_bytes }))
    }

    async fn tx_encode_amino(
        &self,
        _: Request<txpb::TxEncodeAminoRequest>,
    ) -> Result<Response<txpb::TxEncodeAminoResponse>, Status> {
        Err(not_served("TxEncodeAmino"))
    }

    async fn tx_decode_amino(
        &self,
        _: Request<txpb::TxDecodeAminoRequest>,
    ) -> Result<Response<txpb::TxDecodeAminoResponse>, Status> {
        Err(not_served("TxDecodeAmino"))
    }
}

/// A broadcast CometBFT refused: an answer for the client, or a status.
enum RefusedOr {
    Answer(txpb::BroadcastTxResponse),
    Status(Status),
}

impl RefusedOr {
    fn into_result(self) -> Result<txpb::BroadcastTxResponse, Status> {
        match self {
            RefusedOr::Answer(a) => Ok(a),
            RefusedOr::Status(s) => Err(s),
        }
    }
}

/// The Cosmos SDK's code and log for a tx CometBFT's mempool refused before CheckTx
/// (`ErrTxInMempoolCache` 19, `ErrMempoolIsFull` 20, `ErrTxTooLarge` 21), from its RPC error.
pub fn comet_refusal(error: &str) -> Option<(u32, &'static str)> {
    let e = error.to_ascii_lowercase();
    if e.contains("tx already exists in cache") {
        Some((19, "tx already in mempool"))
    } else if e.contains("mempool is full") {
        Some((20, "mempool is full"))
    } else if e.contains("tx too large") {
        Some((21, "tx too large"))
    } else {
        None
    }
}

/// `TxDecode`: a tx's bytes as the `Tx` they hold (nothing else checked: a client inspects
/// what it has, valid or not, as the Cosmos SDK's).
pub fn tx_decode(tx_bytes: &[u8]) -> Result<txpb::Tx, Status> {
    if tx_bytes.is_empty() {
        return Err(Status::invalid_argument("invalid empty tx bytes"));
    }
    let raw = txpb::TxRaw::decode(tx_bytes)
        .map_err(|e| Status::invalid_argument(format!("decoding TxRaw: {e}")))?;
    let body = txpb::TxBody::decode(raw.body_bytes.as_slice())
        .map_err(|e| Status::invalid_argument(format!("decoding TxBody: {e}")))?;
    let auth_info = txpb::AuthInfo::decode(raw.auth_info_bytes.as_slice())
        .map_err(|e| Status::invalid_argument(format!("decoding AuthInfo: {e}")))?;
    Ok(txpb::Tx {
        body: Some(body),
        auth_info: Some(auth_info),
        signatures: raw.signatures,
    })
}

/// `TxEncode`: a `Tx` as the `TxRaw` bytes a node accepts.
pub fn tx_encode(tx: Option<&txpb::Tx>) -> Result<Vec<u8>, Status> {
    let tx = tx.ok_or_else(|| Status::invalid_argument("invalid empty tx"))?;
    Ok(txpb::TxRaw {
        body_bytes: tx
            .body
            .as_ref()
            .map(|b| b.encode_to_vec())
            .unwrap_or_default(),
        auth_info_bytes: tx
            .auth_info
            .as_ref()
            .map(|a| a.encode_to_vec())
            .unwrap_or_default(),
        signatures: tx.signatures.clone(),
    }
    .encode_to_vec())
}

fn not_served(method: &str) -> Status {
    Status::unimplemented(format!("{method} is not served by Stoa"))
}

/// The tonic router: [`routes`] on a plain server.
pub fn router(app: StoaApp, rpc_addr: &str) -> anyhow::Result<tonic::transport::server::Router> {
    Ok(tonic::transport::Server::builder().add_routes(routes(app, rpc_addr)?))
}

/// Every gRPC service the node serves: the written-out tx service, server reflection (v1 and
/// the v1alpha that older grpcurl versions ask for) over every file of `FILE_DESCRIPTOR_SET`,
/// and the generic query route for every other path. The REST gateway calls these same routes
/// in process (`rest.rs`), so a service added here is served over REST too.
pub fn routes(app: StoaApp, rpc_addr: &str) -> anyhow::Result<tonic::service::Routes> {
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("reflection descriptors")?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .context("reflection descriptors")?;
    let routes = tonic::service::Routes::new(txpb::service_server::ServiceServer::new(
        TxService::new(app.clone(), rpc_addr),
    ))
    .add_service(
        cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::service_server::ServiceServer::new(
            crate::cosmos_services::TendermintService::new(app.clone(), rpc_addr),
        ),
    )
    .add_service(
        cosmos_sdk_proto::cosmos::base::node::v1beta1::service_server::ServiceServer::new(
            crate::cosmos_services::NodeService::new(app.clone()),
        ),
    )
    .add_service(reflection_v1)
    .add_service(reflection_v1alpha)
    .into_axum_router()
    .fallback_service(QueryRoute::new(app));
    Ok(routes.into())
}

/// Serves on an already bound listener (tests bind port 0).
pub async fn serve_on(
    app: StoaApp,
    rpc_addr: &str,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    router(app, rpc_addr)?
        .serve_with_incoming(incoming)
        .await
        .context("gRPC server")
}

/// Binds the gRPC address now, so that a taken port fails the start rather than a thread.
pub fn bind(config: &AppConfig) -> anyhow::Result<std::net::TcpListener> {
    let addr: SocketAddr = config
        .grpc_addr
        .parse()
        .with_context(|| format!("grpc_addr {:?}", config.grpc_addr))?;
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("binding gRPC to {addr}"))?;
    listener.set_nonblocking(true).context("gRPC listener")?;
    Ok(listener)
}

/// Runs the gRPC server on `listener` on its own tokio runtime; returns only on error.
pub fn serve_blocking(
    app: StoaApp,
    rpc_addr: &str,
    listener: std::net::TcpListener,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("grpc-worker")
        .enable_all()
        .build()
        .context("gRPC runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).context("gRPC listener")?;
        tracing::info!(addr = %listener.local_addr()?, "gRPC serving");
        serve_on(app, rpc_addr, listener).await
    })
}
