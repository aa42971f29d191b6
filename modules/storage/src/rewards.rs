//! Block rewards by QA power: a reward-per-share pool (each provider's shares are its QA
//! power), claimed lazily; a claim pays 25% liquid to the owner and puts 75% in a linear
//! vesting tranche per day (so a provider holds at most vesting_seconds / 1 day tranches).

use crate::keeper::{self, StorageBank, REWARD};
use crate::params::StorageParams;
use crate::state::{HOLDERS, REWARDS, VESTING};
use prost::Message;
use stoa_framework::rewards::RewardPool;
use stoa_framework::vesting::Vesting;
use stoa_framework::{sdk, Address, Ctx, Order, StoaError};
use stoa_proto::storage::v1::RewardState;

const BUCKET: i64 = 86_400;

pub fn load_pool(st: &RewardState) -> Result<RewardPool, StoaError> {
    RewardPool::decode(st.pool.as_slice()).map_err(|e| sdk::LOGIC.with(format!("pool: {e}")))
}

/// Adds (or removes, when `add` is false) `qa` shares of `provider`.
pub fn change_shares(
    ctx: &mut Ctx<'_>,
    provider: &Address,
    qa: u128,
    add: bool,
) -> Result<(), StoaError> {
    if qa == 0 {
        return Ok(());
    }
    let mut st = REWARDS.get(ctx)?.unwrap_or_default();
    let mut pool = load_pool(&st)?;
    let mut h = HOLDERS.get(ctx, provider)?.unwrap_or_default();
    if add {
        pool.add_shares(&mut h, qa)?;
    } else {
        pool.remove_shares(&mut h, qa)?;
    }
    st.pool = pool.encode_to_vec();
    REWARDS.save(ctx, &st)?;
    HOLDERS.save(ctx, provider, &h)
}

pub fn pending(ctx: &mut Ctx<'_>, provider: &Address) -> Result<u128, StoaError> {
    let st = REWARDS.get(ctx)?.unwrap_or_default();
    let pool = load_pool(&st)?;
    match HOLDERS.get(ctx, provider)? {
        Some(h) => pool.pending(&h),
        None => Ok(0),
    }
}

/// Claims the provider's pending reward (25% liquid, 75% into today's tranche) and pays what
/// has vested; returns (liquid, newly vesting, vested paid).
pub fn withdraw(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
) -> Result<(u128, u128, u128), StoaError> {
    let now = ctx.block_time();
    let mut st = REWARDS.get(ctx)?.unwrap_or_default();
    let mut pool = load_pool(&st)?;
    let mut h = HOLDERS.get(ctx, provider)?.unwrap_or_default();
    let claimed = pool.claim(&mut h)?;
    st.pool = pool.encode_to_vec();
    REWARDS.save(ctx, &st)?;
    HOLDERS.save(ctx, provider, &h)?;
    let vesting =
        stoa_framework::fixed::mul_div_floor(claimed, u128::from(p.vesting_share_bps), 10_000)
            .unwrap_or(0);
    let liquid = claimed - vesting;
    if vesting > 0 {
        let bucket = now - now.rem_euclid(BUCKET);
        let (total, start, paid) =
            VESTING
                .get(ctx, &(*provider, bucket))?
                .unwrap_or(("0".into(), now, "0".into()));
        let total = keeper::add(keeper::amount(&total)?, vesting)?;
        VESTING.save(ctx, &(*provider, bucket), &(total.to_string(), start, paid))?;
    }
    // Pay what vested in every tranche (at most one per day of the vesting period).
    let tranches: Vec<_> = VESTING
        .prefix_iter(ctx, provider, Order::Ascending)
        .collect::<Result<_, _>>()?;
    let mut vested_paid = 0u128;
    for ((_, bucket), (total, start, paid)) in tranches {
        let total_n = keeper::amount(&total)?;
        let paid_n = keeper::amount(&paid)?;
        let v = Vesting::with_duration(total_n, start, p.vesting_seconds, None)?;
        let now_claim = v.claimable(now, paid_n)?;
        let paid_n = keeper::add(paid_n, now_claim)?;
        vested_paid = keeper::add(vested_paid, now_claim)?;
        if paid_n >= total_n {
            VESTING.remove(ctx, &(*provider, bucket))?;
        } else {
            VESTING.save(
                ctx,
                &(*provider, bucket),
                &(total, start, paid_n.to_string()),
            )?;
        }
    }
    let out = keeper::add(liquid, vested_paid)?;
    if out > 0 {
        bank.send_from_module(ctx, REWARD, provider, &keeper::coins(p, out)?)?;
    }
    Ok((liquid, vesting, vested_paid))
}

/// A provider's withdrawn rewards not yet paid out (still vesting, or vested and unpaid).
pub fn vesting_of(ctx: &mut Ctx<'_>, provider: &Address) -> Result<u128, StoaError> {
    let tranches: Vec<_> = VESTING
        .prefix_iter(ctx, provider, Order::Ascending)
        .collect::<Result<_, _>>()?;
    let mut sum = 0u128;
    for (_, (total, _, paid)) in tranches {
        sum = keeper::add(
            sum,
            keeper::sub(keeper::amount(&total)?, keeper::amount(&paid)?, "vesting")?,
        )?;
    }
    Ok(sum)
}

/// What the reward account must hold: the pool's balance plus unpaid vesting.
pub fn owed(ctx: &mut Ctx<'_>) -> Result<u128, StoaError> {
    let st = REWARDS.get(ctx)?.unwrap_or_default();
    let mut sum = load_pool(&st)?.balance()?;
    let all: Vec<_> = VESTING
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, (total, _, paid)) in all {
        sum = keeper::add(
            sum,
            keeper::sub(keeper::amount(&total)?, keeper::amount(&paid)?, "vesting")?,
        )?;
    }
    Ok(sum)
}
