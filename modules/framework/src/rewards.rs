//! A reward-per-share accumulator (Cosmos distribution's F1, MasterChef): rewards added to a
//! pool are shared by the holders in proportion to their shares at that moment, each holder
//! settled lazily when touched.
//!
//! The pool keeps `acc`, the reward per share so far times 2^128; a holder is owed
//! `shares * (acc - last_acc)` (also times 2^128) since it was last touched. Holders keep
//! their owed amount with its 128 fractional bits, so nothing is lost between touches: a
//! claim pays the integer part and keeps the fraction. The only rounding is at
//! `add_reward` (the per-share increment is rounded down, the remainder goes to `dust`) and
//! at `close_holder` (the holder's last fraction goes to `dust`). So, counting in units of
//! 2^-128, exactly at every step:
//!
//! `added = paid + swept + undistributed + sum over holders of pending_scaled + dust`
//!
//! and each holder gets at most its exact proportional share, and less by under
//! `shares / 2^128` per reward added while it held them. `sweep_dust` takes out whole units
//! of dust (for a community pool or burn). A reward added while there are no shares is kept
//! as `undistributed` and shared out with the next `add_reward` (which may add 0).
//!
//! The pool only keeps the books: the caller moves the coins (into the pool's account on
//! `add_reward`, out of it for what `claim`, `close_holder` and `sweep_dust` return).
//! Stored with prost; amounts are `bytes` as `crate::be_bytes` encodes them.

use crate::be_bytes::{decode_u128, decode_u256, encode_u128, encode_u256};
use crate::error::{sdk, StoaError};
use ethnum::U256;

/// One unit of reward, scaled: 2^128.
pub const SCALE: U256 = U256::from_words(1, 0);
const FRACTION: U256 = U256::from_words(0, u128::MAX);

#[derive(Clone, PartialEq, prost::Message)]
pub struct RewardPool {
    #[prost(bytes = "vec", tag = "1")]
    total_shares: Vec<u8>,
    /// Reward per share times 2^128 (U256).
    #[prost(bytes = "vec", tag = "2")]
    acc: Vec<u8>,
    /// All rewards ever added.
    #[prost(bytes = "vec", tag = "3")]
    added: Vec<u8>,
    /// All rewards claimed by holders.
    #[prost(bytes = "vec", tag = "4")]
    paid: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    undistributed: Vec<u8>,
    /// Rounding remainders times 2^128 (U256).
    #[prost(bytes = "vec", tag = "6")]
    dust: Vec<u8>,
    /// Dust taken out by `sweep_dust`.
    #[prost(bytes = "vec", tag = "7")]
    swept: Vec<u8>,
}

/// One holder's position in a `RewardPool`; `RewardHolder::default()` is a new holder.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RewardHolder {
    #[prost(bytes = "vec", tag = "1")]
    shares: Vec<u8>,
    /// The pool's `acc` when this holder was last settled (U256).
    #[prost(bytes = "vec", tag = "2")]
    last_acc: Vec<u8>,
    /// Settled, unclaimed reward times 2^128 (U256).
    #[prost(bytes = "vec", tag = "3")]
    owed: Vec<u8>,
}

fn overflow(what: &str) -> StoaError {
    sdk::OVERFLOW.with(format!("reward pool {what}"))
}

impl RewardHolder {
    pub fn shares(&self) -> Result<u128, StoaError> {
        decode_u128(&self.shares, "holder shares")
    }

    pub fn last_acc(&self) -> Result<U256, StoaError> {
        decode_u256(&self.last_acc, "holder last_acc")
    }

    /// Settled, unclaimed reward times 2^128.
    pub fn owed_scaled(&self) -> Result<U256, StoaError> {
        decode_u256(&self.owed, "holder owed")
    }
}

impl RewardPool {
    pub fn total_shares(&self) -> Result<u128, StoaError> {
        decode_u128(&self.total_shares, "pool total_shares")
    }

    /// Reward per share so far, times 2^128.
    pub fn acc(&self) -> Result<U256, StoaError> {
        decode_u256(&self.acc, "pool acc")
    }

    pub fn added(&self) -> Result<u128, StoaError> {
        decode_u128(&self.added, "pool added")
    }

    pub fn paid(&self) -> Result<u128, StoaError> {
        decode_u128(&self.paid, "pool paid")
    }

