//! The framework's begin-block work and its clock: record each block's hash and time so that
//! modules read agreed randomness and time, keep the hashes of a recent window of heights, and
//! keep a sparse record for a long window of time (the first block of every minute), so that
//! randomness drawn at a time (storage's seal seed, 30 days before its proof) can still be
//! found a month later.

use crate::ctx::Ctx;
use crate::error::StoaError;
use crate::params::{self, Params};
use crate::state::{Order, State};
use crate::state_key;
use std::ops::Bound;

/// How many recent block hashes modules can read as randomness by height by default.
pub const DEFAULT_BLOCK_HASH_RETENTION: u64 = 20_000;

/// How long the per-minute randomness anchors are kept by default: 32 days, beyond storage's
/// 30-day prove-commit window.
pub const DEFAULT_ANCHOR_RETENTION_SECONDS: i64 = 32 * 24 * 3600;

/// The framework's params (`fw/params`; a genesis may set them in an `fw` section).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrameworkParams {
    /// Heights whose block hash stays readable by `Ctx::randomness(height)`.
    pub block_hash_retention: u64,
    /// Seconds of block time whose per-minute anchors stay readable by
    /// `Ctx::randomness_at(time)`.
    pub anchor_retention_seconds: i64,
}

impl Default for FrameworkParams {
    fn default() -> Self {
        FrameworkParams {
            block_hash_retention: DEFAULT_BLOCK_HASH_RETENTION,
            anchor_retention_seconds: DEFAULT_ANCHOR_RETENTION_SECONDS,
        }
    }
}

impl Params for FrameworkParams {
    const KEY: &'static [u8] = state_key::PARAMS;

    fn validate(&self) -> Result<(), StoaError> {
        if self.block_hash_retention == 0 || self.anchor_retention_seconds < 60 {
            return Err(crate::sdk::INVALID_REQUEST.with(
                "block_hash_retention must be positive and anchor_retention_seconds at least 60",
            ));
        }
        Ok(())
    }
}

/// At most this many expired anchors are deleted per block (a chain that stood still for a
/// long time catches up over a few blocks).
const ANCHOR_PRUNE_PER_BLOCK: usize = 16;

/// Records the block: its hash by height (pruned past the retention window), the last block's
/// height and time, and an anchor for the minute boundaries it is the first block after.
pub fn record_block(ctx: &mut Ctx<'_>, retention: u64) -> Result<(), StoaError> {
    let height = ctx.height();
    let (time, nanos) = (ctx.block().time_seconds, ctx.block().time_nanos);
    let mut hash = [0u8; 32];
    let src = &ctx.block().hash;
    let n = src.len().min(32);
    hash[..n].copy_from_slice(&src[..n]);
    let previous = last_block(ctx)?;
    let params = params::load::<FrameworkParams>(ctx)?;

    let mut last = height.to_be_bytes().to_vec();
    last.extend_from_slice(&time.to_be_bytes());
    last.extend_from_slice(&nanos.to_be_bytes());
    let state = ctx.state_mut();
    state.set(state_key::block_hash(height), hash.to_vec());
    state.set(state_key::LAST_BLOCK.to_vec(), last);
    if retention > 0 && height > retention {
        state.delete(state_key::block_hash(height - retention));
    }

    // This block is the first at or after every minute boundary in (previous time, time]: one
    // anchor, keyed by the last of them, serves them all (see `randomness_anchor`).
    let minute = time.div_euclid(60);
    let crosses = match previous {
        Some((_, prev_time, _)) => minute > prev_time.div_euclid(60),
        None => true,
    };
    if crosses {
        let mut value = height.to_be_bytes().to_vec();
        value.extend_from_slice(&hash);
        state.set(state_key::anchor(minute), value);
        let cutoff = time
            .saturating_sub(params.anchor_retention_seconds)
            .div_euclid(60);
        let end = state_key::anchor(cutoff);
        let expired = state.range(
            Bound::Included(state_key::ANCHOR_PREFIX),
            Bound::Excluded(&end),
            Order::Ascending,
            ANCHOR_PRUNE_PER_BLOCK,
        )?;
        for (k, _) in expired {
            state.delete(k);
        }
    }
    Ok(())
}

