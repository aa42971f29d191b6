//! What the storage module needs from the bank (send, mint and burn through module accounts),
//! and the market escrow books kept on top of it: every address's total and locked balance,
//! whose sum the escrow account holds.

use crate::error;
use crate::params::StorageParams;
use crate::state::ESCROW;
use stoa_bank::{BankMint, BankSend};
use stoa_framework::{Address, Coin, Coins, Ctx, StoaError};
use stoa_proto::storage::v1::EscrowBalance;

/// The keeper the module pays through.
pub trait StorageBank: BankSend + BankMint + Send + Sync + 'static {}

impl<T: BankSend + BankMint + Send + Sync + 'static> StorageBank for T {}

/// Module account holding the market escrow.
pub const MARKET: &str = "storage_market";
/// Module account holding pre-commit deposits and initial pledges.
pub const PLEDGE: &str = "storage_pledge";
/// Module account rewards are minted into (mint permission).
pub const REWARD: &str = "storage_reward";
/// Module account slashed funds pass through to be burned (burn permission).
pub const BURN: &str = "storage_burn";

pub fn amount(s: &str) -> Result<u128, StoaError> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<u128>()
        .map_err(|_| error::BAD_AMOUNT.with(format!("{s:?} is not an amount")))
}

pub fn coins(p: &StorageParams, n: u128) -> Result<Coins, StoaError> {
    if n == 0 {
        return Ok(Coins::new());
    }
    Coins::from_list(vec![Coin::new(n, p.denom.clone())])
}

pub fn add(a: u128, b: u128) -> Result<u128, StoaError> {
    Ctx::checked(a.checked_add(b), "amount")
}

pub fn sub(a: u128, b: u128, what: &str) -> Result<u128, StoaError> {
    a.checked_sub(b)
        .ok_or_else(|| error::INVARIANT.with(format!("{what}: {a} - {b} underflows")))
}

pub fn balance(ctx: &mut Ctx<'_>, addr: &Address) -> Result<(u128, u128), StoaError> {
    Ok(match ESCROW.get(ctx, addr)? {
        Some(b) => (amount(&b.total)?, amount(&b.locked)?),
        None => (0, 0),
    })
}

pub fn set_balance(
    ctx: &mut Ctx<'_>,
    addr: &Address,
    total: u128,
    locked: u128,
) -> Result<(), StoaError> {
    if locked > total {
        return Err(error::INVARIANT.with(format!("{addr}: locked {locked} > total {total}")));
    }
    if total == 0 {
        return ESCROW.remove(ctx, addr);
    }
    ESCROW.save(
        ctx,
        addr,
        &EscrowBalance {
            address: addr.to_string(),
            total: total.to_string(),
            locked: locked.to_string(),
        },
    )
}

/// Locks `n` of `addr`'s free balance.
pub fn lock(ctx: &mut Ctx<'_>, addr: &Address, n: u128) -> Result<(), StoaError> {
    let (total, locked) = balance(ctx, addr)?;
    let free = total - locked;
    if free < n {
        return Err(error::INSUFFICIENT_ESCROW.with(format!("{addr}: free {free}, needs {n}")));
    }
    set_balance(ctx, addr, total, add(locked, n)?)
}

pub fn unlock(ctx: &mut Ctx<'_>, addr: &Address, n: u128) -> Result<(), StoaError> {
    let (total, locked) = balance(ctx, addr)?;
    set_balance(ctx, addr, total, sub(locked, n, "unlock")?)
}

/// Moves `n` of `from`'s locked funds to `to`'s free balance (a deal payment).
pub fn pay_locked(
    ctx: &mut Ctx<'_>,
    from: &Address,
    to: &Address,
    n: u128,
) -> Result<(), StoaError> {
    if n == 0 {
        return Ok(());
    }
    let (total, locked) = balance(ctx, from)?;
    set_balance(
        ctx,
        from,
        sub(total, n, "payer")?,
        sub(locked, n, "payer locked")?,
    )?;
    let (total, locked) = balance(ctx, to)?;
    set_balance(ctx, to, add(total, n)?, locked)
}

/// Takes `n` of `addr`'s locked funds out of the escrow into module account `to`.
pub fn take_locked(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    addr: &Address,
    n: u128,
    to: &str,
) -> Result<(), StoaError> {
    if n == 0 {
        return Ok(());
    }
    let (total, locked) = balance(ctx, addr)?;
    set_balance(
        ctx,
        addr,
        sub(total, n, "take")?,
        sub(locked, n, "take locked")?,
    )?;
    bank.send_between_modules(ctx, MARKET, to, &coins(p, n)?)
}

/// Takes `n` of `addr`'s free funds out of the escrow into module account `to`.
pub fn take_free(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    addr: &Address,
    n: u128,
    to: &str,
) -> Result<(), StoaError> {
    lock(ctx, addr, n)?;
    take_locked(bank, ctx, p, addr, n, to)
}

/// Pays `n` from module account `from` into `addr`'s free escrow balance.
pub fn credit(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    from: &str,
    addr: &Address,
    n: u128,
) -> Result<(), StoaError> {
    if n == 0 {
        return Ok(());
    }
    bank.send_between_modules(ctx, from, MARKET, &coins(p, n)?)?;
    let (total, locked) = balance(ctx, addr)?;
    set_balance(ctx, addr, add(total, n)?, locked)
}

/// Burns `n` held by module account `from`.
pub fn burn(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    from: &str,
    n: u128,
) -> Result<(), StoaError> {
    if n == 0 {
        return Ok(());
    }
    let c = coins(p, n)?;
    if from != BURN {
        bank.send_between_modules(ctx, from, BURN, &c)?;
    }
    bank.burn(ctx, BURN, &c)
}
