//! What the module needs from the bank (send and mint/burn, one small trait), the coin moves
//! it makes through it, the stake pools (nominator shares) and its invariants.

use crate::error;
use crate::issuance::{issuance_due, MAX_ISSUANCE};
use crate::params::IntelligenceParams;
use crate::state::{DELEGATES, ISSUED, SHARES, SUBNETS, UNDISTRIBUTED};
use crate::{EMISSION_ACCOUNT, LOCK_ACCOUNT, STAKE_ACCOUNT};
use stoa_bank::{BankMint, BankSend};
use stoa_framework::fixed::{mul_div_ceil, mul_div_floor};
use stoa_framework::{params, sdk, Address, Coin, Coins, Ctx, Order, StoaError};
use stoa_proto::intelligence::v1::Delegate;

/// The keeper the module moves MIND through.
pub trait IntelBank: BankSend + BankMint + Send + Sync + 'static {}

impl<T: BankSend + BankMint + Send + Sync + 'static> IntelBank for T {}

pub fn coins(ctx: &mut Ctx<'_>, amount: u128) -> Result<Coins, StoaError> {
    let denom = params::load::<IntelligenceParams>(ctx)?.denom.clone();
    Coins::from_list(vec![Coin::new(amount, denom)])
}

pub fn denom(ctx: &mut Ctx<'_>) -> Result<String, StoaError> {
    Ok(params::load::<IntelligenceParams>(ctx)?.denom.clone())
}

/// Pays `amount` from a module account to an address (nothing for 0).
pub fn pay(
    bank: &impl IntelBank,
    ctx: &mut Ctx<'_>,
    from_module: &str,
    to: &Address,
    amount: u128,
) -> Result<(), StoaError> {
    if amount == 0 {
        return Ok(());
    }
    let c = coins(ctx, amount)?;
    bank.send_from_module(ctx, from_module, to, &c)
}

pub fn move_between(
    bank: &impl IntelBank,
    ctx: &mut Ctx<'_>,
    from: &str,
    to: &str,
    amount: u128,
) -> Result<(), StoaError> {
    if amount == 0 {
        return Ok(());
    }
    let c = coins(ctx, amount)?;
    bank.send_between_modules(ctx, from, to, &c)
}

/// Takes `amount` from `from` into a module account, refusing clearly when the balance is short.
pub fn collect(
    bank: &impl IntelBank,
    ctx: &mut Ctx<'_>,
    from: &Address,
    module: &str,
    amount: u128,
) -> Result<(), StoaError> {
    if amount == 0 {
        return Ok(());
    }
    let d = denom(ctx)?;
    let have = bank.balance(ctx, from, &d)?;
    if have < amount {
        return Err(
            error::INSUFFICIENT_BALANCE.with(format!("{from} has {have}{d}, needs {amount}{d}"))
        );
    }
    let c = coins(ctx, amount)?;
    bank.send_to_module(ctx, from, module, &c)
}

pub fn total_shares(d: &Delegate) -> Result<u128, StoaError> {
    if d.total_shares.is_empty() {
        return Ok(0);
    }
    d.total_shares
        .parse()
        .map_err(|_| sdk::LOGIC.with("delegate shares"))
}

/// Adds `amount` to a hotkey's pool for `coldkey`: shares at the pool's current price (the
/// first staker, or the first after the pool emptied, gets one share per umind).
pub fn add_stake(
    ctx: &mut Ctx<'_>,
    d: &mut Delegate,
    coldkey: &Address,
    amount: u128,
) -> Result<u128, StoaError> {
    let hotkey = Address::parse(&d.hotkey)?;
    let shares_total = total_shares(d)?;
    let stake = d.total_stake as u128;
    let new_shares = if shares_total == 0 || stake == 0 {
        amount
    } else {
        Ctx::checked(mul_div_floor(amount, shares_total, stake), "shares")?
    };
    let new_stake = Ctx::checked(stake.checked_add(amount), "stake")?;
    d.total_stake = u64::try_from(new_stake).map_err(|_| sdk::OVERFLOW.with("stake"))?;
    d.total_shares = Ctx::checked(shares_total.checked_add(new_shares), "shares")?.to_string();
    let mine = SHARES.get(ctx, &(*coldkey, hotkey))?.unwrap_or(0);
    SHARES.save(
        ctx,
        &(*coldkey, hotkey),
        &Ctx::checked(mine.checked_add(new_shares), "shares")?,
    )?;
    DELEGATES.save(ctx, &hotkey, d)?;
    Ok(new_shares)
}