    pub fn undistributed(&self) -> Result<u128, StoaError> {
        decode_u128(&self.undistributed, "pool undistributed")
    }

    /// Rounding remainders times 2^128.
    pub fn dust_scaled(&self) -> Result<U256, StoaError> {
        decode_u256(&self.dust, "pool dust")
    }

    pub fn swept(&self) -> Result<u128, StoaError> {
        decode_u128(&self.swept, "pool swept")
    }

    /// What the pool's account must hold: added, less paid and swept.
    pub fn balance(&self) -> Result<u128, StoaError> {
        let (added, paid, swept) = (self.added()?, self.paid()?, self.swept()?);
        (added.checked_sub(paid))
            .and_then(|v| v.checked_sub(swept))
            .ok_or_else(|| sdk::LOGIC.with("reward pool paid more than added"))
    }

    /// Shares `amount` among the current holders (with anything undistributed).
    pub fn add_reward(&mut self, amount: u128) -> Result<(), StoaError> {
        let added = self.added()?.checked_add(amount);
        let added = added.ok_or_else(|| overflow("added"))?;
        let total = (self.undistributed()?)
            .checked_add(amount)
            .ok_or_else(|| overflow("undistributed"))?;
        let shares = U256::from(self.total_shares()?);
        if shares == U256::ZERO {
            self.added = encode_u128(added);
            self.undistributed = encode_u128(total);
            return Ok(());
        }
        let scaled = U256::from_words(total, 0);
        let per_share = scaled / shares;
        let lost = scaled - per_share * shares;
        let acc = self.acc()?.checked_add(per_share);
        let dust = self.dust_scaled()?.checked_add(lost);
        self.acc = encode_u256(acc.ok_or_else(|| overflow("acc"))?);
        self.dust = encode_u256(dust.ok_or_else(|| overflow("dust"))?);
        self.added = encode_u128(added);
        self.undistributed = Vec::new();
        Ok(())
    }

    /// The holder's settled and accrued reward, times 2^128.
    pub fn pending_scaled(&self, h: &RewardHolder) -> Result<U256, StoaError> {
        let delta = (self.acc()?)
            .checked_sub(h.last_acc()?)
            .ok_or_else(|| sdk::LOGIC.with("holder ahead of its pool"))?;
        let owed = h.owed_scaled()?;
        (delta.checked_mul(U256::from(h.shares()?)))
            .and_then(|a| a.checked_add(owed))
            .ok_or_else(|| overflow("pending"))
    }

    /// What `claim` would pay now.
    pub fn pending(&self, h: &RewardHolder) -> Result<u128, StoaError> {
        Ok(self.pending_scaled(h)?.into_words().0)
    }

    /// Settles the holder, then adds `n` shares.
    pub fn add_shares(&mut self, h: &mut RewardHolder, n: u128) -> Result<(), StoaError> {
        let mut next = self.settled(h)?;
        let mine = next.shares()?.checked_add(n);
        let total = self.total_shares()?.checked_add(n);
        next.shares = encode_u128(mine.ok_or_else(|| overflow("shares"))?);
        self.total_shares = encode_u128(total.ok_or_else(|| overflow("total shares"))?);
        *h = next;
        Ok(())
    }

    /// Settles the holder, then removes `n` of its shares.
    pub fn remove_shares(&mut self, h: &mut RewardHolder, n: u128) -> Result<(), StoaError> {
        let mut next = self.settled(h)?;
        let have = next.shares()?;
        let mine = have.checked_sub(n).ok_or_else(|| {
            sdk::INSUFFICIENT_FUNDS.with(format!("removing {n} shares of {have}"))
        })?;
        let total = self.total_shares()?.checked_sub(n);
        self.total_shares = encode_u128(total.ok_or_else(|| sdk::LOGIC.with("pool shares"))?);
        next.shares = encode_u128(mine);
        *h = next;
        Ok(())
    }

    /// Pays the holder the whole units of its reward; returns the amount to move to it.
    pub fn claim(&mut self, h: &mut RewardHolder) -> Result<u128, StoaError> {
        let mut next = self.settled(h)?;
        let owed = next.owed_scaled()?;
        let amount = owed.into_words().0;
        let paid = self.paid()?.checked_add(amount);
        self.paid = encode_u128(paid.ok_or_else(|| overflow("paid"))?);
        next.owed = encode_u256(owed & FRACTION);
        *h = next;
        Ok(amount)
    }

