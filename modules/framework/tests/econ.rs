//! The shared economics of `stoa-framework`: fixed-point math against 80-digit references,
//! and the invariants of payment streams, the reward pool and vesting, by property tests.

use ethnum::U256;
use proptest::prelude::*;
use stoa_framework::math::{exp_neg, ln, pow, I128F128, U128F128};
use stoa_framework::rewards::{RewardHolder, RewardPool, SCALE};
use stoa_framework::stream::Stream;
use stoa_framework::vesting::Vesting;

// ---------------------------------------------------------------------------------------------
// math: references computed offline with python3 `decimal` at 120 digits, as raw values
// (value * 2^128, rounded to nearest) of the exact function of the exact raw input.

fn q(raw: &str) -> U128F128 {
    U128F128::from_bits(U256::from_str_radix(raw, 10).unwrap())
}

fn ulps(a: U128F128, b: U128F128) -> U256 {
    let (a, b) = (a.to_bits(), b.to_bits());
    if a > b {
        a - b
    } else {
        b - a
    }
}

/// (name, input raw, e^-input raw)
const EXP_NEG: &[(&str, &str, &str)] = &[
    // e^-1: 0.3678794411714423215955237701614608674458
    (
        "1",
        "340282366920938463463374607431768211456",
        "125182886983370532117250726298150828302",
    ),
    // e^-0.5: 0.6065306597126334236037995349911804534419
    (
        "0.5",
        "170141183460469231731687303715884105728",
        "206391688497133195273760705512282642280",
    ),
    // e^-10: 0.0000453999297624848515355915155605506102
    (
        "10",
        "3402823669209384634633746074317682114560",
        "15448795557622704876497742989562086",
    ),
    // e^-64: 1.603810890549e-28
    (
        "64",
        "21778071482940061661655974875633165533184",
        "54574856593",
    ),
    // e^-88: 6.1e-39
    ("88", "29944848289042584784776965453995602608128", "2"),
    // e^-(ln 2 rounded): 0.5000000000000000000000000000000000000004
    (
        "ln2",
        "235865763225513294137944142764154484399",
        "170141183460469231731687303715884105728",
    ),
    // e^-(1e-9 rounded down): 0.9999999990000000004999999998333333333773
    (
        "1e-9",
        "340282366920938463463374607431",
        "340282366580656096712577327372149107951",
    ),
    // e^-(2^-128)
    ("2^-128", "1", "340282366920938463463374607431768211455"),
    // e^-30.25: 0.0000000000000728772409581969241934317749
    (
        "30.25",
        "10293541599358388519767081874810988396544",
        "24798840047922810767955592",
    ),
];

/// (name, input raw, ln negative, |ln input| raw)
const LN: &[(&str, &str, bool, &str)] = &[
    // ln 2 = 0.6931471805599453094172321214581765680755
    (
        "2",
        "680564733841876926926749214863536422912",
        false,
        "235865763225513294137944142764154484399",
    ),
    // ln 10 = 2.3025850929940456840179914546843642076011
    (
        "10",
        "3402823669209384634633746074317682114560",
        false,
        "783529105480883066805338482703447369892",
    ),
    // ln (1e-9 rounded down) = -20.7232658369464111561619230921615354389768
    (
        "1e-9",
        "340282366920938463463374607431",
        true,
        "7051761949327947601248046344331794540480",
    ),
    // ln 2^-128 = -88.7228391116729996054057115466466007136640
    (
        "2^-128",
        "1",
        true,
        "30190817692865701649656850273811774003104",
    ),
    // ln (2^128 - 2^-128) = 88.7228391116729996054057115466466007136640
    (
        "max",
        "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        false,
        "30190817692865701649656850273811774003104",
    ),
    // ln 0.75 = -0.2876820724517809274392190059938274315035
    (
        "0.75",
        "255211775190703847597530955573826158592",
        true,
        "97893136534612920672394100867838144681",
    ),
    // ln 1.5 = 0.4054651081081643819780131154643491365720
    (
        "1.5",
        "510423550381407695195061911147652317184",
        false,
        "137972626690900373465550041896316339718",
    ),
    // ln (e rounded) = 0.9999999999999999999999999999999999999996
    (
        "e",
        "924983374546220337150911035843336795079",
        false,
        "340282366920938463463374607431768211456",
    ),
];

