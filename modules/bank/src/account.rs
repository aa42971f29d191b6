//! An account as the bank stores it: Cosmos SDK's `BaseAccount` (address, number, sequence,
//! public key), written and read in place without prost on the hot path.

use cosmrs::proto::cosmos::auth::v1beta1::BaseAccount;
use prost::Message;
use stoa_framework::typed::Codec;
use stoa_framework::{sdk, Address, Any, StoaError};

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
            pub_key: self.pub_key.as_ref().map(|k| k.to_any()),
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
        // Any { type_url = 1, value = 2: PubKey { key = 1 } }
        fn write_single(out: &mut Vec<u8>, url: &str, key: &[u8]) {
            let inner = 1 + prost::encoding::encoded_len_varint(key.len() as u64) + key.len();
            let any = 1
                + prost::encoding::encoded_len_varint(url.len() as u64)
                + url.len()
                + 1
                + prost::encoding::encoded_len_varint(inner as u64)
                + inner;
            encode_key(2, WireType::LengthDelimited, out);
            encode_varint(any as u64, out);
            encode_key(1, WireType::LengthDelimited, out);
            encode_varint(url.len() as u64, out);
            out.extend_from_slice(url.as_bytes());
            encode_key(2, WireType::LengthDelimited, out);
            encode_varint(inner as u64, out);
            encode_key(1, WireType::LengthDelimited, out);
            encode_varint(key.len() as u64, out);
            out.extend_from_slice(key);
        }
        match &self.pub_key {
            None => {}
            Some(PubKey::Secp256k1(k)) => write_single(&mut out, SECP256K1_PUBKEY_URL, k),
            Some(PubKey::Ed25519(k)) => write_single(&mut out, ED25519_PUBKEY_URL, k),
            // Rare: written by prost, and read back by prost (`decode_canonical` declines it).
            Some(pk @ PubKey::Multisig(_)) => {
                let any = pk.to_any().encode_to_vec();
                encode_key(2, WireType::LengthDelimited, &mut out);
                encode_varint(any.len() as u64, &mut out);
                out.extend_from_slice(&any);
            }
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

/// The codec of the account map: [`Account::encode`] and [`Account::decode`].
pub struct AccountCodec;

impl Codec<Account> for AccountCodec {
    fn encode(value: &Account) -> Vec<u8> {
        value.encode()
    }
    fn decode(raw: &[u8]) -> Result<Account, StoaError> {
        Account::decode(raw)
    }
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
                    pub_key: pk.clone(),
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