    /// Claims for a holder with no shares left and moves its last fraction of a unit to
    /// dust, so that the holder's record can be deleted (it is left as a new holder).
    pub fn close_holder(&mut self, h: &mut RewardHolder) -> Result<u128, StoaError> {
        if h.shares()? != 0 {
            return Err(sdk::INVALID_REQUEST.with("closing a holder that still has shares"));
        }
        let owed = self.pending_scaled(h)?;
        let amount = owed.into_words().0;
        let paid = self.paid()?.checked_add(amount);
        let dust = self.dust_scaled()?.checked_add(owed & FRACTION);
        let dust = dust.ok_or_else(|| overflow("dust"))?;
        self.paid = encode_u128(paid.ok_or_else(|| overflow("paid"))?);
        self.dust = encode_u256(dust);
        *h = RewardHolder::default();
        Ok(amount)
    }

    /// Takes the whole units out of dust; returns the amount to move out of the pool.
    pub fn sweep_dust(&mut self) -> Result<u128, StoaError> {
        let dust = self.dust_scaled()?;
        let amount = dust.into_words().0;
        let swept = self.swept()?.checked_add(amount);
        self.swept = encode_u128(swept.ok_or_else(|| overflow("swept"))?);
        self.dust = encode_u256(dust & FRACTION);
        Ok(amount)
    }

    /// The holder with what it accrued moved into `owed`; the caller stores it only once
    /// the whole operation has succeeded, so a failing operation changes nothing.
    fn settled(&self, h: &RewardHolder) -> Result<RewardHolder, StoaError> {
        Ok(RewardHolder {
            shares: h.shares.clone(),
            last_acc: encode_u256(self.acc()?),
            owed: encode_u256(self.pending_scaled(h)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_in_proportion_and_keeps_fractions() {
        let mut pool = RewardPool::default();
        let (mut a, mut b) = (RewardHolder::default(), RewardHolder::default());
        pool.add_reward(7).unwrap(); // no shares yet: kept
        assert_eq!(pool.undistributed(), Ok(7));
        pool.add_shares(&mut a, 1).unwrap();
        pool.add_shares(&mut b, 2).unwrap();
        pool.add_reward(2).unwrap(); // 9 over 3 shares
        assert_eq!((pool.pending(&a), pool.pending(&b)), (Ok(3), Ok(6)));
        pool.add_reward(1).unwrap(); // a: 1/3, b: 2/3, both rounded down
        assert_eq!(pool.claim(&mut a), Ok(3));
        pool.add_reward(2).unwrap(); // a: 2/3 more, rounded down: just under 1 in all
        assert_eq!(pool.claim(&mut a), Ok(0));
        assert_eq!(a.owed_scaled(), Ok(SCALE - 1));
        pool.remove_shares(&mut b, 2).unwrap();
        assert!(pool.remove_shares(&mut b, 1).is_err());
        assert_eq!(pool.close_holder(&mut b), Ok(7)); // 8 - 2/2^128
        assert_eq!(b, RewardHolder::default());
        assert_eq!(pool.balance(), Ok(2));
        // Dust: 1 and 2 (2^-128 units) from the two thirds, and b's last fraction.
        assert_eq!(pool.dust_scaled(), Ok(SCALE + 1));
        assert_eq!(pool.sweep_dust(), Ok(1));
        assert_eq!(
            pool.pending_scaled(&a).unwrap() + pool.dust_scaled().unwrap(),
            SCALE
        );
    }

    #[test]
    fn overflow_is_an_error_that_changes_nothing() {
        let mut pool = RewardPool::default();
        let mut h = RewardHolder::default();
        pool.add_shares(&mut h, 1).unwrap();
        pool.add_reward(u128::MAX).unwrap();
        let (p, hh) = (pool.clone(), h.clone());
        assert!(sdk::OVERFLOW.is(&pool.add_reward(1).unwrap_err()));
        assert!(pool.add_shares(&mut h, u128::MAX).is_err());
        assert_eq!((&pool, &h), (&p, &hh));
        assert_eq!(pool.claim(&mut h), Ok(u128::MAX));
    }
}
