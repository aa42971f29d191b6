//! The bank keeper: the only way coins move. Other modules call these functions (transfer,
//! escrow to and from module accounts, mint, burn); each checks its arithmetic and emits the
//! Cosmos SDK events.

use crate::error;
use crate::events;
use crate::state::{self, Account};
use crate::state_key;
use stoa_framework::{
    module_address, sdk, Address, Coin, Coins, Ctx, ModuleAccountSpec, StoaError,
};

/// Zero-sized: all state lives in the store, so any module may hold a copy.
#[derive(Clone, Copy, Debug, Default)]
pub struct BankKeeper;

impl BankKeeper {
    pub fn account(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Option<Account>, StoaError> {
        state::read_account(ctx, addr)
    }

    /// The account at `addr`, created with the next account number if it does not exist yet
    /// (as Cosmos SDK creates the recipient of a first transfer).
    pub fn ensure_account(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Account, StoaError> {
        if let Some(acc) = state::read_account(ctx, addr)? {
            return Ok(acc);
        }
        let acc = Account {
            address: *addr,
            account_number: state::next_account_number(ctx)?,
            sequence: 0,
            pub_key: None,
        };
        state::write_account(ctx, &acc)?;
        Ok(acc)
    }

    pub fn set_account(ctx: &mut Ctx<'_>, acc: &Account) -> Result<(), StoaError> {
        state::write_account(ctx, acc)
    }

    pub fn balance(ctx: &mut Ctx<'_>, addr: &Address, denom: &str) -> Result<u128, StoaError> {
        state::read_balance(ctx, addr, denom)
    }

    pub fn balances(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Coins, StoaError> {
        Coins::from_list(
            state::read_balances(ctx, addr)?
                .into_iter()
                .map(|(d, a)| Coin::new(a, d)),
        )
    }

    pub fn supply_of(ctx: &mut Ctx<'_>, denom: &str) -> Result<u128, StoaError> {
        state::read_supply(ctx, denom)
    }

    pub fn total_supply(ctx: &mut Ctx<'_>) -> Result<Coins, StoaError> {
        Coins::from_list(
            state::read_all_supply(ctx)?
                .into_iter()
                .map(|(d, a)| Coin::new(a, d)),
        )
    }

    /// Moves `amount` from one account to another; fails without a change when `from` lacks
    /// any of it. Creates the recipient's account on first receipt.
    pub fn transfer(
        ctx: &mut Ctx<'_>,
        from: &Address,
        to: &Address,
        amount: &Coins,
    ) -> Result<(), StoaError> {
        for (denom, value) in amount.pairs() {
            let key = state_key::balance(from, denom);
            let have = state::read_balance_at(ctx, &key)?;
            let left = have.checked_sub(value).ok_or_else(|| {
                sdk::INSUFFICIENT_FUNDS.with(format!(
                    "spendable balance {have}{denom} is smaller than {value}{denom}"
                ))
            })?;
            state::write_balance_at(ctx, key, left)?;
        }
        Self::ensure_account(ctx, to)?;
        for (denom, value) in amount.pairs() {
            let key = state_key::balance(to, denom);
            let have = state::read_balance_at(ctx, &key)?;
            let sum = have
                .checked_add(value)
                .ok_or_else(|| sdk::OVERFLOW.with(format!("balance of {to} in {denom}")))?;
            state::write_balance_at(ctx, key, sum)?;
        }
        for e in events::transfer(from, to, amount) {
            ctx.emit(e);
        }
        Ok(())
    }

    /// Escrow: an account pays into a module account.
    pub fn send_to_module(
        ctx: &mut Ctx<'_>,
        from: &Address,
        module: &str,
        amount: &Coins,
    ) -> Result<(), StoaError> {
        let to = Self::module_account(ctx, module)?;
        Self::transfer(ctx, from, &to, amount)
    }

    /// Payout or refund out of a module account.
    pub fn send_from_module(
        ctx: &mut Ctx<'_>,
        module: &str,
        to: &Address,
        amount: &Coins,
    ) -> Result<(), StoaError> {
        let from = Self::module_account(ctx, module)?;
        Self::transfer(ctx, &from, to, amount)
    }

    /// Creates coins in a module account that has mint permission, within each denom's cap.
    pub fn mint(ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<(), StoaError> {
        let acc = state::read_module_account_full(ctx, module)?
            .ok_or_else(|| error::UNKNOWN_MODULE_ACCOUNT.with(module.to_string()))?;
        if !acc.mint {
            return Err(error::NO_MINT_PERMISSION.with(module.to_string()));
        }
        let params = state::read_params(ctx)?;
        let addr = acc.address;
        for coin in amount.iter() {
            let info = params
                .denom(&coin.denom)
                .ok_or_else(|| error::UNKNOWN_DENOM.with(coin.denom.clone()))?;
            let supply = state::read_supply(ctx, &coin.denom)?;
            let new_supply = supply
                .checked_add(coin.amount)
                .ok_or_else(|| sdk::OVERFLOW.with("supply"))?;
            if info.max_supply.is_some_and(|cap| new_supply > cap) {
                return Err(error::SUPPLY_CAP_EXCEEDED
                    .with(format!("minting {coin} would make supply {new_supply}")));
            }
            state::write_supply(ctx, &coin.denom, new_supply)?;
            let key = state_key::balance(&addr, &coin.denom);
            let bal = state::read_balance_at(ctx, &key)?;
            let bal = bal
                .checked_add(coin.amount)
                .ok_or_else(|| sdk::OVERFLOW.with("balance"))?;
            state::write_balance_at(ctx, key, bal)?;
        }
        for e in events::mint(&addr, amount) {
            ctx.emit(e);
        }
        Ok(())
    }

    /// Destroys coins held by a module account that has burn permission.
    pub fn burn(ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<(), StoaError> {
        let acc = state::read_module_account_full(ctx, module)?
            .ok_or_else(|| error::UNKNOWN_MODULE_ACCOUNT.with(module.to_string()))?;
        if !acc.burn {
            return Err(error::NO_BURN_PERMISSION.with(module.to_string()));
        }
        let addr = acc.address;
        for coin in amount.iter() {
            let key = state_key::balance(&addr, &coin.denom);
            let bal = state::read_balance_at(ctx, &key)?;
            let left = bal.checked_sub(coin.amount).ok_or_else(|| {
                sdk::INSUFFICIENT_FUNDS.with(format!("module {module} holds {bal}{}", coin.denom))
            })?;
            state::write_balance_at(ctx, key, left)?;
            let supply = state::read_supply(ctx, &coin.denom)?;
            let supply = supply
                .checked_sub(coin.amount)
                .ok_or_else(|| sdk::LOGIC.with("supply below burn"))?;
            state::write_supply(ctx, &coin.denom, supply)?;
        }
        for e in events::burn(&addr, amount) {
            ctx.emit(e);
        }
        Ok(())
    }

    /// Registers module accounts and their permissions (the app passes every module's list at
    /// genesis) and creates their accounts.
    pub fn register_module_accounts(
        ctx: &mut Ctx<'_>,
        specs: &[ModuleAccountSpec],
    ) -> Result<(), StoaError> {
        for spec in specs {
            state::write_module_account(ctx, spec)?;
            Self::ensure_account(ctx, &module_address(spec.name))?;
        }
        Ok(())
    }

    /// The address of a registered module account.
    pub fn module_account(ctx: &mut Ctx<'_>, module: &str) -> Result<Address, StoaError> {
        match state::read_module_account_full(ctx, module)? {
            Some(m) => Ok(m.address),
            None => Err(error::UNKNOWN_MODULE_ACCOUNT.with(module.to_string())),
        }
    }
}

/// Total supply of every denom equals the sum of all balances (module accounts included).
pub fn supply_invariant(ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let mut sums: std::collections::BTreeMap<String, u128> = std::collections::BTreeMap::new();
    for (_, denom, amount) in state::read_all_balances(ctx)? {
        let slot = sums.entry(denom).or_insert(0);
        *slot = slot
            .checked_add(amount)
            .ok_or_else(|| error::SUPPLY_INVARIANT.with("sum overflows"))?;
    }
    let supply: std::collections::BTreeMap<String, u128> =
        state::read_all_supply(ctx)?.into_iter().collect();
    if sums != supply {
        return Err(error::SUPPLY_INVARIANT.with(format!("supply {supply:?} != balances {sums:?}")));
    }
    Ok(())
}
