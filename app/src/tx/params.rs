//! The app's own consensus parameters for transactions (genesis section "tx"): memo and size
//! limits, gas limits, the accepted fee denoms with their minimum gas prices, and the gas costs.

use serde::{Deserialize, Serialize};
use stoa_framework::fixed::Dec;
use stoa_framework::{sdk, validate_denom, GasConfig, State, StoaError, StoaResult};

/// `tx/params` -> the params as JSON. The app owns the `tx/` prefix like a module owns its own.
pub const PARAMS_KEY: &[u8] = b"tx/params";
/// `tx/chain_id` -> the chain id InitChain was given (FinalizeBlock does not repeat it).
pub const CHAIN_ID_KEY: &[u8] = b"tx/chain_id";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeDenom {
    pub denom: String,
    pub min_gas_price: Dec,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxParams {
    pub max_memo_characters: u64,
    pub tx_size_limit_bytes: u64,
    pub tx_sig_limit: u64,
    pub max_gas_per_tx: u64,
    pub block_gas_limit: u64,
    pub fee_denoms: Vec<FeeDenom>,
    /// What state access, tx bytes and signature checks cost.
    #[serde(default)]
    pub gas: GasConfig,
}

impl Default for TxParams {
    fn default() -> Self {
        let fee = |denom: &str, price: &str| FeeDenom {
            denom: denom.into(),
            min_gas_price: parse_dec(price),
        };
        TxParams {
            max_memo_characters: 256,
            tx_size_limit_bytes: 65_536,
            tx_sig_limit: 7,
            max_gas_per_tx: 50_000_000,
            block_gas_limit: 1_000_000_000,
            fee_denoms: vec![
                fee("ustor", "0.001"),
                fee("ucomp", "0.001"),
                fee("uusdc", "0.0001"),
                fee("umind", "0.001"),
            ],
            gas: GasConfig::default(),
        }
    }
}

fn parse_dec(s: &str) -> Dec {
    s.parse().unwrap_or(Dec::ZERO)
}

/// The "tx" genesis section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxGenesis {
    pub params: TxParams,
}

impl TxParams {
    pub fn validate(&self) -> StoaResult<()> {
        let bad = |what: &str| Err(sdk::INVALID_REQUEST.with(format!("tx params: {what}")));
        if self.tx_size_limit_bytes == 0 {
            return bad("tx_size_limit_bytes must be positive");
        }
        if self.tx_sig_limit == 0 {
            return bad("tx_sig_limit must be positive");
        }
        if self.max_gas_per_tx == 0 || self.block_gas_limit < self.max_gas_per_tx {
            return bad("max_gas_per_tx must be positive and at most block_gas_limit");
        }
        if self.fee_denoms.is_empty() {
            return bad("fee_denoms must list at least one denom");
        }
        for (i, f) in self.fee_denoms.iter().enumerate() {
            validate_denom(&f.denom)?;
            if self.fee_denoms[..i].iter().any(|g| g.denom == f.denom) {
                return bad(&format!("duplicate fee denom {}", f.denom));
            }
        }
        Ok(())
    }
}

pub fn default_genesis() -> serde_json::Value {
    serde_json::to_value(TxGenesis {
        params: TxParams::default(),
    })
    .unwrap_or(serde_json::Value::Null)
}

pub fn parse_genesis(v: &serde_json::Value) -> StoaResult<TxGenesis> {
    let g: TxGenesis = serde_json::from_value(v.clone())
        .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("genesis section \"tx\": {e}")))?;
    g.params.validate()?;
    Ok(g)
}

pub fn store_params(state: &mut State, params: &TxParams) -> StoaResult<()> {
    let raw = serde_json::to_vec(params)
        .map_err(|e| sdk::JSON_MARSHAL.with(format!("tx params: {e}")))?;
    state.set(PARAMS_KEY.to_vec(), raw);
    Ok(())
}

/// The params in force; an error when the chain has none yet (before InitChain).
pub fn load_params(state: &State) -> Result<TxParams, StoaError> {
    let raw = state
        .get(PARAMS_KEY)?
        .ok_or_else(|| sdk::NOT_FOUND.with("tx params (has InitChain run?)"))?;
    serde_json::from_slice(&raw)
        .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("stored tx params: {e}")))
}

pub fn load_chain_id(state: &State) -> StoaResult<Option<String>> {
    Ok(state
        .get(CHAIN_ID_KEY)?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}