/// The retention of block hashes by height, from the framework's params.
pub fn block_hash_retention(ctx: &mut Ctx<'_>) -> Result<u64, StoaError> {
    Ok(params::load::<FrameworkParams>(ctx)?.block_hash_retention)
}

/// Height and time (seconds, nanos) of the last finalized block, if any.
pub fn last_block(ctx: &mut Ctx<'_>) -> Result<Option<(u64, i64, u32)>, StoaError> {
    last_block_in(ctx.state())
}

/// [`last_block`] of a state, without a context.
pub fn last_block_in(state: &State) -> Result<Option<(u64, i64, u32)>, StoaError> {
    let Some(raw) = state.get(state_key::LAST_BLOCK)? else {
        return Ok(None);
    };
    if raw.len() != 20 {
        return Ok(None);
    }
    let h = u64::from_be_bytes(raw[0..8].try_into().unwrap_or_default());
    let t = i64::from_be_bytes(raw[8..16].try_into().unwrap_or_default());
    let n = u32::from_be_bytes(raw[16..20].try_into().unwrap_or_default());
    Ok(Some((h, t, n)))
}

/// Records the chain's genesis time (InitChain's), read by [`genesis_time`].
pub fn record_genesis_time(ctx: &mut Ctx<'_>, seconds: i64, nanos: u32) -> Result<(), StoaError> {
    let mut v = seconds.to_be_bytes().to_vec();
    v.extend_from_slice(&nanos.to_be_bytes());
    ctx.state_mut().set(state_key::GENESIS_TIME.to_vec(), v);
    Ok(())
}

/// The genesis time (seconds, nanos), if the chain recorded one.
pub fn genesis_time(ctx: &mut Ctx<'_>) -> Result<Option<(i64, u32)>, StoaError> {
    genesis_time_in(ctx.state())
}

/// [`genesis_time`] of a state, without a context.
pub fn genesis_time_in(state: &State) -> Result<Option<(i64, u32)>, StoaError> {
    let Some(raw) = state.get(state_key::GENESIS_TIME)? else {
        return Ok(None);
    };
    if raw.len() != 12 {
        return Ok(None);
    }
    let t = i64::from_be_bytes(raw[0..8].try_into().unwrap_or_default());
    let n = u32::from_be_bytes(raw[8..12].try_into().unwrap_or_default());
    Ok(Some((t, n)))
}

/// The height and hash of the first block at or after the first minute boundary at or after
/// `time` (`None` when that block is not yet known or its anchor has expired). Every lookup of
/// the same `time` answers the same block for as long as the anchor is kept, however far the
/// chain has moved on: that is what makes `randomness_at` replayable.
pub fn randomness_anchor(
    ctx: &mut Ctx<'_>,
    time: i64,
) -> Result<Option<(u64, [u8; 32])>, StoaError> {
    // The first minute boundary at or after `time`.
    let minute = time.div_euclid(60) + i64::from(time.rem_euclid(60) != 0);
    let start = state_key::anchor(minute);
    let found = ctx.state_mut().range(
        Bound::Included(&start),
        Bound::Excluded(state_key::ANCHOR_END),
        Order::Ascending,
        1,
    )?;
    let Some((_, value)) = found.into_iter().next() else {
        return Ok(None);
    };
    // Anchors are keyed by the last boundary their block crossed; an anchor for an earlier
    // boundary than `minute` would have been found first, so `key`'s block is the first at or
    // after `minute`'s boundary unless that boundary's own anchor expired.
    let params = params::load::<FrameworkParams>(ctx)?;
    let newest = last_block(ctx)?.map(|(_, t, _)| t).unwrap_or(i64::MIN);
    if minute.saturating_mul(60) < newest.saturating_sub(params.anchor_retention_seconds) {
        return Ok(None);
    }
    if value.len() != 40 {
        return Ok(None);
    }
    let height = u64::from_be_bytes(value[0..8].try_into().unwrap_or_default());
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&value[8..40]);
    Ok(Some((height, hash)))
}

/// The time a context outside a block sees (CheckTx, queries): the last block's time, else
/// the genesis time, else zero.
pub fn clock_in(state: &State) -> Result<(i64, u32), StoaError> {
    if let Some((_, t, n)) = last_block_in(state)? {
        return Ok((t, n));
    }
    Ok(genesis_time_in(state)?.unwrap_or((0, 0)))
}
