//! Vector and sparse-matrix operations of Yuma Consensus over I32F32 with subtensor's
//! semantics: multiplication floors, division truncates and gives 0 on a zero divisor, sums and
//! products saturate instead of overflowing, so no input can make them panic.

use stoa_framework::fixed::{I32F32, I64F64};
use stoa_framework::math::{exp_neg, U128F128};

/// A sparse matrix: one row per uid, each a list of `(column, value)`.
pub type Sparse = Vec<Vec<(u16, I32F32)>>;

pub const ZERO: I32F32 = I32F32::ZERO;

pub fn one() -> I32F32 {
    I32F32::from_num(1)
}

/// `x / y`, 0 when `y` is 0 (or the quotient does not fit).
pub fn safe_div(x: I32F32, y: I32F32) -> I32F32 {
    let (a, d) = (x.to_bits(), y.to_bits());
    // Proportions (0 <= x < 1, y > 0) are nearly every division of an epoch: their shifted
    // dividend fits 64 bits, so a native u64 division gives the same truncated quotient as the
    // 128-bit one, several times faster.
    if (0..1i64 << 32).contains(&a) && d > 0 {
        let q = ((a as u64) << 32) / d as u64;
        return i64::try_from(q).map(I32F32::from_bits).unwrap_or_default();
    }
    x.checked_div(y).unwrap_or_default()
}

/// Many divisions by one divisor, each exactly `safe_div(x, d)`: a non-negative dividend goes
/// through a reciprocal of the divisor computed once (a multiplication and one correction step
/// instead of a 128-bit division per cell: the bonds and weights matrices divide a million
/// cells by a few thousand column and row sums); anything else falls back to `safe_div`.
#[derive(Clone, Copy, Debug)]
pub struct Divisor {
    d: I32F32,
    /// `d`'s bits when positive, else 0.
    bits: u64,
    /// `floor((2^128 - 1) / bits)`.
    recip: u128,
}

impl Divisor {
    pub const fn new(d: I32F32) -> Divisor {
        let b = d.to_bits();
        if b <= 0 {
            return Divisor {
                d,
                bits: 0,
                recip: 0,
            };
        }
        Divisor {
            d,
            bits: b as u64,
            recip: u128::MAX / b as u128,
        }
    }

    /// `safe_div(x, self.d)`, bit for bit.
    #[inline]
    pub fn div(&self, x: I32F32) -> I32F32 {
        let a = x.to_bits();
        if a < 0 || self.bits == 0 {
            return safe_div(x, self.d);
        }
        // The quotient of the fixed-point division: floor(a * 2^32 / bits), exact.
        let n = (a as u128) << 32;
        let d = self.bits as u128;
        // recip <= 2^128 / d, and short of it by at most 1 / d, so n * recip / 2^128 is below
        // n / d by less than n / 2^128 < 1: the estimate is q or q - 1.
        let mut q = mul_hi(n, self.recip);
        if n - q * d >= d {
            q += 1;
        }
        // A quotient past i64 is an overflow: 0, as `checked_div` gives.
        i64::try_from(q).map(I32F32::from_bits).unwrap_or_default()
    }
}

/// The high 128 bits of the 256-bit product `a * b`.
#[inline]
fn mul_hi(a: u128, b: u128) -> u128 {
    let (a1, a0) = (a >> 64, a & u64::MAX as u128);
    let (b1, b0) = (b >> 64, b & u64::MAX as u128);
    let lo = a0 * b0;
    let (mid, c1) = (a1 * b0).overflowing_add(a0 * b1);
    let (mid, c2) = mid.overflowing_add(lo >> 64);
    a1 * b1 + (mid >> 64) + (((c1 as u128) + (c2 as u128)) << 64)
}

pub fn safe_div64(x: I64F64, y: I64F64) -> I64F64 {
    x.checked_div(y).unwrap_or_default()
}

pub fn sum(x: &[I32F32]) -> I32F32 {
    x.iter().fold(ZERO, |a, v| a.saturating_add(*v))
}

pub fn u16_max() -> I32F32 {
    I32F32::from_num(u16::MAX)
}

/// `floor(x * 65535)` as u16 (saturating at both ends).
pub fn fixed_proportion_to_u16(x: I32F32) -> u16 {
    x.saturating_mul(u16_max()).saturating_to_num::<u16>()
}

/// `x / 65535`.
pub fn u16_proportion_to_fixed(x: u16) -> I32F32 {
    const BY_U16_MAX: Divisor = Divisor::new(I32F32::from_bits((u16::MAX as i64) << 32));
    BY_U16_MAX.div(I32F32::from_num(x))
}

