//! Property tests of the lease money: a lease's escrow, settled any number of times and
//! closed at any point (early by an offline device or after it ran dry), is exactly paid out
//! as fees, stakers' share, owner's income and the renter's refund; no unit is created or lost.

use proptest::prelude::*;
use stoa_compute::market::split_payout;
use stoa_framework::stream::Stream;

proptest! {
    #[test]
    fn escrow_is_conserved(
        rate in 1u128..1_000_000,
        duration in 1i64..100_000,
        settles in proptest::collection::vec(0i64..120_000, 0..8),
        close_at in 0i64..150_000,
        fee_bps in prop_oneof![Just(25u32), Just(225u32)],
        share_bps in 0u32..=5_000,
        has_stakers in any::<bool>(),
    ) {
        let start = 1_000;
        let deposit = rate * duration as u128;
        let mut s = Stream::new(rate, start, None).unwrap();
        s.deposit(deposit).unwrap();
        let (mut fees, mut stakers, mut owner) = (0u128, 0u128, 0u128);
        let mut pay = |amount: u128| {
            let (f, st, o) = split_payout(amount, fee_bps, share_bps, has_stakers).unwrap();
            prop_assert_eq!(f + st + o, amount);
            fees += f;
            stakers += st;
            owner += o;
            Ok(())
        };
        let mut times: Vec<i64> = settles.iter().map(|t| start + t).collect();
        times.sort();
        for t in &times {
            pay(s.settle(*t).unwrap())?;
        }
        let at = (start + close_at).max(times.last().copied().unwrap_or(start));
        let (last, refund) = s.close(at).unwrap();
        pay(last)?;
        prop_assert_eq!(fees + stakers + owner + refund, deposit);
        // Paid exactly for the seconds used, up to the escrow.
        let used = (at - start).clamp(0, duration) as u128;
        prop_assert_eq!(fees + stakers + owner, rate * used);
    }
}
