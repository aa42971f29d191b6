//! Challenge derivation, shared by prover and verifier.
//!
//! PoRep: challenge `j` is `H(replica_id || seed || j as u32 LE)` read as a little-endian u64,
//! reduced into `[1, nodes)` (node 0 has no parents, so it is never challenged, as in
//! Filecoin). Window PoSt: leaf `k` of a sector is `H(randomness || sector_number as u64 LE ||
//! k as u64 LE)` reduced into `[0, nodes)`. The u64 reduction's bias is below nodes / 2^64.

use crate::hash::Node;
use sha2::{Digest, Sha256};

fn first_u64(digest: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(word)
}

/// The interactive PoRep challenges (nodes) of a sector.
pub fn porep_challenges(replica_id: &Node, seed: &[u8; 32], count: u32, nodes: u64) -> Vec<u64> {
    porep_challenge_range(replica_id, seed, 0..count, nodes)
}

/// Challenges `range` of a sector's PoRep (one partition of them): challenge `j` does not
/// depend on how many there are, so a partition's are a slice of the whole list.
pub fn porep_challenge_range(
    replica_id: &Node,
    seed: &[u8; 32],
    range: std::ops::Range<u32>,
    nodes: u64,
) -> Vec<u64> {
    range
        .map(|j| {
            let digest = Sha256::new()
                .chain_update(replica_id)
                .chain_update(seed)
                .chain_update(j.to_le_bytes())
                .finalize();
            first_u64(&digest) % (nodes - 1) + 1
        })
        .collect()
}

/// The Window PoSt leaves of one sector.
pub fn post_challenges(
    randomness: &[u8; 32],
    sector_number: u64,
    count: usize,
    nodes: u64,
) -> Vec<u64> {
    (0..count as u64)
        .map(|k| {
            let digest = Sha256::new()
                .chain_update(randomness)
                .chain_update(sector_number.to_le_bytes())
                .chain_update(k.to_le_bytes())
                .finalize();
            first_u64(&digest) % nodes
        })
        .collect()
}
