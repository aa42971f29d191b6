//! What the compute module needs from other modules (the bank's send and mint halves, as one
//! small trait), coin moves that skip zero amounts, and what it promises: the invariants over
//! its four accounts (escrow, stake, rewards, buyback).

use crate::error;
use crate::state::*;
use crate::{BUYBACK_ACCOUNT, ESCROW, REWARDS, STAKING};
use std::collections::BTreeMap;
use stoa_bank::{BankMint, BankSend};
use stoa_framework::stream::Stream;
use stoa_framework::{sdk, Address, Coin, Coins, Ctx, Order, StoaError};

/// The keeper the module moves coins through.
pub trait ComputeBank: BankSend + BankMint + Send + Sync + 'static {}

impl<T: BankSend + BankMint + Send + Sync + 'static> ComputeBank for T {}

/// A decimal amount of base units (the empty string is 0).
pub fn amt(s: &str, what: &str) -> Result<u128, StoaError> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse()
        .map_err(|_| error::BAD_AMOUNT.with(format!("{what}: {s:?} is not an amount")))
}

pub fn coins(amount: u128, denom: &str) -> Result<Coins, StoaError> {
    Coins::from_list(vec![Coin::new(amount, denom)])
}

pub fn to_module(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    from: &Address,
    module: &str,
    amount: u128,
    denom: &str,
) -> Result<(), StoaError> {
    if amount > 0 {
        bank.send_to_module(ctx, from, module, &coins(amount, denom)?)?;
    }
    Ok(())
}

pub fn from_module(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    module: &str,
    to: &Address,
    amount: u128,
    denom: &str,
) -> Result<(), StoaError> {
    if amount > 0 {
        bank.send_from_module(ctx, module, to, &coins(amount, denom)?)?;
    }
    Ok(())
}

pub fn between(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    from: &str,
    to: &str,
    amount: u128,
    denom: &str,
) -> Result<(), StoaError> {
    if amount > 0 {
        bank.send_between_modules(ctx, from, to, &coins(amount, denom)?)?;
    }
    Ok(())
}

pub fn burn(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    module: &str,
    amount: u128,
    denom: &str,
) -> Result<(), StoaError> {
    if amount > 0 {
        bank.burn(ctx, module, &coins(amount, denom)?)?;
    }
    Ok(())
}

fn add(m: &mut BTreeMap<String, u128>, denom: &str, v: u128) -> Result<(), StoaError> {
    let slot = m.entry(denom.to_string()).or_insert(0);
    *slot = Ctx::checked(slot.checked_add(v), "invariant sum")?;
    Ok(())
}

fn holds_exactly(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    module: &str,
    owed: &BTreeMap<String, u128>,
) -> Result<(), StoaError> {
    let addr = bank.module_address(ctx, module)?;
    let held = bank.balances(ctx, &addr)?;
    for (denom, amount) in owed {
        if held.amount_of(denom) != *amount {
            return Err(error::INVARIANT.with(format!(
                "{module} holds {} {denom}, owes {amount}",
                held.amount_of(denom)
            )));
        }
    }
    if held.denoms().any(|d| !owed.contains_key(d)) {
        return Err(error::INVARIANT.with(format!("{module} holds {held}, owes {owed:?}")));
    }
    Ok(())
}

/// Escrow = open orders' deposits + open leases' remaining escrow; buyback = its pool; stake
/// = every device's self- and co-stake plus unbonding; rewards = the emission pool's balance
/// plus every staker pool's.
pub fn invariants(bank: &impl ComputeBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let mut escrow = BTreeMap::new();
    let open: Vec<u64> = OPEN_ORDERS
        .iter(ctx, Order::Ascending)
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    for id in open {
        let o = ORDERS.load(ctx, &id)?;
        add(&mut escrow, &o.denom, amt(&o.deposit, "deposit")?)?;
    }
    let leases: Vec<_> = LEASES
        .map()
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, l) in leases.iter().filter(|(_, l)| l.state == "active") {
        for p in &l.parts {
            let s = <Stream as prost::Message>::decode(p.stream.as_slice())
                .map_err(|e| sdk::LOGIC.with(format!("lease stream: {e}")))?;
            add(&mut escrow, &l.denom, s.held()?)?;
        }
    }
    holds_exactly(bank, ctx, ESCROW, &escrow)?;

    let p = crate::params::load(ctx)?;
    let mut bb = BTreeMap::new();
    let b = BUYBACK.load_or_default(ctx)?;
    add(&mut bb, &p.stable_denom, amt(&b.pool, "buyback pool")?)?;
    holds_exactly(bank, ctx, BUYBACK_ACCOUNT, &bb)?;

    let mut stake = BTreeMap::new();
    let devices: Vec<_> = DEVICES
        .map()
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, d) in &devices {
        add(
            &mut stake,
            &p.stake_denom,
            amt(&d.self_stake, "self stake")?,
        )?;
        add(&mut stake, &p.stake_denom, amt(&d.co_stake, "co stake")?)?;
    }
    let unb: Vec<_> = UNBONDINGS
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, u) in unb {
        add(&mut stake, &p.stake_denom, amt(&u.amount, "unbonding")?)?;
    }
    holds_exactly(bank, ctx, STAKING, &stake)?;

    let mut rewards = BTreeMap::new();
    let pool = EMISSION_POOL.load_or_default(ctx)?;
    add(&mut rewards, &p.stake_denom, pool.balance()?)?;
    let pools: Vec<_> = STAKER_POOLS
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for ((_, denom), sp) in pools {
        add(&mut rewards, &denom, sp.balance()?)?;
    }
    holds_exactly(bank, ctx, REWARDS, &rewards)
}
