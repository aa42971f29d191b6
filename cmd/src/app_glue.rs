//! The calls `stoad` makes into the app and bank crates, in one place. With the `app` feature
//! (default once stoa-app builds) they go to stoa_app / stoa_bank; without it, stand-ins that
//! follow docs/CONTRACTS.md keep the rest of the CLI compiling and testable while those crates
//! are being written.

use anyhow::{bail, Result};
use serde_json::Value;
use std::path::Path;
use stoa_framework::{module_address, Address};

pub use imp::*;

/// The module account that holds the genesis supplies.
pub const RESERVE_MODULE: &str = "reserve";

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

/// Runs the node (ABCI server + gRPC) until it stops, with app.toml's addresses optionally
/// overridden.
pub fn start_node(home: &Path, abci_addr: Option<&str>, grpc_addr: Option<&str>) -> Result<()> {
    let mut config = load_config(home)?;
    if let Some(a) = abci_addr {
        config.abci_addr = a.to_string();
    }
    if let Some(g) = grpc_addr {
        config.grpc_addr = g.to_string();
    }
    run_node(home, config)
}

/// Checks an `app_state` with every module's own genesis validation. Returns whether module
/// validation ran (false in builds without the app).
pub fn validate_app_state(app_state: &Value) -> Result<bool> {
    validate_with_modules(app_state)
}

#[cfg(feature = "app")]
mod imp {
    use super::*;
    use anyhow::anyhow;
    pub use stoa_app::config::AppConfig;

    pub fn default_app_state() -> Value {
        stoa_app::default_app_state()
    }

    pub fn write_default_app_toml(home: &Path) -> Result<()> {
        AppConfig::default().write(home)
    }

    pub fn load_config(home: &Path) -> Result<AppConfig> {
        AppConfig::load(home)
    }

    pub(super) fn run_node(home: &Path, config: AppConfig) -> Result<()> {
        stoa_app::node::start(home, config)
    }

    pub(super) fn validate_with_modules(app_state: &Value) -> Result<bool> {
        let obj = app_state
            .as_object()
            .ok_or_else(|| anyhow!("app_state must be a JSON object"))?;
        let modules = stoa_app::modules::modules();
        for key in obj.keys() {
            if key != "tx" && !modules.iter().any(|m| m.name() == key) {
                bail!("app_state has a section {key:?} that no module owns");
            }
        }
        if let Some(tx) = obj.get("tx") {
            stoa_app::tx::params::parse_genesis(tx)
                .map_err(|e| anyhow!("section \"tx\": {}", e.log))?;
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
        stoa_bank::state_key::balance(address, denom)
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
}

#[cfg(not(feature = "app"))]
mod imp {
    //! Stand-ins, used only while stoa-app does not build.
    use super::*;
    use anyhow::Context;
    use serde_json::json;

    /// The subset of app.toml the CLI needs.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct AppConfig {
        pub abci_addr: String,
        pub grpc_addr: String,
        pub rpc_addr: String,
        pub minimum_gas_prices: String,
        pub retention: u64,
        pub check_invariants: bool,
    }

    impl AppConfig {
        pub fn write(&self, home: &Path) -> Result<()> {
            let path = crate::home::app_toml_path(home);
            std::fs::write(&path, toml::to_string(self)?)
                .with_context(|| format!("writing {}", path.display()))
        }
    }

    pub fn default_app_state() -> Value {
        json!({
            "tx": { "params": {
                "max_memo_characters": 256, "tx_size_limit_bytes": 65536, "tx_sig_limit": 7,
                "max_gas_per_tx": 50000000u64, "block_gas_limit": 1000000000u64,
                "fee_denoms": [
                    {"denom": "ustor", "min_gas_price": "0.001"}, {"denom": "ucomp", "min_gas_price": "0.001"},
                    {"denom": "uusdc", "min_gas_price": "0.0001"}, {"denom": "umind", "min_gas_price": "0.001"}
                ]
            }},
            "bank": {
                "params": { "send_enabled": true, "denoms": [
                    {"denom": "ustor", "display": "STOR", "exponent": 6, "max_supply": "2000000000000000"},
                    {"denom": "ucomp", "display": "COMP", "exponent": 6, "max_supply": "800000000000000"},
                    {"denom": "umind", "display": "MIND", "exponent": 6, "max_supply": "21000000000000"},
                    {"denom": "uusdc", "display": "USDC", "exponent": 6}
                ]},
                "balances": [ {"address": reserve_address().to_string(), "coins": [
                    {"denom": "ucomp", "amount": "500000000000000"}, {"denom": "ustor", "amount": "900000000000000"}
                ]} ],
                "accounts": []
            }
        })
    }

    pub fn write_default_app_toml(home: &Path) -> Result<()> {
        AppConfig {
            abci_addr: "127.0.0.1:26658".into(),
            grpc_addr: "127.0.0.1:9090".into(),
            rpc_addr: "http://127.0.0.1:26657".into(),
            minimum_gas_prices: "0.001ustor,0.001ucomp,0.0001uusdc,0.001umind".into(),
            retention: 1000,
            check_invariants: false,
        }
        .write(home)
    }

    pub fn load_config(home: &Path) -> Result<AppConfig> {
        let path = crate::home::app_toml_path(home);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub(super) fn run_node(_home: &Path, _config: AppConfig) -> Result<()> {
        bail!("this stoad was built without the app (cargo feature \"app\"); rebuild with it to run a node")
    }

    pub(super) fn validate_with_modules(_app_state: &Value) -> Result<bool> {
        Ok(false)
    }

    pub fn bank_balance_key(address: &Address, denom: &str) -> Vec<u8> {
        [
            b"bank/bal/".as_slice(),
            address.as_bytes(),
            denom.as_bytes(),
        ]
        .concat()
    }

    pub fn verify_abci_proof(
        _app_hash: &[u8],
        _key: &[u8],
        _value: Option<&[u8]>,
        _proof: &tendermint::merkle::proof::ProofOps,
    ) -> Result<bool> {
        bail!("this stoad was built without the app (cargo feature \"app\"), which verifies proofs")
    }
}
