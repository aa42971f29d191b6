//! Coins on u128 with checked arithmetic: a `Coin` is one denom and amount, `Coins` a sorted
//! set of them with no zero entries (Cosmos SDK's `sdk.Coins` rules).

use crate::address::echo_input;
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
            return Err(sdk::INVALID_COINS.with(format!("{}: missing amount", echo_input(s))));
        }
        let amount = num
            .parse::<u128>()
            .map_err(|e| sdk::INVALID_COINS.with(format!("{}: {e}", echo_input(s))))?;
        validate_denom(denom)?;
        Ok(Coin {
            denom: denom.to_string(),
            amount,
        })
    }

    /// From the Cosmos SDK proto form (amount as a decimal string in canonical form: see
    /// [`parse_amount`]).
    pub fn from_proto(denom: &str, amount: &str) -> Result<Self, StoaError> {
        validate_denom(denom)?;
        let amount = parse_amount(amount).map_err(|e| {
            sdk::INVALID_COINS.with(format!("amount of {}: {}", echo_input(denom), e.log))
        })?;
        Ok(Coin {
            denom: denom.to_string(),
            amount,
        })
    }
}

/// An amount as a tx carries it: decimal digits only, no sign, no leading zero (except `0`
/// itself), at most u128. One number has one spelling, so `+5` and `00005` never read as 5.
pub fn parse_amount(s: &str) -> Result<u128, StoaError> {
    parse_amount_bytes(s.as_bytes())
        .ok_or_else(|| sdk::INVALID_COINS.with(format!("invalid amount {}", echo_input(s))))
}

/// [`parse_amount`] on raw bytes, without building an error: the decoder's fast path.
pub fn parse_amount_bytes(s: &[u8]) -> Option<u128> {
    match s {
        [] => None,
        [b'0'] => Some(0),
        [b'0', ..] => None,
        _ => s.iter().try_fold(0u128, |acc, b| {
            if b.is_ascii_digit() {
                acc.checked_mul(10)?.checked_add(u128::from(b - b'0'))
            } else {
                None
            }
        }),
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
        Err(sdk::INVALID_COINS.with(format!("invalid denom {}", echo_input(denom))))
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

    /// Coins as a tx carries them, checked as Cosmos SDK's `Coins.Validate` does: each denom
    /// valid, each amount canonical and positive, denoms strictly ascending (so no duplicates).
    /// Unlike [`Coins::from_list`], nothing is sorted or dropped: a list that is not already
    /// the one canonical spelling of the set is refused.
    pub fn from_proto_list<'a>(
        list: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, StoaError> {
        let mut out = BTreeMap::new();
        let mut last: Option<&str> = None;
        for (denom, amount) in list {
            let coin = Coin::from_proto(denom, amount)?;
            if coin.amount == 0 {
                return Err(sdk::INVALID_COINS.with(format!(
                    "coin {}{} amount is not positive",
                    coin.amount,
                    echo_input(denom)
                )));
            }
            if let Some(prev) = last {
                if prev == denom {
                    return Err(sdk::INVALID_COINS
                        .with(format!("duplicate denomination {}", echo_input(denom))));
                }
                if prev > denom {
                    return Err(sdk::INVALID_COINS
                        .with(format!("denomination {} is not sorted", echo_input(denom))));
                }
            }
            last = Some(denom);
            out.insert(coin.denom, coin.amount);
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

    /// Amounts have one spelling: what Cosmos SDK's decoders refuse or read as another number.
    #[test]
    fn amounts_are_canonical() {
        for ok in ["0", "5", "10", "340282366920938463463374607431768211455"] {
            assert_eq!(parse_amount(ok).unwrap().to_string(), ok);
        }
        for bad in [
            "",
            "+5",
            "-5",
            "00005",
            "05",
            "00",
            " 5",
            "5 ",
            "5.0",
            "1e3",
            "0x5",
            "５",
            "340282366920938463463374607431768211456",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?} accepted");
            assert!(Coin::from_proto("ustor", bad).is_err(), "{bad:?} accepted");
        }
    }

    /// `Coins.Validate`: sorted, no duplicates, positive, valid denoms.
    #[test]
    fn proto_lists_follow_coins_validate() {
        let ok = Coins::from_proto_list([("ucomp", "5"), ("ustor", "10")]).unwrap();
        assert_eq!(ok.to_string(), "5ucomp,10ustor");
        assert!(Coins::from_proto_list([]).unwrap().is_empty());
        for bad in [
            vec![("ustor", "10"), ("ucomp", "5")],
            vec![("ustor", "10"), ("ustor", "5")],
            vec![("ustor", "0")],
            vec![("ucomp", "1"), ("ustor", "0")],
            vec![("u", "1")],
            vec![("1stor", "1")],
            vec![("ustor", "+1")],
        ] {
            let err = Coins::from_proto_list(bad.clone()).unwrap_err();
            assert_eq!(err.code, sdk::INVALID_COINS.code, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Any list `from_proto_list` accepts is the canonical spelling of its set.
        #[test]
        fn accepted_lists_are_canonical(
            list in proptest::collection::vec(("[a-c]{3}", 0u128..4), 0..5)
        ) {
            let amounts: Vec<String> = list.iter().map(|(_, a)| a.to_string()).collect();
            let pairs: Vec<(&str, &str)> =
                list.iter().zip(&amounts).map(|((d, _), a)| (d.as_str(), a.as_str())).collect();
            if let Ok(c) = Coins::from_proto_list(pairs.clone()) {
                let back: Vec<(String, String)> =
                    c.pairs().map(|(d, a)| (d.to_string(), a.to_string())).collect();
                let given: Vec<(String, String)> =
                    pairs.iter().map(|(d, a)| (d.to_string(), a.to_string())).collect();
                proptest::prop_assert_eq!(back, given);
            }
        }
    }
}
