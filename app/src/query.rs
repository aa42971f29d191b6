//! The query router, shared by ABCI Query and gRPC: gRPC method paths go to the module that
//! answers them (protobuf in, protobuf out, as Cosmos SDK); `/store/<module>/key` reads a raw
//! key with an optional ICS23 proof against the app hash; `/cosmos.tx.v1beta1.Service/Simulate`
//! and `/app/simulate` dry-run a tx. Queries read committed versions only.

use cosmos_sdk_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, TxRaw};
use prost::bytes::Bytes;
use prost::Message;
use stoa_framework::block_record::{clock_in, last_block};
use stoa_framework::{sdk, BlockInfo, Ctx, ExecMode, State, StoaError, StoaResult, Store};
use tendermint_proto::v0_38::abci::{RequestQuery, ResponseQuery};
use tendermint_proto::v0_38::crypto::{ProofOp, ProofOps};

use crate::modules::Router;
use crate::tx::events::into_abci_all;
use crate::tx::params::{load_chain_id, load_params};
use crate::tx::{decode_tx, run_tx, TxEnv, TxOutcome};

pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";
pub const APP_SIMULATE_PATH: &str = "/app/simulate";
/// The `field_type` of the proof op `/store/<module>/key` returns.
pub const PROOF_OP_TYPE: &str = "ics23:jmt";

/// A failed query: the (codespace, code) and log of the error, as ABCI and gRPC report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub code: u32,
    pub codespace: String,
    pub log: String,
}

impl From<StoaError> for QueryError {
    fn from(e: StoaError) -> Self {
        QueryError {
            code: e.code,
            codespace: e.codespace.to_string(),
            log: e.log,
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (codespace {}, code {})",
            self.log, self.codespace, self.code
        )
    }
}

/// The committed version a query at `height` reads (0 = the latest).
pub fn resolve_height(store: &Store, height: u64) -> StoaResult<u64> {
    let latest = store.last_commit().map(|c| c.version).ok_or_else(|| {
        sdk::INVALID_REQUEST.with("no committed state yet; wait for the first block")
    })?;
    if height == 0 {
        return Ok(latest);
    }
    if height > latest {
        return Err(sdk::INVALID_REQUEST.with(format!(
            "cannot query height {height}: the latest height is {latest}"
        )));
    }
    Ok(height)
}

fn state_at(store: &Store, version: u64) -> State {
    match store.last_commit() {
        Some(c) if c.version == version => State::new(store.clone()),
        _ => State::at_version(store.clone(), version),
    }
}

/// A gRPC-style query: the encoded response and the height it was answered at.
pub fn grpc_query(
    store: &Store,
    router: &Router,
    path: &str,
    data: &[u8],
    height: u64,
) -> Result<(Vec<u8>, u64), QueryError> {
    if path == SIMULATE_PATH {
        let req = SimulateRequest::decode(data)
            .map_err(|e| sdk::TX_DECODE.with(format!("SimulateRequest: {e}")))?;
        let raw = simulate_request_bytes(&req)?;
        let outcome = simulate(store, router, &raw)?;
        let version = resolve_height(store, 0)?;
        return Ok((simulate_response(outcome)?.encode_to_vec(), version));
    }
    let route = router
        .for_query(path)
        .ok_or_else(|| sdk::UNKNOWN_REQUEST.with(format!("no module answers query path {path}")))?;
    let version = resolve_height(store, height)?;
    let mut state = state_at(store, version);
    // Queries see the clock and chain of the version they read.
    let (time_seconds, time_nanos) = clock_in(&state)?;
    let block = BlockInfo {
        chain_id: load_chain_id(&state)?.unwrap_or_default(),
        height: version,
        time_seconds,
        time_nanos,
        ..Default::default()
    };
    let mut ctx = Ctx::unmetered(&mut state, block, ExecMode::Query);
    Ok((route.query(&mut ctx, data)?, version))
}

