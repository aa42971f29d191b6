//! A lazily settled payment stream (an Akash lease's escrow, a Filecoin deal's per-second
//! payment): the payer deposits escrow, the payee is owed `rate` per second from `start` to
//! the optional `end`, and whoever touches the stream settles what is owed so far.
//!
//! Accounting: `deposited == paid + refunded + held` always, all u128, checked. What is owed
//! is a closed formula, `rate * (min(now, end) - start)`, so nothing drifts however often it
//! is settled, and `paid = min(owed, deposited)` after each settle: a settle never pays the
//! same second twice. An overdrawn stream (owed > deposited) keeps accruing; a later deposit
//! pays the arrears first. Whether to close an overdrawn stream is the market's decision
//! (`is_overdrawn`, `runs_out_at`, `arrears` tell it). Closing settles, then refunds the rest;
//! arrears left at close are never paid.
//!
//! The stream only keeps the books: the caller moves the coins (payer to an escrow account
//! on `deposit`, escrow to payee and payer for what `settle` and `close` return).
//! Stored with prost; amounts are `bytes` as `crate::be_bytes` encodes them. Build one with
//! `Stream::new` (`Stream::default()` is the empty record, which ends at time 0).

use crate::be_bytes::{decode_u128, encode_u128};
use crate::error::{sdk, StoaError};

#[derive(Clone, PartialEq, prost::Message)]
pub struct Stream {
    /// Amount per second.
    #[prost(bytes = "vec", tag = "1")]
    rate: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    deposited: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    paid: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    refunded: Vec<u8>,
    /// Seconds (block time).
    #[prost(int64, tag = "5")]
    start: i64,
    /// `i64::MAX` when the stream has no end.
    #[prost(int64, tag = "6")]
    end: i64,
    /// The time of the last settle; `i64::MIN` before the first.
    #[prost(int64, tag = "7")]
    settled_at: i64,
    #[prost(bool, tag = "8")]
    closed: bool,
}

impl Stream {
    /// A stream with no escrow yet; `end`, if any, must not be before `start`.
    pub fn new(rate: u128, start: i64, end: Option<i64>) -> Result<Stream, StoaError> {
        if end.is_some_and(|e| e < start) {
            return Err(sdk::INVALID_REQUEST.with(format!("stream ends {end:?} before {start}")));
        }
        Ok(Stream {
            rate: encode_u128(rate),
            start,
            end: end.unwrap_or(i64::MAX),
            settled_at: i64::MIN,
            ..Default::default()
        })
    }

    pub fn rate(&self) -> Result<u128, StoaError> {
        decode_u128(&self.rate, "stream rate")
    }

    pub fn deposited(&self) -> Result<u128, StoaError> {
        decode_u128(&self.deposited, "stream deposited")
    }

    pub fn paid(&self) -> Result<u128, StoaError> {
        decode_u128(&self.paid, "stream paid")
    }

    pub fn refunded(&self) -> Result<u128, StoaError> {
        decode_u128(&self.refunded, "stream refunded")
    }

    /// Escrow not yet paid or refunded.
    pub fn held(&self) -> Result<u128, StoaError> {
        let (d, p, r) = (self.deposited()?, self.paid()?, self.refunded()?);
        d.checked_sub(p)
            .and_then(|v| v.checked_sub(r))
            .ok_or_else(|| sdk::LOGIC.with("stream pays out more than deposited"))
    }

    pub fn start(&self) -> i64 {
        self.start
    }

    pub fn end(&self) -> Option<i64> {
        (self.end != i64::MAX).then_some(self.end)
    }

