//! The compute module's params (COMPUTE.md's numbers): the GPU multiplier table and the
//! per-device stake formula, fees, unbonding, heartbeat and challenge timing, slashing,
//! attestors, matching limits, the buyback auction and the emission schedule.

use crate::error;
use serde::{Deserialize, Serialize};
use stoa_framework::fixed::Dec;
use stoa_framework::{sdk, validate_denom, Params, StoaError};

/// One row of the multiplier table; 10,000 bps = 1x.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuMultiplier {
    pub gpu_model: String,
    pub multiplier_bps: u32,
}

/// The emission schedule (COMPUTE.md rule 8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionSchedule {
    /// ucomp emitted in the first twelve months.
    #[serde(with = "amount")]
    pub year_one: u128,
    /// The pool: emission stops when this much is out.
    #[serde(with = "amount")]
    pub total: u128,
    /// Each month emits this fraction of the one before (bps): 9,898 = falls by 1.02%.
    pub monthly_keep_bps: u32,
    pub month_seconds: i64,
    /// Emission is paid out at this interval of block time.
    pub tick_seconds: i64,
}

impl Default for EmissionSchedule {
    fn default() -> Self {
        EmissionSchedule {
            year_one: 40_000_000_000_000,
            total: 300_000_000_000_000,
            monthly_keep_bps: 9_898,
            month_seconds: 2_629_800,
            tick_seconds: 3_600,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeParams {
    pub gpu_multipliers: Vec<GpuMultiplier>,
    /// Multiplier of a model not in the table.
    pub default_multiplier_bps: u32,
    /// Self-stake per GPU at multiplier 1 (200 COMP).
    #[serde(with = "amount")]
    pub stake_unit: u128,
    pub stake_denom: String,
    /// The stable token: its fees go to the buyback pool.
    pub stable_denom: String,
    /// Booking fee on each side (bps of the cost or payout).
    pub booking_fee_bps: u32,
    /// Extra fee on each side when paying in the stable token.
    pub stable_fee_bps: u32,
    pub unbonding_seconds: i64,
    pub heartbeat_interval: i64,
    /// A challenge may be answered until this long after its time.
    pub challenge_window: i64,
    /// No valid heartbeat for this long: offline.
    pub offline_after: i64,
    pub downtime_slash_bps: u32,
    pub max_staker_share_bps: u32,
    pub attestors: Vec<String>,
    /// Health samples kept per device.
    pub history_len: u64,
    /// Devices looked at per order at end block.
    pub max_match_scan: u32,
    /// Orders tried per end block.
    pub max_orders_per_block: u32,
    pub order_ttl_seconds: i64,
    pub max_lease_seconds: u64,
    /// ucomp per uusdc at the start of a buyback round.
    pub buyback_start_price: Dec,
    pub buyback_floor_price: Dec,
    /// A round's price falls linearly to the floor over this long.
    pub buyback_duration: i64,
    /// The next round starts at the last fill's price times this (bps).
    pub buyback_restart_bps: u32,
    pub emission: EmissionSchedule,
}

impl Default for ComputeParams {
    fn default() -> Self {
        let m = |model: &str, bps: u32| GpuMultiplier {
            gpu_model: model.into(),
            multiplier_bps: bps,
        };
        ComputeParams {
            gpu_multipliers: vec![
                m("H100", 40_000),
                m("A100", 30_000),
                m("L40S", 20_000),
                m("RTX4090", 15_000),
                m("RTX3090", 10_000),
                m("CPU", 1_000),
            ],
            default_multiplier_bps: 10_000,
            stake_unit: 200_000_000,
            stake_denom: "ucomp".into(),
            stable_denom: "uusdc".into(),
            booking_fee_bps: 25,
            stable_fee_bps: 200,
            unbonding_seconds: 14 * 86_400,
            heartbeat_interval: 60,
            challenge_window: 120,
            offline_after: 180,
            downtime_slash_bps: 500,
            max_staker_share_bps: 5_000,
            attestors: vec![],
            history_len: 24,
            max_match_scan: 256,
            max_orders_per_block: 100,
            order_ttl_seconds: 86_400,
            max_lease_seconds: 30 * 86_400,
            buyback_start_price: Dec::from_int(10).unwrap_or(Dec::ONE),
            buyback_floor_price: Dec(10_000_000_000_000_000),
            buyback_duration: 86_400,
            buyback_restart_bps: 20_000,
            emission: EmissionSchedule::default(),
        }
    }
}

impl Params for ComputeParams {
    const KEY: &'static [u8] = b"compute/params";

    fn validate(&self) -> Result<(), StoaError> {
        let bad = |s: &str| sdk::INVALID_REQUEST.with(format!("compute params: {s}"));
        validate_denom(&self.stake_denom)?;
        validate_denom(&self.stable_denom)?;
        if self.stake_denom == self.stable_denom {
            return Err(bad("stake and stable denoms must differ"));
        }
        if self.heartbeat_interval <= 0
            || self.challenge_window <= 0
            || self.offline_after < self.heartbeat_interval
            || self.unbonding_seconds < 0
            || self.order_ttl_seconds <= 0
            || self.buyback_duration <= 0
        {
            return Err(bad(
                "timings must be positive, offline_after >= heartbeat_interval",
            ));
        }
        if self.booking_fee_bps + self.stable_fee_bps >= 10_000
            || self.downtime_slash_bps > 10_000
            || self.max_staker_share_bps > 10_000
        {
            return Err(bad("fractions must be below 10,000 bps"));
        }
        if self.stake_unit == 0 || self.history_len == 0 || self.max_lease_seconds == 0 {
            return Err(bad(
                "stake_unit, history_len and max_lease_seconds must be positive",
            ));
        }
        let e = &self.emission;
        if e.monthly_keep_bps == 0
            || e.monthly_keep_bps >= 10_000
            || e.month_seconds <= 0
            || e.tick_seconds <= 0
            || e.total == 0
        {
            return Err(bad("emission schedule"));
        }
        if self.buyback_start_price < self.buyback_floor_price || self.buyback_floor_price.is_zero()
        {
            return Err(bad("buyback prices"));
        }
        for a in &self.attestors {
            stoa_framework::Address::parse(a)?;
        }
        Ok(())
    }
}

impl ComputeParams {
    pub fn multiplier_bps(&self, gpu_model: &str) -> u32 {
        self.gpu_multipliers
            .iter()
            .find(|m| m.gpu_model == gpu_model)
            .map_or(self.default_multiplier_bps, |m| m.multiplier_bps)
    }

    /// `stake_unit x max(1, multiplier) x gpu_count`.
    pub fn required_stake(&self, gpu_model: &str, gpu_count: u32) -> Result<u128, StoaError> {
        let m = u128::from(self.multiplier_bps(gpu_model).max(10_000));
        self.stake_unit
            .checked_mul(m)
            .map(|v| v / 10_000)
            .and_then(|v| v.checked_mul(u128::from(gpu_count)))
            .ok_or_else(|| error::STAKE_TOO_LOW.with("stake formula overflows"))
    }

    /// The fee on each side, in bps, for payments in `denom`.
    pub fn fee_bps(&self, denom: &str) -> u32 {
        if denom == self.stable_denom {
            self.booking_fee_bps + self.stable_fee_bps
        } else {
            self.booking_fee_bps
        }
    }

    pub fn accepts(&self, denom: &str) -> bool {
        denom == self.stake_denom || denom == self.stable_denom
    }
}

pub(crate) mod amount {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The params in force (the default when none are stored).
pub fn load(ctx: &mut stoa_framework::Ctx<'_>) -> Result<std::sync::Arc<ComputeParams>, StoaError> {
    stoa_framework::params::load::<ComputeParams>(ctx)
}
