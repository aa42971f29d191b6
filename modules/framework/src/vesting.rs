//! Linear vesting: `total` vests evenly from `start` to `end` (rounded down, all of it at
//! `end`), nothing before the optional cliff, then at the cliff what the line reached.
//!
//! Stored with prost; `total` is `bytes` as `crate::be_bytes` encodes it.

use crate::be_bytes::{decode_u128, encode_u128};
use crate::error::{sdk, StoaError};
use crate::fixed::mul_div_floor;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Vesting {
    #[prost(bytes = "vec", tag = "1")]
    total: Vec<u8>,
    /// Seconds (block time).
    #[prost(int64, tag = "2")]
    start: i64,
    #[prost(int64, tag = "3")]
    end: i64,
    /// Nothing vests before it; `start` when there is no cliff.
    #[prost(int64, tag = "4")]
    cliff: i64,
}

impl Vesting {
    /// Needs `start <= cliff <= end` (`start == end` vests everything at once).
    pub fn new(total: u128, start: i64, end: i64, cliff: Option<i64>) -> Result<Self, StoaError> {
        let cliff_ok = cliff.is_none_or(|c| start <= c && c <= end);
        if start > end || !cliff_ok {
            return Err(sdk::INVALID_REQUEST.with(format!(
                "vesting from {start} to {end} with cliff {cliff:?}"
            )));
        }
        Ok(Vesting {
            total: encode_u128(total),
            start,
            end,
            cliff: cliff.unwrap_or(start),
        })
    }

    /// `duration` and `cliff_after` are seconds after `start`.
    pub fn with_duration(
        total: u128,
        start: i64,
        duration: i64,
        cliff_after: Option<i64>,
    ) -> Result<Self, StoaError> {
        let after = |d: i64| {
            (d >= 0)
                .then(|| start.checked_add(d))
                .flatten()
                .ok_or_else(|| sdk::INVALID_REQUEST.with(format!("vesting offset {d}")))
        };
        Self::new(
            total,
            start,
            after(duration)?,
            cliff_after.map(after).transpose()?,
        )
    }

    pub fn total(&self) -> Result<u128, StoaError> {
        decode_u128(&self.total, "vesting total")
    }

    pub fn start(&self) -> i64 {
        self.start
    }

    pub fn end(&self) -> i64 {
        self.end
    }

    pub fn cliff(&self) -> i64 {
        self.cliff
    }

    /// What has vested by `t`: non-decreasing in `t`, `total` from `end` on.
    pub fn vested_at(&self, t: i64) -> Result<u128, StoaError> {
        let total = self.total()?;
        if t < self.cliff {
            return Ok(0);
        }
        if t >= self.end {
            return Ok(total);
        }
        if t <= self.start {
            return Ok(0);
        }
        let elapsed = (i128::from(t) - i128::from(self.start)) as u128;
        let span = (i128::from(self.end) - i128::from(self.start)) as u128;
        mul_div_floor(total, elapsed, span).ok_or_else(|| sdk::LOGIC.with("vesting fraction"))
    }

    /// Vested by `t` and not yet claimed; `already_claimed` above `total` is an error.
    pub fn claimable(&self, t: i64, already_claimed: u128) -> Result<u128, StoaError> {
        if already_claimed > self.total()? {
            return Err(sdk::INVALID_REQUEST.with(format!(
                "claimed {already_claimed} of a vesting of {:?}",
                self.total()
            )));
        }
        Ok(self.vested_at(t)?.saturating_sub(already_claimed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cliff_line_and_end() {
        let v = Vesting::with_duration(1_000, 100, 400, Some(100)).unwrap();
        assert_eq!(v.vested_at(199), Ok(0));
        assert_eq!(v.vested_at(200), Ok(250));
        assert_eq!(v.vested_at(201), Ok(252));
        assert_eq!(v.vested_at(499), Ok(997));
        assert_eq!(v.vested_at(500), Ok(1_000));
        assert_eq!(v.claimable(300, 250), Ok(250));
        assert_eq!(v.claimable(150, 250), Ok(0));
        assert!(v.claimable(600, 1_001).is_err());
        assert!(Vesting::new(1, 10, 5, None).is_err());
        assert!(Vesting::new(1, 0, 5, Some(6)).is_err());
        assert_eq!(Vesting::new(9, 5, 5, None).unwrap().vested_at(5), Ok(9));
    }
}
