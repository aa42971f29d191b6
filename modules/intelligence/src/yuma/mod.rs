//! Yuma Consensus: one epoch of a subnet as a pure function of its metagraph, over the
//! fixed-point widths and rounding of subtensor's sparse epoch (I32F32 for proportions, I64F64
//! for stake, I96F32 for the emission in base units). `epoch` takes and returns the JSON shape
//! of `stoad sim yuma-epoch`; the module runs exactly this code.

pub mod math;

use math::*;
use serde::{Deserialize, Serialize};
use stoa_framework::fixed::{I32F32, I64F64, I96F32};
use stoa_framework::{ErrorCode, StoaError};

/// Malformed epoch input (lengths, uids out of range, values out of their bounds).
pub const BAD_EPOCH_INPUT: ErrorCode = ErrorCode::new("intelligence", 40, "malformed epoch input");

/// Liquid alpha (Yuma3 only): a per-bond EMA rate between `low` and `high` (of 65535) by a
/// sigmoid of how far a weight leads consensus or trails its bond.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidAlpha {
    pub enabled: bool,
    pub low: u16,
    pub high: u16,
    pub steepness: u16,
}

/// One epoch's input: the subnet's hyperparameters and metagraph, one entry per uid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochInput {
    pub n: u16,
    pub block: u64,
    pub tempo: u64,
    pub last_mechanism_step_block: u64,
    pub activity_cutoff: u64,
    pub max_allowed_validators: u16,
    pub kappa: u16,
    /// Of 1,000,000: the weight of the old bonds in the EMA (900,000 gives alpha 0.1).
    pub bonds_moving_average: u64,
    pub bonds_penalty: u16,
    pub yuma3: bool,
    #[serde(default)]
    pub liquid_alpha: LiquidAlpha,
    /// Base units to split this epoch.
    pub emission: u64,
    pub stake: Vec<u64>,
    pub last_update: Vec<u64>,
    pub block_at_registration: Vec<u64>,
    /// The previous epoch's permits.
    pub validator_permit: Vec<bool>,
    /// Per uid, `[uid, value]` pairs (values as set, max-upscaled to 65535).
    pub weights: Vec<Vec<(u16, u16)>>,
    /// Per uid, the bonds the previous epoch stored.
    pub bonds: Vec<Vec<(u16, u16)>>,
}

/// One epoch's output, one entry per uid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochOutput {
    pub validator_permit: Vec<bool>,
    pub bonds: Vec<Vec<(u16, u16)>>,
    pub consensus: Vec<u16>,
    pub incentive: Vec<u16>,
    pub dividends: Vec<u16>,
    pub validator_trust: Vec<u16>,
    pub server_emission: Vec<u64>,
    pub validator_emission: Vec<u64>,
    pub emission: Vec<u64>,
}

/// What the module stores besides the epoch output: each uid's activity and stake weight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochExtra {
    pub active: Vec<bool>,
    /// Normalised stake, `floor(x * 65535)`.
    pub stake_weight: Vec<u16>,
}

fn bad(msg: impl Into<String>) -> StoaError {
    BAD_EPOCH_INPUT.with(msg.into())
}

impl EpochInput {
    /// Every vector has `n` entries, every uid is below `n` and appears once per row, and the
    /// rates are within their bounds.
    pub fn validate(&self) -> Result<(), StoaError> {
        let n = self.n as usize;
        for (name, len) in [
            ("stake", self.stake.len()),
            ("last_update", self.last_update.len()),
            ("block_at_registration", self.block_at_registration.len()),
            ("validator_permit", self.validator_permit.len()),
            ("weights", self.weights.len()),
            ("bonds", self.bonds.len()),
        ] {
            if len != n {
                return Err(bad(format!("{name} has {len} entries, n is {n}")));
            }
        }
        // `seen[j]` holds the last row (plus one) that named uid j: one pass, no set per row.
        let mut seen = vec![0usize; n];
        let mut stamp = 0usize;
        for (name, m) in [("weights", &self.weights), ("bonds", &self.bonds)] {
            for (i, row) in m.iter().enumerate() {
                stamp += 1;
                for (j, _) in row {
                    let Some(s) = seen.get_mut(*j as usize) else {
                        return Err(bad(format!("{name}[{i}] names uid {j}, n is {n}")));
                    };
                    if *s == stamp {
                        return Err(bad(format!("{name}[{i}] names uid {j} twice")));
                    }
                    *s = stamp;
                }
            }
        }
        if self.bonds_moving_average > 1_000_000 {
            return Err(bad("bonds_moving_average is at most 1000000"));
        }
        if self.liquid_alpha.enabled && self.liquid_alpha.low > self.liquid_alpha.high {
            return Err(bad("liquid_alpha low above high"));
        }
        Ok(())
    }
}

/// A row in column order (rows as set are nearly always in order already: no sort then).
fn sorted_row(mut r: Vec<(u16, I32F32)>) -> Vec<(u16, I32F32)> {
    if !r.is_sorted_by_key(|(j, _)| *j) {
        r.sort_by_key(|(j, _)| *j);
    }
    r
}

