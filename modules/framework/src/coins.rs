//! Coins on u128 with checked arithmetic: a `Coin` is one denom and amount, `Coins` a sorted
//! set of them with no zero entries (Cosmos SDK's `sdk.Coins` rules).

use crate::error::{sdk, StoaError};
use std::collections::BTreeMap;
use std::fmt;

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Coin {
    pub denom: String,
    #[serde(with = "amount_string")]
    pub amount: u128,
}

impl Coin {
    pub fn new(amount: u128, denom: impl Into<String>) -> Self {
        Coin {
            denom: denom.into(),
            amount,
        }
    }

    /// Parses `123ustor`.
    pub fn parse(s: &str) -> Result<Self, StoaError> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, denom) = s.split_at(split);
        if num.is_empty() {
            return Err(sdk::INVALID_COINS.with(format!("{s:?}: missing amount")));
        }
        let amount = num
            .parse::<u128>()
            .map_err(|e| sdk::INVALID_COINS.with(format!("{s:?}: {e}")))?;
        validate_denom(denom)?;
        Ok(Coin {
            denom: denom.to_string(),
            amount,
        })
    }

    /// From the Cosmos SDK proto form (amount as a decimal string).
    pub fn from_proto(denom: &str, amount: &str) -> Result<Self, StoaError> {
        validate_denom(denom)?;
        let amount = amount
            .parse::<u128>()
            .map_err(|e| sdk::INVALID_COINS.with(format!("amount {amount:?} of {denom}: {e}")))?;
        Ok(Coin {
            denom: denom.to_string(),
            amount,
        })
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

/// Cosmos SDK's denom rule: a letter, then 2 to 127 of letters, digits, `/ : . _ -`.
pub fn validate_denom(denom: &str) -> Result<(), StoaError> {
    let bytes = denom.as_bytes();
    let ok = (3..=128).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"/:._-".contains(b));
    if ok {
        Ok(())
    } else {
        Err(sdk::INVALID_COINS.with(format!("invalid denom {denom:?}")))
    }
}

/// A set of coins, at most one per denom, none zero, ordered by denom.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coins(BTreeMap<String, u128>);

impl Coins {
    pub fn new() -> Self {
        Coins(BTreeMap::new())
    }

    /// Builds a set from a list; duplicate denoms are an error (as in Cosmos SDK), zero amounts
    /// are dropped.
    pub fn from_list(list: impl IntoIterator<Item = Coin>) -> Result<Self, StoaError> {
        let mut out = BTreeMap::new();
        for c in list {
            validate_denom(&c.denom)?;
            if out.contains_key(&c.denom) {
                return Err(sdk::INVALID_COINS.with(format!("duplicate denom {}", c.denom)));
            }
            if c.amount > 0 {
                out.insert(c.denom, c.amount);
            }
        }
        Ok(Coins(out))
    }

    /// Parses `10ustor,5ucomp`; an empty string is the empty set.
    pub fn parse(s: &str) -> Result<Self, StoaError> {
        if s.trim().is_empty() {
            return Ok(Coins::new());
        }
        Self::from_list(
            s.split(',')
                .map(Coin::parse)
                .collect::<Result<Vec<_>, _>>()?,
        )
    }

    pub fn amount_of(&self, denom: &str) -> u128 {
        self.0.get(denom).copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = Coin> + '_ {
        self.0.iter().map(|(d, a)| Coin {
            denom: d.clone(),
            amount: *a,
        })
    }

    /// (denom, amount) pairs by denom, without copying the denoms.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, u128)> {
        self.0.iter().map(|(d, a)| (d.as_str(), *a))
    }

    pub fn denoms(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn checked_add(&self, other: &Coins) -> Result<Coins, StoaError> {
        let mut out = self.0.clone();
        for (d, a) in &other.0 {
            let slot = out.entry(d.clone()).or_insert(0);
            *slot = slot
                .checked_add(*a)
                .ok_or_else(|| sdk::OVERFLOW.with(format!("adding {a}{d}")))?;
        }
        Ok(Coins(out))
    }

    /// `self - other`; an error when any denom would go negative.
    pub fn checked_sub(&self, other: &Coins) -> Result<Coins, StoaError> {
        let mut out = self.0.clone();
        for (d, a) in &other.0 {
            let have = out.get(d).copied().unwrap_or(0);
            let left = have.checked_sub(*a).ok_or_else(|| {
                sdk::INSUFFICIENT_FUNDS.with(format!("{have}{d} is smaller than {a}{d}"))
            })?;
            if left == 0 {
                out.remove(d);
            } else {
                out.insert(d.clone(), left);
            }
        }
        Ok(Coins(out))
    }
}

impl fmt::Display for Coins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (d, a)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}{d}")?;
        }
        Ok(())
    }
}

impl FromIterator<Coin> for Result<Coins, StoaError> {
    fn from_iter<I: IntoIterator<Item = Coin>>(iter: I) -> Self {
        Coins::from_list(iter)
    }
}

/// u128 amounts travel as decimal strings in JSON (numbers lose precision past 2^53).
pub mod amount_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_add_sub() {
        let a = Coins::parse("10ustor,5ucomp").unwrap();
        let b = Coins::parse("3ustor").unwrap();
        assert_eq!(a.checked_add(&b).unwrap().to_string(), "5ucomp,13ustor");
        assert_eq!(a.checked_sub(&b).unwrap().amount_of("ustor"), 7);
        assert!(b.checked_sub(&a).is_err());
        assert!(Coins::parse("1ustor,2ustor").is_err());
        assert!(Coin::parse("5u").is_err());
        assert!(Coin::parse("ustor").is_err());
        let max = Coins::from_list([Coin::new(u128::MAX, "ustor")]).unwrap();
        assert!(sdk::OVERFLOW.is(&max.checked_add(&b).unwrap_err()));
    }
}
