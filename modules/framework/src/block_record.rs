//! The framework's begin-block work: record the block's hash and time so that modules read
//! agreed randomness and a clock, and forget hashes older than the retention window.

use crate::ctx::Ctx;
use crate::error::StoaError;
use crate::state_key;

/// How many recent block hashes modules can read as randomness by default (storage's seal and
/// challenge lookbacks need the longest window).
pub const DEFAULT_BLOCK_HASH_RETENTION: u64 = 20_000;

pub fn record_block(ctx: &mut Ctx<'_>, retention: u64) -> Result<(), StoaError> {
    let height = ctx.height();
    let mut hash = [0u8; 32];
    let src = &ctx.block().hash;
    let n = src.len().min(32);
    hash[..n].copy_from_slice(&src[..n]);
    let mut last = height.to_be_bytes().to_vec();
    last.extend_from_slice(&ctx.block().time_seconds.to_be_bytes());
    last.extend_from_slice(&ctx.block().time_nanos.to_be_bytes());
    let state = ctx.state_mut();
    state.set(state_key::block_hash(height), hash.to_vec());
    state.set(state_key::LAST_BLOCK.to_vec(), last);
    if retention > 0 && height > retention {
        state.delete(state_key::block_hash(height - retention));
    }
    Ok(())
}

/// Height and time (seconds, nanos) of the last finalized block, if any.
pub fn last_block(ctx: &mut Ctx<'_>) -> Result<Option<(u64, i64, u32)>, StoaError> {
    let Some(raw) = ctx.state_mut().get(state_key::LAST_BLOCK)? else {
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
