//! Typed reads and writes of the bank's state: accounts (stored as Cosmos SDK `BaseAccount`),
//! balances and supplies (u128 big-endian), params and module account permissions (JSON).

use crate::params::BankParams;
use crate::state_key;
use cosmrs::proto::cosmos::auth::v1beta1::BaseAccount;
use prost::Message;
use std::sync::Arc;
use stoa_framework::{sdk, Address, Any, Ctx, ModuleAccountSpec, StoaError};

/// The account key type and its `Any` type URLs live in the framework (market modules verify
/// signatures without the bank); re-exported so `stoa_bank::PubKey` stays where it was.
pub use stoa_framework::crypto::{PubKey, ED25519_PUBKEY_URL, SECP256K1_PUBKEY_URL};
pub const BASE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub address: Address,
    pub account_number: u64,
    pub sequence: u64,
    pub pub_key: Option<PubKey>,
}

impl Account {
    pub fn to_proto(&self) -> BaseAccount {
        BaseAccount {
            address: self.address.to_string(),
            pub_key: self.pub_key.map(|k| k.to_any()),
            account_number: self.account_number,
            sequence: self.sequence,
        }
    }

    /// `to_proto().encode_to_vec()` in one allocation: the bytes prost writes (fields in
    /// order, defaults left out).
    pub fn encode(&self) -> Vec<u8> {
        use prost::encoding::{encode_key, encode_varint, WireType};
        let address = self.address.to_bech32();
        let mut out = Vec::with_capacity(address.len() + 100);
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(address.len() as u64, &mut out);
        out.extend_from_slice(address.as_bytes());
        if let Some(pk) = &self.pub_key {
            let (url, key): (&str, &[u8]) = match pk {
                PubKey::Secp256k1(k) => (SECP256K1_PUBKEY_URL, k),
                PubKey::Ed25519(k) => (ED25519_PUBKEY_URL, k),
            };
            // Any { type_url = 1, value = 2: PubKey { key = 1 } }
            let inner = 1 + prost::encoding::encoded_len_varint(key.len() as u64) + key.len();
            let any = 1
                + prost::encoding::encoded_len_varint(url.len() as u64)
                + url.len()
                + 1
                + prost::encoding::encoded_len_varint(inner as u64)
                + inner;
            encode_key(2, WireType::LengthDelimited, &mut out);
            encode_varint(any as u64, &mut out);
            encode_key(1, WireType::LengthDelimited, &mut out);
            encode_varint(url.len() as u64, &mut out);
            out.extend_from_slice(url.as_bytes());
            encode_key(2, WireType::LengthDelimited, &mut out);
            encode_varint(inner as u64, &mut out);
            encode_key(1, WireType::LengthDelimited, &mut out);
            encode_varint(key.len() as u64, &mut out);
            out.extend_from_slice(key);
        }
        if self.account_number != 0 {
            encode_key(3, WireType::Varint, &mut out);
            encode_varint(self.account_number, &mut out);
        }
        if self.sequence != 0 {
            encode_key(4, WireType::Varint, &mut out);
            encode_varint(self.sequence, &mut out);
        }
        out
    }

    /// Decodes a stored `BaseAccount`: what [`Account::encode`] writes is read in place;
    /// anything else goes through prost (with its errors).
    pub fn decode(raw: &[u8]) -> Result<Account, StoaError> {
        if let Some(acc) = Self::decode_canonical(raw) {
            return Ok(acc);
        }
        let p = BaseAccount::decode(raw)
            .map_err(|e| sdk::LOGIC.with(format!("corrupt account: {e}")))?;
        Account::from_proto(&p)
    }

