//! The calls `stoad` makes into the app and bank crates, in one place, so the commands depend on
//! a handful of functions rather than on the app's internals.

use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use std::path::Path;
use stoa_framework::fixed::Dec;
use stoa_framework::{module_address, Address};

pub use stoa_app::config::AppConfig;

/// The module account that holds the genesis supplies.
pub const RESERVE_MODULE: &str = stoa_bank::RESERVE;

pub fn reserve_address() -> Address {
    module_address(RESERVE_MODULE)
}

/// Decodes a balance value read from the bank store (u128 big-endian; absent = 0).
pub fn decode_balance_value(value: Option<&[u8]>) -> Result<u128> {
    match value {
        None => Ok(0),
        Some(v) => match <[u8; 16]>::try_from(v) {
            Ok(arr) => Ok(u128::from_be_bytes(arr)),
            Err(_) => bail!(
                "the bank store returned a balance of {} bytes (expected 16): {}",
                v.len(),
                hex::encode(v)
            ),
        },
    }
}

/// CometBFT RPC gives the domain type; the app verifies the protobuf one.
pub fn proof_ops_to_proto(
    p: &tendermint::merkle::proof::ProofOps,
) -> tendermint_proto::v0_38::crypto::ProofOps {
    tendermint_proto::v0_38::crypto::ProofOps {
        ops: p
            .ops
            .iter()
            .map(|o| tendermint_proto::v0_38::crypto::ProofOp {
                r#type: o.field_type.clone(),
                key: o.key.clone(),
                data: o.data.clone(),
            })
            .collect(),
    }
}

/// Sets `abci_addr` / `grpc_addr` / `rpc_addr` of app.toml (`init --abci-addr/--grpc-addr/--rpc-laddr`).
pub fn set_app_addrs(
    home: &Path,
    abci: Option<&str>,
    grpc: Option<&str>,
    rpc: Option<&str>,
) -> Result<()> {
    let mut config = load_config(home)?;
    if let Some(r) = rpc {
        config.rpc_addr = r.to_string();
    }
    if let Some(a) = abci {
        config.abci_addr = a.to_string();
    }
    if let Some(g) = grpc {
        config.grpc_addr = g.to_string();
    }
    config.write(home)
}

/// The ABCI address from app.toml.
pub fn abci_addr(home: &Path) -> Result<String> {
    Ok(load_config(home)?.abci_addr)
}

/// CometBFT's `proxy_app` for app.toml's ABCI address: `unix://` + the socket's absolute path
/// (by default `HOME/data/stoad.sock`), or `tcp://HOST:PORT`.
pub fn proxy_app(home: &Path) -> Result<String> {
    let addr = stoa_app::abci_server::AbciAddr::parse(&abci_addr(home)?, home)?;
    Ok(addr.cometbft_form())
}

/// Runs the node (ABCI server + gRPC) until it stops, with app.toml's addresses optionally
/// overridden.
/// `before_serving` runs with the app's last committed height before the ABCI socket exists.
pub fn start_node(
    home: &Path,
    abci_addr: Option<&str>,
    grpc_addr: Option<&str>,
    before_serving: impl FnOnce(u64),
) -> Result<()> {
    let mut config = load_config(home)?;
    if let Some(a) = abci_addr {
        config.abci_addr = a.to_string();
    }
    if let Some(g) = grpc_addr {
        config.grpc_addr = g.to_string();
    }
    stoa_app::node::start_with(home, config, before_serving)
}

/// Checks an `app_state` with every module's own genesis validation. Returns whether module
/// validation ran.
pub fn validate_app_state(app_state: &Value) -> Result<bool> {
    validate_with_modules(app_state)
}

pub fn default_app_state() -> Value {
    stoa_app::default_app_state()
}

/// Parses DecCoins notation `0.001ustor,0.0001uusdc` (an empty string is none), as app.toml's
/// `minimum_gas_prices` is parsed.
pub fn parse_gas_prices(s: &str) -> Result<Vec<(String, Dec)>, String> {
    stoa_app::config::parse_gas_prices(s)
}

pub fn write_default_app_toml(home: &Path) -> Result<()> {
    AppConfig::default().write(home)
}

pub fn load_config(home: &Path) -> Result<AppConfig> {
    AppConfig::load(home)
}

fn validate_with_modules(app_state: &Value) -> Result<bool> {
    let obj = app_state
        .as_object()
        .ok_or_else(|| anyhow!("app_state must be a JSON object"))?;
    let modules = stoa_app::modules::modules();
    for key in obj.keys() {
        if !stoa_app::app::APP_SECTIONS.contains(&key.as_str())
            && !modules.iter().any(|m| m.name() == key)
        {
            bail!("app_state has a section {key:?} that no module owns");
        }
    }
    if let Some(tx) = obj.get("tx") {
        stoa_app::tx::params::parse_genesis(tx)
            .map_err(|e| anyhow!("section \"tx\": {}", e.log))?;
    }
    if let Some(v) = obj.get("validators") {
        stoa_framework::validators::parse_genesis(v)
            .map_err(|e| anyhow!("section \"validators\": {}", e.log))?;
    }
    for m in &modules {
        let section = obj
            .get(m.name())
            .cloned()
            .unwrap_or_else(|| m.default_genesis());
        m.validate_genesis(&section)
            .map_err(|e| anyhow!("section {:?}: {}", m.name(), e.log))?;
    }
    Ok(true)
}

pub fn bank_balance_key(address: &Address, denom: &str) -> Vec<u8> {
    stoa_bank::BankView::balance_key(&stoa_bank::BankKeeper, address, denom)
}

pub fn verify_abci_proof(
    app_hash: &[u8],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &tendermint::merkle::proof::ProofOps,
) -> Result<bool> {
    Ok(stoa_app::proof::verify_abci_proof(
        app_hash,
        key,
        value,
        &proof_ops_to_proto(proof),
    ))
}

/// The SIGN_MODE_LEGACY_AMINO_JSON sign bytes of `tx` for one signer, from the chain's own
/// builder (`stoa_app::tx::amino`), so the CLI signs exactly the bytes the ante verifies.
pub fn amino_sign_bytes(
    tx: &cosmos_sdk_proto::cosmos::tx::v1beta1::Tx,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
) -> Result<Vec<u8>> {
    let router = stoa_app::modules::Router::standard();
    let body = tx.body.clone().unwrap_or_default();
    let fee = tx
        .auth_info
        .as_ref()
        .and_then(|a| a.fee.clone())
        .unwrap_or_default();
    let doc = stoa_app::tx::amino::AminoSignDoc {
        chain_id,
        account_number,
        sequence,
        fee: &fee,
        memo: &body.memo,
        timeout_height: body.timeout_height,
        msgs: &body.messages,
    };
    stoa_app::tx::amino::sign_bytes(&router, &doc)
        .map_err(|e| anyhow!("building the Amino JSON sign doc: {}", e.log))
}
