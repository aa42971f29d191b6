//! The ABCI 2.0 face of `StoaApp` (tendermint-abci's `Application`, CometBFT v0.38 protos).
//! Every method answers; none panics on bad input. A broken invariant, a failing block hook or
//! a failing disk halts the node on purpose: committing past them would fork it from the rest.

use prost::bytes::Bytes;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{
    response_apply_snapshot_chunk, response_offer_snapshot, response_process_proposal, CheckTxType,
    ExecTxResult, RequestApplySnapshotChunk, RequestCheckTx, RequestFinalizeBlock, RequestInfo,
    RequestInitChain, RequestLoadSnapshotChunk, RequestOfferSnapshot, RequestPrepareProposal,
    RequestProcessProposal, RequestQuery, ResponseApplySnapshotChunk, ResponseCheckTx,
    ResponseCommit, ResponseFinalizeBlock, ResponseInfo, ResponseInitChain, ResponseListSnapshots,
    ResponseLoadSnapshotChunk, ResponseOfferSnapshot, ResponsePrepareProposal,
    ResponseProcessProposal, ResponseQuery,
};

use stoa_framework::{ValidatorKey, ValidatorUpdate};
use tendermint_proto::v0_38::abci::ValidatorUpdate as AbciValidatorUpdate;
use tendermint_proto::v0_38::crypto::{public_key, PublicKey};

use crate::app::StoaApp;
use crate::lifecycle::BlockHeader;
use crate::tx::events::into_abci_all;
use crate::tx::TxOutcome;

/// The app's protocol version, reported in Info.
pub const APP_VERSION: u64 = 1;

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Bytes a tx takes inside CometBFT's `Data` message (tag, length varint, bytes): what
/// `max_tx_bytes` limits.
pub fn proto_tx_size(len: usize) -> u64 {
    let mut varint = 1u64;
    let mut n = len as u64;
    while n >= 0x80 {
        n >>= 7;
        varint += 1;
    }
    1 + varint + len as u64
}

/// A validator update as CometBFT's ABCI carries it (powers are capped far below `i64::MAX`).
pub fn abci_validator_update(u: &ValidatorUpdate) -> AbciValidatorUpdate {
    let sum = match &u.pub_key {
        ValidatorKey::Ed25519(k) => public_key::Sum::Ed25519(k.to_vec()),
        ValidatorKey::Secp256k1(k) => public_key::Sum::Secp256k1(k.to_vec()),
    };
    AbciValidatorUpdate {
        pub_key: Some(PublicKey { sum: Some(sum) }),
        power: to_i64(u.power),
    }
}

fn exec_result(o: TxOutcome) -> ExecTxResult {
    ExecTxResult {
        code: o.code,
        data: Bytes::from(o.data),
        log: o.log,
        info: String::new(),
        gas_wanted: to_i64(o.gas_wanted),
        gas_used: to_i64(o.gas_used),
        events: into_abci_all(o.events),
        codespace: o.codespace,
    }
}

impl Application for StoaApp {
    fn info(&self, _request: RequestInfo) -> ResponseInfo {
        let (height, app_hash) = self.last_commit();
        ResponseInfo {
            data: "stoa".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            app_version: APP_VERSION,
            last_block_height: to_i64(height),
            last_block_app_hash: Bytes::from(app_hash),
        }
    }

