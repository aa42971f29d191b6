//! The bank's state, as typed items under `bank/`: accounts, balances and supplies (u128
//! big-endian; a zero amount is no entry, so listings stay short), the account number
//! counter, module account permissions and the params (`params.rs`).

use crate::account::{Account, AccountCodec};
use crate::MODULE_NAME;
use stoa_framework::typed::{BigEndian, Item, Json, Map};
use stoa_framework::{Address, Ctx, StoaError};

/// `bank/acc/<address>` -> `cosmos.auth.v1beta1.BaseAccount`.
pub const ACCOUNTS: Map<Address, Account, AccountCodec> = Map::new(MODULE_NAME, "acc");
/// `bank/bal/<address><denom>` -> amount.
pub const BALANCES: Map<(Address, String), u128, BigEndian<u128>> = Map::new(MODULE_NAME, "bal");
/// `bank/supply/<denom>` -> total supply.
pub const SUPPLY: Map<String, u128, BigEndian<u128>> = Map::new(MODULE_NAME, "supply");
/// `bank/next_account_number` -> the number the next new account gets.
pub const NEXT_ACCOUNT_NUMBER: Item<u64, BigEndian<u64>> =
    Item::new(MODULE_NAME, "next_account_number");
/// `bank/modacc/<name>` -> the module account's mint and burn permissions.
pub const MODULE_ACCOUNTS: Map<String, Perms, Json<Perms>> = Map::new(MODULE_NAME, "modacc");

#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Perms {
    pub mint: bool,
    pub burn: bool,
}

pub fn balance(ctx: &mut Ctx<'_>, addr: &Address, denom: &str) -> Result<u128, StoaError> {
    Ok(BALANCES.get(ctx, &(*addr, denom.to_string()))?.unwrap_or(0))
}

/// Writes a balance; a zero balance is removed.
pub fn set_balance(
    ctx: &mut Ctx<'_>,
    addr: &Address,
    denom: &str,
    amount: u128,
) -> Result<(), StoaError> {
    let key = (*addr, denom.to_string());
    if amount == 0 {
        BALANCES.remove(ctx, &key)
    } else {
        BALANCES.save(ctx, &key, &amount)
    }
}

pub fn supply(ctx: &mut Ctx<'_>, denom: &str) -> Result<u128, StoaError> {
    Ok(SUPPLY.get(ctx, &denom.to_string())?.unwrap_or(0))
}

/// Writes a supply; a zero supply is removed.
pub fn set_supply(ctx: &mut Ctx<'_>, denom: &str, amount: u128) -> Result<(), StoaError> {
    if amount == 0 {
        SUPPLY.remove(ctx, &denom.to_string())
    } else {
        SUPPLY.save(ctx, &denom.to_string(), &amount)
    }
}

/// Takes the next account number (Cosmos SDK numbers accounts in creation order from 0).
pub fn next_account_number(ctx: &mut Ctx<'_>) -> Result<u64, StoaError> {
    let n = NEXT_ACCOUNT_NUMBER.get(ctx)?.unwrap_or(0);
    let next = Ctx::checked(n.checked_add(1), "account numbers")?;
    NEXT_ACCOUNT_NUMBER.save(ctx, &next)?;
    Ok(n)
}

/// Whether an address belongs to a registered module account: the few names are listed and
/// their addresses kept in the state until a module account is written.
pub fn is_module_address(ctx: &mut Ctx<'_>, addr: &Address) -> Result<bool, StoaError> {
    let prefix = MODULE_ACCOUNTS.prefix();
    let addrs = ctx.iter_prefix_cached(&prefix, |pairs| {
        Ok(pairs
            .iter()
            .map(|(k, _)| {
                stoa_framework::module_address(&String::from_utf8_lossy(&k[prefix.len()..]))
            })
            .collect::<Vec<Address>>())
    })?;
    Ok(addrs.contains(addr))
}