    pub fn settled_at(&self) -> Option<i64> {
        (self.settled_at != i64::MIN).then_some(self.settled_at)
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Everything owed from `start` up to `now` (not past `end`), paid or not; saturates at
    /// u128::MAX, which is more than any escrow.
    pub fn owed(&self, now: i64) -> Result<u128, StoaError> {
        let until = now.min(self.end);
        let secs = u128::try_from(i128::from(until) - i128::from(self.start)).unwrap_or(0);
        Ok(self.rate()?.saturating_mul(secs))
    }

    /// What is owed at `now` beyond the escrow.
    pub fn arrears(&self, now: i64) -> Result<u128, StoaError> {
        Ok(self.owed(now)?.saturating_sub(self.deposited()?))
    }

    pub fn is_overdrawn(&self, now: i64) -> Result<bool, StoaError> {
        Ok(self.arrears(now)? > 0)
    }

    /// The time the escrow is used up: it pays everything owed up to this second and not
    /// another full second; `is_overdrawn(t)` exactly for `t > runs_out_at`. `None` when it
    /// never runs out (rate zero, escrow covering up to `end`, or beyond i64 seconds).
    pub fn runs_out_at(&self) -> Result<Option<i64>, StoaError> {
        let rate = self.rate()?;
        if rate == 0 {
            return Ok(None);
        }
        let secs = i64::try_from(self.deposited()? / rate).ok();
        let at = secs.and_then(|s| self.start.checked_add(s));
        Ok(at.filter(|t| *t < self.end))
    }

    pub fn deposit(&mut self, amount: u128) -> Result<(), StoaError> {
        self.check_open()?;
        let d = self.deposited()?.checked_add(amount);
        self.deposited = encode_u128(d.ok_or_else(|| sdk::OVERFLOW.with("stream deposit"))?);
        Ok(())
    }

    /// Pays what is owed since the last settle, as far as the escrow goes; returns the amount
    /// the caller must move to the payee. `now` before the last settle is an error.
    pub fn settle(&mut self, now: i64) -> Result<u128, StoaError> {
        self.check_open()?;
        if now < self.settled_at {
            let t = self.settled_at;
            return Err(sdk::LOGIC.with(format!("stream settled at {t}, now {now} is earlier")));
        }
        let paid = self.paid()?;
        let due = self.owed(now)?.min(self.deposited()?);
        let pay = due
            .checked_sub(paid)
            .ok_or_else(|| sdk::LOGIC.with("stream paid more than owed"))?;
        self.paid = encode_u128(due);
        self.settled_at = now;
        Ok(pay)
    }

    /// Settles at `now`, then ends the stream: returns `(to_payee, refund_to_payer)`, which
    /// with everything paid before make up all the deposits.
    pub fn close(&mut self, now: i64) -> Result<(u128, u128), StoaError> {
        let to_payee = self.settle(now)?;
        let refund = self.held()?;
        self.refunded = encode_u128(refund);
        self.closed = true;
        Ok((to_payee, refund))
    }

    fn check_open(&self) -> Result<(), StoaError> {
        if self.closed {
            return Err(sdk::INVALID_REQUEST.with("stream is closed"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn pays_per_second_up_to_the_escrow_then_arrears() {
        let mut s = Stream::new(10, 100, None).unwrap();
        s.deposit(55).unwrap();
        assert_eq!(s.settle(50), Ok(0)); // before start
        assert_eq!(s.settle(103), Ok(30));
        assert_eq!(s.settle(103), Ok(0));
        assert_eq!(s.runs_out_at(), Ok(Some(105)));
        assert!(!s.is_overdrawn(105).unwrap());
        assert!(s.is_overdrawn(106).unwrap());
        assert_eq!(s.settle(110), Ok(25));
        assert_eq!(s.arrears(110), Ok(45));
        s.deposit(100).unwrap();
        assert_eq!(s.settle(111), Ok(55)); // arrears of 45 and second 111
        assert!(s.settle(110).is_err());
        assert_eq!(s.close(112), Ok((10, 35)));
        assert_eq!(s.deposited(), Ok(155));
        assert_eq!(s.paid().unwrap() + s.refunded().unwrap(), 155);
        assert!(s.deposit(1).is_err() && s.settle(200).is_err());
        assert_eq!(Stream::decode(&*s.encode_to_vec()).unwrap(), s);
    }

    #[test]
    fn stops_at_end() {
        let mut s = Stream::new(3, 0, Some(10)).unwrap();
        s.deposit(100).unwrap();
        assert_eq!(s.runs_out_at(), Ok(None));
        assert_eq!(s.settle(1_000), Ok(30));
        assert_eq!(s.close(2_000), Ok((0, 70)));
        assert!(Stream::new(1, 10, Some(9)).is_err());
    }
}
