//! How the economics records (`stream`, `rewards`, `vesting`) store u128 and U256 amounts in
//! protobuf `bytes` fields: big-endian, exactly 16 resp. 32 bytes, and zero as the empty field
//! (protobuf's default), so that equal values always encode to equal bytes.

use crate::error::{sdk, StoaError};
use ethnum::U256;

pub fn encode_u128(v: u128) -> Vec<u8> {
    if v == 0 {
        Vec::new()
    } else {
        v.to_be_bytes().to_vec()
    }
}

/// `field` names the value in the error of a malformed record.
pub fn decode_u128(b: &[u8], field: &str) -> Result<u128, StoaError> {
    match b.len() {
        0 => Ok(0),
        16 => Ok(u128::from_be_bytes(b.try_into().expect("16 bytes"))),
        n => Err(sdk::INVALID_REQUEST.with(format!("{field}: {n} bytes, want 16 or 0"))),
    }
}

pub fn encode_u256(v: U256) -> Vec<u8> {
    if v == U256::ZERO {
        Vec::new()
    } else {
        v.to_be_bytes().to_vec()
    }
}

pub fn decode_u256(b: &[u8], field: &str) -> Result<U256, StoaError> {
    match b.len() {
        0 => Ok(U256::ZERO),
        32 => Ok(U256::from_be_bytes(b.try_into().expect("32 bytes"))),
        n => Err(sdk::INVALID_REQUEST.with(format!("{field}: {n} bytes, want 32 or 0"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_canonical_zero() {
        assert!(encode_u128(0).is_empty());
        assert_eq!(decode_u128(&encode_u128(u128::MAX), "x"), Ok(u128::MAX));
        assert_eq!(decode_u128(&[0u8; 16], "x"), Ok(0));
        assert!(decode_u128(&[1, 2], "x").is_err());
        assert!(encode_u256(U256::ZERO).is_empty());
        assert_eq!(decode_u256(&encode_u256(U256::MAX), "x"), Ok(U256::MAX));
        assert!(decode_u256(&[0u8; 16], "x").is_err());
    }
}
