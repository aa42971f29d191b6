//! The calls `stoad` makes into the app and bank crates, in one place. While those crates are
//! being written this file carries stand-ins that follow docs/CONTRACTS.md, so the rest of the
//! CLI compiles and its tests run; each stand-in is replaced by the real call once it lands.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use stoa_framework::{module_address, Address};

/// The module account that holds the genesis supplies (`stoa_framework::module_address`).
pub const RESERVE_MODULE: &str = "reserve";

pub fn reserve_address() -> Address {
    module_address(RESERVE_MODULE)
}

/// The default genesis `app_state` (stand-in for `stoa_app::default_app_state()`).
pub fn default_app_state() -> Value {
    json!({
        "tx": { "params": {
            "max_memo_characters": 256,
            "tx_size_limit_bytes": 65536,
            "tx_sig_limit": 7,
            "max_gas_per_tx": 50000000u64,
            "block_gas_limit": 1000000000u64,
            "fee_denoms": [
                {"denom": "ustor", "min_gas_price": "0.001"},
                {"denom": "ucomp", "min_gas_price": "0.001"},
                {"denom": "uusdc", "min_gas_price": "0.0001"},
                {"denom": "umind", "min_gas_price": "0.001"}
            ]
        }},
        "bank": {
            "params": {
                "send_enabled": true,
                "denoms": [
                    {"denom": "ustor", "display": "STOR", "exponent": 6, "max_supply": "2000000000000000"},
                    {"denom": "ucomp", "display": "COMP", "exponent": 6, "max_supply": "800000000000000"},
                    {"denom": "umind", "display": "MIND", "exponent": 6, "max_supply": "21000000000000"},
                    {"denom": "uusdc", "display": "USDC", "exponent": 6}
                ]
            },
            "balances": [
                {"address": reserve_address().to_string(), "coins": [
                    {"denom": "ucomp", "amount": "500000000000000"},
                    {"denom": "ustor", "amount": "900000000000000"}
                ]}
            ],
            "accounts": []
        }
    })
}

/// Checks an `app_state` with the modules' own genesis validation, when the app exposes it.
/// Returns Ok(false) when no module validation is available (the CLI's own checks still run).
pub fn validate_app_state(_app_state: &Value) -> Result<bool> {
    Ok(false)
}

/// The default app.toml content (stand-in for `AppConfig::default().write(home)`).
const DEFAULT_APP_TOML: &str = r#"# stoad's node configuration (see docs/CONTRACTS.md)
abci_addr = "127.0.0.1:26658"
grpc_addr = "127.0.0.1:9090"
rpc_addr = "http://127.0.0.1:26657"
minimum_gas_prices = "0.001ustor,0.001ucomp,0.0001uusdc,0.001umind"
retention = 1000
check_invariants = false
"#;

/// Writes the default `HOME/config/app.toml`.
pub fn write_default_app_toml(home: &Path) -> Result<()> {
    let path = crate::home::app_toml_path(home);
    std::fs::write(&path, DEFAULT_APP_TOML).with_context(|| format!("writing {}", path.display()))
}

/// Sets `abci_addr` / `grpc_addr` in app.toml (used by `init --abci-addr/--grpc-addr`).
pub fn set_app_addrs(home: &Path, abci: Option<&str>, grpc: Option<&str>) -> Result<()> {
    let path = crate::home::app_toml_path(home);
    let mut text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    if let Some(a) = abci {
        text = crate::toml_edit::set_key(&text, None, "abci_addr", &crate::toml_edit::quote(a))?;
    }
    if let Some(g) = grpc {
        text = crate::toml_edit::set_key(&text, None, "grpc_addr", &crate::toml_edit::quote(g))?;
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// The ABCI address from app.toml (stand-in for `AppConfig::load(home)?.abci_addr`).
pub fn abci_addr(home: &Path) -> Result<String> {
    let path = crate::home::app_toml_path(home);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let v: toml::Value =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    v.get("abci_addr")
        .and_then(|a| a.as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} has no abci_addr", path.display()))
}

/// Runs the node (ABCI server + gRPC) until it stops: stand-in for
/// `stoa_app::node::start(home, AppConfig::load(home)?)`.
pub fn start_node(home: &Path, _abci_addr: Option<&str>, _grpc_addr: Option<&str>) -> Result<()> {
    let _ = home;
    bail!(
        "this stoad was built before the app crate's node::start landed; rebuild from a newer main"
    )
}

/// The full bank store key of `address`'s balance of `denom` (stand-in for
/// `stoa_bank::state_key::balance`).
pub fn bank_balance_key(address: &Address, denom: &str) -> Vec<u8> {
    let mut k = b"bank/balance/".to_vec();
    k.extend_from_slice(address.as_bytes());
    k.push(b'/');
    k.extend_from_slice(denom.as_bytes());
    k
}

/// Decodes a balance value read from the bank store into an amount.
pub fn decode_balance_value(value: &[u8]) -> Result<u128> {
    if value.is_empty() {
        return Ok(0);
    }
    if let Ok(c) = <cosmos_sdk_proto::cosmos::base::v1beta1::Coin as prost::Message>::decode(value)
    {
        if let Ok(a) = c.amount.parse::<u128>() {
            return Ok(a);
        }
    }
    if let Ok(a) = std::str::from_utf8(value).unwrap_or("").parse::<u128>() {
        return Ok(a);
    }
    bail!("cannot decode the balance value {}", hex::encode(value))
}

/// Verifies an ABCI query proof against an app hash (stand-in for
/// `stoa_app::proof::verify_abci_proof`).
pub fn verify_abci_proof(
    _app_hash: &[u8],
    _key: &[u8],
    _value: &[u8],
    _proof: &tendermint::merkle::proof::ProofOps,
) -> Result<bool> {
    bail!("this stoad was built before the app crate's proof verification landed")
}