    fn init_chain(&self, request: RequestInitChain) -> ResponseInitChain {
        let app_state = if request.app_state_bytes.iter().all(u8::is_ascii_whitespace) {
            crate::default_app_state()
        } else {
            match serde_json::from_slice(&request.app_state_bytes) {
                Ok(v) => v,
                Err(e) => halt(&format!("InitChain: app_state is not JSON: {e}")),
            }
        };
        let initial_height = u64::try_from(request.initial_height).unwrap_or(1);
        let genesis_time = request
            .time
            .map(|t| (t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
            .unwrap_or((0, 0));
        match self.init_genesis(&request.chain_id, initial_height, genesis_time, &app_state) {
            Ok(g) => {
                tracing::info!(chain_id = %request.chain_id, initial_height, app_hash = %hex::encode_upper(g.app_hash), validators = g.validators.len(), "genesis applied");
                // An empty list keeps the validators of CometBFT's genesis.json; a non-empty
                // one replaces them (CometBFT halts if both are empty).
                ResponseInitChain {
                    consensus_params: None,
                    validators: g.validators.iter().map(abci_validator_update).collect(),
                    app_hash: Bytes::from(g.app_hash.to_vec()),
                }
            }
            Err(e) => halt(&format!("InitChain: {e}")),
        }
    }

    fn query(&self, request: RequestQuery) -> ResponseQuery {
        crate::query::abci_query(&self.shared.store, &self.shared.router, &request)
    }

    fn check_tx(&self, request: RequestCheckTx) -> ResponseCheckTx {
        let recheck = request.r#type == CheckTxType::Recheck as i32;
        let o = self.check_tx_bytes(&request.tx, recheck);
        if let Some(m) = self.metrics() {
            m.observe_check_tx(recheck, o.code == 0);
        }
        ResponseCheckTx {
            code: o.code,
            data: Bytes::from(o.data),
            log: o.log,
            info: String::new(),
            gas_wanted: to_i64(o.gas_wanted),
            gas_used: to_i64(o.gas_used),
            events: into_abci_all(o.events),
            codespace: o.codespace,
        }
    }

    fn commit(&self) -> ResponseCommit {
        let started = std::time::Instant::now();
        let checkpoint = self.store().staged_checkpoint().unwrap_or(false);
        match self.commit_block() {
            Ok(height) => {
                if let Some(m) = self.metrics() {
                    m.observe_commit(height, checkpoint, started.elapsed());
                }
                tracing::debug!(height, "committed");
                ResponseCommit { retain_height: 0 }
            }
            Err(e) => halt(&format!("Commit: {e}")),
        }
    }

    fn list_snapshots(&self) -> ResponseListSnapshots {
        // State sync comes later: this node offers no snapshots.
        ResponseListSnapshots { snapshots: vec![] }
    }

    fn offer_snapshot(&self, _request: RequestOfferSnapshot) -> ResponseOfferSnapshot {
        // This node cannot restore any snapshot yet; abort state sync rather than let CometBFT
        // try snapshot after snapshot.
        ResponseOfferSnapshot {
            result: response_offer_snapshot::Result::Abort as i32,
        }
    }

    fn load_snapshot_chunk(&self, _request: RequestLoadSnapshotChunk) -> ResponseLoadSnapshotChunk {
        ResponseLoadSnapshotChunk {
            chunk: Bytes::new(),
        }
    }

    fn apply_snapshot_chunk(
        &self,
        _request: RequestApplySnapshotChunk,
    ) -> ResponseApplySnapshotChunk {
        ResponseApplySnapshotChunk {
            result: response_apply_snapshot_chunk::Result::Abort as i32,
            refetch_chunks: vec![],
            reject_senders: vec![],
        }
    }

    fn prepare_proposal(&self, request: RequestPrepareProposal) -> ResponsePrepareProposal {
        let max_bytes = u64::try_from(request.max_tx_bytes).unwrap_or(0);
        let block_gas = self
            .consensus_params()
            .map(|p| p.block_gas_limit)
            .unwrap_or(0);
        let gas = self.gas_limits(&request.txs);
        let mut txs = Vec::new();
        let (mut bytes, mut total_gas) = (0u64, 0u64);
        for (tx, gas) in request.txs.into_iter().zip(gas) {
            // An undecodable tx would only fail in the block: leave it out.
            let Some(gas) = gas else { continue };
            let next_bytes = bytes.saturating_add(proto_tx_size(tx.len()));
            let next_gas = total_gas.saturating_add(gas);
            // Stop at the first tx that does not fit, so a sender's later txs (higher
            // sequences) never land without the earlier ones.
            if next_bytes > max_bytes || next_gas > block_gas {
                break;
            }
            bytes = next_bytes;
            total_gas = next_gas;
            txs.push(tx);
        }
        ResponsePrepareProposal { txs }
    }

    fn process_proposal(&self, request: RequestProcessProposal) -> ResponseProcessProposal {
        let reject = ResponseProcessProposal {
            status: response_process_proposal::ProposalStatus::Reject as i32,
        };
        let Ok(params) = self.consensus_params() else {
            return reject;
        };
        let mut total_gas = 0u64;
        for gas in self.gas_limits(&request.txs) {
            let Some(gas) = gas else {
                tracing::warn!(
                    height = request.height,
                    "rejecting a proposal with an undecodable tx"
                );
                return reject;
            };
            total_gas = total_gas.saturating_add(gas);
        }
        if total_gas > params.block_gas_limit {
            tracing::warn!(
                height = request.height,
                total_gas,
                "rejecting a proposal over the block gas limit"
            );
            return reject;
        }
        ResponseProcessProposal {
            status: response_process_proposal::ProposalStatus::Accept as i32,
        }
    }

    fn finalize_block(&self, request: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        let (time_seconds, time_nanos) = match &request.time {
            Some(t) => (t.seconds, u32::try_from(t.nanos).unwrap_or(0)),
            None => (0, 0),
        };
        let header = BlockHeader {
            height: u64::try_from(request.height).unwrap_or(0),
            time_seconds,
            time_nanos,
            hash: request.hash.to_vec(),
            proposer: request.proposer_address.to_vec(),
        };
        let started = std::time::Instant::now();
        let txs: Vec<Vec<u8>> = request.txs.iter().map(|t| t.to_vec()).collect();
        match self.execute_block(&header, &txs) {
            Ok(r) => {
                if self.metrics().is_some() {
                    // Naming each tx's message types decodes its body again: off the
                    // consensus thread, so FinalizeBlock answers no later for it.
                    let (app, elapsed) = (self.clone(), started.elapsed());
                    let codes: Vec<u32> = r.tx_results.iter().map(|o| o.code).collect();
                    rayon::spawn(move || {
                        if let Some(m) = app.metrics() {
                            m.observe_block(app.router(), &txs, codes.into_iter(), elapsed);
                        }
                    });
                }
                ResponseFinalizeBlock {
                    events: into_abci_all(r.events),
                    tx_results: r.tx_results.into_iter().map(exec_result).collect(),
                    validator_updates: r
                        .validator_updates
                        .iter()
                        .map(abci_validator_update)
                        .collect(),
                    consensus_param_updates: None,
                    app_hash: Bytes::from(r.app_hash.to_vec()),
                }
            }
            Err(e) => halt(&format!("FinalizeBlock at height {}: {e}", header.height)),
        }
    }
}

/// Stops the node: the state machine cannot go on without forking from the network.
pub(crate) fn halt(why: &str) -> ! {
    tracing::error!("halting: {why}");
    panic!("stoa halts: {why}");
}
