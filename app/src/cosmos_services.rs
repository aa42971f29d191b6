//! The standard Cosmos node services that read the node rather than the state:
//! `cosmos.base.tendermint.v1beta1.Service` (node info, syncing, blocks, validator sets, read
//! from the node's CometBFT RPC at app.toml's `rpc_addr`; ABCIQuery answered by the app itself)
//! and `cosmos.base.node.v1beta1.Service/Config` (this node's minimum gas prices). Errors have
//! the shapes clients look for: a height past the chain is `InvalidArgument`, an unreachable
//! CometBFT `Unavailable`.

// tonic's service traits return `Result<_, Status>` by value.
#![allow(clippy::result_large_err)]

use cosmos_sdk_proto::cosmos::base::node::v1beta1 as nodepb;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1 as tmpb;
use tendermint_rpc::{Client as _, HttpClient, Paging};
use tonic::{Request, Response, Status};

use crate::app::StoaApp;
use crate::grpc::{comet_rpc, short};

/// The bech32 prefix of validator consensus addresses (the Cosmos SDK's `<prefix>valcons`).
pub const VALCONS_PREFIX: &str = "stoavalcons";

fn valcons(bytes: &[u8]) -> String {
    bech32::Hrp::parse(VALCONS_PREFIX)
        .ok()
        .and_then(|hrp| bech32::encode::<bech32::Bech32>(hrp, bytes).ok())
        .unwrap_or_else(|| hex::encode_upper(bytes))
}

/// `cosmos.base.tendermint.v1beta1.Service`.
#[derive(Clone)]
pub struct TendermintService {
    app: StoaApp,
    rpc_addr: String,
}

impl TendermintService {
    pub fn new(app: StoaApp, rpc_addr: impl Into<String>) -> Self {
        TendermintService {
            app,
            rpc_addr: rpc_addr.into(),
        }
    }

    fn rpc(&self) -> Result<HttpClient, Status> {
        comet_rpc(&self.rpc_addr)
    }

    /// A block at `height` (None: the latest) as the service answers it, the Cosmos SDK's
    /// `sdk_block` (proposer as a bech32 consensus address) included.
    async fn block(
        &self,
        height: Option<i64>,
    ) -> Result<
        (
            tendermint_proto::types::BlockId,
            tendermint_proto::types::Block,
            tmpb::Block,
        ),
        Status,
    > {
        let client = self.rpc()?;
        let r = match height {
            None => client.latest_block().await,
            Some(h) => {
                let h = u64::try_from(h)
                    .ok()
                    .filter(|h| *h > 0)
                    .and_then(|h| tendermint::block::Height::try_from(h).ok())
                    .ok_or_else(|| {
                        Status::invalid_argument(format!(
                            "invalid height {h}: must be a positive block height"
                        ))
                    })?;
                let latest = client
                    .latest_block()
                    .await
                    .map_err(|e| Status::unavailable(format!("CometBFT RPC: {}", short(&e))))?;
                if h > latest.block.header.height {
                    return Err(Status::invalid_argument(format!(
                        "requested block height {h} is bigger than the chain length {}",
                        latest.block.header.height
                    )));
                }
                client.block(h).await
            }
        }
        .map_err(|e| Status::unavailable(format!("CometBFT RPC: {}", short(&e))))?;
        let block_id: tendermint_proto::types::BlockId = r.block_id.into();
        let block: tendermint_proto::types::Block = r.block.into();
        let sdk_block = sdk_block(&block);
        Ok((block_id, block, sdk_block))
    }