fn to_sparse(m: &[Vec<(u16, u16)>], conv: impl Fn(u16) -> I32F32) -> Sparse {
    m.iter()
        .map(|row| sorted_row(row.iter().map(|&(j, v)| (j, conv(v))).collect()))
        .collect()
}

/// One epoch (see the module docs): the exact output shape of `stoad sim yuma-epoch`.
pub fn epoch(input: &EpochInput) -> Result<EpochOutput, StoaError> {
    epoch_with_extra(input).map(|(o, _)| o)
}

/// One epoch, with the per-uid activity and stake weight the module also stores.
pub fn epoch_with_extra(input: &EpochInput) -> Result<(EpochOutput, EpochExtra), StoaError> {
    input.validate()?;
    let n = input.n as usize;
    let block = input.block;

    // Activity: a uid whose last update is older than the cutoff is inactive.
    let inactive: Vec<bool> = input
        .last_update
        .iter()
        .map(|u| u.saturating_add(input.activity_cutoff) < block)
        .collect();
    let active: Vec<bool> = inactive.iter().map(|b| !b).collect();

    // Stake, normalised in I64F64 then narrowed.
    let mut stake64: Vec<I64F64> = input
        .stake
        .iter()
        .map(|s| I64F64::saturating_from_num(*s))
        .collect();
    inplace_normalize_64(&mut stake64);
    let stake: Vec<I32F32> = stake64
        .iter()
        .map(|s| I32F32::saturating_from_num(*s))
        .collect();

    // Permits: this epoch uses the previous permits; the new ones go to the top stakes.
    let forbids: Vec<bool> = input.validator_permit.iter().map(|b| !b).collect();
    let new_permits = is_topk_nonzero(&stake, input.max_allowed_validators as usize);

    let mut active_stake = stake.clone();
    inplace_mask_vector(&inactive, &mut active_stake);
    inplace_mask_vector(&forbids, &mut active_stake);
    inplace_normalize(&mut active_stake);

    // Weights: permitted rows only, no self-weight, none set before the target registered
    // (subtensor's three masks, in one pass).
    let mut weights: Sparse = input
        .weights
        .iter()
        .enumerate()
        .map(|(i, row)| {
            if forbids.get(i).copied().unwrap_or(true) {
                return Vec::new();
            }
            let updated = input.last_update.get(i).copied().unwrap_or(0);
            let kept = row.iter().filter(|(j, _)| {
                let registered = input
                    .block_at_registration
                    .get(*j as usize)
                    .copied()
                    .unwrap_or(0);
                *j as usize != i && updated > registered
            });
            sorted_row(kept.map(|&(j, v)| (j, I32F32::from_num(v))).collect())
        })
        .collect();
    inplace_row_normalize_sparse(&mut weights);

    // Consensus, clipping, validator trust, incentive.
    let kappa = safe_div(I32F32::from_num(input.kappa), u16_max());
    let consensus = weighted_median_col_sparse(&active_stake, &weights, n, kappa);
    let clipped = col_clip_sparse(&weights, &consensus);
    let validator_trust = row_sum_sparse(&clipped);
    let mut ranks = matmul_sparse(&clipped, &active_stake, n);
    inplace_normalize(&mut ranks);
    let incentive = ranks;

    // Bonds and dividends.
    let bonds_penalty = safe_div(I32F32::from_num(input.bonds_penalty), u16_max());
    let weights_for_bonds = interpolate_sparse(&weights, &clipped, n, bonds_penalty);
    // Bonds to a uid registered since the last epoch are dropped.
    let last_tempo = if input.last_mechanism_step_block == 0 {
        block.saturating_sub(input.tempo)
    } else {
        input.last_mechanism_step_block.saturating_add(1)
    };
    let bma = safe_div64(
        I64F64::saturating_from_num(input.bonds_moving_average),
        I64F64::from_num(1_000_000),
    );
    let alpha = one().saturating_sub(I32F32::saturating_from_num(bma));
    let mut dividends: Vec<I32F32>;
    let ema_bonds: Sparse;
    if input.yuma3 {
        let bonds = to_sparse(&input.bonds, u16_proportion_to_fixed);
        let bonds = scalar_vec_mask_sparse_matrix(
            &bonds,
            last_tempo,
            &input.block_at_registration,
            |t, r| t <= r,
        );
        ema_bonds = if input.liquid_alpha.enabled && consensus.iter().any(|c| *c != ZERO) {
            let alphas = liquid_alphas(&input.liquid_alpha, &weights_for_bonds, &bonds, &consensus);
            mat_ema_alpha_sparse(&weights_for_bonds, &bonds, &alphas)
        } else {
            mat_ema_sparse(&weights_for_bonds, &bonds, alpha, n)
        };
        let mut norm = ema_bonds.clone();
        inplace_col_normalize_sparse(&mut norm, n);
        let per_validator = row_sum_sparse(&mat_vec_mul_sparse(&norm, &incentive));
        dividends = vec_mul(&per_validator, &active_stake);
        inplace_normalize(&mut dividends);
    } else {
        let bonds = to_sparse(&input.bonds, I32F32::from_num);
        let mut bonds = scalar_vec_mask_sparse_matrix(
            &bonds,
            last_tempo,
            &input.block_at_registration,
            |t, r| t <= r,
        );
        inplace_col_normalize_sparse(&mut bonds, n);
        let mut delta = row_hadamard_sparse(&weights_for_bonds, &active_stake);
        inplace_col_normalize_sparse(&mut delta, n);
        let mut ema = mat_ema_sparse(&delta, &bonds, alpha, n);
        inplace_col_normalize_sparse(&mut ema, n);
        dividends = matmul_transpose_sparse(&ema, &incentive);
        inplace_normalize(&mut dividends);
        inplace_col_max_upscale_sparse(&mut ema, n);
        ema_bonds = ema;
    }

    // Emission: incentive to servers, dividends to validators, normalised on their sum; with
    // no consensus at all, validators are paid by (active) stake.
    let combined: Vec<I32F32> = incentive
        .iter()
        .zip(&dividends)
        .map(|(i, d)| i.saturating_add(*d))
        .collect();
    let emission_sum = sum(&combined);
    let mut n_server = incentive.clone();
    let mut n_validator = dividends.clone();
    let mut n_combined = combined;
    inplace_normalize_using_sum(&mut n_server, emission_sum);
    inplace_normalize_using_sum(&mut n_validator, emission_sum);
    inplace_normalize(&mut n_combined);
    if emission_sum == ZERO {
        let by = if is_zero(&active_stake) {
            &stake
        } else {
            &active_stake
        };
        n_validator.clone_from(by);
        n_combined.clone_from(by);
    }
    let total = I96F32::saturating_from_num(input.emission);
    let to_units = |v: &[I32F32]| -> Vec<u64> {
        v.iter()
            .map(|x| {
                I96F32::saturating_from_num(*x)
                    .saturating_mul(total)
                    .saturating_to_num::<u64>()
            })
            .collect()
    };
    let u16s =
        |v: &[I32F32]| -> Vec<u16> { v.iter().map(|x| fixed_proportion_to_u16(*x)).collect() };

    let bonds_out = (0..n)
        .map(|i| {
            if new_permits[i] {
                ema_bonds
                    .get(i)
                    .map(|row| {
                        row.iter()
                            .map(|&(j, v)| (j, fixed_proportion_to_u16(v)))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            }
        })
        .collect();

    let out = EpochOutput {
        bonds: bonds_out,
        consensus: u16s(&consensus),
        incentive: u16s(&incentive),
        dividends: u16s(&dividends),
        validator_trust: u16s(&validator_trust),
        server_emission: to_units(&n_server),
        validator_emission: to_units(&n_validator),
        emission: to_units(&n_combined),
        validator_permit: new_permits,
    };
    let extra = EpochExtra {
        active,
        stake_weight: u16s(&stake),
    };
    Ok((out, extra))
}

/// The liquid-alpha rate of each bond the EMA updates: cells of `weights` only (the EMA reads no
/// others), `alphas[i][j]` dense over the row for `mat_ema_alpha_sparse`.
fn liquid_alphas(
    la: &LiquidAlpha,
    weights: &Sparse,
    bonds: &Sparse,
    consensus: &[I32F32],
) -> Vec<Vec<I32F32>> {
    let low = u16_proportion_to_fixed(la.low);
    let high = u16_proportion_to_fixed(la.high);
    let steep = I32F32::from_num(la.steepness);
    let n = consensus.len();
    weights
        .iter()
        .zip(bonds)
        .map(|(wrow, brow)| {
            let mut row = vec![ZERO; n];
            for &(j, w) in wrow {
                let b = brow
                    .binary_search_by_key(&j, |(k, _)| *k)
                    .map(|p| brow[p].1)
                    .unwrap_or(ZERO);
                let c = consensus.get(j as usize).copied().unwrap_or(ZERO);
                if let Some(cell) = row.get_mut(j as usize) {
                    *cell = alpha_sigmoid(c, w, b, low, high, steep);
                }
            }
            row
        })
        .collect()
}

/// A weight ahead of consensus (buying) or behind its bond (selling) moves its bond faster.
fn alpha_sigmoid(
    consensus: I32F32,
    weight: I32F32,
    bond: I32F32,
    low: I32F32,
    high: I32F32,
    steepness: I32F32,
) -> I32F32 {
    let diff_buy = clamp_value(weight.saturating_sub(consensus), ZERO, one());
    let diff_sell = clamp_value(bond.saturating_sub(weight), ZERO, one());
    let diff = if weight >= bond { diff_buy } else { diff_sell };
    let half = I32F32::from_num(1) / 2;
    let x = steepness
        .checked_div(I32F32::from_num(-100))
        .unwrap_or_default()
        .saturating_mul(diff.saturating_sub(half));
    let sigmoid = safe_div(one(), one().saturating_add(exp_safe(x)));
    let alpha = low.saturating_add(sigmoid.saturating_mul(high.saturating_sub(low)));
    clamp_value(alpha, low, high)
}

#[cfg(test)]
mod tests;