/// (name, base raw, n, base^n raw); 0.9898 is rounded down to 336811486778344891136048186435964175699.
const POW: &[(&str, &str, u64, &str)] = &[
    // 0.0853862369130271191917681701530798277532
    (
        "0.9898^240",
        "336811486778344891136048186435964175699",
        240,
        "29055430799236874164341754498615264179",
    ),
    // 0.8842384458675266064941937539070600457716
    (
        "0.9898^12",
        "336811486778344891136048186435964175699",
        12,
        "300890751282294071898277513168226718246",
    ),
    (
        "0.9898^1",
        "336811486778344891136048186435964175699",
        1,
        "336811486778344891136048186435964175699",
    ),
    // 165291991078820803015600259355571011.1874611288060508977080029639828611652793
    (
        "1.5^200",
        "510423550381407695195061911147652317184",
        200,
        "56245949957375787627099444823103929818084431061047217241179795092370925486",
    ),
    (
        "0.9898^100000",
        "336811486778344891136048186435964175699",
        100000,
        "0",
    ),
    // 0.9999999999999999999457898913757247783040
    (
        "(1-2^-128)^(2^64-1)",
        "340282366920938463463374607431768211455",
        u64::MAX,
        "340282366920938463444927863358058659841",
    ),
];

#[test]
fn exp_neg_matches_references_within_one_ulp() {
    for (name, x, want) in EXP_NEG {
        let got = exp_neg(q(x));
        assert!(ulps(got, q(want)) <= 1, "e^-{name}: {got:?} vs {want}");
    }
}

#[test]
fn ln_matches_references_within_one_ulp() {
    for (name, x, neg, want) in LN {
        let got = ln(q(x)).unwrap();
        assert_eq!(got.is_negative(), *neg, "ln {name}");
        assert!(
            ulps(got.abs(), q(want)) <= 1,
            "ln {name}: {got:?} vs {want}"
        );
    }
    assert_eq!(ln(U128F128::ZERO), None);
    assert!(ulps(ln(U128F128::from_int(2)).unwrap().abs(), U128F128::LN2) <= 1);
}

#[test]
fn pow_matches_references_within_one_ulp() {
    for (name, b, n, want) in POW {
        let got = pow(q(b), *n).unwrap();
        assert!(ulps(got, q(want)) <= 1, "{name}: {got:?} vs {want}");
    }
    // Against the true 0.9898^240 the rounded base costs about 240 * 2^-128 relative.
    let true_value = U128F128::from_ratio(853862369130271191917681701530798277, 10u128.pow(37));
    let got = pow(U128F128::from_ratio(9898, 10_000).unwrap(), 240).unwrap();
    assert!(ulps(got, true_value.unwrap()) < U256::ONE << 28);
}

#[test]
fn conversions_round_down_exactly() {
    let third = U128F128::from_ratio(1, 3).unwrap();
    assert_eq!(third.to_bits(), U256::from(u128::MAX / 3));
    assert_eq!(third.mul_int_floor(3), Some(0));
    assert_eq!(third.mul_int_floor(300), Some(99));
    assert_eq!(U128F128::from_ratio(7, 2).unwrap().floor_int(), 3);
    assert_eq!(U128F128::from_ratio(1, 0), None);
    assert_eq!(U128F128::MAX.mul_int_floor(2), None);
    let dec: stoa_framework::fixed::Dec = "0.0102".parse().unwrap();
    let one_minus = U128F128::ONE.checked_sub(U128F128::from_dec(dec)).unwrap();
    assert_eq!(one_minus.to_dec_floor().unwrap().to_string(), "0.9898");
    let two = U128F128::from_int(2);
    assert_eq!(two.checked_mul(two), Some(U128F128::from_int(4)));
    assert_eq!(
        U128F128::ONE.checked_div(two.checked_mul(two).unwrap()),
        U128F128::from_ratio(1, 4)
    );
    assert_eq!(two.checked_div(U128F128::ZERO), None);
    assert_eq!(U128F128::MAX.checked_mul(two), None);
}