/// The raw tx bytes of a SimulateRequest (`tx_bytes`, or the deprecated decoded `tx`).
pub fn simulate_request_bytes(req: &SimulateRequest) -> StoaResult<Vec<u8>> {
    if !req.tx_bytes.is_empty() {
        return Ok(req.tx_bytes.clone());
    }
    #[allow(deprecated)]
    let tx = req
        .tx
        .as_ref()
        .ok_or_else(|| sdk::INVALID_REQUEST.with("empty SimulateRequest: set tx_bytes"))?;
    Ok(TxRaw {
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

/// A successful simulation as Cosmos SDK reports it; a failed one is an error with its log.
pub fn simulate_response(o: TxOutcome) -> Result<SimulateResponse, QueryError> {
    if !o.is_ok() {
        return Err(QueryError {
            code: o.code,
            codespace: o.codespace,
            log: o.log,
        });
    }
    Ok(SimulateResponse {
        gas_info: Some(GasInfo {
            gas_wanted: o.gas_wanted,
            gas_used: o.gas_used,
        }),
        result: Some(AbciResult {
            #[allow(deprecated)]
            data: o.data,
            log: o.log,
            events: into_abci_all(o.events),
            msg_responses: o.msg_responses,
        }),
    })
}

/// Runs a tx, messages included, on a throwaway state over the latest committed state with
/// `ExecMode::Simulate` (no signature checks, no gas limit): the gas it would use.
pub fn simulate(store: &Store, router: &Router, raw: &[u8]) -> StoaResult<TxOutcome> {
    let version = resolve_height(store, 0)?;
    let mut state = State::new(store.clone());
    let params = load_params(&state)?;
    let chain_id = load_chain_id(&state)?.unwrap_or_default();
    let tx = decode_tx(raw, router)?;
    let (time_seconds, time_nanos) = {
        let mut ctx = Ctx::unmetered(&mut state, BlockInfo::default(), ExecMode::Simulate);
        last_block(&mut ctx)?
            .map(|(_, s, n)| (s, n))
            .unwrap_or((0, 0))
    };
    let block = BlockInfo {
        chain_id: chain_id.clone(),
        height: version + 1,
        time_seconds,
        time_nanos,
        ..Default::default()
    };
    let env = TxEnv {
        router,
        params: &params,
        chain_id: &chain_id,
        node_min_gas_prices: &[],
    };
    Ok(run_tx(
        &env,
        &mut state,
        &block,
        ExecMode::Simulate,
        &tx,
        &[],
        None,
    ))
}

/// `/store/<module>/key`: the key is taken as relative to the module's prefix `<module>/`
/// unless it already starts with it. The response carries the full key that was read.
pub fn store_query(
    store: &Store,
    router: &Router,
    module: &str,
    data: &[u8],
    height: u64,
    prove: bool,
) -> StoaResult<ResponseQuery> {
    if router.by_name(module).is_none() && module != "tx" && module != "fw" {
        return Err(sdk::UNKNOWN_REQUEST.with(format!("no store named {module}")));
    }
    let prefix = format!("{module}/");
    let key = if data.starts_with(prefix.as_bytes()) {
        data.to_vec()
    } else {
        [prefix.as_bytes(), data].concat()
    };
    let version = resolve_height(store, height)?;
    let (value, proof_ops) = if prove {
        let (value, proof) = store
            .get_with_proof(&key, version)
            .map_err(|e| sdk::IO.with(format!("proving key at {version}: {e}")))?;
        let op = ProofOp {
            r#type: PROOF_OP_TYPE.into(),
            key: key.clone(),
            data: proof.encode_to_vec(),
        };
        (value, Some(ProofOps { ops: vec![op] }))
    } else {
        let state = state_at(store, version);
        (state.get(&key)?, None)
    };
    Ok(ResponseQuery {
        key: Bytes::from(key),
        value: Bytes::from(value.unwrap_or_default()),
        proof_ops,
        height: i64::try_from(version).unwrap_or(i64::MAX),
        ..Default::default()
    })
}

fn error_response(e: impl Into<QueryError>) -> ResponseQuery {
    let e = e.into();
    ResponseQuery {
        code: e.code,
        codespace: e.codespace,
        log: e.log,
        ..Default::default()
    }
}

/// ABCI Query.
pub fn abci_query(store: &Store, router: &Router, req: &RequestQuery) -> ResponseQuery {
    let height = u64::try_from(req.height).unwrap_or(0);
    if let Some(rest) = req.path.strip_prefix("/store/") {
        let Some(module) = rest.strip_suffix("/key") else {
            return error_response(sdk::UNKNOWN_REQUEST.with(format!(
                "unknown store query {}; use /store/<module>/key",
                req.path
            )));
        };
        return store_query(store, router, module, &req.data, height, req.prove)
            .unwrap_or_else(error_response);
    }
    if req.path == APP_SIMULATE_PATH {
        return match simulate(store, router, &req.data)
            .map_err(QueryError::from)
            .and_then(simulate_response)
        {
            Ok(resp) => ResponseQuery {
                value: Bytes::from(resp.encode_to_vec()),
                ..Default::default()
            },
            Err(e) => error_response(e),
        };
    }
    match grpc_query(store, router, &req.path, &req.data, height) {
        Ok((value, version)) => ResponseQuery {
            value: Bytes::from(value),
            height: i64::try_from(version).unwrap_or(i64::MAX),
            ..Default::default()
        },
        Err(e) => error_response(e),
    }
}
