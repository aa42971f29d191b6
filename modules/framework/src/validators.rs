//! CometBFT validator set changes: the `validators` section of the genesis `app_state` (the
//! chain's first validators and their powers, which InitChain returns) and the updates a
//! module's `Module::validator_updates` hook hands FinalizeBlock (a later staking module).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{sdk, StoaError};
use crate::StoaResult;

/// CometBFT's cap on the sum of all voting powers (`MaxTotalVotingPower`, `MaxInt64 / 8`):
/// no single power may exceed it either.
pub const MAX_TOTAL_VOTING_POWER: u64 = (i64::MAX / 8) as u64;

/// CometBFT's JSON type names of the validator key types it accepts by default.
pub const ED25519_TYPE: &str = "tendermint/PubKeyEd25519";
pub const SECP256K1_TYPE: &str = "tendermint/PubKeySecp256k1";

/// A validator's consensus key (not an account key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ValidatorKey {
    Ed25519([u8; 32]),
    /// Compressed SEC1 point.
    Secp256k1([u8; 33]),
}

impl ValidatorKey {
    /// Parses CometBFT's JSON form `{"type": "tendermint/PubKeyEd25519", "value": "<base64>"}`.
    pub fn from_json(v: &Value) -> StoaResult<Self> {
        let ty = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(ED25519_TYPE);
        let b64 = v
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| sdk::INVALID_PUBKEY.with("validator pub_key has no base64 value"))?;
        Self::from_base64(ty, b64)
    }

    /// A key of CometBFT JSON type `ty` from its base64 bytes.
    pub fn from_base64(ty: &str, b64: &str) -> StoaResult<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| sdk::INVALID_PUBKEY.with(format!("validator pub_key base64: {e}")))?;
        match ty {
            ED25519_TYPE => bytes.try_into().map(ValidatorKey::Ed25519).map_err(|b| {
                sdk::INVALID_PUBKEY.with(format!("an ed25519 key has 32 bytes, not {}", b.len()))
            }),
            SECP256K1_TYPE => {
                bytes
                    .try_into()
                    .map(ValidatorKey::Secp256k1)
                    .map_err(|b: Vec<u8>| {
                        sdk::INVALID_PUBKEY.with(format!(
                            "a secp256k1 key has 33 bytes (compressed), not {}",
                            b.len()
                        ))
                    })
            }
            other => Err(sdk::INVALID_PUBKEY.with(format!(
                "validator key type {other:?} (expected {ED25519_TYPE} or {SECP256K1_TYPE})"
            ))),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            ValidatorKey::Ed25519(_) => ED25519_TYPE,
            ValidatorKey::Secp256k1(_) => SECP256K1_TYPE,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            ValidatorKey::Ed25519(b) => b,
            ValidatorKey::Secp256k1(b) => b,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "type": self.type_name(),
            "value": base64::engine::general_purpose::STANDARD.encode(self.bytes()),
        })
    }
}

/// One change of the validator set: the key's new power (0 removes the validator).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorUpdate {
    pub pub_key: ValidatorKey,
    pub power: u64,
}

/// One entry of the genesis `validators` section (CometBFT genesis.json's shape, without the
/// address, which CometBFT derives from the key).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisValidatorJson {
    #[serde(default)]
    name: String,
    pub_key: Value,
    /// A decimal string, as CometBFT writes it (a JSON number is accepted too).
    power: Value,
}

/// A genesis validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisValidator {
    pub name: String,
    pub update: ValidatorUpdate,
}

