//! The storage module's params, all genesis-settable: every duration is in seconds of block
//! time (so a test or devnet runs a proving period in a minute), the allowed seal proofs, and
//! the collateral, fee and minting numbers of STORAGE.md.

use crate::error;
use serde::{Deserialize, Serialize};
use stoa_framework::{Params, StoaError};

const DAY: i64 = 86_400;
/// A year of 365 days (STORAGE.md does not say; Filecoin's reward actor uses 365 days).
pub const YEAR: i64 = 365 * DAY;

/// How a seal proof's interactive PoRep is challenged: `challenges` in all (its soundness:
/// a replica missing a fraction f of its nodes passes with probability (1 - f)^challenges),
/// cut into partitions of `challenges_per_partition`, each sent and verified in its own
/// `MsgProveCommitSector` so that each fits a tx.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoRepPolicy {
    pub seal_proof: i32,
    pub challenges: u32,
    pub challenges_per_partition: u32,
}

impl PoRepPolicy {
    pub fn partitions(&self) -> u32 {
        stoa_prover::PoRepPartition::count(self.challenges, self.challenges_per_partition)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageParams {
    pub denom: String,
    /// RegisteredSealProof wire values a provider may register with. The public default is
    /// 32 GiB only (11 layers: resealing takes far longer than a Window PoSt window); the
    /// small sizes (2 KiB, 8 MiB, 512 MiB; 2 layers) reseal in seconds and are for devnets and
    /// tests (`StorageParams::devnet`, `StorageParams::test`): insecure. docs/STORAGE.md.
    pub allowed_seal_proofs: Vec<i32>,
    /// The PoRep challenge count and partition size of every allowed seal proof.
    pub porep_policies: Vec<PoRepPolicy>,
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

/// The policy table: (seal proof, challenges, per partition). 132 challenges is the least
/// with 0.9^k < 2^-20 (a replica missing 10% of its nodes passes with probability below one
/// in a million); 32 GiB uses Filecoin's 176. Partitions are sized so that each proof stays
/// under the default 64 KiB tx size limit (docs/STORAGE.md has the proof sizes).
fn policies(table: &[(i32, u32, u32)]) -> Vec<PoRepPolicy> {
    table
        .iter()
        .map(|&(seal_proof, challenges, per)| PoRepPolicy {
            seal_proof,
            challenges,
            challenges_per_partition: per,
        })
        .collect()
}

/// Secure challenge counts for every size (132 or 176), partitions that fit a 64 KiB tx.
pub const SECURE_POREP: [(i32, u32, u32); 4] =
    [(1, 132, 12), (2, 132, 5), (3, 132, 3), (4, 176, 2)];

impl StorageParams {
    /// The devnet profile: every duration short enough to walk through a deal by hand
    /// (proving period of 5 minutes in 5 deadlines of 60 s), the small sizes allowed with the
    /// prover's small challenge counts. INSECURE: a 2 KiB to 512 MiB replica reseals within a
    /// Window PoSt window, and 4 to 16 challenges miss a 10% hole often (docs/STORAGE.md).
    pub fn devnet() -> Self {
        StorageParams {
            allowed_seal_proofs: vec![1, 2, 3],
            porep_policies: policies(&[(1, 4, 4), (2, 8, 5), (3, 16, 3), (4, 176, 2)]),
            min_deal_duration: 600,
            max_deal_duration: 30 * DAY,
            max_seal_rand_lookback: 3_600,
            prove_commit_delay: 30,
            max_prove_commit_duration: 3_600,
            min_sector_lifetime: 600,
            max_sector_lifetime: 60 * DAY,
            proving_period: 300,
            deadlines: 5,
            challenge_lookback: 20,
            fault_declaration_cutoff: 30,
            max_fault_age: 3_600,
            // Deposits, pledges and fees in seconds of expected reward scaled down with the
            // durations (20 days of a 2 KiB sector's reward would exceed any test account).
            precommit_deposit_reward_seconds: 60,
            initial_pledge_reward_seconds: 120,
            fault_fee_reward_seconds: 30,
            ..StorageParams::default()
        }
    }

    /// The test profile (end-to-end tests): a proving period of 60 s in 3 deadlines of 20 s,
    /// a prove-commit delay of 10 s. INSECURE, as the devnet's.
    pub fn test() -> Self {
        StorageParams {
            min_deal_duration: 120,
            prove_commit_delay: 10,
            max_prove_commit_duration: 600,
            min_sector_lifetime: 120,
            proving_period: 60,
            deadlines: 3,
            challenge_lookback: 5,
            fault_declaration_cutoff: 8,
            max_fault_age: 600,
            ..StorageParams::devnet()
        }
    }

    /// A profile by name: public (the default), devnet or test.
    pub fn profile(name: &str) -> Option<Self> {
        match name {
            "public" => Some(StorageParams::default()),
            "devnet" => Some(StorageParams::devnet()),
            "test" => Some(StorageParams::test()),
            _ => None,
        }
    }

    /// The PoRep policy of a seal proof.
    pub fn porep_policy(&self, seal_proof: i32) -> Option<&PoRepPolicy> {
        self.porep_policies
            .iter()
            .find(|p| p.seal_proof == seal_proof)
    }
}

impl Default for StorageParams {
    fn default() -> Self {
        StorageParams {
            denom: "ustor".into(),
            allowed_seal_proofs: vec![4],
            porep_policies: policies(&SECURE_POREP),
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
            if self.porep_policy(*p).is_none() {
                return bad("an allowed seal proof without a PoRep policy");
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for pol in &self.porep_policies {
            if stoa_prover::SealProof::from_proto(pol.seal_proof).is_none()
                || !seen.insert(pol.seal_proof)
            {
                return bad("a PoRep policy of an unknown or repeated seal proof");
            }
            // At most 1024 challenges (and partitions): bounds the pre-commit's record.
            if pol.challenges == 0
                || pol.challenges > 1024
                || pol.challenges_per_partition == 0
                || pol.challenges_per_partition > pol.challenges
            {
                return bad("PoRep challenges in 1..=1024, per partition in 1..=challenges");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_validate_and_only_the_public_one_is_secure() {
        for name in ["public", "devnet", "test"] {
            StorageParams::profile(name).unwrap().validate().unwrap();
        }
        let public = StorageParams::default();
        assert_eq!(public.allowed_seal_proofs, vec![4]);
        // Every secure policy passes a replica missing 10% with probability below 2^-20:
        // 0.9^k < 2^-20 <=> k x log2(10/9) > 20, log2(10/9) > 0.152 (k x 152 > 20,000).
        for (_, k, _) in SECURE_POREP {
            assert!(u64::from(k) * 152 > 20_000, "{k} challenges");
        }
        assert!(StorageParams::devnet().allowed_seal_proofs.contains(&1));
    }

    #[test]
    fn an_allowed_seal_proof_needs_a_sound_policy() {
        let mut p = StorageParams::devnet();
        p.porep_policies.retain(|x| x.seal_proof != 1);
        assert!(p.validate().is_err(), "2 KiB allowed without a policy");
        let mut p = StorageParams::devnet();
        p.porep_policies[0].challenges_per_partition = 0;
        assert!(p.validate().is_err());
        let mut p = StorageParams::devnet();
        p.porep_policies[0].challenges_per_partition = p.porep_policies[0].challenges + 1;
        assert!(p.validate().is_err());
        let mut p = StorageParams::devnet();
        let dup = p.porep_policies[0].clone();
        p.porep_policies.push(dup);
        assert!(p.validate().is_err(), "a repeated policy");
    }
}
