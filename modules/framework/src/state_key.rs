//! The framework's own keys (prefix `fw/`): block hashes and times that modules read as agreed
//! randomness and clock, and the run marks of scheduled end-block work.

pub const PREFIX: &[u8] = b"fw/";

/// `fw/bh/<height u64 be>` -> 32-byte block hash of that height (as CometBFT reports it in
/// FinalizeBlock), kept for `BLOCK_HASH_RETENTION` heights.
pub fn block_hash(height: u64) -> Vec<u8> {
    let mut k = b"fw/bh/".to_vec();
    k.extend_from_slice(&height.to_be_bytes());
    k
}

pub const BLOCK_HASH_PREFIX: &[u8] = b"fw/bh/";

/// `fw/last_block` -> height (u64 be) and time (i64 be seconds, u32 be nanos) of the last
/// finalized block.
pub const LAST_BLOCK: &[u8] = b"fw/last_block";

/// `fw/sched/<module>/<name>` -> the last time a schedule ran (i64 be seconds) and height.
pub fn schedule_mark(module: &str, name: &str) -> Vec<u8> {
    format!("fw/sched/{module}/{name}").into_bytes()
}

/// `fw/genesis_time` -> InitChain's time (i64 be seconds, u32 be nanos).
pub const GENESIS_TIME: &[u8] = b"fw/genesis_time";

/// `fw/ra/<minute i64 be, sign flipped>` -> height (u64 be) and hash (32 bytes) of the first
/// block at or after that minute's boundary (and any earlier boundary it was also the first
/// after), kept for `anchor_retention_seconds`.
pub fn anchor(minute: i64) -> Vec<u8> {
    let mut k = ANCHOR_PREFIX.to_vec();
    k.extend_from_slice(&((minute as u64) ^ (1 << 63)).to_be_bytes());
    k
}

pub const ANCHOR_PREFIX: &[u8] = b"fw/ra/";
/// The first key after every anchor.
pub const ANCHOR_END: &[u8] = b"fw/ra0";

/// `fw/params` -> the framework's params (JSON).
pub const PARAMS: &[u8] = b"fw/params";