    /// Fields 1 to 4 in order, each at most once, the key as `PubKey::to_any` writes it.
    fn decode_canonical(raw: &[u8]) -> Option<Account> {
        fn bytes<'a>(r: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
            if r.first() != Some(&tag) {
                return None;
            }
            *r = &r[1..];
            let len = usize::try_from(prost::encoding::decode_varint(r).ok()?).ok()?;
            if len > r.len() {
                return None;
            }
            let (v, rest) = r.split_at(len);
            *r = rest;
            Some(v)
        }
        fn varint(r: &mut &[u8], tag: u8) -> Option<u64> {
            if r.first() != Some(&tag) {
                return Some(0);
            }
            *r = &r[1..];
            prost::encoding::decode_varint(r).ok()
        }
        let mut r = raw;
        let address = bytes(&mut r, 0x0a)?;
        let address = Address::parse(std::str::from_utf8(address).ok()?).ok()?;
        let mut pub_key = None;
        if r.first() == Some(&0x12) {
            let mut any = bytes(&mut r, 0x12)?;
            let url = bytes(&mut any, 0x0a)?;
            let mut value = bytes(&mut any, 0x12)?;
            let key = bytes(&mut value, 0x0a)?;
            if !any.is_empty() || !value.is_empty() {
                return None;
            }
            pub_key = Some(match url {
                u if u == SECP256K1_PUBKEY_URL.as_bytes() => {
                    PubKey::Secp256k1(key.try_into().ok()?)
                }
                u if u == ED25519_PUBKEY_URL.as_bytes() => PubKey::Ed25519(key.try_into().ok()?),
                _ => return None,
            });
        }
        let account_number = varint(&mut r, 0x18)?;
        let sequence = varint(&mut r, 0x20)?;
        if !r.is_empty() {
            return None;
        }
        Some(Account {
            address,
            account_number,
            sequence,
            pub_key,
        })
    }

    pub fn to_any(&self) -> Any {
        Any {
            type_url: BASE_ACCOUNT_URL.into(),
            value: self.encode(),
        }
    }

    pub fn from_proto(p: &BaseAccount) -> Result<Account, StoaError> {
        Ok(Account {
            address: Address::parse(&p.address)?,
            account_number: p.account_number,
            sequence: p.sequence,
            pub_key: p.pub_key.as_ref().map(PubKey::from_any).transpose()?,
        })
    }
}

fn decode_u128(raw: &[u8], what: &str) -> Result<u128, StoaError> {
    let arr: [u8; 16] = raw
        .try_into()
        .map_err(|_| sdk::LOGIC.with(format!("corrupt {what} of {} bytes", raw.len())))?;
    Ok(u128::from_be_bytes(arr))
}

