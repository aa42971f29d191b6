//! The storage token's minting schedule and the amounts derived from it, all in deterministic
//! fixed point (Q.128, no floats): simple minting `simple_total x (1 - e^(-lambda t))`,
//! baseline minting against a baseline that doubles every `baseline_doubling`, a sector's
//! expected reward, the pledge and collateral minimums and the termination fee.

use crate::keeper::{self, StorageBank};
use crate::params::StorageParams;
use crate::state::{POWER, REWARDS};
use stoa_framework::fixed::mul_div_floor;
use stoa_framework::math::{exp_neg, ln, U128F128};
use stoa_framework::{block_record, module_address, Ctx, StoaError};

fn overflow(what: &str) -> StoaError {
    stoa_framework::sdk::OVERFLOW.with(what.to_string())
}

/// `total x (1 - e^(-ln2 x t / half_life))`, rounded down; never above `total`.
pub fn simple_minted(p: &StorageParams, t: i64) -> Result<u128, StoaError> {
    if t <= 0 {
        return Ok(0);
    }
    let x = U128F128::LN2
        .checked_mul(U128F128::from_int(t as u128))
        .and_then(|v| v.checked_div(U128F128::from_int(p.half_life as u128)))
        .ok_or_else(|| overflow("simple minting exponent"))?;
    let left = exp_neg(x);
    let share = U128F128::ONE
        .checked_sub(left)
        .ok_or_else(|| overflow("simple minting share"))?;
    Ok(share
        .mul_int_floor(p.simple_total)
        .unwrap_or(p.simple_total)
        .min(p.simple_total))
}

/// The baseline target at `t` seconds after genesis: `b0 x 2^(t / doubling)`.
pub fn baseline_power(p: &StorageParams, t: i64) -> Result<u128, StoaError> {
    let x = U128F128::LN2
        .checked_mul(U128F128::from_int(t.max(0) as u128))
        .and_then(|v| v.checked_div(U128F128::from_int(p.baseline_doubling as u128)))
        .ok_or_else(|| overflow("baseline exponent"))?;
    let shrink = exp_neg(x);
    if shrink.is_zero() {
        return Ok(u128::MAX);
    }
    Ok(U128F128::from_int(p.baseline_initial_power)
        .checked_div(shrink)
        .map(|v| v.floor_int())
        .unwrap_or(u128::MAX))
}

/// Baseline minting for a cumulative capped power `r` (byte-seconds): the effective network
/// time `theta` solves `integral_0^theta b(s) ds = r`, i.e. `theta = ln(1 + r g / b0) / g`
/// with `g = ln 2 / doubling`; minted = `baseline_total x (1 - e^(-lambda theta))`, and
/// `lambda theta = ln(1 + r g / b0) x doubling / half_life`.
pub fn baseline_minted(p: &StorageParams, r: u128) -> Result<u128, StoaError> {
    if r == 0 || p.baseline_initial_power == 0 {
        return Ok(0);
    }
    let x = U128F128::from_ratio(r, p.baseline_initial_power)
        .and_then(|v| v.checked_mul(U128F128::LN2))
        .and_then(|v| v.checked_div(U128F128::from_int(p.baseline_doubling as u128)))
        .and_then(|v| v.checked_add(U128F128::ONE))
        .ok_or_else(|| overflow("baseline ratio"))?;
    let l = ln(x)
        .and_then(|v| v.to_unsigned())
        .ok_or_else(|| overflow("baseline ln"))?;
    let e = l
        .checked_mul(U128F128::from_int(p.baseline_doubling as u128))
        .and_then(|v| v.checked_div(U128F128::from_int(p.half_life as u128)))
        .ok_or_else(|| overflow("baseline exponent"))?;
    let share = U128F128::ONE
        .checked_sub(exp_neg(e))
        .ok_or_else(|| overflow("baseline share"))?;
    Ok(share
        .mul_int_floor(p.baseline_total)
        .unwrap_or(p.baseline_total)
        .min(p.baseline_total))
}