pub fn is_zero(v: &[I32F32]) -> bool {
    sum(v) == ZERO
}

/// True for the `k` largest non-zero entries (ties: a stable ascending sort drops the earlier
/// uids first, as subtensor's does).
pub fn is_topk_nonzero(v: &[I32F32], k: usize) -> Vec<bool> {
    let n = v.len();
    let mut out: Vec<bool> = v.iter().map(|x| *x != ZERO).collect();
    if n < k {
        return out;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by_key(|&i| v[i]);
    for &i in idx.iter().take(n - k) {
        out[i] = false;
    }
    out
}

pub fn inplace_normalize(x: &mut [I32F32]) {
    let s = sum(x);
    inplace_normalize_using_sum(x, s);
}

pub fn inplace_normalize_using_sum(x: &mut [I32F32], s: I32F32) {
    if s == ZERO {
        return;
    }
    let by = Divisor::new(s);
    x.iter_mut().for_each(|v| *v = by.div(*v));
}

pub fn inplace_normalize_64(x: &mut [I64F64]) {
    let s = x.iter().fold(I64F64::ZERO, |a, v| a.saturating_add(*v));
    if s == I64F64::ZERO {
        return;
    }
    x.iter_mut().for_each(|v| *v = safe_div64(*v, s));
}

/// Zeroes the entries whose mask is true.
pub fn inplace_mask_vector(mask: &[bool], v: &mut [I32F32]) {
    for (i, x) in v.iter_mut().enumerate() {
        if mask.get(i).copied().unwrap_or(true) {
            *x = ZERO;
        }
    }
}

/// Drops cell `(i, j)` where `mask(scalar, v[j])`.
pub fn scalar_vec_mask_sparse_matrix(
    m: &Sparse,
    scalar: u64,
    v: &[u64],
    mask: impl Fn(u64, u64) -> bool,
) -> Sparse {
    m.iter()
        .map(|row| {
            row.iter()
                .filter(|(j, _)| !mask(scalar, v.get(*j as usize).copied().unwrap_or(0)))
                .copied()
                .collect()
        })
        .collect()
}

pub fn inplace_row_normalize_sparse(m: &mut Sparse) {
    for row in m.iter_mut() {
        let s = row.iter().fold(ZERO, |a, (_, v)| a.saturating_add(*v));
        if s > ZERO {
            let by = Divisor::new(s);
            row.iter_mut().for_each(|(_, v)| *v = by.div(*v));
        }
    }
}

pub fn row_sum_sparse(m: &Sparse) -> Vec<I32F32> {
    m.iter()
        .map(|row| row.iter().fold(ZERO, |a, (_, v)| a.saturating_add(*v)))
        .collect()
}

pub fn inplace_col_normalize_sparse(m: &mut Sparse, columns: usize) {
    let mut col_sum = vec![ZERO; columns];
    for row in m.iter() {
        for &(j, v) in row {
            if let Some(s) = col_sum.get_mut(j as usize) {
                *s = s.saturating_add(v);
            }
        }
    }
    let by: Vec<Divisor> = col_sum.into_iter().map(Divisor::new).collect();
    for row in m.iter_mut() {
        for (j, v) in row.iter_mut() {
            if let Some(d) = by.get(*j as usize) {
                if d.d != ZERO {
                    *v = d.div(*v);
                }
            }
        }
    }
}

pub fn inplace_col_max_upscale_sparse(m: &mut Sparse, columns: usize) {
    let mut col_max = vec![ZERO; columns];
    for row in m.iter() {
        for &(j, v) in row {
            if let Some(c) = col_max.get_mut(j as usize) {
                if *c < v {
                    *c = v;
                }
            }
        }
    }
    let by: Vec<Divisor> = col_max.into_iter().map(Divisor::new).collect();
    for row in m.iter_mut() {
        for (j, v) in row.iter_mut() {
            if let Some(c) = by.get(*j as usize) {
                if c.d != ZERO {
                    *v = c.div(*v);
                }
            }
        }
    }
}

/// `m_ij * v_i`.
pub fn row_hadamard_sparse(m: &Sparse, v: &[I32F32]) -> Sparse {
    m.iter()
        .zip(v)
        .map(|(row, s)| {
            row.iter()
                .map(|&(j, x)| (j, x.saturating_mul(*s)))
                .collect()
        })
        .collect()
}

/// `r_j = sum_i v_i * m_ij`.
pub fn matmul_sparse(m: &Sparse, v: &[I32F32], columns: usize) -> Vec<I32F32> {
    let mut r = vec![ZERO; columns];
    for (i, row) in m.iter().enumerate() {
        let s = v.get(i).copied().unwrap_or(ZERO);
        for &(j, x) in row {
            if let Some(c) = r.get_mut(j as usize) {
                *c = c.saturating_add(s.saturating_mul(x));
            }
        }
    }
    r
}

/// `r_i = sum_j v_j * m_ij`.
pub fn matmul_transpose_sparse(m: &Sparse, v: &[I32F32]) -> Vec<I32F32> {
    m.iter()
        .map(|row| {
            row.iter().fold(ZERO, |a, &(j, x)| {
                a.saturating_add(v.get(j as usize).copied().unwrap_or(ZERO).saturating_mul(x))
            })
        })
        .collect()
}

/// Values above their column's threshold become the threshold (dropped if it is zero).
pub fn col_clip_sparse(m: &Sparse, threshold: &[I32F32]) -> Sparse {
    m.iter()
        .map(|row| {
            let mut out = Vec::with_capacity(row.len());
            for &(j, v) in row {
                let th = threshold.get(j as usize).copied().unwrap_or(ZERO);
                if th < v {
                    if th > ZERO {
                        out.push((j, th));
                    }
                } else {
                    out.push((j, v));
                }
            }
            out
        })
        .collect()
}

/// The stake-weighted median of `score` over `partition` by a mid-pivot binary search (the
/// pivot is the middle index, never random, so every node finds the same value).
fn weighted_median(
    stake: &[I32F32],
    score: &[I32F32],
    partition: &[usize],
    minority: I32F32,
    mut lo: I32F32,
    mut hi: I32F32,
) -> I32F32 {
    let get = |v: &[I32F32], i: usize| v.get(i).copied().unwrap_or(ZERO);
    let mut current: Vec<usize> = partition.to_vec();
    let limit = partition.len();
    let mut lower = Vec::new();
    let mut upper = Vec::new();
    for _ in 0..=limit {
        let n = current.len();
        if n == 0 {
            return ZERO;
        }
        if n == 1 {
            return get(score, current[0]);
        }
        let pivot = get(score, current[n / 2]);
        let mut lo_stake = ZERO;
        let mut hi_stake = ZERO;
        for &i in &current {
            let s = get(score, i);
            if s == pivot {
                continue;
            }
            if s < pivot {
                lo_stake = lo_stake.saturating_add(get(stake, i));
                lower.push(i);
            } else {
                hi_stake = hi_stake.saturating_add(get(stake, i));
                upper.push(i);
            }
        }
        if minority < lo.saturating_add(lo_stake) && !lower.is_empty() {
            current = std::mem::take(&mut lower);
            hi = lo.saturating_add(lo_stake);
        } else if hi.saturating_sub(hi_stake) <= minority && !upper.is_empty() {
            current = std::mem::take(&mut upper);
            lo = hi.saturating_sub(hi_stake);
        } else {
            return pivot;
        }
        lower.clear();
        upper.clear();
    }
    ZERO
}

/// Per column, the median of the rows' values weighted by the rows' (positive) stake, at
/// `majority`.
pub fn weighted_median_col_sparse(
    stake: &[I32F32],
    score: &Sparse,
    columns: usize,
    majority: I32F32,
) -> Vec<I32F32> {
    let mut use_stake: Vec<I32F32> = stake.iter().copied().filter(|s| *s > ZERO).collect();
    inplace_normalize(&mut use_stake);
    let stake_sum = sum(&use_stake);
    let minority = stake_sum.saturating_sub(majority);
    let idx: Vec<usize> = (0..use_stake.len()).collect();
    let mut use_score = vec![vec![ZERO; use_stake.len()]; columns];
    let mut k = 0usize;
    for (s, row) in stake.iter().zip(score) {
        if *s > ZERO {
            for &(c, v) in row {
                if let Some(cell) = use_score.get_mut(c as usize).and_then(|col| col.get_mut(k)) {
                    *cell = v;
                }
            }
            k += 1;
        }
    }
    use_score
        .iter()
        .map(|col| weighted_median(&use_stake, col, &idx, minority, ZERO, stake_sum))
        .collect()
}

/// `a + ratio * (b - a)` per cell, keeping positive cells.
pub fn interpolate_sparse(a: &Sparse, b: &Sparse, columns: usize, ratio: I32F32) -> Sparse {
    if ratio == ZERO {
        return a.clone();
    }
    if ratio == one() || a.len() != b.len() {
        return b.clone();
    }
    let mut out = vec![Vec::new(); a.len()];
    for i in 0..a.len() {
        let mut r1 = vec![ZERO; columns];
        for &(j, v) in &a[i] {
            if let Some(c) = r1.get_mut(j as usize) {
                *c = v;
            }
        }
        let mut r2 = vec![ZERO; columns];
        for &(j, v) in &b[i] {
            if let Some(c) = r2.get_mut(j as usize) {
                *c = v;
            }
        }
        for j in 0..columns {
            let x = r1[j].saturating_add(ratio.saturating_mul(r2[j].saturating_sub(r1[j])));
            if x > ZERO {
                out[i].push((j as u16, x));
            }
        }
    }
    out
}

/// `a_i * b_i` (0 where the product overflows).
pub fn vec_mul(a: &[I32F32], b: &[I32F32]) -> Vec<I32F32> {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.checked_mul(*y).unwrap_or_default())
        .collect()
}

