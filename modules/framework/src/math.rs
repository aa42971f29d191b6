//! Deterministic fixed-point math for emission and decay curves: `U128F128` (unsigned, 128
//! fractional bits, in a 256-bit integer), `exp_neg`, `ln`, integer powers, no floats.
//!
//! Precision guaranteed (and tested in `tests/econ.rs` against references computed with
//! Python's `decimal` at 120 digits), with
//! `ulp = 2^-128`, the error measured against the exact function of the exact input:
//! - `exp_neg(x)`, every `x >= 0`: `|exp_neg(x) - e^-x| <= 1 ulp`.
//! - `ln(x)`, every representable `x > 0`: `|ln(x) - ln x| <= 1 ulp`.
//! - `pow(b, n)`: `|pow(b, n) - b^n| <= 1 ulp + b^n * 2^-180` (so 1 ulp for `b <= 1`).
//! - `from_ratio`, `checked_mul`, `checked_div`, `mul_int_floor`: exact, rounded down.
//!
//! How: `exp_neg` and `ln` work internally with 192 fractional bits (range reduction by
//! ln 2, then a Taylor series resp. the atanh series) and round to nearest once at the end;
//! `pow` squares a 256-bit-mantissa binary float, so its relative error stays near 2^-189
//! even for n = 2^64, and rounds to nearest once.

use crate::fixed::Dec;
use ethnum::U256;

/// An unsigned fixed-point number: the value is `bits / 2^128`. Integers up to `2^128 - 1`,
/// resolution `2^-128`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct U128F128(U256);

/// A signed `U128F128` as sign and magnitude (what `ln` returns); zero is never negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct I128F128 {
    negative: bool,
    magnitude: U128F128,
}

/// Internal working precision of `exp_neg` and `ln`: 192 fractional bits.
const WF: u32 = 192;
/// ln 2 with 192 fractional bits, rounded to nearest.
const LN2_W: U256 = U256::from_words(0xb17217f7d1cf79ab, 0xc9e3b39803f2f6af40f343267298b62e);

impl U128F128 {
    pub const FRAC_BITS: u32 = 128;
    pub const ZERO: U128F128 = U128F128(U256::ZERO);
    pub const ONE: U128F128 = U128F128(U256::from_words(1, 0));
    pub const MAX: U128F128 = U128F128(U256::MAX);
    /// ln 2 rounded to nearest.
    pub const LN2: U128F128 = U128F128(U256::from_words(0, 0xb17217f7d1cf79abc9e3b39803f2f6af));

    /// The value `bits / 2^128`.
    pub const fn from_bits(bits: U256) -> Self {
        U128F128(bits)
    }

    pub const fn to_bits(self) -> U256 {
        self.0
    }

    pub const fn from_int(v: u128) -> Self {
        U128F128(U256::from_words(v, 0))
    }

    /// `a / b` rounded down; `None` when `b == 0`.
    pub fn from_ratio(a: u128, b: u128) -> Option<Self> {
        (b != 0).then(|| U128F128(div_shl(U256::from(a), U256::from(b), 128).expect("a < 2^128")))
    }

    /// A `Dec` (18 decimals), rounded down.
    pub fn from_dec(d: Dec) -> Self {
        Self::from_ratio(d.0, Dec::ONE.0).expect("nonzero")
    }

    /// To a `Dec`, rounded down; `None` when it does not fit.
    pub fn to_dec_floor(self) -> Option<Dec> {
        self.mul_int_floor(Dec::ONE.0).map(Dec)
    }

    /// The integer part.
    pub fn floor_int(self) -> u128 {
        self.0.into_words().0
    }

    /// `floor(self * n)`: what a payout of a fraction of an amount needs. `None` on overflow.
    pub fn mul_int_floor(self, n: u128) -> Option<u128> {
        mul_shr(self.0, U256::from(n), 128).and_then(|v| u128::try_from(v).ok())
    }

