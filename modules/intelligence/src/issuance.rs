//! MIND issuance by block time, a pure function: 1 MIND per 12 s, halving each time half of
//! what remains below the 21M cap has been issued (10.5M, 15.75M, ...). Each era issues
//! 21M / 2^(k+1) at 1 / 2^k MIND per 12 s, so every era lasts the same 126,000,000 s; the
//! issuance due by time t is a closed form, floored, so per-block rounding never drifts.

/// The cap, in umind.
pub const MAX_ISSUANCE: u128 = 21_000_000 * 1_000_000;
/// umind per 12 s before the first halving.
pub const BASE_REWARD: u128 = 1_000_000;
/// Seconds per era (10.5M MIND at 1 MIND per 12 s).
pub const ERA_SECONDS: u128 = 126_000_000;

/// The umind due after `elapsed` seconds of chain time (0 before genesis), never above the cap.
pub fn issuance_due(elapsed: i64) -> u128 {
    if elapsed <= 0 {
        return 0;
    }
    let t = elapsed as u128;
    let k = t / ERA_SECONDS;
    if k >= 64 {
        return MAX_ISSUANCE;
    }
    let rem = t % ERA_SECONDS;
    // cap * (1 - 2^-k) + rem * BASE / (12 * 2^k), over one denominator: exact, then floored.
    let pow = 1u128 << k;
    let num = MAX_ISSUANCE * 12 * (pow - 1) + rem * BASE_REWARD;
    (num / (12 * pow)).min(MAX_ISSUANCE)
}

/// umind per 12 s after `elapsed` seconds (0 once the cap is reached).
pub fn reward_per_12s(elapsed: i64) -> u128 {
    let k = (elapsed.max(0) as u128) / ERA_SECONDS;
    if k >= 64 {
        0
    } else {
        BASE_REWARD >> k
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIND: u128 = 1_000_000;

    #[test]
    fn one_mind_per_12_seconds_then_halvings_then_the_cap() {
        assert_eq!(issuance_due(0), 0);
        assert_eq!(issuance_due(12), MIND);
        assert_eq!(issuance_due(6), MIND / 2);
        assert_eq!(issuance_due(5 * 12), 5 * MIND);
        let era = ERA_SECONDS as i64;
        assert_eq!(issuance_due(era), 10_500_000 * MIND);
        // After the first halving: 1 MIND per 24 s.
        assert_eq!(issuance_due(era + 24), 10_500_000 * MIND + MIND);
        assert_eq!(issuance_due(2 * era), 15_750_000 * MIND);
        assert_eq!(issuance_due(3 * era), 18_375_000 * MIND);
        assert_eq!(issuance_due(3 * era + 96), 18_375_000 * MIND + MIND);
        assert_eq!(reward_per_12s(3 * era), MIND / 8);
        assert_eq!(issuance_due(100 * era), MAX_ISSUANCE);
        assert_eq!(issuance_due(i64::MAX), MAX_ISSUANCE);
        assert_eq!(reward_per_12s(i64::MAX), 0);
    }

    proptest! {
        #[test]
        fn due_is_monotone_and_capped(a in 0i64..i64::MAX / 2, d in 0i64..1_000_000_000) {
            let x = issuance_due(a);
            let y = issuance_due(a + d);
            prop_assert!(x <= y);
            prop_assert!(y <= MAX_ISSUANCE);
            // Never faster than 1 MIND per 12 s.
            prop_assert!(y - x <= (d as u128) * MIND / 12 + 1);
        }
    }
}
