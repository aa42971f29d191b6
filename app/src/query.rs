//! The query router, shared by ABCI Query and gRPC: gRPC method paths go to the module that
//! answers them (protobuf in, protobuf out, as Cosmos SDK); `/store/<module>/key` reads a raw
//! key with an optional ICS23 proof against the app hash; `/cosmos.tx.v1beta1.Service/Simulate`
//! and `/app/simulate` dry-run a tx. Queries read committed versions only.

use cosmos_sdk_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, TxRaw};
use prost::bytes::Bytes;
use prost::Message;
use stoa_framework::address::echo_input;
use stoa_framework::block_record::{clock_in, last_block};
use stoa_framework::{sdk, BlockInfo, Ctx, ExecMode, State, StoaError, StoaResult, Store};
use tendermint_proto::v0_38::abci::{RequestQuery, ResponseQuery};
use tendermint_proto::v0_38::crypto::{ProofOp, ProofOps};

use crate::modules::Router;
use crate::tx::events::into_abci_all;
use crate::tx::params::{load_chain_id, load_params};
use crate::tx::{decode_tx, run_tx, TxEnv, TxOutcome};

pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";
/// The auth params clients read (cosmjs, Keplr): the app's tx params under the SDK's names.
pub const AUTH_PARAMS_PATH: &str = "/cosmos.auth.v1beta1.Query/Params";
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

/// The most bytes of log an error answer carries: an error built from a module's message may
/// quote its input, and an answer must not grow with the request.
pub const MAX_ERROR_LOG: usize = 512;

/// A log cut to [`MAX_ERROR_LOG`] bytes (at a character boundary) with an ellipsis: the last
/// guard on every query error, ABCI and gRPC alike.
pub fn cap_log(log: String) -> String {
    if log.len() <= MAX_ERROR_LOG {
        return log;
    }
    let mut end = MAX_ERROR_LOG;
    while !log.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &log[..end], log.len())
}

impl QueryError {
    /// The same error with its log capped by [`cap_log`].
    pub fn capped(self) -> Self {
        QueryError {
            log: cap_log(self.log),
            ..self
        }
    }
}

/// The height of a query request: 0 is the latest, a negative one is refused (Cosmos SDK
/// answers `height must be greater than or equal to 0`; reading it as the latest would hand a
/// client state it did not ask for).
pub fn query_height(height: i64) -> StoaResult<u64> {
    u64::try_from(height).map_err(|_| {
        sdk::INVALID_REQUEST.with(format!(
            "cannot query with height < 0; got {height}; use 0 for the latest"
        ))
    })
}

/// A tx hash as a client gives it to a lookup (GetTx, `/tx`): 64 hex digits, either case.
/// Anything else is `INVALID_REQUEST` (gRPC `InvalidArgument`), quoted at most a few hundred
/// bytes, and never reaches CometBFT (whose error would read as `Unavailable`).
pub fn parse_tx_hash(hash: &str) -> StoaResult<[u8; 32]> {
    let bad = || {
        sdk::INVALID_REQUEST.with(format!(
            "invalid tx hash {}: want 64 hex digits",
            echo_input(hash)
        ))
    };
    if hash.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hash, &mut out).map_err(|_| bad())?;
    Ok(out)
}

/// The gRPC status code of a query error: malformed input is `InvalidArgument`, a missing
/// thing `NotFound`, an unserved path `Unimplemented`, a node fault `Internal`. (The same
/// mapping as `grpc::to_status`, here so every caller shares it.)
pub fn grpc_code(e: &QueryError) -> tonic::Code {
    use tonic::Code;
    if e.codespace != sdk::CODESPACE {
        return Code::InvalidArgument;
    }
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
    if path == AUTH_PARAMS_PATH {
        let version = resolve_height(store, height)?;
        let state = state_at(store, version);
        let p = load_params(&state)?;
        let params = cosmos_sdk_proto::cosmos::auth::v1beta1::Params {
            max_memo_characters: p.max_memo_characters,
            tx_sig_limit: p.tx_sig_limit,
            tx_size_cost_per_byte: p.gas.tx_size_cost_per_byte,
            sig_verify_cost_ed25519: p.gas.sig_verify_cost_ed25519,
            sig_verify_cost_secp256k1: p.gas.sig_verify_cost_secp256k1,
        };
        let resp = cosmos_sdk_proto::cosmos::auth::v1beta1::QueryParamsResponse {
            params: Some(params),
        };
        return Ok((resp.encode_to_vec(), version));
    }
    let route = router.for_query(path).ok_or_else(|| {
        sdk::UNKNOWN_REQUEST.with(format!("no module answers query path {}", echo_input(path)))
    })?;
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
        return Err(sdk::UNKNOWN_REQUEST.with(format!("no store named {}", echo_input(module))));
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
    let e = e.into().capped();
    ResponseQuery {
        code: e.code,
        codespace: e.codespace,
        log: e.log,
        ..Default::default()
    }
}

/// ABCI Query.
pub fn abci_query(store: &Store, router: &Router, req: &RequestQuery) -> ResponseQuery {
    let height = match query_height(req.height) {
        Ok(h) => h,
        Err(e) => return error_response(e),
    };
    if let Some(rest) = req.path.strip_prefix("/store/") {
        let Some(module) = rest.strip_suffix("/key") else {
            return error_response(sdk::UNKNOWN_REQUEST.with(format!(
                "unknown store query {}; use /store/<module>/key",
                echo_input(&req.path)
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
        // A gRPC method asked through abci_query fails in the words the Cosmos SDK uses, which
        // clients match on (cosmjs's `getAccount` returns null on "rpc error: code = NotFound").
        Err(e) => {
            let code = grpc_code(&e);
            error_response(QueryError {
                log: format!("rpc error: code = {code:?} desc = {}", e.log),
                ..e
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_below_zero_are_refused() {
        assert_eq!(query_height(0).unwrap(), 0);
        assert_eq!(query_height(7).unwrap(), 7);
        for h in [-1, i64::MIN] {
            assert_eq!(query_height(h).unwrap_err().code, sdk::INVALID_REQUEST.code);
        }
    }

    #[test]
    fn logs_and_echoes_are_capped() {
        let long = "é".repeat(10_000);
        let capped = cap_log(long.clone());
        assert!(capped.len() < MAX_ERROR_LOG + 32);
        assert!(capped.ends_with("(20000 bytes)"));
        assert_eq!(cap_log("short".into()), "short");
        assert!(echo_input(&long).len() < 400);
    }

    #[test]
    fn tx_hashes_are_64_hex_digits() {
        let h = "AB".repeat(32);
        assert_eq!(parse_tx_hash(&h).unwrap(), [0xab; 32]);
        assert_eq!(parse_tx_hash(&h.to_lowercase()).unwrap(), [0xab; 32]);
        for bad in ["", "AB", &"zz".repeat(32), &"A".repeat(3_000_000)] {
            let e = parse_tx_hash(bad).unwrap_err();
            assert_eq!(e.code, sdk::INVALID_REQUEST.code);
            assert!(e.log.len() < 400);
            assert_eq!(grpc_code(&e.into()), tonic::Code::InvalidArgument);
        }
    }
}