/// Seconds since genesis.
pub fn chain_age(ctx: &mut Ctx<'_>) -> Result<i64, StoaError> {
    let genesis = block_record::genesis_time(ctx)?
        .map(|(t, _)| t)
        .unwrap_or(0);
    Ok(ctx.block_time().saturating_sub(genesis).max(0))
}

/// What the network mints over the next `seconds` by simple minting, shared by `qa` out of
/// the network's QA power (the sector counted in): the expected reward STORAGE.md's deposits,
/// pledges and fees are measured in.
pub fn expected_reward(
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    seconds: i64,
    qa: u128,
) -> Result<u128, StoaError> {
    if seconds <= 0 || qa == 0 {
        return Ok(0);
    }
    let t = chain_age(ctx)?;
    let span = simple_minted(p, t.saturating_add(seconds))?.saturating_sub(simple_minted(p, t)?);
    let network = u128::from(POWER.get(ctx)?.map(|n| n.qa).unwrap_or(0));
    Ok(mul_div_floor(span, qa, network.max(qa)).unwrap_or(0))
}

/// Circulating supply: the denom's supply less what the genesis reserve still holds.
pub fn circulating(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
) -> Result<u128, StoaError> {
    let supply = bank.supply_of(ctx, &p.denom)?;
    let reserve = bank.balance(ctx, &module_address("reserve"), &p.denom)?;
    Ok(supply.saturating_sub(reserve))
}

/// Minimum provider collateral: `share x circulating x size / max(baseline, raw power, size)`.
pub fn min_provider_collateral(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    piece_size: u64,
) -> Result<u128, StoaError> {
    let circ = circulating(bank, ctx, p)?;
    let raw = u128::from(POWER.get(ctx)?.map(|n| n.raw).unwrap_or(0));
    let base = baseline_power(p, chain_age(ctx)?)?;
    let denom = base.max(raw).max(u128::from(piece_size)).max(1);
    let share = mul_div_floor(
        circ,
        u128::from(p.provider_collateral_supply_share_bps),
        10_000,
    )
    .unwrap_or(0);
    Ok(mul_div_floor(share, u128::from(piece_size), denom).unwrap_or(0))
}

/// Initial pledge: expected reward over `initial_pledge_reward_seconds` plus
/// `share x circulating x qa / max(baseline, network qa)`.
pub fn initial_pledge(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    qa: u128,
) -> Result<u128, StoaError> {
    let reward = expected_reward(ctx, p, p.initial_pledge_reward_seconds, qa)?;
    let circ = circulating(bank, ctx, p)?;
    let network = u128::from(POWER.get(ctx)?.map(|n| n.qa).unwrap_or(0));
    let base = baseline_power(p, chain_age(ctx)?)?;
    let share = mul_div_floor(circ, u128::from(p.pledge_supply_share_bps), 10_000).unwrap_or(0);
    let consensus = mul_div_floor(share, qa, base.max(network).max(1)).unwrap_or(0);
    keeper::add(reward, consensus)
}

/// `max(min(bps x IP, bps x IP x age / divisor), max(min_bps x IP, fault_bps x fault fee))`.
pub fn termination_fee(p: &StorageParams, ip: u128, age: i64, fault_fee: u128) -> u128 {
    let full = mul_div_floor(ip, u128::from(p.termination_fee_bps), 10_000).unwrap_or(0);
    let aged =
        mul_div_floor(full, age.max(0) as u128, p.termination_age_divisor as u128).unwrap_or(full);
    let floor_ip = mul_div_floor(ip, u128::from(p.termination_min_bps), 10_000).unwrap_or(0);
    let floor_ff =
        mul_div_floor(fault_fee, u128::from(p.termination_fault_fee_bps), 10_000).unwrap_or(0);
    full.min(aged).max(floor_ip.max(floor_ff))
}

