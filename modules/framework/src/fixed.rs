//! Deterministic numbers: the fixed-point widths subtensor uses (from the `fixed` crate), a
//! Cosmos-style 18-decimal `Dec` for prices, and u128 `mul_div` with a 256-bit intermediate.

use crate::error::{sdk, StoaError};
use ethnum::U256;
use std::fmt;
use std::str::FromStr;

pub use fixed::types::{I32F32, I64F64, I96F32, U64F64, U96F32};

/// `a * b / c` rounded down, exact through a 256-bit product. `None` on `c == 0` or when the
/// quotient does not fit u128.
pub fn mul_div_floor(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    let q = U256::from(a) * U256::from(b) / U256::from(c);
    u128::try_from(q).ok()
}

/// `a * b / c` rounded up.
pub fn mul_div_ceil(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    let p = U256::from(a) * U256::from(b);
    let c = U256::from(c);
    let q = p / c
        + if p % c == U256::ZERO {
            U256::ZERO
        } else {
            U256::ONE
        };
    u128::try_from(q).ok()
}

/// A non-negative decimal with 18 fractional digits, like Cosmos SDK's `LegacyDec`: gas prices,
/// fractions in params. Stored as the integer `value * 10^18`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dec(pub u128);

impl Dec {
    pub const PRECISION: u32 = 18;
    pub const ONE: Dec = Dec(1_000_000_000_000_000_000);
    pub const ZERO: Dec = Dec(0);

    pub fn from_int(v: u128) -> Option<Dec> {
        v.checked_mul(Self::ONE.0).map(Dec)
    }

    /// `amount * self` rounded up (what a minimum fee needs).
    pub fn mul_ceil(self, amount: u128) -> Option<u128> {
        mul_div_ceil(amount, self.0, Self::ONE.0)
    }

    /// `amount * self` rounded down (what a payout needs).
    pub fn mul_floor(self, amount: u128) -> Option<u128> {
        mul_div_floor(amount, self.0, Self::ONE.0)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl FromStr for Dec {
    type Err = StoaError;

    /// Parses `12`, `0.025`, `1.5`; at most 18 fractional digits.
    fn from_str(s: &str) -> Result<Dec, StoaError> {
        let bad = || sdk::INVALID_REQUEST.with(format!("invalid decimal {s:?}"));
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        if frac.len() > Self::PRECISION as usize || (s.contains('.') && frac.is_empty()) {
            return Err(bad());
        }
        let int: u128 = int.parse().map_err(|_| bad())?;
        let mut frac_val: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        frac_val *= 10u128.pow(Self::PRECISION - frac.len() as u32);
        int.checked_mul(Self::ONE.0)
            .and_then(|v| v.checked_add(frac_val))
            .map(Dec)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / Self::ONE.0;
        let frac = self.0 % Self::ONE.0;
        if frac == 0 {
            return write!(f, "{int}");
        }
        let digits = format!("{frac:018}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

impl serde::Serialize for Dec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Dec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dec_parse_display_and_rounding() {
        let p: Dec = "0.025".parse().unwrap();
        assert_eq!(p.to_string(), "0.025");
        assert_eq!(p.mul_ceil(100_001), Some(2501));
        assert_eq!(p.mul_floor(100_001), Some(2500));
        assert!("1.".parse::<Dec>().is_err());
        assert!("-1".parse::<Dec>().is_err());
        assert!("0.0000000000000000001".parse::<Dec>().is_err());
        assert_eq!("7".parse::<Dec>().unwrap(), Dec::from_int(7).unwrap());
    }

    #[test]
    fn mul_div_is_exact_past_u128_products() {
        assert_eq!(
            mul_div_floor(u128::MAX, u128::MAX, u128::MAX),
            Some(u128::MAX)
        );
        assert_eq!(mul_div_ceil(10, 1, 3), Some(4));
        assert_eq!(mul_div_floor(1, 1, 0), None);
        assert_eq!(mul_div_floor(u128::MAX, 2, 1), None);
    }
}