    async fn validators(&self, height: Option<i64>) -> Result<(i64, Vec<tmpb::Validator>), Status> {
        let client = self.rpc()?;
        let unavailable =
            |e: tendermint_rpc::Error| Status::unavailable(format!("CometBFT RPC: {}", short(&e)));
        let height = match height {
            Some(h) => u64::try_from(h)
                .ok()
                .filter(|h| *h > 0)
                .and_then(|h| tendermint::block::Height::try_from(h).ok())
                .ok_or_else(|| Status::invalid_argument(format!("invalid height {h}")))?,
            None => {
                client
                    .latest_block()
                    .await
                    .map_err(unavailable)?
                    .block
                    .header
                    .height
            }
        };
        let r = client
            .validators(height, Paging::All)
            .await
            .map_err(|e| match e.to_string() {
                s if s.contains("must be less than or equal to the current blockchain height") => {
                    Status::invalid_argument(format!(
                        "requested block height {height} is bigger than the chain length"
                    ))
                }
                _ => unavailable(e),
            })?;
        let validators = r
            .validators
            .into_iter()
            .map(|v| {
                let pub_key = match v.pub_key {
                    tendermint::PublicKey::Ed25519(k) => {
                        Some(tendermint_proto::google::protobuf::Any {
                            type_url: stoa_framework::crypto::ED25519_PUBKEY_URL.into(),
                            value: prost::Message::encode_to_vec(
                                &cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey {
                                    key: k.as_bytes().to_vec(),
                                },
                            ),
                        })
                    }
                    _ => None,
                };
                tmpb::Validator {
                    address: valcons(v.address.as_bytes()),
                    pub_key,
                    voting_power: v.power.value() as i64,
                    proposer_priority: v.proposer_priority.value(),
                }
            })
            .collect();
        Ok((
            i64::try_from(r.block_height.value()).unwrap_or(i64::MAX),
            validators,
        ))
    }
}

/// The Cosmos SDK's `Block` of a CometBFT block: the same, with the proposer as a bech32
/// consensus address.
fn sdk_block(b: &tendermint_proto::types::Block) -> tmpb::Block {
    let header = b.header.as_ref().map(|h| tmpb::Header {
        version: h.version,
        chain_id: h.chain_id.clone(),
        height: h.height,
        time: h.time,
        last_block_id: h.last_block_id.clone(),
        last_commit_hash: h.last_commit_hash.clone(),
        data_hash: h.data_hash.clone(),
        validators_hash: h.validators_hash.clone(),
        next_validators_hash: h.next_validators_hash.clone(),
        consensus_hash: h.consensus_hash.clone(),
        app_hash: h.app_hash.clone(),
        last_results_hash: h.last_results_hash.clone(),
        evidence_hash: h.evidence_hash.clone(),
        proposer_address: valcons(&h.proposer_address),
    });
    tmpb::Block {
        header,
        data: b.data.clone(),
        evidence: b.evidence.clone(),
        last_commit: b.last_commit.clone(),
    }
}

#[tonic::async_trait]
impl tmpb::service_server::Service for TendermintService {
    async fn get_node_info(
        &self,
        _: Request<tmpb::GetNodeInfoRequest>,
    ) -> Result<Response<tmpb::GetNodeInfoResponse>, Status> {
        let status = self
            .rpc()?
            .status()
            .await
            .map_err(|e| Status::unavailable(format!("CometBFT RPC: {}", short(&e))))?;
        let n = status.node_info;
        let info = tendermint_proto::p2p::DefaultNodeInfo {
            protocol_version: Some(tendermint_proto::p2p::ProtocolVersion {
                p2p: n.protocol_version.p2p,
                block: n.protocol_version.block,
                app: n.protocol_version.app,
            }),
            default_node_id: n.id.to_string(),
            listen_addr: n.listen_addr.to_string(),
            network: n.network.to_string(),
            version: n.version.to_string(),
            channels: hex::decode(n.channels.to_string()).unwrap_or_default(),
            moniker: n.moniker.to_string(),
            other: Some(tendermint_proto::p2p::DefaultNodeInfoOther {
                tx_index: match n.other.tx_index {
                    tendermint::node::info::TxIndexStatus::On => "on".into(),
                    tendermint::node::info::TxIndexStatus::Off => "off".into(),
                },
                rpc_address: n.other.rpc_address,
            }),
        };
        Ok(Response::new(tmpb::GetNodeInfoResponse {
            default_node_info: Some(info),
            application_version: Some(tmpb::VersionInfo {
                name: "stoa".into(),
                app_name: "stoad".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            }),
        }))
    }

    async fn get_syncing(
        &self,
        _: Request<tmpb::GetSyncingRequest>,
    ) -> Result<Response<tmpb::GetSyncingResponse>, Status> {
        let status = self
            .rpc()?
            .status()
            .await
            .map_err(|e| Status::unavailable(format!("CometBFT RPC: {}", short(&e))))?;
        Ok(Response::new(tmpb::GetSyncingResponse {
            syncing: status.sync_info.catching_up,
        }))
    }

