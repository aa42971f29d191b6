//! The bank keeper: the only way coins move. Other modules see it through small traits (read
//! balances; send between accounts and module accounts; mint and burn by permission; accounts
//! for the ante and the CLI) and declare the one they need. Each call runs in the bank's write
//! scope, checks its arithmetic and emits the Cosmos SDK events.

use crate::account::Account;
use crate::params::BankParams;
use crate::state::{self, Perms, ACCOUNTS, BALANCES, MODULE_ACCOUNTS, SUPPLY};
use crate::{error, events, MODULE_NAME};
use stoa_framework::{
    module_address, params, sdk, Address, Coin, Coins, Ctx, ModuleAccountSpec, Order, State,
    StoaError,
};

type Result<T> = std::result::Result<T, StoaError>;

/// Balances and supply, read-only.
pub trait BankView {
    fn balance(&self, ctx: &mut Ctx<'_>, addr: &Address, denom: &str) -> Result<u128>;
    /// Every balance of an account, ordered by denom.
    fn balances(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<Coins>;
    fn supply_of(&self, ctx: &mut Ctx<'_>, denom: &str) -> Result<u128>;
    /// The supply of every denom.
    fn total_supply(&self, ctx: &mut Ctx<'_>) -> Result<Coins>;
    /// The store key of a balance, for `/store/bank/key` queries with proofs.
    fn balance_key(&self, addr: &Address, denom: &str) -> Vec<u8>;
}

/// Moving coins: between accounts, and into, out of and between registered module accounts
/// (escrow, reward pools). Every send fails without a change when the payer lacks any of it.
pub trait BankSend: BankView {
    fn send(&self, ctx: &mut Ctx<'_>, from: &Address, to: &Address, amount: &Coins) -> Result<()>;
    fn send_to_module(
        &self,
        ctx: &mut Ctx<'_>,
        from: &Address,
        module: &str,
        amount: &Coins,
    ) -> Result<()>;
    fn send_from_module(
        &self,
        ctx: &mut Ctx<'_>,
        module: &str,
        to: &Address,
        amount: &Coins,
    ) -> Result<()>;
    fn send_between_modules(
        &self,
        ctx: &mut Ctx<'_>,
        from: &str,
        to: &str,
        amount: &Coins,
    ) -> Result<()>;
    /// The address of a registered module account (an error for any other name).
    fn module_address(&self, ctx: &mut Ctx<'_>, module: &str) -> Result<Address>;
}

/// Creating and destroying coins in a module account, by the permissions it was registered
/// with; minting stays within each denom's cap.
pub trait BankMint {
    fn mint(&self, ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<()>;
    fn burn(&self, ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<()>;
}

/// Accounts (number, sequence, public key): what the ante, the block lifecycle and `stoad`
/// use instead of the bank's internals.
pub trait AuthKeeper {
    fn account(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<Option<Account>>;
    /// As [`AuthKeeper::account`], with the stored value's length (0 when absent): what the
    /// read cost in gas beyond the flat read cost.
    fn account_sized(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<(Option<Account>, u64)>;
    /// The account, created with the next number if it does not exist yet.
    fn ensure_account(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<Account>;
    fn set_account(&self, ctx: &mut Ctx<'_>, acc: &Account) -> Result<()>;
    /// The account as it stands in `state`, without gas or a context, so that many threads
    /// can look up at once (the block's signature pre-verification).
    fn peek_account(&self, state: &State, addr: &Address) -> Option<Account>;
    /// Registers module accounts with their permissions and creates their accounts.
    fn register_module_accounts(
        &self,
        ctx: &mut Ctx<'_>,
        specs: &[ModuleAccountSpec],
    ) -> Result<()>;
    /// Whether a module account of that name is registered.
    fn has_module_account(&self, ctx: &mut Ctx<'_>, module: &str) -> Result<bool>;
}

/// The bank's keeper. Zero-sized: all state lives in the store, so any module may hold one.
#[derive(Clone, Copy, Debug, Default)]
pub struct BankKeeper;

impl BankKeeper {
    /// A balance as it stands in `state`, without gas (the ante's choice of a denom to price
    /// an absent fee's transfer, which must not cost a read of its own).
    pub fn peek_balance(state: &State, addr: &Address, denom: &str) -> u128 {
        state::BALANCES
            .peek(state, &(*addr, denom.to_string()))
            .ok()
            .flatten()
            .unwrap_or(0)
    }
}

impl BankView for BankKeeper {
    fn balance(&self, ctx: &mut Ctx<'_>, addr: &Address, denom: &str) -> Result<u128> {
        state::balance(ctx, addr, denom)
    }

    fn balances(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<Coins> {
        let list = BALANCES
            .prefix_iter(ctx, addr, Order::Ascending)
            .map(|e| e.map(|((_, denom), amount)| Coin::new(amount, denom)))
            .collect::<Result<Vec<_>>>()?;
        Coins::from_list(list)
    }

    fn supply_of(&self, ctx: &mut Ctx<'_>, denom: &str) -> Result<u128> {
        state::supply(ctx, denom)
    }

    fn total_supply(&self, ctx: &mut Ctx<'_>) -> Result<Coins> {
        let list = SUPPLY
            .iter(ctx, Order::Ascending)
            .map(|e| e.map(|(denom, amount)| Coin::new(amount, denom)))
            .collect::<Result<Vec<_>>>()?;
        Coins::from_list(list)
    }

    fn balance_key(&self, addr: &Address, denom: &str) -> Vec<u8> {
        BALANCES.key(&(*addr, denom.to_string()))
    }
}

impl BankSend for BankKeeper {
    fn send(&self, ctx: &mut Ctx<'_>, from: &Address, to: &Address, amount: &Coins) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| transfer(ctx, from, to, amount))
    }

    fn send_to_module(
        &self,
        ctx: &mut Ctx<'_>,
        from: &Address,
        module: &str,
        amount: &Coins,
    ) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| {
            let to = module_account(ctx, module)?;
            transfer(ctx, from, &to, amount)
        })
    }

    fn send_from_module(
        &self,
        ctx: &mut Ctx<'_>,
        module: &str,
        to: &Address,
        amount: &Coins,
    ) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| {
            let from = module_account(ctx, module)?;
            transfer(ctx, &from, to, amount)
        })
    }

    fn send_between_modules(
        &self,
        ctx: &mut Ctx<'_>,
        from: &str,
        to: &str,
        amount: &Coins,
    ) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| {
            let (from, to) = (module_account(ctx, from)?, module_account(ctx, to)?);
            transfer(ctx, &from, &to, amount)
        })
    }

    fn module_address(&self, ctx: &mut Ctx<'_>, module: &str) -> Result<Address> {
        module_account(ctx, module)
    }
}

impl BankMint for BankKeeper {
    fn mint(&self, ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| mint(ctx, module, amount))
    }

    fn burn(&self, ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| burn(ctx, module, amount))
    }
}

impl AuthKeeper for BankKeeper {
    fn account(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<Option<Account>> {
        ACCOUNTS.get(ctx, addr)
    }

    fn account_sized(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<(Option<Account>, u64)> {
        ctx.get_with(&ACCOUNTS.key(addr), |raw| match raw {
            None => Ok((None, 0)),
            Some(raw) => Ok((Some(Account::decode(raw)?), raw.len() as u64)),
        })?
    }

    fn ensure_account(&self, ctx: &mut Ctx<'_>, addr: &Address) -> Result<Account> {
        ctx.in_module(MODULE_NAME, |ctx| ensure_account(ctx, addr))
    }

    fn set_account(&self, ctx: &mut Ctx<'_>, acc: &Account) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| ACCOUNTS.save(ctx, &acc.address, acc))
    }

    fn peek_account(&self, state: &State, addr: &Address) -> Option<Account> {
        ACCOUNTS.peek(state, addr).ok()?
    }

    fn register_module_accounts(
        &self,
        ctx: &mut Ctx<'_>,
        specs: &[ModuleAccountSpec],
    ) -> Result<()> {
        ctx.in_module(MODULE_NAME, |ctx| {
            for spec in specs {
                let perms = Perms {
                    mint: spec.mint,
                    burn: spec.burn,
                };
                MODULE_ACCOUNTS.save(ctx, &spec.name.to_string(), &perms)?;
                ensure_account(ctx, &module_address(spec.name))?;
            }
            Ok(())
        })
    }

    fn has_module_account(&self, ctx: &mut Ctx<'_>, module: &str) -> Result<bool> {
        MODULE_ACCOUNTS.has(ctx, &module.to_string())
    }
}

/// The account at `addr`, created with the next account number if it does not exist yet (as
/// Cosmos SDK creates the recipient of a first transfer).
pub(crate) fn ensure_account(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Account> {
    if let Some(acc) = ACCOUNTS.get(ctx, addr)? {
        return Ok(acc);
    }
    let acc = Account {
        address: *addr,
        account_number: state::next_account_number(ctx)?,
        sequence: 0,
        pub_key: None,
    };
    ACCOUNTS.save(ctx, addr, &acc)?;
    Ok(acc)
}

/// Moves `amount` from one account to another; creates the recipient's account on first
/// receipt.
pub(crate) fn transfer(
    ctx: &mut Ctx<'_>,
    from: &Address,
    to: &Address,
    amount: &Coins,
) -> Result<()> {
    for (denom, value) in amount.pairs() {
        let have = state::balance(ctx, from, denom)?;
        let left = have.checked_sub(value).ok_or_else(|| {
            sdk::INSUFFICIENT_FUNDS.with(format!(
                "spendable balance {have}{denom} is smaller than {value}{denom}"
            ))
        })?;
        state::set_balance(ctx, from, denom, left)?;
    }
    ensure_account(ctx, to)?;
    for (denom, value) in amount.pairs() {
        let have = state::balance(ctx, to, denom)?;
        let sum = have
            .checked_add(value)
            .ok_or_else(|| sdk::OVERFLOW.with(format!("balance of {to} in {denom}")))?;
        state::set_balance(ctx, to, denom, sum)?;
    }
    for e in events::transfer(from, to, amount) {
        ctx.emit(e);
    }
    Ok(())
}

/// A registered module account's permissions and address.
fn registered(ctx: &mut Ctx<'_>, module: &str) -> Result<(Perms, Address)> {
    let perms = MODULE_ACCOUNTS
        .get(ctx, &module.to_string())?
        .ok_or_else(|| error::UNKNOWN_MODULE_ACCOUNT.with(module.to_string()))?;
    Ok((perms, module_address(module)))
}

fn module_account(ctx: &mut Ctx<'_>, module: &str) -> Result<Address> {
    Ok(registered(ctx, module)?.1)
}

fn mint(ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<()> {
    let (perms, addr) = registered(ctx, module)?;
    if !perms.mint {
        return Err(error::NO_MINT_PERMISSION.with(module.to_string()));
    }
    let params = params::load::<BankParams>(ctx)?;
    for coin in amount.iter() {
        let info = params
            .denom(&coin.denom)
            .ok_or_else(|| error::UNKNOWN_DENOM.with(coin.denom.clone()))?;
        let supply = state::supply(ctx, &coin.denom)?;
        let new_supply = supply
            .checked_add(coin.amount)
            .ok_or_else(|| sdk::OVERFLOW.with("supply"))?;
        if info.max_supply.is_some_and(|cap| new_supply > cap) {
            return Err(error::SUPPLY_CAP_EXCEEDED
                .with(format!("minting {coin} would make supply {new_supply}")));
        }
        state::set_supply(ctx, &coin.denom, new_supply)?;
        let bal = state::balance(ctx, &addr, &coin.denom)?;
        let bal = bal
            .checked_add(coin.amount)
            .ok_or_else(|| sdk::OVERFLOW.with("balance"))?;
        state::set_balance(ctx, &addr, &coin.denom, bal)?;
    }
    for e in events::mint(&addr, amount) {
        ctx.emit(e);
    }
    Ok(())
}

fn burn(ctx: &mut Ctx<'_>, module: &str, amount: &Coins) -> Result<()> {
    let (perms, addr) = registered(ctx, module)?;
    if !perms.burn {
        return Err(error::NO_BURN_PERMISSION.with(module.to_string()));
    }
    for coin in amount.iter() {
        let bal = state::balance(ctx, &addr, &coin.denom)?;
        let left = bal.checked_sub(coin.amount).ok_or_else(|| {
            sdk::INSUFFICIENT_FUNDS.with(format!("module {module} holds {bal}{}", coin.denom))
        })?;
        state::set_balance(ctx, &addr, &coin.denom, left)?;
        let supply = state::supply(ctx, &coin.denom)?;
        let supply = supply
            .checked_sub(coin.amount)
            .ok_or_else(|| sdk::LOGIC.with("supply below burn"))?;
        state::set_supply(ctx, &coin.denom, supply)?;
    }
    for e in events::burn(&addr, amount) {
        ctx.emit(e);
    }
    Ok(())
}

/// Total supply of every denom equals the sum of all balances (module accounts included).
pub fn supply_invariant(ctx: &mut Ctx<'_>) -> Result<()> {
    let mut sums: std::collections::BTreeMap<String, u128> = std::collections::BTreeMap::new();
    let balances: Vec<_> = BALANCES
        .iter(ctx, Order::Ascending)
        .collect::<Result<_>>()?;
    for ((_, denom), amount) in balances {
        let slot = sums.entry(denom).or_insert(0);
        *slot = slot
            .checked_add(amount)
            .ok_or_else(|| error::SUPPLY_INVARIANT.with("sum overflows"))?;
    }
    let supply: std::collections::BTreeMap<String, u128> =
        SUPPLY.iter(ctx, Order::Ascending).collect::<Result<_>>()?;
    if sums != supply {
        return Err(error::SUPPLY_INVARIANT.with(format!("supply {supply:?} != balances {sums:?}")));
    }
    Ok(())
}