    pub fn checked_add(self, o: Self) -> Option<Self> {
        self.0.checked_add(o.0).map(U128F128)
    }

    pub fn checked_sub(self, o: Self) -> Option<Self> {
        self.0.checked_sub(o.0).map(U128F128)
    }

    /// Product rounded down.
    pub fn checked_mul(self, o: Self) -> Option<Self> {
        mul_shr(self.0, o.0, 128).map(U128F128)
    }

    /// Quotient rounded down; `None` on division by zero or overflow.
    pub fn checked_div(self, o: Self) -> Option<Self> {
        if o.0 == U256::ZERO {
            return None;
        }
        div_shl(self.0, o.0, 128).map(U128F128)
    }

    pub fn is_zero(self) -> bool {
        self.0 == U256::ZERO
    }
}

impl I128F128 {
    pub fn new(negative: bool, magnitude: U128F128) -> Self {
        I128F128 {
            negative: negative && !magnitude.is_zero(),
            magnitude,
        }
    }

    pub fn is_negative(self) -> bool {
        self.negative
    }

    pub fn abs(self) -> U128F128 {
        self.magnitude
    }

    /// The value when it is not negative.
    pub fn to_unsigned(self) -> Option<U128F128> {
        (!self.negative).then_some(self.magnitude)
    }
}

impl Ord for I128F128 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        match (self.negative, o.negative) {
            (false, false) => self.magnitude.cmp(&o.magnitude),
            (true, true) => o.magnitude.cmp(&self.magnitude),
            (a, b) => b.cmp(&a),
        }
    }
}

impl PartialOrd for I128F128 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// e^-x for x >= 0, within 1 ulp (rounded to nearest; 0 once e^-x < 2^-129).
pub fn exp_neg(x: U128F128) -> U128F128 {
    if x >= U128F128::from_int(90) {
        return U128F128::ZERO; // e^-90 < 2^-129
    }
    let xw = x.0 << (WF - 128);
    // x = k ln2 + r with 0 <= r < ln2, so e^-x = 2^-k e^-r and the series converges fast.
    let k = xw / LN2_W;
    let r = xw - k * LN2_W;
    let (mut pos, mut neg) = (U256::ONE << WF, U256::ZERO);
    let mut term = U256::ONE << WF;
    let mut n = 1u32;
    while term != U256::ZERO {
        term = mul_shr(term, r, WF).expect("term < 1") / U256::from(n);
        if n % 2 == 1 {
            neg += term;
        } else {
            pos += term;
        }
        n += 1;
    }
    round_from_w((pos - neg) >> k.as_u32())
}

/// The natural logarithm of x > 0 within 1 ulp (rounded to nearest); `None` for 0.
pub fn ln(x: U128F128) -> Option<I128F128> {
    if x.is_zero() {
        return None;
    }
    // x = 2^e m with m in [1, 2), m with 192 fractional bits (cut below 2^-192 when x >= 2^64,
    // which moves ln m by less than 2^-192).
    let top = 255 - x.0.leading_zeros() as i32;
    let e = top - 128;
    let shift = WF as i32 - top;
    let m = if shift >= 0 {
        x.0 << shift as u32
    } else {
        x.0 >> (-shift) as u32
    };
    // ln m = 2 atanh((m - c) / (m + c)) + ln c, c = 1 or 2, so that |s| <= 0.2.
    let one = U256::ONE << WF;
    let (c, e) = if m > one + (one >> 1) {
        (one << 1, e + 1)
    } else {
        (one, e)
    };
    let (s_neg, diff) = if m < c { (true, c - m) } else { (false, m - c) };
    let s = div_shl(diff, m + c, WF).expect("s < 1");
    let s2 = mul_shr(s, s, WF).expect("s^2 < 1");
    let (mut sum, mut p, mut n) = (U256::ZERO, s, 1u32);
    while p != U256::ZERO {
        sum += p / U256::from(n);
        p = mul_shr(p, s2, WF).expect("< 1");
        n += 2;
    }
    let series = (s_neg, sum << 1);
    let k = (e < 0, LN2_W * U256::from(e.unsigned_abs()));
    let (negative, mag) = signed_add(k, series);
    Some(I128F128::new(negative, round_from_w(mag)))
}

