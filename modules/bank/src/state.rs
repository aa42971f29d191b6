//! Typed reads and writes of the bank's state: accounts (stored as Cosmos SDK `BaseAccount`),
//! balances and supplies (u128 big-endian), params and module account permissions (JSON).

use crate::params::BankParams;
use crate::state_key;
use cosmrs::proto::cosmos::auth::v1beta1::BaseAccount;
use cosmrs::proto::cosmos::crypto::{ed25519, secp256k1};
use prost::Message;
use sha2::{Digest, Sha256};
use stoa_framework::{sdk, Address, Any, Ctx, ModuleAccountSpec, StoaError};

pub const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";
pub const ED25519_PUBKEY_URL: &str = "/cosmos.crypto.ed25519.PubKey";
pub const BASE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";

/// An account's public key, in the two schemes Stoa accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PubKey {
    /// 33-byte compressed point (wallet compatibility).
    Secp256k1([u8; 33]),
    /// 32 bytes (fast batch verification for agents that sign many txs).
    Ed25519([u8; 32]),
}

impl PubKey {
    pub fn from_any(any: &Any) -> Result<PubKey, StoaError> {
        let bad = |why: String| sdk::INVALID_PUBKEY.with(why);
        match any.type_url.as_str() {
            SECP256K1_PUBKEY_URL => {
                let pk = secp256k1::PubKey::decode(any.value.as_slice())
                    .map_err(|e| bad(e.to_string()))?;
                let key: [u8; 33] = pk
                    .key
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad(format!("secp256k1 key of {} bytes", pk.key.len())))?;
                Ok(PubKey::Secp256k1(key))
            }
            ED25519_PUBKEY_URL => {
                let pk = ed25519::PubKey::decode(any.value.as_slice())
                    .map_err(|e| bad(e.to_string()))?;
                let key: [u8; 32] = pk
                    .key
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad(format!("ed25519 key of {} bytes", pk.key.len())))?;
                Ok(PubKey::Ed25519(key))
            }
            other => Err(bad(format!("unsupported public key type {other:?}"))),
        }
    }

    pub fn to_any(&self) -> Any {
        match self {
            PubKey::Secp256k1(k) => Any {
                type_url: SECP256K1_PUBKEY_URL.into(),
                value: secp256k1::PubKey { key: k.to_vec() }.encode_to_vec(),
            },
            PubKey::Ed25519(k) => Any {
                type_url: ED25519_PUBKEY_URL.into(),
                value: ed25519::PubKey { key: k.to_vec() }.encode_to_vec(),
            },
        }
    }

    /// The account address the key controls, as Cosmos SDK derives it: secp256k1 is
    /// `ripemd160(sha256(key))`, ed25519 is `sha256(key)[..20]`.
    pub fn address(&self) -> Address {
        let mut out = [0u8; 20];
        match self {
            PubKey::Secp256k1(k) => {
                use ripemd::Ripemd160;
                let h = Ripemd160::digest(Sha256::digest(k));
                out.copy_from_slice(&h);
            }
            PubKey::Ed25519(k) => out.copy_from_slice(&Sha256::digest(k)[..20]),
        }
        Address(out)
    }
}

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

    pub fn to_any(&self) -> Any {
        Any {
            type_url: BASE_ACCOUNT_URL.into(),
            value: self.to_proto().encode_to_vec(),
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
    match ctx.get(&state_key::account(addr))? {
        None => Ok(None),
        Some(raw) => {
            let p = BaseAccount::decode(raw.as_slice())
                .map_err(|e| sdk::LOGIC.with(format!("corrupt account: {e}")))?;
            Account::from_proto(&p).map(Some)
        }
    }
}

pub fn write_account(ctx: &mut Ctx<'_>, acc: &Account) -> Result<(), StoaError> {
    ctx.set(
        state_key::account(&acc.address),
        acc.to_proto().encode_to_vec(),
    )
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
    ctx.set(
        state_key::NEXT_ACCOUNT_NUMBER.to_vec(),
        next.to_be_bytes().to_vec(),
    )?;
    Ok(n)
}

pub fn read_balance(ctx: &mut Ctx<'_>, addr: &Address, denom: &str) -> Result<u128, StoaError> {
    match ctx.get(&state_key::balance(addr, denom))? {
        Some(raw) => decode_u128(&raw, "balance"),
        None => Ok(0),
    }
}

/// Writes a balance; zero balances are deleted so listings stay short.
pub fn write_balance(
    ctx: &mut Ctx<'_>,
    addr: &Address,
    denom: &str,
    amount: u128,
) -> Result<(), StoaError> {
    let key = state_key::balance(addr, denom);
    if amount == 0 {
        ctx.delete(key)
    } else {
        ctx.set(key, amount.to_be_bytes().to_vec())
    }
}

/// Every (denom, amount) an address holds, ordered by denom.
pub fn read_balances(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Vec<(String, u128)>, StoaError> {
    let prefix = state_key::balances_of(addr);
    let mut out = Vec::new();
    for (k, v) in ctx.iter_prefix(&prefix)? {
        let denom = String::from_utf8(k[prefix.len()..].to_vec())
            .map_err(|_| sdk::LOGIC.with("corrupt denom key"))?;
        out.push((denom, decode_u128(&v, "balance")?));
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
    let mut out = Vec::new();
    for (k, v) in ctx.iter_prefix(state_key::SUPPLY_PREFIX)? {
        let denom = String::from_utf8(k[state_key::SUPPLY_PREFIX.len()..].to_vec())
            .map_err(|_| sdk::LOGIC.with("corrupt supply key"))?;
        out.push((denom, decode_u128(&v, "supply")?));
    }
    Ok(out)
}

pub fn read_params(ctx: &mut Ctx<'_>) -> Result<BankParams, StoaError> {
    match ctx.get(state_key::PARAMS)? {
        Some(raw) => serde_json::from_slice(&raw)
            .map_err(|e| sdk::LOGIC.with(format!("corrupt bank params: {e}"))),
        None => Ok(BankParams::default()),
    }
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

pub fn read_module_account(
    ctx: &mut Ctx<'_>,
    name: &str,
) -> Result<Option<(bool, bool)>, StoaError> {
    match ctx.get(&state_key::module_account(name))? {
        None => Ok(None),
        Some(raw) => {
            let p: Perms = serde_json::from_slice(&raw)
                .map_err(|e| sdk::LOGIC.with(format!("corrupt module account: {e}")))?;
            Ok(Some((p.mint, p.burn)))
        }
    }
}

pub fn write_module_account(ctx: &mut Ctx<'_>, spec: &ModuleAccountSpec) -> Result<(), StoaError> {
    let raw = serde_json::to_vec(&Perms {
        mint: spec.mint,
        burn: spec.burn,
    })
    .map_err(|e| sdk::JSON_MARSHAL.with(e.to_string()))?;
    ctx.set(state_key::module_account(spec.name), raw)
}

/// Whether an address belongs to a registered module account (by scanning the few names).
pub fn is_module_address(ctx: &mut Ctx<'_>, addr: &Address) -> Result<bool, StoaError> {
    for (k, _) in ctx.iter_prefix(state_key::MODULE_ACCOUNT_PREFIX)? {
        let name =
            String::from_utf8_lossy(&k[state_key::MODULE_ACCOUNT_PREFIX.len()..]).into_owned();
        if stoa_framework::module_address(&name) == *addr {
            return Ok(true);
        }
    }
    Ok(false)
}