/// `m_ij * v_j`, keeping non-zero cells.
pub fn mat_vec_mul_sparse(m: &Sparse, v: &[I32F32]) -> Sparse {
    m.iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, x)| {
                    let y = v.get(j as usize)?;
                    let p = x.saturating_mul(*y);
                    (p != ZERO).then_some((j, p))
                })
                .collect()
        })
        .collect()
}

/// `alpha * new + (1 - alpha) * old`, keeping positive cells, columns in order.
pub fn mat_ema_sparse(new: &Sparse, old: &Sparse, alpha: I32F32, columns: usize) -> Sparse {
    let keep = one().saturating_sub(alpha);
    new.iter()
        .enumerate()
        .map(|(i, row)| {
            // Rows of non-validators are empty on both sides: nothing to densify.
            if row.is_empty() && old.get(i).is_none_or(|o| o.is_empty()) {
                return Vec::new();
            }
            let mut acc = vec![ZERO; columns];
            for &(j, v) in row {
                if let Some(c) = acc.get_mut(j as usize) {
                    *c = c.saturating_add(alpha.saturating_mul(v));
                }
            }
            if let Some(orow) = old.get(i) {
                for &(j, v) in orow {
                    if let Some(c) = acc.get_mut(j as usize) {
                        *c = c.saturating_add(keep.saturating_mul(v));
                    }
                }
            }
            acc.iter()
                .enumerate()
                .filter(|(_, v)| **v > ZERO)
                .map(|(j, v)| (j as u16, *v))
                .collect()
        })
        .collect()
}