/// `base^n` by squaring; `None` when the result is 2^128 or more. See the module doc for
/// its precision.
pub fn pow(base: U128F128, n: u64) -> Option<U128F128> {
    if n == 0 {
        return Some(U128F128::ONE);
    }
    if base.is_zero() {
        return Some(U128F128::ZERO);
    }
    let b = Float::from_q128(base.0);
    let mut acc = b;
    for i in (0..63 - n.leading_zeros()).rev() {
        acc = acc.mul(acc);
        if n >> i & 1 == 1 {
            acc = acc.mul(b);
        }
        // The powers only grow (base > 1) or only shrink (base < 1), so stop once the result
        // is sure not to fit or to round to zero, before the exponent could overflow.
        if acc.e > 0 {
            return None;
        }
        if acc.e < -1000 {
            return Some(U128F128::ZERO);
        }
    }
    acc.to_q128().map(U128F128)
}

/// A positive binary float `m * 2^e` with `m` normalized to `[2^255, 2^256)`.
#[derive(Clone, Copy)]
struct Float {
    m: U256,
    e: i64,
}

impl Float {
    fn from_q128(bits: U256) -> Float {
        let lz = bits.leading_zeros();
        Float {
            m: bits << lz,
            e: -128 - lz as i64,
        }
    }

    /// Product, truncated to 256 bits (relative error below 2^-254).
    fn mul(self, o: Float) -> Float {
        let (hi, lo) = mul_wide(self.m, o.m);
        let e = self.e + o.e + 256;
        if hi.leading_zeros() == 0 {
            Float { m: hi, e }
        } else {
            Float {
                m: (hi << 1) | (lo >> 255),
                e: e - 1,
            }
        }
    }

    /// Rounded to nearest as 128-fractional-bit bits; `None` if it does not fit.
    fn to_q128(self) -> Option<U256> {
        let s = -(self.e + 128); // bits = m / 2^s
        if s < 0 {
            return None;
        }
        if s == 0 {
            return Some(self.m);
        }
        if s > 256 {
            return Some(U256::ZERO);
        }
        let q = if s == 256 {
            U256::ZERO
        } else {
            self.m >> s as u32
        };
        let half = (self.m >> (s - 1) as u32) & U256::ONE;
        Some(q + half)
    }
}

/// Rounds a value with 192 fractional bits to nearest at 128 fractional bits.
fn round_from_w(v: U256) -> U128F128 {
    let shift = WF - 128;
    U128F128((v >> shift) + ((v >> (shift - 1)) & U256::ONE))
}

/// Sum of two sign-magnitude numbers.
fn signed_add(a: (bool, U256), b: (bool, U256)) -> (bool, U256) {
    if a.0 == b.0 {
        (a.0, a.1 + b.1)
    } else if a.1 >= b.1 {
        (a.0, a.1 - b.1)
    } else {
        (b.0, b.1 - a.1)
    }
}

/// The full 512-bit product as (high, low) halves.
fn mul_wide(a: U256, b: U256) -> (U256, U256) {
    let (a1, a0) = a.into_words();
    let (b1, b0) = b.into_words();
    let w = |x: u128, y: u128| U256::from(x) * U256::from(y);
    let (mid, mid_carry) = w(a0, b1).overflowing_add(w(a1, b0));
    let (m1, m0) = mid.into_words();
    let (lo, lo_carry) = w(a0, b0).overflowing_add(U256::from_words(m0, 0));
    let mut hi = w(a1, b1) + U256::from(m1) + U256::from(lo_carry as u8);
    if mid_carry {
        hi += U256::from_words(1, 0);
    }
    (hi, lo)
}

