//! The module's params (the MIND denom, the subnet lock, slots, delegate take, root) and the
//! subnet hyperparameters with their defaults and bounds.

use crate::error;
use serde::{Deserialize, Serialize};
use stoa_framework::{Params, StoaError};
use stoa_proto::intelligence::v1::Hyperparams;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelligenceParams {
    pub denom: String,
    /// umind locked by `MsgRegisterSubnet`, returned on dissolution.
    pub network_min_lock: u64,
    /// Subnets besides root.
    pub max_subnets: u32,
    /// Basis points; also the default take of a new hotkey.
    pub max_take_bps: u32,
    /// Per mille of each epoch's emission paid to the subnet owner.
    pub owner_cut_permille: u32,
    /// The hyperparameters a new subnet starts with (root's too).
    pub default_hyperparams: HyperparamsJson,
}

/// The JSON form of [`Hyperparams`] (genesis, params query).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HyperparamsJson {
    pub tempo: u64,
    pub max_allowed_uids: u32,
    pub immunity_period: u64,
    pub min_burn: u64,
    pub max_burn: u64,
    pub burn_half_life: u64,
    pub burn_increase_permille: u64,
    pub activity_cutoff: u64,
    pub max_allowed_validators: u32,
    pub kappa: u32,
    pub bonds_moving_average: u64,
    pub bonds_penalty: u32,
    pub weights_rate_limit: u64,
    pub weights_version_key: u64,
    pub commit_reveal: bool,
    pub serving_rate_limit: u64,
    pub yuma3: bool,
    pub liquid_alpha_enabled: bool,
    pub alpha_low: u32,
    pub alpha_high: u32,
    pub alpha_steepness: u32,
}

impl Default for HyperparamsJson {
    fn default() -> Self {
        HyperparamsJson {
            tempo: 360,
            max_allowed_uids: 256,
            immunity_period: 5000,
            min_burn: 1_000_000,
            max_burn: 100_000_000_000,
            burn_half_life: 360,
            burn_increase_permille: 1260,
            activity_cutoff: 5000,
            max_allowed_validators: 64,
            kappa: 32_767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            weights_rate_limit: 100,
            weights_version_key: 0,
            commit_reveal: true,
            serving_rate_limit: 50,
            yuma3: false,
            liquid_alpha_enabled: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_steepness: 1000,
        }
    }
}

impl HyperparamsJson {
    pub fn to_proto(&self) -> Hyperparams {
        Hyperparams {
            tempo: self.tempo,
            max_allowed_uids: self.max_allowed_uids,
            immunity_period: self.immunity_period,
            min_burn: self.min_burn,
            max_burn: self.max_burn,
            burn_half_life: self.burn_half_life,
            burn_increase_permille: self.burn_increase_permille,
            activity_cutoff: self.activity_cutoff,
            max_allowed_validators: self.max_allowed_validators,
            kappa: self.kappa,
            bonds_moving_average: self.bonds_moving_average,
            bonds_penalty: self.bonds_penalty,
            weights_rate_limit: self.weights_rate_limit,
            weights_version_key: self.weights_version_key,
            commit_reveal: self.commit_reveal,
            serving_rate_limit: self.serving_rate_limit,
            yuma3: self.yuma3,
            liquid_alpha_enabled: self.liquid_alpha_enabled,
            alpha_low: self.alpha_low,
            alpha_high: self.alpha_high,
            alpha_steepness: self.alpha_steepness,
        }
    }
}

/// The largest subnet (uids are u16 and one epoch must stay fast).
pub const MAX_UIDS: u32 = 4096;

/// Hyperparameters within their bounds.
pub fn validate_hyperparams(h: &Hyperparams) -> Result<(), StoaError> {
    let bad = |what: &str| Err(error::BAD_HYPERPARAMS.with(what.to_string()));
    if h.tempo == 0 || h.tempo > 65_535 {
        return bad("tempo in 1..=65535");
    }
    if h.max_allowed_uids == 0 || h.max_allowed_uids > MAX_UIDS {
        return bad("max_allowed_uids in 1..=4096");
    }
    if h.max_allowed_validators == 0 || h.max_allowed_validators > h.max_allowed_uids {
        return bad("max_allowed_validators in 1..=max_allowed_uids");
    }
    if h.min_burn > h.max_burn {
        return bad("min_burn above max_burn");
    }
    if h.burn_half_life == 0 {
        return bad("burn_half_life positive");
    }
    if !(1000..=10_000).contains(&h.burn_increase_permille) {
        return bad("burn_increase_permille in 1000..=10000");
    }
    if h.activity_cutoff == 0 {
        return bad("activity_cutoff positive");
    }
    if h.kappa > 65_535 || h.bonds_penalty > 65_535 {
        return bad("kappa and bonds_penalty at most 65535");
    }
    if h.bonds_moving_average > 1_000_000 {
        return bad("bonds_moving_average at most 1000000");
    }
    if h.alpha_low > h.alpha_high || h.alpha_high > 65_535 || h.alpha_steepness > 65_535 {
        return bad("alpha_low <= alpha_high <= 65535, alpha_steepness <= 65535");
    }
    Ok(())
}

impl Default for IntelligenceParams {
    fn default() -> Self {
        IntelligenceParams {
            denom: "umind".into(),
            network_min_lock: 100_000_000,
            max_subnets: 32,
            max_take_bps: 1800,
            owner_cut_permille: 180,
            default_hyperparams: HyperparamsJson::default(),
        }
    }
}

impl Params for IntelligenceParams {
    const KEY: &'static [u8] = b"intelligence/params";

    fn validate(&self) -> Result<(), StoaError> {
        stoa_framework::validate_denom(&self.denom)?;
        if self.max_take_bps > 10_000 || self.owner_cut_permille > 1000 {
            return Err(error::BAD_HYPERPARAMS.with("take or owner cut above 100%"));
        }
        if self.max_subnets == 0 || self.max_subnets > 1024 {
            return Err(error::BAD_HYPERPARAMS.with("max_subnets in 1..=1024"));
        }
        validate_hyperparams(&self.default_hyperparams.to_proto())
    }
}
