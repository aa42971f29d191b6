//! gRPC (tonic) on Cosmos SDK's service definitions: `cosmos.bank.v1beta1.Query`,
//! `cosmos.auth.v1beta1.Query` and `cosmos.tx.v1beta1.Service`. Queries go through the same
//! router as ABCI Query (`query::grpc_query`); `BroadcastTx` and `GetTx` go to CometBFT's RPC.
//! Methods Stoa does not serve answer `UNIMPLEMENTED`.

// tonic's service traits return `Result<_, Status>` by value; helpers follow that shape.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::str::FromStr;

use anyhow::Context;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txpb;
use prost::Message;
use stoa_framework::{sdk, BECH32_PREFIX};
use tendermint_rpc::{Client as _, HttpClient};
use tonic::{Request, Response, Status};

use crate::app::StoaApp;
use crate::config::AppConfig;
use crate::query::{grpc_query, QueryError, SIMULATE_PATH};

/// The metadata key Cosmos SDK uses for the query height, both ways.
pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";

/// The service implementation shared by all three services.
#[derive(Clone)]
pub struct GrpcServices {
    app: StoaApp,
    rpc_addr: String,
}

/// tendermint-rpc's errors carry a whole trace; a gRPC status travels in a header, so keep
/// the first line, capped.
fn short(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let line = s.lines().next().unwrap_or_default();
    line.chars().take(300).collect()
}

fn to_status(e: QueryError) -> Status {
    use tonic::Code;
    let code = if e.codespace == sdk::CODESPACE {
        match e.code {
            c if c == sdk::NOT_FOUND.code
                || c == sdk::KEY_NOT_FOUND.code
                || c == sdk::UNKNOWN_ADDRESS.code =>
            {
                Code::NotFound
            }
            c if c == sdk::UNKNOWN_REQUEST.code => Code::Unimplemented,
            c if c == sdk::IO.code || c == sdk::LOGIC.code => Code::Internal,
            _ => Code::InvalidArgument,
        }
    } else {
        Code::InvalidArgument
    };
    Status::new(
        code,
        format!("{} (codespace {}, code {})", e.log, e.codespace, e.code),
    )
}

impl GrpcServices {
    pub fn new(app: StoaApp, rpc_addr: impl Into<String>) -> Self {
        GrpcServices {
            app,
            rpc_addr: rpc_addr.into(),
        }
    }

