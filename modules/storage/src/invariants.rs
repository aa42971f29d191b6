//! What must hold after every block: the market escrow account holds the sum of all escrow
//! balances (locked + free), and every balance's locked part is at most its total; the pledge
//! account holds the sectors' pledges plus the pre-commit deposits; minting never ran past the
//! schedule, and the reward account holds what the pool and the vesting tranches owe.

use crate::economics;
use crate::error;
use crate::keeper::{self, StorageBank, MARKET, PLEDGE, REWARD};
use crate::params::StorageParams;
use crate::rewards;
use crate::state::{ESCROW, PRECOMMITS, REWARDS, SECTORS};
use stoa_framework::{params, Ctx, Order, StoaError};

pub fn check(bank: &impl StorageBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let p = (*params::load::<StorageParams>(ctx)?).clone();
    let mut escrow = 0u128;
    let all: Vec<_> = ESCROW
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (a, b) in all {
        let (t, l) = (keeper::amount(&b.total)?, keeper::amount(&b.locked)?);
        if l > t {
            return Err(error::INVARIANT.with(format!("{a}: locked {l} > total {t}")));
        }
        escrow = keeper::add(escrow, t)?;
    }
    let addr = bank.module_address(ctx, MARKET)?;
    let held = bank.balance(ctx, &addr, &p.denom)?;
    if held != escrow {
        return Err(error::INVARIANT.with(format!(
            "market escrow holds {held}, balances sum to {escrow}"
        )));
    }
    let mut pledge = 0u128;
    let sectors: Vec<_> = SECTORS
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, s) in sectors {
        pledge = keeper::add(pledge, keeper::amount(&s.pledge)?)?;
    }
    let pcs: Vec<_> = PRECOMMITS
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, pc) in pcs {
        pledge = keeper::add(pledge, keeper::amount(&pc.deposit)?)?;
    }
    let addr = bank.module_address(ctx, PLEDGE)?;
    let held = bank.balance(ctx, &addr, &p.denom)?;
    if held != pledge {
        return Err(error::INVARIANT.with(format!(
            "pledge account holds {held}, sectors and pre-commits {pledge}"
        )));
    }
    let st = REWARDS.get(ctx)?.unwrap_or_default();
    let t = economics::chain_age(ctx)?;
    let simple = keeper::amount(&st.minted_simple)?;
    let baseline = keeper::amount(&st.minted_baseline)?;
    if simple > economics::simple_minted(&p, t)?
        || simple > p.simple_total
        || baseline > p.baseline_total
    {
        return Err(error::INVARIANT.with(format!(
            "minted {simple} + {baseline} past the schedule at {t} s"
        )));
    }
    let owed = rewards::owed(ctx)?;
    let addr = bank.module_address(ctx, REWARD)?;
    let held = bank.balance(ctx, &addr, &p.denom)?;
    if held != owed {
        return Err(error::INVARIANT.with(format!("reward account holds {held}, owes {owed}")));
    }
    Ok(())
}