/// Mints what the schedule owes up to now into the reward account and adds it to the pool of
/// QA power; baseline minting accrues `min(network raw power, baseline)` per second.
pub fn mint_block_reward(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
) -> Result<(), StoaError> {
    let mut st = REWARDS.get(ctx)?.unwrap_or_default();
    let now = ctx.block_time();
    let t = chain_age(ctx)?;
    let raw = u128::from(POWER.get(ctx)?.map(|n| n.raw).unwrap_or(0));
    let mut cumsum = keeper::amount(&st.capped_power_sum)?;
    if st.last_minted_at != 0 && now > st.last_minted_at {
        let dt = (now - st.last_minted_at) as u128;
        let capped = raw.min(baseline_power(p, t)?);
        cumsum = cumsum.saturating_add(capped.saturating_mul(dt));
    }
    let simple = simple_minted(p, t)?.max(keeper::amount(&st.minted_simple)?);
    let baseline = baseline_minted(p, cumsum)?.max(keeper::amount(&st.minted_baseline)?);
    let new = keeper::sub(simple, keeper::amount(&st.minted_simple)?, "simple")?
        .checked_add(keeper::sub(
            baseline,
            keeper::amount(&st.minted_baseline)?,
            "baseline",
        )?)
        .ok_or_else(|| overflow("mint"))?;
    if new > 0 {
        bank.mint(ctx, keeper::REWARD, &keeper::coins(p, new)?)?;
        let mut pool = crate::rewards::load_pool(&st)?;
        pool.add_reward(new)?;
        st.pool = prost::Message::encode_to_vec(&pool);
    }
    st.minted_simple = simple.to_string();
    st.minted_baseline = baseline.to_string();
    st.capped_power_sum = cumsum.to_string();
    st.last_block_reward = new.to_string();
    st.last_minted_at = now;
    REWARDS.save(ctx, &st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::YEAR;

    #[test]
    fn simple_minting_halves_every_half_life_and_stays_under_the_cap() {
        let p = StorageParams::default();
        let total = p.simple_total;
        assert_eq!(simple_minted(&p, 0).unwrap(), 0);
        // After one half-life half is minted, after two three quarters (within a unit).
        let one = simple_minted(&p, 6 * YEAR).unwrap();
        assert!(one.abs_diff(total / 2) <= 1, "{one}");
        let two = simple_minted(&p, 12 * YEAR).unwrap();
        assert!(two.abs_diff(total / 4 * 3) <= 1, "{two}");
        let mut last = 0;
        for years in [1, 2, 5, 30, 300, 3000] {
            let m = simple_minted(&p, years * YEAR).unwrap();
            assert!(m >= last && m <= total);
            last = m;
        }
    }

    #[test]
    fn baseline_target_doubles_yearly_and_minting_follows_the_capped_sum() {
        let p = StorageParams::default();
        let b0 = p.baseline_initial_power;
        let b1 = baseline_power(&p, YEAR).unwrap();
        assert!(b1.abs_diff(2 * b0) <= 2, "{b1}");
        // Power exactly at the baseline for a whole year: the effective network time is one
        // year, so baseline minting equals baseline_total x (1 - 2^(-1/6)).
        // integral_0^Y b0 2^(t/Y) dt = b0 Y / ln 2.
        let r = (b0 as f64 * YEAR as f64 / std::f64::consts::LN_2) as u128;
        let got = baseline_minted(&p, r).unwrap() as f64;
        let want = p.baseline_total as f64 * (1.0 - 2f64.powf(-1.0 / 6.0));
        assert!((got - want).abs() / want < 1e-9, "{got} vs {want}");
        assert_eq!(baseline_minted(&p, 0).unwrap(), 0);
        assert!(baseline_minted(&p, u128::MAX / 4).unwrap() <= p.baseline_total);
    }

    #[test]
    fn termination_fee_between_its_bounds() {
        let p = StorageParams::default();
        // Young sector: the floor of 2% IP (fault fee small).
        assert_eq!(termination_fee(&p, 10_000, 0, 10), 200);
        // Past 140 days: the full 8.5%.
        assert_eq!(termination_fee(&p, 10_000, 200 * 86_400, 10), 850);
        // A large fault fee raises the floor to 1.05 x fault fee.
        assert_eq!(termination_fee(&p, 10_000, 0, 1_000), 1_050);
    }
}
