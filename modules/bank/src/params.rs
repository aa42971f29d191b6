//! The bank's params: whether sends are enabled, and the registered denoms with their display
//! unit and cap (a denom not listed here cannot be sent or minted).

use crate::error;
use serde::{Deserialize, Serialize};
use stoa_framework::{Params, StoaError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenomInfo {
    pub denom: String,
    pub display: String,
    pub exponent: u32,
    /// Cap on total supply; `None` = uncapped (a stable token Stoa never mints).
    #[serde(default, with = "opt_amount")]
    pub max_supply: Option<u128>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankParams {
    pub send_enabled: bool,
    pub denoms: Vec<DenomInfo>,
}

impl BankParams {
    pub fn denom(&self, denom: &str) -> Option<&DenomInfo> {
        self.denoms.iter().find(|d| d.denom == denom)
    }
}

impl Params for BankParams {
    const KEY: &'static [u8] = b"bank/params";

    /// Every denom valid and listed once.
    fn validate(&self) -> Result<(), StoaError> {
        let mut seen = std::collections::BTreeSet::new();
        for d in &self.denoms {
            stoa_framework::validate_denom(&d.denom)?;
            if !seen.insert(d.denom.as_str()) {
                return Err(error::DUPLICATE_ENTRY.with(format!("denom {} listed twice", d.denom)));
            }
        }
        Ok(())
    }
}

const MICRO: u128 = 1_000_000;

impl Default for BankParams {
    /// The four denoms of ARCHITECTURE.md with their caps.
    fn default() -> Self {
        let d = |denom: &str, display: &str, cap: Option<u128>| DenomInfo {
            denom: denom.into(),
            display: display.into(),
            exponent: 6,
            max_supply: cap.map(|c| c * MICRO),
        };
        BankParams {
            send_enabled: true,
            denoms: vec![
                d("ustor", "STOR", Some(2_000_000_000)),
                d("ucomp", "COMP", Some(800_000_000)),
                d("umind", "MIND", Some(21_000_000)),
                d("uusdc", "USDC", None),
            ],
        }
    }
}

/// The genesis supplies of ARCHITECTURE.md (in micro units), held by the reserve account.
pub fn genesis_allocation() -> Vec<(&'static str, u128)> {
    vec![
        ("ustor", 900_000_000 * MICRO),
        ("ucomp", 500_000_000 * MICRO),
    ]
}

mod opt_amount {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u128>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u128>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| s.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}
