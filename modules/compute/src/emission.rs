//! The emission schedule as a pure function of time: `emitted_by(schedule, seconds)` is the
//! cumulative ucomp the schedule has emitted `seconds` of block time after emission started.
//!
//! With q the monthly keep factor and Y1 the first year's amount, month m (from 1) emits
//! `E1 q^(m-1)` with `E1 = Y1 (1 - q) / (1 - q^12)`, so the first k whole months emit
//! `A_k = Y1 (1 - q^k) / (1 - q^12)` (computed in Q.128 fixed point, floored once). Inside a
//! month the amount grows linearly, `A_k + (A_(k+1) - A_k) r / month`, floored; the result is
//! clamped to the pool. Because every value is a floor of an exact expression of `seconds`,
//! paying `emitted_by(now) - emitted_by(last)` at each tick never drifts, and the function is
//! monotone (A_k is, and the in-month part is between A_k and A_(k+1)).

use crate::params::EmissionSchedule;
use stoa_framework::fixed::mul_div_floor;
use stoa_framework::math::{pow, U128F128};

/// Cumulative emission after `k` whole months, before the clamp.
fn whole_months(s: &EmissionSchedule, k: u64) -> u128 {
    let q = U128F128::from_ratio(u128::from(s.monthly_keep_bps), 10_000).unwrap_or_default();
    let year = U128F128::ONE
        .checked_sub(pow(q, 12).unwrap_or_default())
        .unwrap_or(U128F128::ONE);
    let done = U128F128::ONE
        .checked_sub(pow(q, k).unwrap_or_default())
        .unwrap_or_default();
    done.checked_div(year)
        .and_then(|r| r.mul_int_floor(s.year_one))
        .unwrap_or(u128::MAX)
}

/// The month (from 1) that `seconds` falls in.
pub fn month_of(s: &EmissionSchedule, seconds: i64) -> u64 {
    if seconds < 0 || s.month_seconds <= 0 {
        return 1;
    }
    (seconds / s.month_seconds) as u64 + 1
}

/// What month `m` (from 1) emits, before the clamp.
pub fn month_amount(s: &EmissionSchedule, m: u64) -> u128 {
    let k = m.saturating_sub(1);
    whole_months(s, k + 1).saturating_sub(whole_months(s, k))
}

/// Cumulative ucomp emitted `seconds` after the start, clamped to the pool (`s.total`).
pub fn emitted_by(s: &EmissionSchedule, seconds: i64) -> u128 {
    if seconds <= 0 || s.month_seconds <= 0 {
        return 0;
    }
    let k = (seconds / s.month_seconds) as u64;
    let r = (seconds % s.month_seconds) as u128;
    let a = whole_months(s, k);
    if a >= s.total {
        return s.total;
    }
    let next = whole_months(s, k + 1);
    let part = mul_div_floor(next.saturating_sub(a), r, s.month_seconds as u128).unwrap_or(0);
    a.saturating_add(part).min(s.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MONTH: i64 = 2_629_800;

    #[test]
    fn the_design_numbers() {
        let s = EmissionSchedule::default();
        // Year one: 40,000,000 COMP (to the floor of the fixed-point quotient).
        let y1 = emitted_by(&s, 12 * MONTH);
        assert!(y1.abs_diff(40_000_000_000_000) <= 1, "{y1}");
        // E1 is about 3,524,500 COMP.
        let e1 = month_amount(&s, 1);
        assert!((3_524_000_000_000..3_525_000_000_000).contains(&e1), "{e1}");
        assert_eq!(emitted_by(&s, MONTH), e1);
        // Month 2 falls by 1.02%.
        let e2 = month_amount(&s, 2);
        assert_eq!(e2, emitted_by(&s, 2 * MONTH) - e1);
        assert!(e2.abs_diff(e1 * 9_898 / 10_000) <= 3, "{e2} vs {e1}");
        // Half a month in: half of month 1.
        assert_eq!(emitted_by(&s, MONTH / 2), e1 / 2);
        // The pool runs dry in month 198.
        assert!(emitted_by(&s, 197 * MONTH) < s.total);
        assert_eq!(emitted_by(&s, 198 * MONTH), s.total);
        assert_eq!(emitted_by(&s, 240 * MONTH), s.total);
        assert_eq!(emitted_by(&s, i64::MAX), s.total);
        assert_eq!(emitted_by(&s, 0), 0);
        assert_eq!(emitted_by(&s, -5), 0);
    }

    proptest! {
        #[test]
        fn monotone_and_clamped(a in 0i64..400 * MONTH, d in 0i64..3 * MONTH) {
            let s = EmissionSchedule::default();
            let x = emitted_by(&s, a);
            let y = emitted_by(&s, a + d);
            prop_assert!(x <= y);
            prop_assert!(y <= s.total);
        }

        #[test]
        fn hourly_ticks_add_up_to_the_function(start in 0i64..300 * MONTH, hours in 1i64..2_000) {
            let s = EmissionSchedule::default();
            let mut paid = 0u128;
            let mut last = emitted_by(&s, start);
            for h in 1..=hours {
                let now = emitted_by(&s, start + h * 3_600);
                paid += now - last;
                last = now;
            }
            prop_assert_eq!(paid, emitted_by(&s, start + hours * 3_600) - emitted_by(&s, start));
        }
    }
}