/// Filecoin's simple minting: minted(t) = total * (1 - e^(-lambda t)), lambda = ln 2 / 6 years.
#[test]
fn filecoin_simple_minting_halves_every_six_years() {
    const SIX_YEARS: u128 = 6 * 31_557_600;
    let total: u128 = 330_000_000 * 10u128.pow(18);
    let minted = |t: u128| {
        let x = U128F128::LN2
            .checked_mul(U128F128::from_ratio(t, SIX_YEARS).unwrap())
            .unwrap();
        total - exp_neg(x).mul_int_floor(total).unwrap()
    };
    assert!(minted(SIX_YEARS).abs_diff(total / 2) <= 1);
    assert!(minted(2 * SIX_YEARS).abs_diff(total / 4 * 3) <= 1);
    let mut last = 0;
    for month in 0..=120 {
        let m = minted(month * SIX_YEARS / 72);
        assert!(m >= last && m <= total);
        last = m;
    }
}

/// io.net-style emission falling 1.02% a month: month m emits e0 * 0.9898^m; summed over 20
/// years it matches the geometric series e0 * (1 - 0.9898^240) / 0.0102.
#[test]
fn monthly_decay_sums_to_the_geometric_series() {
    let e0: u128 = 5_000_000 * 10u128.pow(18);
    let keep = U128F128::from_ratio(9_898, 10_000).unwrap();
    let emitted: u128 = (0..240)
        .map(|m| pow(keep, m).unwrap().mul_int_floor(e0).unwrap())
        .sum();
    let left = U128F128::ONE.checked_sub(pow(keep, 240).unwrap()).unwrap();
    let series = left
        .checked_div(U128F128::from_ratio(102, 10_000).unwrap())
        .unwrap()
        .mul_int_floor(e0)
        .unwrap();
    // 240 floors, and 0.9898 rounded down by under 2^-128.
    assert!(series.abs_diff(emitted) <= 241, "{series} vs {emitted}");
    assert_eq!(emitted / 10u128.pow(18), 448_340_079); // 448340079.94 by Python decimal
}

fn raw_below(max_int: u128) -> impl Strategy<Value = U128F128> {
    (0..max_int, any::<u128>()).prop_map(|(i, f)| U128F128::from_bits(U256::from_words(i, f)))
}

fn positive() -> impl Strategy<Value = U128F128> {
    (any::<u128>(), any::<u128>(), 0u32..256).prop_map(|(h, l, s)| {
        let v = U256::from_words(h, l) >> s;
        U128F128::from_bits(if v == U256::ZERO { U256::ONE } else { v })
    })
}

fn signed_diff_ulps(a: I128F128, b: I128F128) -> U256 {
    let mag = |x: I128F128| x.abs().to_bits();
    if a.is_negative() == b.is_negative() {
        ulps(a.abs(), b.abs())
    } else {
        mag(a) + mag(b)
    }
}