    async fn get_latest_block(
        &self,
        _: Request<tmpb::GetLatestBlockRequest>,
    ) -> Result<Response<tmpb::GetLatestBlockResponse>, Status> {
        let (block_id, block, sdk_block) = self.block(None).await?;
        #[allow(deprecated)]
        Ok(Response::new(tmpb::GetLatestBlockResponse {
            block_id: Some(block_id),
            block: Some(block),
            sdk_block: Some(sdk_block),
        }))
    }

    async fn get_block_by_height(
        &self,
        request: Request<tmpb::GetBlockByHeightRequest>,
    ) -> Result<Response<tmpb::GetBlockByHeightResponse>, Status> {
        let (block_id, block, sdk_block) = self.block(Some(request.into_inner().height)).await?;
        #[allow(deprecated)]
        Ok(Response::new(tmpb::GetBlockByHeightResponse {
            block_id: Some(block_id),
            block: Some(block),
            sdk_block: Some(sdk_block),
        }))
    }

    async fn get_latest_validator_set(
        &self,
        _: Request<tmpb::GetLatestValidatorSetRequest>,
    ) -> Result<Response<tmpb::GetLatestValidatorSetResponse>, Status> {
        let (block_height, validators) = self.validators(None).await?;
        Ok(Response::new(tmpb::GetLatestValidatorSetResponse {
            block_height,
            validators,
            pagination: None,
        }))
    }

    async fn get_validator_set_by_height(
        &self,
        request: Request<tmpb::GetValidatorSetByHeightRequest>,
    ) -> Result<Response<tmpb::GetValidatorSetByHeightResponse>, Status> {
        let (block_height, validators) = self.validators(Some(request.into_inner().height)).await?;
        Ok(Response::new(tmpb::GetValidatorSetByHeightResponse {
            block_height,
            validators,
            pagination: None,
        }))
    }

    async fn abci_query(
        &self,
        request: Request<tmpb::AbciQueryRequest>,
    ) -> Result<Response<tmpb::AbciQueryResponse>, Status> {
        let req = request.into_inner();
        let app = self.app.clone();
        let r = tokio::task::spawn_blocking(move || {
            crate::query::abci_query(
                app.store(),
                app.router(),
                &tendermint_proto::v0_38::abci::RequestQuery {
                    data: req.data.into(),
                    path: req.path,
                    height: req.height,
                    prove: req.prove,
                },
            )
        })
        .await
        .map_err(|e| Status::internal(format!("query task: {e}")))?;
        Ok(Response::new(tmpb::AbciQueryResponse {
            code: r.code,
            log: r.log,
            info: r.info,
            index: r.index,
            key: r.key.to_vec(),
            value: r.value.to_vec(),
            proof_ops: r.proof_ops.map(|p| tmpb::ProofOps {
                ops: p
                    .ops
                    .into_iter()
                    .map(|o| tmpb::ProofOp {
                        r#type: o.r#type,
                        key: o.key,
                        data: o.data,
                    })
                    .collect(),
            }),
            height: r.height,
            codespace: r.codespace,
        }))
    }
}

/// `cosmos.base.node.v1beta1.Service`: this node's settings clients ask for.
#[derive(Clone)]
pub struct NodeService {
    app: StoaApp,
}

impl NodeService {
    pub fn new(app: StoaApp) -> Self {
        NodeService { app }
    }
}

#[tonic::async_trait]
impl nodepb::service_server::Service for NodeService {
    async fn config(
        &self,
        _: Request<nodepb::ConfigRequest>,
    ) -> Result<Response<nodepb::ConfigResponse>, Status> {
        let prices: Vec<String> = self
            .app
            .min_gas_prices()
            .iter()
            .map(|(denom, price)| format!("{price}{denom}"))
            .collect();
        Ok(Response::new(nodepb::ConfigResponse {
            minimum_gas_price: prices.join(","),
            ..Default::default()
        }))
    }

    async fn status(
        &self,
        _: Request<nodepb::StatusRequest>,
    ) -> Result<Response<nodepb::StatusResponse>, Status> {
        let (height, app_hash) = self.app.last_commit();
        Ok(Response::new(nodepb::StatusResponse {
            height,
            app_hash,
            ..Default::default()
        }))
    }
}
