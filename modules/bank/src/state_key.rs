//! Every key the bank writes, under prefix `bank/`. Addresses are the raw 20 bytes, so keys of
//! one account sort together.

use stoa_framework::Address;

pub const PREFIX: &[u8] = b"bank/";
pub const ACCOUNT_PREFIX: &[u8] = b"bank/acc/";
pub const BALANCE_PREFIX: &[u8] = b"bank/bal/";
pub const SUPPLY_PREFIX: &[u8] = b"bank/supply/";
pub const MODULE_ACCOUNT_PREFIX: &[u8] = b"bank/modacc/";
/// -> next account number (u64 be).
pub const NEXT_ACCOUNT_NUMBER: &[u8] = b"bank/next_account_number";
/// -> `BankParams` (JSON).
pub const PARAMS: &[u8] = b"bank/params";

/// -> `cosmos.auth.v1beta1.BaseAccount` (protobuf).
pub fn account(addr: &Address) -> Vec<u8> {
    [ACCOUNT_PREFIX, addr.as_bytes()].concat()
}

/// -> amount (u128 be). The full store key, as `/store/bank/key` queries take it.
pub fn balance(addr: &Address, denom: &str) -> Vec<u8> {
    [BALANCE_PREFIX, addr.as_bytes(), denom.as_bytes()].concat()
}

pub fn balances_of(addr: &Address) -> Vec<u8> {
    [BALANCE_PREFIX, addr.as_bytes()].concat()
}

/// Splits a balance key into its address and denom.
pub fn parse_balance(key: &[u8]) -> Option<(Address, String)> {
    let rest = key.strip_prefix(BALANCE_PREFIX)?;
    if rest.len() <= 20 {
        return None;
    }
    let addr = Address::from_slice(&rest[..20]).ok()?;
    let denom = String::from_utf8(rest[20..].to_vec()).ok()?;
    Some((addr, denom))
}

/// -> total supply (u128 be).
pub fn supply(denom: &str) -> Vec<u8> {
    [SUPPLY_PREFIX, denom.as_bytes()].concat()
}

/// -> module account permissions (JSON `ModuleAccountSpec` without the name).
pub fn module_account(name: &str) -> Vec<u8> {
    [MODULE_ACCOUNT_PREFIX, name.as_bytes()].concat()
}