/// Takes `amount` out of a hotkey's pool for `coldkey`, burning the shares it is worth
/// (rounded up, so a withdrawal never takes more than its shares are worth).
pub fn remove_stake(
    ctx: &mut Ctx<'_>,
    d: &mut Delegate,
    coldkey: &Address,
    amount: u128,
) -> Result<(), StoaError> {
    let hotkey = Address::parse(&d.hotkey)?;
    let shares_total = total_shares(d)?;
    let stake = d.total_stake as u128;
    let mine = SHARES.get(ctx, &(*coldkey, hotkey))?.unwrap_or(0);
    let worth = if shares_total == 0 {
        0
    } else {
        Ctx::checked(mul_div_floor(mine, stake, shares_total), "stake value")?
    };
    if amount > worth {
        return Err(error::INSUFFICIENT_STAKE.with(format!(
            "{coldkey} holds {worth} on {hotkey}, asked {amount}"
        )));
    }
    let burn = Ctx::checked(mul_div_ceil(amount, shares_total, stake), "shares")?.min(mine);
    let left = mine - burn;
    if left == 0 {
        SHARES.remove(ctx, &(*coldkey, hotkey))?;
    } else {
        SHARES.save(ctx, &(*coldkey, hotkey), &left)?;
    }
    d.total_shares = (shares_total - burn).to_string();
    d.total_stake = u64::try_from(stake - amount).map_err(|_| sdk::OVERFLOW.with("stake"))?;
    DELEGATES.save(ctx, &hotkey, d)?;
    Ok(())
}

/// What `coldkey`'s shares of `d` are worth now.
pub fn stake_value(d: &Delegate, shares: u128) -> Result<u128, StoaError> {
    let t = total_shares(d)?;
    if t == 0 {
        return Ok(0);
    }
    Ctx::checked(
        mul_div_floor(shares, d.total_stake as u128, t),
        "stake value",
    )
}

/// The module's accounts hold exactly what its records say: the stake account the sum of the
/// pools, the lock account the subnets' locks, the emission account what is minted but not yet
/// paid; and MIND minted equals the issuance due by block time (clamped at the cap).
pub fn invariants(bank: &impl IntelBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let d = denom(ctx)?;
    let mut stake: u128 = 0;
    let mut shares_by_hotkey: std::collections::BTreeMap<Address, u128> = Default::default();
    for r in DELEGATES.iter(ctx, Order::Ascending).collect::<Vec<_>>() {
        let (hk, del) = r?;
        stake += del.total_stake as u128;
        shares_by_hotkey.insert(hk, total_shares(&del)?);
    }
    let mut held_shares: std::collections::BTreeMap<Address, u128> = Default::default();
    for r in SHARES.iter(ctx, Order::Ascending).collect::<Vec<_>>() {
        let ((_, hk), s) = r?;
        *held_shares.entry(hk).or_insert(0) += s;
    }
    for (hk, s) in &shares_by_hotkey {
        if held_shares.get(hk).copied().unwrap_or(0) != *s {
            return Err(error::INVARIANT.with(format!("shares of {hk} do not add up")));
        }
    }
    let addr = bank.module_address(ctx, STAKE_ACCOUNT)?;
    let held = bank.balance(ctx, &addr, &d)?;
    if held != stake {
        return Err(
            error::INVARIANT.with(format!("stake account holds {held}, stakes sum to {stake}"))
        );
    }
    let mut locked: u128 = 0;
    let mut pending: u128 = UNDISTRIBUTED.get(ctx)?.unwrap_or(0);
    for r in SUBNETS.iter(ctx, Order::Ascending).collect::<Vec<_>>() {
        let (_, s) = r?;
        locked += s.locked as u128;
        pending += s.pending_emission as u128;
    }
    let addr = bank.module_address(ctx, LOCK_ACCOUNT)?;
    let held = bank.balance(ctx, &addr, &d)?;
    if held != locked {
        return Err(
            error::INVARIANT.with(format!("lock account holds {held}, locks sum to {locked}"))
        );
    }
    let addr = bank.module_address(ctx, EMISSION_ACCOUNT)?;
    let held = bank.balance(ctx, &addr, &d)?;
    if held != pending {
        return Err(error::INVARIANT.with(format!("emission account holds {held}, owes {pending}")));
    }
    let issued = ISSUED.get(ctx)?.unwrap_or(0);
    let due = crate::emission::elapsed(ctx)?
        .map(issuance_due)
        .unwrap_or(0)
        .min(MAX_ISSUANCE);
    // Minting stops short of `due` only where the bank's cap on MIND (shared with genesis
    // test amounts) is reached first.
    let supply = bank.supply_of(ctx, &d)?;
    if issued > due || (issued < due && supply < MAX_ISSUANCE) {
        return Err(error::INVARIANT.with(format!("issued {issued}, due {due}")));
    }
    Ok(())
}