pub fn read_account(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Option<Account>, StoaError> {
    Ok(read_account_sized(ctx, addr)?.0)
}

/// [`read_account`] and the length of the stored value (0 when absent), which is what the read
/// cost in gas beyond the flat read cost.
pub fn read_account_sized(
    ctx: &mut Ctx<'_>,
    addr: &Address,
) -> Result<(Option<Account>, u64), StoaError> {
    ctx.get_with(&state_key::account(addr), |raw| match raw {
        None => Ok((None, 0)),
        Some(raw) => Ok((Some(Account::decode(raw)?), raw.len() as u64)),
    })?
}

pub fn write_account(ctx: &mut Ctx<'_>, acc: &Account) -> Result<(), StoaError> {
    ctx.set(state_key::account(&acc.address), acc.encode())
}

/// Takes the next account number (Cosmos SDK numbers accounts in creation order from 0).
pub fn next_account_number(ctx: &mut Ctx<'_>) -> Result<u64, StoaError> {
    let n = match ctx.get(state_key::NEXT_ACCOUNT_NUMBER)? {
        Some(raw) => u64::from_be_bytes(
            raw.as_slice()
                .try_into()
                .map_err(|_| sdk::LOGIC.with("corrupt account number counter"))?,
        ),
        None => 0,
    };
    let next = n
        .checked_add(1)
        .ok_or_else(|| sdk::OVERFLOW.with("account numbers"))?;
    write_next_account_number(ctx, next)?;
    Ok(n)
}

/// Stores the next account number to hand out (big-endian `u64`).
pub fn write_next_account_number(ctx: &mut Ctx<'_>, next: u64) -> Result<(), StoaError> {
    ctx.set(
        state_key::NEXT_ACCOUNT_NUMBER.to_vec(),
        next.to_be_bytes().to_vec(),
    )
}

pub fn read_balance(ctx: &mut Ctx<'_>, addr: &Address, denom: &str) -> Result<u128, StoaError> {
    read_balance_at(ctx, &state_key::balance(addr, denom))
}

/// A balance by its key ([`state_key::balance`]).
pub fn read_balance_at(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<u128, StoaError> {
    ctx.get_with(key, |raw| match raw {
        Some(raw) => decode_u128(raw, "balance"),
        None => Ok(0),
    })?
}

/// Writes a balance; zero balances are deleted so listings stay short.
pub fn write_balance(
    ctx: &mut Ctx<'_>,
    addr: &Address,
    denom: &str,
    amount: u128,
) -> Result<(), StoaError> {
    write_balance_at(ctx, state_key::balance(addr, denom), amount)
}

/// [`write_balance`] by the balance's key.
pub fn write_balance_at(ctx: &mut Ctx<'_>, key: Vec<u8>, amount: u128) -> Result<(), StoaError> {
    if amount == 0 {
        ctx.delete(key)
    } else {
        ctx.set(key, amount.to_be_bytes().to_vec())
    }
}

/// Every (denom, amount) an address holds, ordered by denom.
pub fn read_balances(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Vec<(String, u128)>, StoaError> {
    read_denom_amounts(
        ctx,
        &state_key::balances_of(addr),
        "corrupt denom key",
        "balance",
    )
}

/// Every (denom, amount) under `prefix` (the key's tail is the denom), ordered by denom;
/// `key_error` names a key whose tail is not UTF-8, `what` a value that is not a `u128`.
fn read_denom_amounts(
    ctx: &mut Ctx<'_>,
    prefix: &[u8],
    key_error: &'static str,
    what: &str,
) -> Result<Vec<(String, u128)>, StoaError> {
    let mut out = Vec::new();
    for (k, v) in ctx.iter_prefix(prefix)? {
        let denom = String::from_utf8(k[prefix.len()..].to_vec())
            .map_err(|_| sdk::LOGIC.with(key_error))?;
        out.push((denom, decode_u128(&v, what)?));
    }
    Ok(out)
}

/// Every (address, denom, amount) in the bank, for invariants and genesis export.
pub fn read_all_balances(ctx: &mut Ctx<'_>) -> Result<Vec<(Address, String, u128)>, StoaError> {
    let mut out = Vec::new();
    for (k, v) in ctx.state_mut().iter_prefix(state_key::BALANCE_PREFIX)? {
        let (addr, denom) =
            state_key::parse_balance(&k).ok_or_else(|| sdk::LOGIC.with("corrupt balance key"))?;
        out.push((addr, denom, decode_u128(&v, "balance")?));
    }
    Ok(out)
}

pub fn read_supply(ctx: &mut Ctx<'_>, denom: &str) -> Result<u128, StoaError> {
    match ctx.get(&state_key::supply(denom))? {
        Some(raw) => decode_u128(&raw, "supply"),
        None => Ok(0),
    }
}

pub fn write_supply(ctx: &mut Ctx<'_>, denom: &str, amount: u128) -> Result<(), StoaError> {
    let key = state_key::supply(denom);
    if amount == 0 {
        ctx.delete(key)
    } else {
        ctx.set(key, amount.to_be_bytes().to_vec())
    }
}

pub fn read_all_supply(ctx: &mut Ctx<'_>) -> Result<Vec<(String, u128)>, StoaError> {
    read_denom_amounts(
        ctx,
        state_key::SUPPLY_PREFIX,
        "corrupt supply key",
        "supply",
    )
}

/// The params, decoded once and then kept in the state until they are written.
pub fn read_params(ctx: &mut Ctx<'_>) -> Result<Arc<BankParams>, StoaError> {
    ctx.get_cached(state_key::PARAMS, |raw| match raw {
        Some(raw) => serde_json::from_slice(raw)
            .map_err(|e| sdk::LOGIC.with(format!("corrupt bank params: {e}"))),
        None => Ok(BankParams::default()),
    })
}

pub fn write_params(ctx: &mut Ctx<'_>, params: &BankParams) -> Result<(), StoaError> {
    let raw = serde_json::to_vec(params).map_err(|e| sdk::JSON_MARSHAL.with(e.to_string()))?;
    ctx.set(state_key::PARAMS.to_vec(), raw)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Perms {
    mint: bool,
    burn: bool,
}

/// A registered module account: its permissions and address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModuleAccount {
    pub mint: bool,
    pub burn: bool,
    pub address: Address,
}

/// A registered module account, decoded once and then kept in the state until it is written.
pub fn read_module_account_full(
    ctx: &mut Ctx<'_>,
    name: &str,
) -> Result<Option<ModuleAccount>, StoaError> {
    let cached = ctx.get_cached(&state_key::module_account(name), |raw| match raw {
        None => Ok(None),
        Some(raw) => {
            let p: Perms = serde_json::from_slice(raw)
                .map_err(|e| sdk::LOGIC.with(format!("corrupt module account: {e}")))?;
            Ok(Some(ModuleAccount {
                mint: p.mint,
                burn: p.burn,
                address: stoa_framework::module_address(name),
            }))
        }
    })?;
    Ok(*cached)
}

pub fn write_module_account(ctx: &mut Ctx<'_>, spec: &ModuleAccountSpec) -> Result<(), StoaError> {
    let raw = serde_json::to_vec(&Perms {
        mint: spec.mint,
        burn: spec.burn,
    })
    .map_err(|e| sdk::JSON_MARSHAL.with(e.to_string()))?;
    ctx.set(state_key::module_account(spec.name), raw)
}

/// Whether an address belongs to a registered module account (by listing the few names; the
/// addresses derived from the listing are kept in the state until a module account is written).
pub fn is_module_address(ctx: &mut Ctx<'_>, addr: &Address) -> Result<bool, StoaError> {
    let addrs = ctx.iter_prefix_cached(state_key::MODULE_ACCOUNT_PREFIX, |pairs| {
        Ok(pairs
            .iter()
            .map(|(k, _)| {
                let name = String::from_utf8_lossy(&k[state_key::MODULE_ACCOUNT_PREFIX.len()..]);
                stoa_framework::module_address(&name)
            })
            .collect::<Vec<Address>>())
    })?;
    Ok(addrs.contains(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_encode_is_prost_encoding() {
        let keys = [
            None,
            Some(PubKey::Secp256k1([2; 33])),
            Some(PubKey::Ed25519([9; 32])),
        ];
        for (i, pk) in keys.iter().enumerate() {
            for (number, sequence) in [(0, 0), (1, 0), (0, 1), (300, 70_000), (u64::MAX, u64::MAX)]
            {
                let acc = Account {
                    address: Address([i as u8 * 37 + 1; 20]),
                    account_number: number,
                    sequence,
                    pub_key: *pk,
                };
                let raw = acc.to_proto().encode_to_vec();
                assert_eq!(acc.encode(), raw);
                assert_eq!(Account::decode_canonical(&raw), Some(acc.clone()));
                // Anything else is prost's to decode (here: an unknown field appended).
                let mut other = raw.clone();
                other.extend_from_slice(&[0x28, 1]);
                assert_eq!(Account::decode_canonical(&other), None);
                assert_eq!(Account::decode(&other).unwrap(), acc);
            }
        }
    }
}