/// The EMA with one alpha per cell (`alpha[i][j]`); as subtensor's, only cells present in the
/// new row survive, clamped to [0, 1].
pub fn mat_ema_alpha_sparse(new: &Sparse, old: &Sparse, alpha: &[Vec<I32F32>]) -> Sparse {
    if new.len() != old.len() || new.len() != alpha.len() {
        return new.clone();
    }
    new.iter()
        .zip(old)
        .zip(alpha)
        .map(|((nrow, orow), arow)| {
            let mut decayed = vec![ZERO; arow.len()];
            for &(j, v) in orow {
                if let (Some(a), Some(c)) = (arow.get(j as usize), decayed.get_mut(j as usize)) {
                    *c = one().saturating_sub(*a).saturating_mul(v);
                }
            }
            nrow.iter()
                .filter_map(|&(j, v)| {
                    let a = arow.get(j as usize)?;
                    let d = decayed.get(j as usize)?;
                    let inc = a.saturating_mul(v).max(ZERO);
                    let x = d.saturating_add(inc).min(one());
                    (x > ZERO).then_some((j, x))
                })
                .collect()
        })
        .collect()
}

pub fn clamp_value(v: I32F32, lo: I32F32, hi: I32F32) -> I32F32 {
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// `e^x` for x clamped to [-20, 20], through the framework's Q.128 `exp_neg` and floored to
/// I32F32. (subtensor's own series may differ in the last bits; liquid alpha, its only user,
/// is checked against subtensor's tests at their 1e-3 tolerance.)
pub fn exp_safe(x: I32F32) -> I32F32 {
    let x = clamp_value(x, I32F32::from_num(-20), I32F32::from_num(20));
    let neg = x < ZERO;
    // |x| is exactly its bits over 2^32.
    let Some(q) = U128F128::from_ratio(x.unsigned_abs().to_bits() as u128, 1 << 32) else {
        return ZERO;
    };
    let e = exp_neg(q);
    let v = if neg {
        e
    } else {
        match U128F128::ONE.checked_div(e) {
            Some(v) => v,
            None => return I32F32::MAX,
        }
    };
    match v.mul_int_floor(1 << 32).and_then(|b| i64::try_from(b).ok()) {
        Some(b) => I32F32::from_bits(b),
        None => I32F32::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::any;

    fn f(x: f64) -> I32F32 {
        I32F32::from_num(x)
    }

    proptest::proptest! {
        /// The fast path gives exactly what the fixed crate's division gives.
        #[test]
        fn fast_division_matches_the_fixed_crate(a in 0i64..1 << 32, d in 1i64..i64::MAX) {
            let (x, y) = (I32F32::from_bits(a), I32F32::from_bits(d));
            proptest::prop_assert_eq!(safe_div(x, y), x.checked_div(y).unwrap_or_default());
        }

        /// The reciprocal division gives exactly `safe_div` (and so the fixed crate's), for
        /// proportions, integers (classic bonds are u16 integers before normalisation),
        /// quotients that overflow, and any sign.
        #[test]
        fn divisor_matches_safe_div(a in any::<i64>(), d in any::<i64>(), small in 0i64..1 << 40, shift in 0u32..63) {
            for (x, y) in [(a, d), (small, d), (a >> shift, d >> shift), (small, d.unsigned_abs() as i64 >> shift), (a.unsigned_abs() as i64 >> shift, small + 1)] {
                let (x, y) = (I32F32::from_bits(x), I32F32::from_bits(y));
                proptest::prop_assert_eq!(Divisor::new(y).div(x), safe_div(x, y), "{} / {}", x, y);
                proptest::prop_assert_eq!(safe_div(x, y), x.checked_div(y).unwrap_or_default());
            }
        }

        #[test]
        fn u16_proportions_divide_exactly(x in any::<u16>()) {
            proptest::prop_assert_eq!(u16_proportion_to_fixed(x), safe_div(I32F32::from_num(x), u16_max()));
        }

        #[test]
        fn fast_division_matches_for_small_divisors(a in 0i64..1 << 32, d in 1i64..1 << 33) {
            let (x, y) = (I32F32::from_bits(a), I32F32::from_bits(d));
            proptest::prop_assert_eq!(safe_div(x, y), x.checked_div(y).unwrap_or_default());
        }
    }

    #[test]
    fn divisor_edge_cases() {
        let edges = [
            i64::MIN,
            -(1 << 32),
            -1,
            0,
            1,
            2,
            3,
            (1 << 32) - 1,
            1 << 32,
            (1 << 32) + 1,
            65_535 << 32,
            1 << 40,
            1 << 62,
            i64::MAX - 1,
            i64::MAX,
        ];
        for a in edges {
            for d in edges {
                let (x, y) = (I32F32::from_bits(a), I32F32::from_bits(d));
                assert_eq!(Divisor::new(y).div(x), safe_div(x, y), "{a} / {d}");
            }
        }
    }

    #[test]
    fn division_by_zero_is_zero_and_multiplication_floors() {
        assert_eq!(safe_div(one(), ZERO), ZERO);
        // 2^-32 * 0.5 floors to 0.
        assert_eq!(I32F32::DELTA.saturating_mul(f(0.5)), ZERO);
        assert_eq!(fixed_proportion_to_u16(f(0.5)), 32767);
        assert_eq!(fixed_proportion_to_u16(one()), 65535);
        assert_eq!(fixed_proportion_to_u16(f(2.0)), 65535);
    }

    #[test]
    fn weighted_median_picks_the_stake_majority() {
        // Stake at or above 0.9 is 0.4 (under kappa), at or above 0.5 it is 0.7.
        let stake = vec![f(0.4), f(0.3), f(0.3)];
        let w: Sparse = vec![vec![(0, f(0.9))], vec![(0, f(0.1))], vec![(0, f(0.5))]];
        let kappa = safe_div(I32F32::from_num(32767), u16_max());
        assert_eq!(
            weighted_median_col_sparse(&stake, &w, 1, kappa),
            vec![f(0.5)]
        );
    }

    #[test]
    fn exp_matches_known_values() {
        let e = exp_safe(one());
        assert!((e.to_num::<f64>() - std::f64::consts::E).abs() < 1e-8);
        let e = exp_safe(f(-1.0));
        assert!((e.to_num::<f64>() - (-1f64).exp()).abs() < 1e-8);
        assert_eq!(exp_safe(ZERO), one());
    }

    #[test]
    fn topk_keeps_the_largest_nonzero() {
        let v = vec![f(0.1), f(0.4), ZERO, f(0.4), f(0.1)];
        assert_eq!(is_topk_nonzero(&v, 3), vec![false, true, false, true, true]);
        assert_eq!(is_topk_nonzero(&v, 10), vec![true, true, false, true, true]);
    }
}
