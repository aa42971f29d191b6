//! Account addresses: 20 bytes shown as bech32 with prefix `stoa`, as in Cosmos SDK.

use crate::error::{sdk, StoaError};
use bech32::{Bech32, Hrp};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

pub const BECH32_PREFIX: &str = "stoa";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, StoaError> {
        let arr: [u8; 20] = bytes.try_into().map_err(|_| {
            sdk::INVALID_ADDRESS.with(format!("address must be 20 bytes, got {}", bytes.len()))
        })?;
        Ok(Address(arr))
    }

    /// Parses a bech32 `stoa1...` address; any other prefix is an error.
    pub fn parse(s: &str) -> Result<Self, StoaError> {
        let (hrp, data) =
            bech32::decode(s).map_err(|e| sdk::INVALID_ADDRESS.with(format!("{s:?}: {e}")))?;
        if hrp.as_str() != BECH32_PREFIX {
            return Err(sdk::INVALID_ADDRESS.with(format!("{s:?}: prefix must be {BECH32_PREFIX}")));
        }
        Self::from_slice(&data)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(BECH32_PREFIX);
        match bech32::encode::<Bech32>(hrp, &self.0) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}", hex_lower(&self.0)),
        }
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Address {
    type Err = StoaError;
    fn from_str(s: &str) -> Result<Self, StoaError> {
        Address::parse(s)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The address of a module account, as Cosmos SDK derives it: the first 20 bytes of
/// `sha256(name)`. Nobody holds its key; only the module moves its coins.
pub fn module_address(name: &str) -> Address {
    let digest = Sha256::digest(name.as_bytes());
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    Address(out)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bech32_round_trip_and_prefix_check() {
        let a = Address([7u8; 20]);
        let s = a.to_string();
        assert!(s.starts_with("stoa1"));
        assert_eq!(Address::parse(&s).unwrap(), a);
        let cosmos = bech32::encode::<Bech32>(Hrp::parse("cosmos").unwrap(), &[7u8; 20]).unwrap();
        assert!(Address::parse(&cosmos).is_err());
    }

    #[test]
    fn module_address_matches_cosmos_derivation() {
        // Cosmos SDK: authtypes.NewModuleAddress("fee_collector") = sha256("fee_collector")[:20].
        let a = module_address("fee_collector");
        assert_eq!(&a.0[..], &Sha256::digest(b"fee_collector")[..20]);
    }
}