fn parse_power(v: &Value) -> StoaResult<u64> {
    let p = match v {
        Value::String(s) => s.parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
    .ok_or_else(|| sdk::INVALID_REQUEST.with(format!("validator power {v} is not a u64")))?;
    Ok(p)
}

/// Parses and checks the genesis `validators` section: a list, every power positive, no key
/// twice, the total within CometBFT's cap. An empty list is valid (CometBFT's genesis.json
/// then has to name the validators).
pub fn parse_genesis(section: &Value) -> StoaResult<Vec<GenesisValidator>> {
    let list: Vec<GenesisValidatorJson> = serde_json::from_value(section.clone())
        .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("app_state.validators: {e}")))?;
    let mut out: Vec<GenesisValidator> = Vec::with_capacity(list.len());
    let mut total = 0u64;
    for (i, v) in list.into_iter().enumerate() {
        let what = |e: StoaError| StoaError {
            log: format!("app_state.validators[{i}] {:?}: {}", v.name, e.log),
            ..e
        };
        let pub_key = ValidatorKey::from_json(&v.pub_key).map_err(what)?;
        let power = parse_power(&v.power).map_err(what)?;
        if power == 0 {
            return Err(what(
                sdk::INVALID_REQUEST.with("a genesis validator needs a power above 0"),
            ));
        }
        if out.iter().any(|o| o.update.pub_key == pub_key) {
            return Err(what(sdk::INVALID_REQUEST.with("this key is listed twice")));
        }
        total = total
            .checked_add(power)
            .filter(|t| *t <= MAX_TOTAL_VOTING_POWER)
            .ok_or_else(|| {
                what(sdk::INVALID_REQUEST.with(format!(
                    "the total voting power exceeds CometBFT's cap {MAX_TOTAL_VOTING_POWER}"
                )))
            })?;
        out.push(GenesisValidator {
            name: v.name,
            update: ValidatorUpdate { pub_key, power },
        });
    }
    Ok(out)
}

/// The JSON of one genesis validator entry.
pub fn genesis_entry(name: &str, key: &ValidatorKey, power: u64) -> Value {
    serde_json::json!({"name": name, "pub_key": key.to_json(), "power": power.to_string()})
}

/// Checks one block's updates from every module: each power within the cap and no key
/// changed twice in the block (two modules disagreeing about one validator is a bug that must
/// halt the chain, not a race the last one wins).
pub fn check_updates(updates: &[ValidatorUpdate]) -> StoaResult<()> {
    let mut keys: Vec<&ValidatorKey> = Vec::with_capacity(updates.len());
    for u in updates {
        if u.power > MAX_TOTAL_VOTING_POWER {
            return Err(sdk::INVALID_REQUEST.with(format!(
                "validator update power {} exceeds CometBFT's cap {MAX_TOTAL_VOTING_POWER}",
                u.power
            )));
        }
        keys.push(&u.pub_key);
    }
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(sdk::INVALID_REQUEST.with("a validator is updated twice in one block"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(b: u8) -> Value {
        json!({"type": ED25519_TYPE, "value": base64::engine::general_purpose::STANDARD.encode([b; 32])})
    }

    #[test]
    fn genesis_section_parses_and_refuses_bad_entries() {
        let ok = parse_genesis(&json!([
            {"name": "a", "pub_key": key(1), "power": "10"},
            {"pub_key": key(2), "power": 5},
        ]))
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].update.power, 10);
        assert_eq!(ok[1].name, "");
        assert_eq!(ok[0].update.pub_key, ValidatorKey::Ed25519([1; 32]));
        // round trip through the entry writer
        let back = parse_genesis(&json!([genesis_entry("a", &ok[0].update.pub_key, 10)])).unwrap();
        assert_eq!(back[0], ok[0]);

        for bad in [
            json!([{"pub_key": key(1), "power": "0"}]),
            json!([{"pub_key": key(1), "power": "1"}, {"pub_key": key(1), "power": "2"}]),
            json!([{"pub_key": {"type": ED25519_TYPE, "value": "AAAA"}, "power": "1"}]),
            json!([{"pub_key": {"type": "x", "value": "AAAA"}, "power": "1"}]),
            json!([{"pub_key": key(1), "power": "-1"}]),
            json!([{"pub_key": key(1), "power": "1", "extra": 1}]),
            json!([{"pub_key": key(1), "power": MAX_TOTAL_VOTING_POWER.to_string()},
                   {"pub_key": key(2), "power": "1"}]),
            json!({"pub_key": key(1)}),
        ] {
            assert!(parse_genesis(&bad).is_err(), "{bad}");
        }
        assert!(parse_genesis(&json!([])).unwrap().is_empty());
    }

    #[test]
    fn a_key_updated_twice_in_a_block_is_refused() {
        let u = |b: u8, power| ValidatorUpdate {
            pub_key: ValidatorKey::Ed25519([b; 32]),
            power,
        };
        assert!(check_updates(&[u(1, 1), u(2, 0)]).is_ok());
        assert!(check_updates(&[u(1, 1), u(2, 0), u(1, 0)]).is_err());
        assert!(check_updates(&[u(1, MAX_TOTAL_VOTING_POWER + 1)]).is_err());
    }
}
