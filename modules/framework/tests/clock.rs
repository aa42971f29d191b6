//! The clock in seconds: schedules aligned to whole intervals whatever the block times,
//! randomness drawn at a time that every replay and every later lookup finds the same, the
//! genesis time and the last block's time for contexts outside a block.

use stoa_framework::block_record::{
    clock_in, record_block, record_genesis_time, FrameworkParams, DEFAULT_ANCHOR_RETENTION_SECONDS,
};
use stoa_framework::schedule::{due, Every};
use stoa_framework::{params, BlockInfo, Ctx, ExecMode, State, Store};

fn block(height: u64, time: i64) -> BlockInfo {
    let mut hash = vec![0u8; 32];
    hash[..8].copy_from_slice(&height.to_be_bytes());
    hash[8..16].copy_from_slice(&time.to_be_bytes());
    BlockInfo {
        chain_id: "t".into(),
        height,
        time_seconds: time,
        hash,
        ..Default::default()
    }
}

/// Irregular but reproducible gaps between blocks: 1 to 17 s, now and then a stall of minutes.
fn gaps(n: usize) -> Vec<i64> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(97) {
                60 + (x % 500) as i64
            } else {
                1 + (x % 17) as i64
            }
        })
        .collect()
}

#[test]
fn schedules_stay_aligned_over_a_thousand_intervals_of_irregular_blocks() {
    let mut state = State::new(Store::open_temporary().unwrap());
    let interval = 30;
    let start = 1_700_000_007;
    let mut t = start;
    let mut runs = Vec::new();
    let mut times = Vec::new();
    let mut h = 1;
    while t < start + 1_000 * interval {
        let mut ctx = Ctx::unmetered(&mut state, block(h, t), ExecMode::Finalize);
        if due(&mut ctx, "m", "epoch", Every::Seconds(interval)).unwrap() {
            runs.push(t);
        }
        times.push(t);
        t += gaps(h as usize).last().copied().unwrap_or(1);
        h += 1;
    }
    // The runs are exactly the first block of every interval `[start + k * interval, +interval)`
    // that has a block: no drift after a late block, one run for intervals a stall skipped.
    let mut expected = Vec::new();
    let mut last_interval = None;
    for t in times {
        let k = (t - start) / interval;
        if last_interval != Some(k) {
            expected.push(t);
            last_interval = Some(k);
        }
    }
    assert_eq!(runs, expected);
    assert!(runs.len() > 700, "{} runs", runs.len());
}

/// Runs `n` blocks from `t0` with the gaps above, returning (height, time) of each.
fn run_chain(state: &mut State, t0: i64, n: usize, retention: u64) -> Vec<(u64, i64)> {
    let mut out = Vec::new();
    let mut t = t0;
    for (i, gap) in gaps(n).into_iter().enumerate() {
        let h = i as u64 + 1;
        let mut ctx = Ctx::unmetered(state, block(h, t), ExecMode::Finalize);
        record_block(&mut ctx, retention).unwrap();
        out.push((h, t));
        t += gap;
    }
    out
}

#[test]
fn randomness_at_a_time_is_the_same_on_replay_and_a_month_later() {
    let t0 = 1_700_000_000;
    let mut a = State::new(Store::open_temporary().unwrap());
    let mut b = State::new(Store::open_temporary().unwrap());
    let chain = run_chain(&mut a, t0, 3_000, 100);
    run_chain(&mut b, t0, 3_000, 100);
    let end = chain.last().unwrap().1;
    let probe_times: Vec<i64> = (0..40)
        .map(|i| t0 + i * 577 + 13)
        .filter(|t| *t < end - 60)
        .collect();
    let seeds = |s: &mut State| -> Vec<Option<[u8; 32]>> {
        let mut ctx = Ctx::unmetered(s, block(9_999, end), ExecMode::Query);
        probe_times
            .iter()
            .map(|t| ctx.randomness_at(b"seal", *t).unwrap())
            .collect()
    };
    let now_a = seeds(&mut a);
    assert_eq!(now_a, seeds(&mut b), "two replays agree");
    assert!(now_a.iter().all(Option::is_some));
    // The answer is the randomness of the first block at or after the next minute boundary.
    {
        let mut ctx = Ctx::unmetered(&mut a, block(9_999, end), ExecMode::Query);
        for (t, seed) in probe_times.iter().zip(&now_a) {
            let boundary = t.div_euclid(60) * 60 + if t.rem_euclid(60) != 0 { 60 } else { 0 };
            let (h, _) = *chain.iter().find(|(_, bt)| *bt >= boundary).unwrap();
            let mut expect_ctx_hash = [0u8; 32];
            let blk = block(h, chain[h as usize - 1].1);
            expect_ctx_hash.copy_from_slice(&blk.hash);
            let mut reference = State::new(Store::open_temporary().unwrap());
            let mut rc = Ctx::unmetered(&mut reference, blk, ExecMode::Finalize);
            record_block(&mut rc, 100).unwrap();
            assert_eq!(rc.randomness(b"seal", h).unwrap(), *seed, "time {t}");
            assert!(ctx.randomness(b"seal", h).unwrap().is_none() || h + 100 > 3_000);
        }
    }
    // Twenty days on (the by-height hashes long pruned), the same times give the same seeds;
    // past the anchors' retention they are gone.
    let later = end + 20 * 24 * 3600;
    let mut ctx = Ctx::unmetered(&mut a, block(3_001, later), ExecMode::Finalize);
    record_block(&mut ctx, 100).unwrap();
    let again: Vec<_> = probe_times
        .iter()
        .map(|t| ctx.randomness_at(b"seal", *t).unwrap())
        .collect();
    assert_eq!(again, now_a);
    let much_later = end + DEFAULT_ANCHOR_RETENTION_SECONDS + 3600;
    let mut ctx = Ctx::unmetered(&mut a, block(3_002, much_later), ExecMode::Finalize);
    record_block(&mut ctx, 100).unwrap();
    assert_eq!(ctx.randomness_at(b"seal", probe_times[0]).unwrap(), None);
    assert!(
        ctx.randomness_at(b"seal", much_later + 600)
            .unwrap()
            .is_none(),
        "not yet drawn"
    );
}

#[test]
fn contexts_outside_a_block_see_the_genesis_then_the_last_block_time() {
    let mut state = State::new(Store::open_temporary().unwrap());
    assert_eq!(clock_in(&state).unwrap(), (0, 0));
    let mut ctx = Ctx::unmetered(&mut state, block(1, 0), ExecMode::Finalize);
    record_genesis_time(&mut ctx, 1_700_000_000, 5).unwrap();
    assert_eq!(clock_in(ctx.state()).unwrap(), (1_700_000_000, 5));
    record_block(&mut ctx, 10).unwrap();
    drop(ctx);
    let mut ctx = Ctx::unmetered(&mut state, block(2, 1_700_000_006), ExecMode::Finalize);
    record_block(&mut ctx, 10).unwrap();
    assert_eq!(clock_in(ctx.state()).unwrap(), (1_700_000_006, 0));
    // The retention windows are params.
    let p = params::load::<FrameworkParams>(&mut ctx).unwrap();
    assert_eq!(p.anchor_retention_seconds, DEFAULT_ANCHOR_RETENTION_SECONDS);
}