proptest! {
    #[test]
    fn exp_neg_of_a_sum_is_the_product(a in raw_below(45), b in raw_below(45)) {
        let whole = exp_neg(a.checked_add(b).unwrap());
        let product = exp_neg(a).checked_mul(exp_neg(b)).unwrap();
        prop_assert!(ulps(whole, product) <= U256::from(3u8));
    }

    #[test]
    fn ln_inverts_exp_neg(x in raw_below(80)) {
        let y = exp_neg(x);
        let back = ln(y).unwrap();
        // One ulp of error in y is 1/y ulps of error in ln y.
        let tolerance = U256::from(2u8) + (U256::from(2u8) << 128) / y.to_bits();
        prop_assert!(signed_diff_ulps(back, I128F128::new(!x.is_zero(), x)) <= tolerance);
    }

    #[test]
    fn exp_neg_inverts_ln_below_one(x in raw_below(1)) {
        prop_assume!(!x.is_zero());
        let l = ln(x).unwrap();
        prop_assert!(l.is_negative() || x == U128F128::ONE);
        prop_assert!(ulps(exp_neg(l.abs()), x) <= U256::from(3u8));
    }

    #[test]
    fn ln_of_double_adds_ln2(x in positive()) {
        prop_assume!(x.to_bits().leading_zeros() > 0);
        let doubled = U128F128::from_bits(x.to_bits() << 1);
        let (a, b) = (ln(x).unwrap(), ln(doubled).unwrap());
        let ln2 = I128F128::new(false, U128F128::LN2);
        // b - a == ln 2, written as b == a + ln 2 in sign-magnitude.
        let sum = if a.is_negative() {
            match U128F128::LN2.checked_sub(a.abs()) {
                Some(m) => I128F128::new(false, m),
                None => I128F128::new(true, a.abs().checked_sub(U128F128::LN2).unwrap()),
            }
        } else {
            I128F128::new(false, a.abs().checked_add(ln2.abs()).unwrap())
        };
        prop_assert!(signed_diff_ulps(b, sum) <= U256::from(3u8));
    }

    #[test]
    fn exp_neg_and_ln_are_monotone(a in positive(), b in positive()) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(exp_neg(lo) >= exp_neg(hi));
        prop_assert!(ln(lo).unwrap() <= ln(hi).unwrap());
    }

    #[test]
    fn pow_adds_exponents_and_decays(b in raw_below(1), m in 0u64..5_000, n in 0u64..5_000) {
        let (pm, pn, pmn) = (pow(b, m).unwrap(), pow(b, n).unwrap(), pow(b, m + n).unwrap());
        prop_assert!(ulps(pmn, pm.checked_mul(pn).unwrap()) <= U256::from(3u8));
        prop_assert!(pow(b, m + 1).unwrap() <= pm);
    }

    #[test]
    fn small_pow_matches_repeated_multiplication(b in raw_below(3), n in 0u64..20) {
        let mut want = U128F128::ONE;
        let mut exact = true;
        for _ in 0..n {
            match want.checked_mul(b) {
                Some(w) => want = w,
                None => exact = false,
            }
        }
        prop_assume!(exact);
        // The repeated floors (not pow) lose up to one ulp a step, grown by b each later step.
        let grow = U256::from(b.floor_int() + 1).pow(n as u32);
        let bound = U256::from(n + 1) * grow + U256::ONE;
        match pow(b, n) {
            Some(got) => prop_assert!(ulps(got, want) <= bound),
            None => prop_assert!(false, "pow overflowed"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// stream

#[derive(Clone, Debug)]
enum StreamOp {
    Deposit(u128),
    /// Seconds after the previous operation's time; negative goes back.
    Settle(i64),
    Close(i64),
}

fn stream_op() -> impl Strategy<Value = StreamOp> {
    let amount = prop_oneof![4 => 0u128..1_000_000, 1 => any::<u128>()];
    prop_oneof![
        3 => amount.prop_map(StreamOp::Deposit),
        4 => (-20i64..1_000).prop_map(StreamOp::Settle),
        1 => (-20i64..1_000).prop_map(StreamOp::Close),
    ]
}

/// What the stream must have paid once settled at `now`: `min(rate * elapsed, deposited)`.
fn due(rate: u128, start: i64, end: Option<i64>, now: i64, deposited: u128) -> u128 {
    let until = end.map_or(now, |e| now.min(e));
    let secs = (i128::from(until) - i128::from(start)).max(0) as u128;
    let owed = U256::from(rate) * U256::from(secs);
    u128::try_from(owed.min(U256::from(deposited))).unwrap()
}

proptest! {
    #[test]
    fn stream_accounts_for_every_unit(
        rate in prop_oneof![0u128..2_000, any::<u128>()],
        start in -1_000i64..1_000,
        len in proptest::option::of(0i64..5_000),
        t0 in -2_000i64..2_000,
        ops in proptest::collection::vec(stream_op(), 1..60),
    ) {
        let end = len.map(|l| start + l);
        let mut s = Stream::new(rate, start, end).unwrap();
        let (mut now, mut last, mut closed) = (t0, None::<i64>, false);
        let (mut deposited, mut paid, mut refunded) = (0u128, 0u128, 0u128);
        for op in ops {
            let before = s.clone();
            match op {
                StreamOp::Deposit(a) => {
                    let ok = !closed && deposited.checked_add(a).is_some();
                    prop_assert_eq!(s.deposit(a).is_ok(), ok);
                    if ok { deposited += a } else { prop_assert_eq!(&s, &before) }
                }
                StreamOp::Settle(dt) | StreamOp::Close(dt) => {
                    let at = now + dt;
                    let ok = !closed && last.is_none_or(|l| at >= l);
                    let is_close = matches!(op, StreamOp::Close(_));
                    let got = if is_close {
                        s.close(at)
                    } else {
                        s.settle(at).map(|p| (p, 0))
                    };
                    prop_assert_eq!(got.is_ok(), ok);
                    match got {
                        Ok((to_payee, refund)) => {
                            paid += to_payee;
                            refunded += refund;
                            prop_assert_eq!(paid, due(rate, start, end, at, deposited));
                            (now, last, closed) = (at, Some(at), is_close);
                            if is_close {
                                prop_assert_eq!(s.held(), Ok(0));
                            }
                        }
                        Err(_) => prop_assert_eq!(&s, &before),
                    }
                }
            }
            prop_assert_eq!(s.deposited(), Ok(deposited));
            prop_assert_eq!(s.paid(), Ok(paid));
            prop_assert_eq!(s.refunded(), Ok(refunded));
            prop_assert_eq!(deposited, paid + refunded + s.held().unwrap());
            prop_assert_eq!(s.is_closed(), closed);
            prop_assert_eq!(s.settled_at(), last);
            {
                use prost::Message;
                prop_assert_eq!(&Stream::decode(&*s.encode_to_vec()).unwrap(), &s);
            }
            let owed = |t: i64| due(rate, start, end, t, u128::MAX);
            prop_assert_eq!(s.is_overdrawn(now).unwrap(), owed(now) > deposited);
            match s.runs_out_at().unwrap() {
                Some(t) => {
                    prop_assert!(!s.is_overdrawn(t).unwrap() && s.is_overdrawn(t + 1).unwrap());
                }
                None => prop_assert!(rate == 0 || end.is_some_and(|e| owed(e) <= deposited)
                    || deposited / rate > (i128::from(i64::MAX) - i128::from(start)) as u128),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// rewards

#[derive(Clone, Debug)]
enum PoolOp {
    Reward(u64),
    Add(usize, u64),
    Remove(usize, u64),
    Claim(usize),
    Close(usize),
    Sweep,
}

const HOLDERS: usize = 4;

fn pool_op() -> impl Strategy<Value = PoolOp> {
    let h = 0..HOLDERS;
    let amount = prop_oneof![0u64..100, 0u64..1 << 40];
    prop_oneof![
        4 => amount.clone().prop_map(PoolOp::Reward),
        3 => (h.clone(), amount.clone()).prop_map(|(h, n)| PoolOp::Add(h, n)),
        2 => (h.clone(), amount).prop_map(|(h, n)| PoolOp::Remove(h, n)),
        2 => h.clone().prop_map(PoolOp::Claim),
        1 => h.prop_map(PoolOp::Close),
        1 => Just(PoolOp::Sweep),
    ]
}

/// The test's own view of one holder.
#[derive(Clone, Default)]
struct Model {
    shares: u128,
    received: u128,
    /// Fractions given up at close, times 2^128.
    forfeited: U256,
    /// Exact proportional entitlement times 2^128, each reward's part rounded down.
    entitled: U256,
    /// The most the pool may round away: shares held at each reward, summed (times 2^-128).
    slack: U256,
    /// Rewards shared while holding shares (each may round the entitlement down by < 1).
    rewards_seen: u64,
}

proptest! {
    #[test]
    fn reward_pool_conserves_exactly_and_pays_proportionally(
        ops in proptest::collection::vec(pool_op(), 1..80),
    ) {
        let mut pool = RewardPool::default();
        let mut holders = vec![RewardHolder::default(); HOLDERS];
        let mut model = vec![Model::default(); HOLDERS];
        let (mut added, mut swept, mut undistributed) = (0u128, 0u128, 0u128);
        for op in ops {
            let (pool_before, holders_before) = (pool.clone(), holders.clone());
            match op {
                PoolOp::Reward(a) => {
                    pool.add_reward(a.into()).unwrap();
                    added += u128::from(a);
                    let d = undistributed + u128::from(a);
                    let total: u128 = model.iter().map(|m| m.shares).sum();
                    if total == 0 {
                        undistributed = d;
                    } else {
                        undistributed = 0;
                        for m in model.iter_mut().filter(|m| m.shares > 0) {
                            let s = U256::from(m.shares);
                            m.entitled += U256::from_words(d, 0) * s / U256::from(total);
                            m.slack += s;
                            m.rewards_seen += 1;
                        }
                    }
                }
                PoolOp::Add(i, n) => {
                    pool.add_shares(&mut holders[i], n.into()).unwrap();
                    model[i].shares += u128::from(n);
                }
                PoolOp::Remove(i, n) => {
                    let ok = u128::from(n) <= model[i].shares;
                    prop_assert_eq!(pool.remove_shares(&mut holders[i], n.into()).is_ok(), ok);
                    if ok {
                        model[i].shares -= u128::from(n);
                    } else {
                        prop_assert!(pool == pool_before && holders == holders_before);
                    }
                }
                PoolOp::Claim(i) => model[i].received += pool.claim(&mut holders[i]).unwrap(),
                PoolOp::Close(i) => {
                    let pending = pool.pending_scaled(&holders[i]).unwrap();
                    match pool.close_holder(&mut holders[i]) {
                        Ok(amount) => {
                            prop_assert_eq!(model[i].shares, 0);
                            model[i].received += amount;
                            model[i].forfeited += pending - U256::from_words(amount, 0);
                            prop_assert!(pending - U256::from_words(amount, 0) < SCALE);
                        }
                        Err(_) => {
                            prop_assert!(model[i].shares > 0);
                            prop_assert!(pool == pool_before && holders == holders_before);
                        }
                    }
                }
                PoolOp::Sweep => swept += pool.sweep_dust().unwrap(),
            }
            let paid: u128 = model.iter().map(|m| m.received).sum();
            prop_assert_eq!(pool.added(), Ok(added));
            prop_assert_eq!(pool.paid(), Ok(paid));
            prop_assert_eq!(pool.swept(), Ok(swept));
            prop_assert_eq!(pool.undistributed(), Ok(undistributed));
            prop_assert_eq!(pool.total_shares(), Ok(model.iter().map(|m| m.shares).sum()));
            // Exact conservation, in units of 2^-128.
            let mut outstanding = U256::from_words(paid + swept + undistributed, 0);
            outstanding += pool.dust_scaled().unwrap();
            let mut pending_units = 0u128;
            for (h, m) in holders.iter().zip(&model) {
                prop_assert_eq!(h.shares(), Ok(m.shares));
                let p = pool.pending_scaled(h).unwrap();
                outstanding += p;
                pending_units += pool.pending(h).unwrap();
                // Never more than the exact share, and less only by the tiny slack.
                let got = U256::from_words(m.received, 0) + p + m.forfeited;
                prop_assert!(got <= m.entitled + U256::from(m.rewards_seen));
                prop_assert!(got + m.slack >= m.entitled);
            }
            prop_assert_eq!(outstanding, U256::from_words(added, 0));
            prop_assert!(pending_units <= pool.balance().unwrap() - undistributed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// vesting

proptest! {
    #[test]
    fn vesting_is_monotone_exact_and_fully_claimable(
        total in prop_oneof![0u128..10_000, any::<u128>()],
        start in -1_000_000i64..1_000_000,
        duration in 0i64..1_000_000,
        cliff_frac in proptest::option::of(0u32..=100),
        mut times in proptest::collection::vec(-2_000_000i64..3_000_000, 1..30),
    ) {
        let cliff = cliff_frac.map(|f| i64::from(f) * duration / 100);
        let v = Vesting::with_duration(total, start, duration, cliff).unwrap();
        let end = start + duration;
        times.sort();
        let (mut prev, mut claimed) = (0u128, 0u128);
        for &t in &times {
            let got = v.vested_at(t).unwrap();
            prop_assert!(got >= prev && got <= total);
            prev = got;
            if t >= end {
                prop_assert_eq!(got, total);
            } else if t <= start || t < v.cliff() {
                prop_assert_eq!(got, 0);
            } else {
                // got = floor(total * elapsed / span).
                let (el, span) = (U256::from((t - start) as u128), U256::from(duration as u128));
                let exact = U256::from(total) * el;
                prop_assert!(U256::from(got) * span <= exact && exact < U256::from(got + 1) * span);
            }
            let c = v.claimable(t, claimed).unwrap();
            prop_assert_eq!(c, got - claimed);
            claimed += c;
        }
        claimed += v.claimable(end, claimed).unwrap();
        prop_assert_eq!(claimed, total);
        prop_assert_eq!(v.claimable(end + 1, claimed), Ok(0));
    }
}
