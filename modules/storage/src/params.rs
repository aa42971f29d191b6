//! The storage module's params, all genesis-settable: every duration is in seconds of block
//! time (so a test or devnet runs a proving period in a minute), the allowed seal proofs, and
//! the collateral, fee and minting numbers of STORAGE.md.

use crate::error;
use serde::{Deserialize, Serialize};
use stoa_framework::{Params, StoaError};

const DAY: i64 = 86_400;
/// A year of 365 days (STORAGE.md does not say; Filecoin's reward actor uses 365 days).
pub const YEAR: i64 = 365 * DAY;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageParams {
    pub denom: String,
    /// RegisteredSealProof wire values a provider may register with (2 KiB, 8 MiB, 512 MiB by
    /// default; 32 GiB exists in the prover but its PoRep proof does not fit a tx yet).
    pub allowed_seal_proofs: Vec<i32>,
    pub min_deal_duration: i64,
    pub max_deal_duration: i64,
    pub max_deals_per_publish: u32,
    pub max_seal_rand_lookback: i64,
    pub prove_commit_delay: i64,
    pub max_prove_commit_duration: i64,
    pub min_sector_lifetime: i64,
    pub max_sector_lifetime: i64,
    pub proving_period: i64,
    pub deadlines: u32,
    pub challenge_lookback: i64,
    /// Faults of a deadline may be declared until this long before its window opens (after,
    /// its challenge may be drawn: list the sector as faulty in the PoSt instead).
    pub fault_declaration_cutoff: i64,
    pub max_fault_age: i64,
    /// Pre-commit deposit: this many seconds of the sector's expected reward (20 days).
    pub precommit_deposit_reward_seconds: i64,
    /// Initial pledge: this many seconds of expected reward (20 days) plus a share of the
    /// circulating supply by QA power.
    pub initial_pledge_reward_seconds: i64,
    pub pledge_supply_share_bps: u32,
    /// Minimum provider collateral: this share of circulating supply by piece size.
    pub provider_collateral_supply_share_bps: u32,
    /// Fault fee per proving period: seconds of expected reward (3.51 days).
    pub fault_fee_reward_seconds: i64,
    pub termination_fee_bps: u32,
    pub termination_age_divisor: i64,
    pub termination_min_bps: u32,
    pub termination_fault_fee_bps: u32,
    /// Baseline storage target at genesis (bytes), doubling every `baseline_doubling`.
    #[serde(with = "amount")]
    pub baseline_initial_power: u128,
    pub baseline_doubling: i64,
    #[serde(with = "amount")]
    pub simple_total: u128,
    #[serde(with = "amount")]
    pub baseline_total: u128,
    pub half_life: i64,
    pub vesting_seconds: i64,
    pub vesting_share_bps: u32,
    pub verified_multiplier: u32,
}

impl Default for StorageParams {
    fn default() -> Self {
        StorageParams {
            denom: "ustor".into(),
            allowed_seal_proofs: vec![1, 2, 3],
            min_deal_duration: 180 * DAY,
            max_deal_duration: 540 * DAY,
            max_deals_per_publish: 256,
            max_seal_rand_lookback: 30 * DAY,
            prove_commit_delay: 150 * 30,
            max_prove_commit_duration: 30 * DAY,
            min_sector_lifetime: 180 * DAY,
            max_sector_lifetime: 540 * DAY,
            proving_period: DAY,
            deadlines: 48,
            challenge_lookback: 20 * 30,
            fault_declaration_cutoff: 70 * 30,
            max_fault_age: 42 * DAY,
            precommit_deposit_reward_seconds: 20 * DAY,
            initial_pledge_reward_seconds: 20 * DAY,
            pledge_supply_share_bps: 3_000,
            provider_collateral_supply_share_bps: 100,
            fault_fee_reward_seconds: 351 * DAY / 100,
            termination_fee_bps: 850,
            termination_age_divisor: 140 * DAY,
            termination_min_bps: 200,
            termination_fault_fee_bps: 10_500,
            // Filecoin's initial baseline: 2.5 EiB.
            baseline_initial_power: 5u128 << 59,
            baseline_doubling: YEAR,
            simple_total: 330_000_000 * 1_000_000,
            baseline_total: 770_000_000 * 1_000_000,
            half_life: 6 * YEAR,
            vesting_seconds: 180 * DAY,
            vesting_share_bps: 7_500,
            verified_multiplier: 10,
        }
    }
}

impl Params for StorageParams {
    const KEY: &'static [u8] = b"storage/params";

    fn validate(&self) -> Result<(), StoaError> {
        stoa_framework::validate_denom(&self.denom)?;
        let bad = |why: &str| Err(error::BAD_PARAMS.with(why.to_string()));
        for p in &self.allowed_seal_proofs {
            if stoa_prover::SealProof::from_proto(*p).is_none() {
                return bad("unknown seal proof");
            }
        }
        let positive = [
            self.min_deal_duration,
            self.prove_commit_delay,
            self.max_prove_commit_duration,
            self.proving_period,
            self.max_fault_age,
            self.half_life,
            self.termination_age_divisor,
            self.baseline_doubling,
            self.max_seal_rand_lookback,
        ];
        if positive.iter().any(|v| *v <= 0) {
            return bad("durations must be positive");
        }
        if self.max_deal_duration < self.min_deal_duration
            || self.max_sector_lifetime < self.min_sector_lifetime
            || self.min_sector_lifetime < 0
        {
            return bad("a max below its min");
        }
        if self.deadlines == 0 || self.proving_period % i64::from(self.deadlines) != 0 {
            return bad("deadlines must divide the proving period");
        }
        if self.challenge_lookback < 0
            || self.challenge_lookback >= self.proving_period
            || self.fault_declaration_cutoff < self.challenge_lookback
            || self.fault_declaration_cutoff >= self.proving_period
        {
            return bad("challenge_lookback <= fault_declaration_cutoff < proving_period");
        }
        if self.max_prove_commit_duration <= self.prove_commit_delay {
            return bad("max_prove_commit_duration must exceed prove_commit_delay");
        }
        if [
            self.precommit_deposit_reward_seconds,
            self.initial_pledge_reward_seconds,
            self.fault_fee_reward_seconds,
            self.vesting_seconds,
        ]
        .iter()
        .any(|v| *v < 0)
        {
            return bad("reward seconds must not be negative");
        }
        if self.vesting_share_bps > 10_000
            || self.pledge_supply_share_bps > 10_000
            || self.provider_collateral_supply_share_bps > 10_000
            || self.verified_multiplier == 0
            || self.max_deals_per_publish == 0
        {
            return bad("a share above 100% or a zero multiplier");
        }
        Ok(())
    }
}

impl StorageParams {
    pub fn deadline_window(&self) -> i64 {
        self.proving_period / i64::from(self.deadlines.max(1))
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