    /// Encodes the request, runs the query on a blocking thread (the store reads disk), and
    /// decodes the module's answer; the height answered goes back in the metadata.
    async fn route<Req: Message, Resp: Message + Default>(
        &self,
        path: &'static str,
        request: Request<Req>,
    ) -> Result<Response<Resp>, Status> {
        let height = request
            .metadata()
            .get(HEIGHT_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| Status::invalid_argument(format!("bad {HEIGHT_HEADER}: {v}")))
            })
            .transpose()?
            .unwrap_or(0);
        let data = request.into_inner().encode_to_vec();
        let app = self.app.clone();
        let (bytes, answered_at) = tokio::task::spawn_blocking(move || {
            grpc_query(app.store(), app.router(), path, &data, height)
        })
        .await
        .map_err(|e| Status::internal(format!("query task: {e}")))?
        .map_err(to_status)?;
        let resp = Resp::decode(bytes.as_slice())
            .map_err(|e| Status::internal(format!("decoding the answer: {e}")))?;
        let mut response = Response::new(resp);
        if let Ok(v) = answered_at.to_string().parse() {
            response.metadata_mut().insert(HEIGHT_HEADER, v);
        }
        Ok(response)
    }

    fn rpc(&self) -> Result<HttpClient, Status> {
        HttpClient::new(self.rpc_addr.as_str()).map_err(|e| {
            Status::internal(format!(
                "CometBFT RPC address {}: {}",
                self.rpc_addr,
                short(&e)
            ))
        })
    }

    async fn broadcast(
        &self,
        req: txpb::BroadcastTxRequest,
    ) -> Result<txpb::BroadcastTxResponse, Status> {
        if req.tx_bytes.is_empty() {
            return Err(Status::invalid_argument("invalid empty tx"));
        }
        let client = self.rpc()?;
        let unavailable =
            |e: tendermint_rpc::Error| Status::unavailable(format!("CometBFT RPC: {}", short(&e)));
        let r = match txpb::BroadcastMode::try_from(req.mode) {
            Ok(txpb::BroadcastMode::Sync) => client
                .broadcast_tx_sync(req.tx_bytes)
                .await
                .map_err(unavailable)?,
            Ok(txpb::BroadcastMode::Async) => {
                let r = client
                    .broadcast_tx_async(req.tx_bytes)
                    .await
                    .map_err(unavailable)?;
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
        let h = tendermint::Hash::from_str(hash)
            .map_err(|e| Status::invalid_argument(format!("tx hash {hash:?}: {}", short(&e))))?;
        let client = self.rpc()?;
        let r = client.tx(h, false).await.map_err(|e| {
            // CometBFT answers an unknown hash with an RPC error saying "not found"; any
            // other failure means it could not be asked.
            let msg = format!("tx {hash}: {}", short(&e));
            if e.to_string().contains("not found") {
                Status::not_found(msg)
            } else {
                Status::unavailable(msg)
            }
        })?;
        let raw = txpb::TxRaw::decode(r.tx.as_slice())
            .map_err(|e| Status::internal(format!("stored tx: {e}")))?;
        let tx = txpb::Tx {
            body: txpb::TxBody::decode(raw.body_bytes.as_slice()).ok(),
            auth_info: txpb::AuthInfo::decode(raw.auth_info_bytes.as_slice()).ok(),
            signatures: raw.signatures,
        };
        // The block time, as Cosmos SDK reports it; best effort.
        let timestamp = match client.block(r.height).await {
            Ok(b) => b.block.header.time.to_rfc3339(),
            Err(_) => String::new(),
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
        Ok(txpb::GetTxResponse {
            tx: Some(tx),
            tx_response: Some(tx_response),
        })
    }
}

/// Writes a tonic service impl: routed methods go through `route`, the rest are unimplemented.
/// (A macro around the whole impl so that `async_trait` sees plain `async fn`s.)
macro_rules! service_impl {
    (
        impl $trait:path, for $ty:ty {
            routed { $( $name:ident($req:ty) -> $resp:ty = $path:expr; )* }
            unimplemented { $( $uname:ident($ureq:ty) -> $uresp:ty; )* }
            $($custom:tt)*
        }
    ) => {
        #[tonic::async_trait]
        impl $trait for $ty {
            $(
                async fn $name(&self, request: Request<$req>) -> Result<Response<$resp>, Status> {
                    self.route($path, request).await
                }
            )*
            $(
                async fn $uname(&self, _request: Request<$ureq>) -> Result<Response<$uresp>, Status> {
                    Err(Status::unimplemented(concat!(stringify!($uname), " is not served by Stoa")))
                }
            )*
            $($custom)*
        }
    };
}

service_impl! {
    impl bank::query_server::Query, for GrpcServices {
        routed {
            balance(bank::QueryBalanceRequest) -> bank::QueryBalanceResponse = "/cosmos.bank.v1beta1.Query/Balance";
            all_balances(bank::QueryAllBalancesRequest) -> bank::QueryAllBalancesResponse = "/cosmos.bank.v1beta1.Query/AllBalances";
            total_supply(bank::QueryTotalSupplyRequest) -> bank::QueryTotalSupplyResponse = "/cosmos.bank.v1beta1.Query/TotalSupply";
            supply_of(bank::QuerySupplyOfRequest) -> bank::QuerySupplyOfResponse = "/cosmos.bank.v1beta1.Query/SupplyOf";
            params(bank::QueryParamsRequest) -> bank::QueryParamsResponse = "/cosmos.bank.v1beta1.Query/Params";
        }
        unimplemented {
            spendable_balances(bank::QuerySpendableBalancesRequest) -> bank::QuerySpendableBalancesResponse;
            spendable_balance_by_denom(bank::QuerySpendableBalanceByDenomRequest) -> bank::QuerySpendableBalanceByDenomResponse;
            denom_metadata(bank::QueryDenomMetadataRequest) -> bank::QueryDenomMetadataResponse;
            denom_metadata_by_query_string(bank::QueryDenomMetadataByQueryStringRequest) -> bank::QueryDenomMetadataByQueryStringResponse;
            denoms_metadata(bank::QueryDenomsMetadataRequest) -> bank::QueryDenomsMetadataResponse;
            denom_owners(bank::QueryDenomOwnersRequest) -> bank::QueryDenomOwnersResponse;
            denom_owners_by_query(bank::QueryDenomOwnersByQueryRequest) -> bank::QueryDenomOwnersByQueryResponse;
            send_enabled(bank::QuerySendEnabledRequest) -> bank::QuerySendEnabledResponse;
        }
    }
}

service_impl! {
    impl auth::query_server::Query, for GrpcServices {
        routed {
            account(auth::QueryAccountRequest) -> auth::QueryAccountResponse = "/cosmos.auth.v1beta1.Query/Account";
        }
        unimplemented {
            accounts(auth::QueryAccountsRequest) -> auth::QueryAccountsResponse;
            account_address_by_id(auth::QueryAccountAddressByIdRequest) -> auth::QueryAccountAddressByIdResponse;
            params(auth::QueryParamsRequest) -> auth::QueryParamsResponse;
            module_accounts(auth::QueryModuleAccountsRequest) -> auth::QueryModuleAccountsResponse;
            module_account_by_name(auth::QueryModuleAccountByNameRequest) -> auth::QueryModuleAccountByNameResponse;
            address_bytes_to_string(auth::AddressBytesToStringRequest) -> auth::AddressBytesToStringResponse;
            address_string_to_bytes(auth::AddressStringToBytesRequest) -> auth::AddressStringToBytesResponse;
            account_info(auth::QueryAccountInfoRequest) -> auth::QueryAccountInfoResponse;
        }
        async fn bech32_prefix(&self, _request: Request<auth::Bech32PrefixRequest>) -> Result<Response<auth::Bech32PrefixResponse>, Status> {
            Ok(Response::new(auth::Bech32PrefixResponse { bech32_prefix: BECH32_PREFIX.into() }))
        }
    }
}

service_impl! {
    impl txpb::service_server::Service, for GrpcServices {
        routed {
            simulate(txpb::SimulateRequest) -> txpb::SimulateResponse = SIMULATE_PATH;
        }
        unimplemented {
            get_txs_event(txpb::GetTxsEventRequest) -> txpb::GetTxsEventResponse;
            get_block_with_txs(txpb::GetBlockWithTxsRequest) -> txpb::GetBlockWithTxsResponse;
            tx_decode(txpb::TxDecodeRequest) -> txpb::TxDecodeResponse;
            tx_encode(txpb::TxEncodeRequest) -> txpb::TxEncodeResponse;
            tx_encode_amino(txpb::TxEncodeAminoRequest) -> txpb::TxEncodeAminoResponse;
            tx_decode_amino(txpb::TxDecodeAminoRequest) -> txpb::TxDecodeAminoResponse;
        }
        async fn broadcast_tx(&self, request: Request<txpb::BroadcastTxRequest>) -> Result<Response<txpb::BroadcastTxResponse>, Status> {
            self.broadcast(request.into_inner()).await.map(Response::new)
        }
        async fn get_tx(&self, request: Request<txpb::GetTxRequest>) -> Result<Response<txpb::GetTxResponse>, Status> {
            self.get_tx_by_hash(&request.into_inner().hash).await.map(Response::new)
        }
    }
}

/// Descriptors of the served services and their messages (built from ../proto by build.rs),
/// for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/cosmos_descriptor_set.bin"));

/// The tonic router with every service Stoa serves, and server reflection (v1 and the
/// v1alpha that older grpcurl versions ask for).
pub fn router(app: StoaApp, rpc_addr: &str) -> anyhow::Result<tonic::transport::server::Router> {
    let svc = GrpcServices::new(app, rpc_addr);
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("reflection descriptors")?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .context("reflection descriptors")?;
    Ok(tonic::transport::Server::builder()
        .add_service(bank::query_server::QueryServer::new(svc.clone()))
        .add_service(auth::query_server::QueryServer::new(svc.clone()))
        .add_service(txpb::service_server::ServiceServer::new(svc))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha))
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