/// `floor(a * b / 2^s)` for `s <= 256`, exact; `None` when it does not fit 256 bits.
fn mul_shr(a: U256, b: U256, s: u32) -> Option<U256> {
    let (hi, lo) = mul_wide(a, b);
    match s {
        0 => (hi == U256::ZERO).then_some(lo),
        256 => Some(hi),
        _ => (hi >> s == U256::ZERO).then(|| (hi << (256 - s)) | (lo >> s)),
    }
}

/// `floor(num * 2^s / den)` by long division, exact; `None` when it does not fit 256 bits.
fn div_shl(num: U256, den: U256, s: u32) -> Option<U256> {
    let mut q = num / den;
    let mut r = num % den;
    if s > 0 && q.leading_zeros() < s {
        return None;
    }
    for _ in 0..s {
        let carry = r >> 255 == U256::ONE;
        r <<= 1;
        q <<= 1;
        // r < den before the shift, so 2r - den < den also when 2r overflowed 256 bits.
        if carry || r >= den {
            r = r.wrapping_sub(den);
            q |= U256::ONE;
        }
    }
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_helpers_are_exact() {
        let m = U256::MAX;
        assert_eq!(mul_wide(m, m), (m - U256::ONE, U256::ONE));
        assert_eq!(mul_shr(m, m, 256), Some(m - U256::ONE));
        assert_eq!(mul_shr(m, U256::from(2u8), 0), None);
        assert_eq!(div_shl(U256::ONE, U256::from(3u8), 2), Some(U256::ONE));
        assert_eq!(div_shl(m, m, 255), Some(U256::ONE << 255));
        assert_eq!(div_shl(U256::from(2u8), U256::ONE, 255), None);
        assert_eq!(div_shl(m - U256::ONE, m, 256), Some(m - U256::ONE));
    }

    #[test]
    fn edges() {
        assert_eq!(exp_neg(U128F128::ZERO), U128F128::ONE);
        assert_eq!(exp_neg(U128F128::MAX), U128F128::ZERO);
        assert_eq!(ln(U128F128::ONE), Some(I128F128::default()));
        assert_eq!(ln(U128F128::ZERO), None);
        assert_eq!(pow(U128F128::ZERO, 0), Some(U128F128::ONE));
        assert_eq!(pow(U128F128::ZERO, 5), Some(U128F128::ZERO));
        assert_eq!(
            pow(U128F128::from_int(2), 127),
            Some(U128F128::from_int(1 << 127))
        );
        assert_eq!(pow(U128F128::from_int(2), 128), None);
        assert_eq!(
            pow(U128F128::from_ratio(1, 2).unwrap(), 128),
            Some(U128F128::from_bits(U256::ONE))
        );
        assert_eq!(
            pow(U128F128::from_ratio(1, 2).unwrap(), 129),
            Some(U128F128::from_bits(U256::ONE))
        );
        assert_eq!(
            pow(U128F128::from_ratio(1, 2).unwrap(), 130),
            Some(U128F128::ZERO)
        );
        let tiny = U128F128::from_bits(U256::ONE);
        assert_eq!(pow(tiny, u64::MAX), Some(U128F128::ZERO));
        assert_eq!(pow(U128F128::from_int(2), u64::MAX), None);
        assert_eq!(pow(U128F128::ONE, u64::MAX), Some(U128F128::ONE));
        let just_above = U128F128::ONE.checked_add(tiny).unwrap();
        // (1 + 2^-128)^(2^64 - 1) = 1 + 2^-64 - 2^-128 + 2^-129 + ...
        let p = pow(just_above, u64::MAX).unwrap().to_bits();
        let want = (U256::ONE << 128) + (U256::ONE << 64);
        assert!(p <= want && want - p <= U256::ONE);
    }
}
