//! The stacked graph: 6 DRG parents per node (bucket sampling, all earlier in the same layer)
//! and 8 expander parents in the previous layer (Chung's construction through a keyed Feistel
//! permutation), both derived deterministically from the seal proof's `porep_id`.
//!
//! The structure is Filecoin's (`BucketGraph` and `StackedGraph`). What differs is the source
//! of pseudo-randomness: Filecoin uses ChaCha8 for bucket sampling and blake2b rounds for the
//! Feistel cipher, and so must precompute a 56-bytes-per-node parent cache. Stoa keys a
//! SplitMix64-style mixer with SHA-256 of the `porep_id`: the graph is public, only its
//! expansion matters, and a few integer multiplies per parent let sealing compute parents on
//! the fly (keeping memory at two layers) and let the verifier compute any node's parents in
//! nanoseconds. All integer arithmetic: the same parents on every machine.

use crate::params::{SealProof, DRG_DEGREE, EXP_DEGREE, TOTAL_DEGREE};
use sha2::{Digest, Sha256};

/// Feistel rounds (each updates one part): four give a strong pseudo-random permutation
/// (Luby-Rackoff).
const FEISTEL_ROUNDS: usize = 4;

/// SplitMix64's finaliser: a bijective 64-bit mixer with full avalanche.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `random` reduced into `[0, bound)` by a multiply-high (Lemire): unbiased to 2^-64 like `%`
/// but without a 64-bit division, which would cost more than the mixing.
#[inline]
fn below(random: u64, bound: u64) -> u64 {
    ((random as u128 * bound as u128) >> 64) as u64
}

fn derive_keys<const N: usize>(tag: &[u8], porep_id: &[u8; 32]) -> [u64; N] {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(tag)
        .chain_update(porep_id)
        .finalize()
        .into();
    let mut keys = [0u64; N];
    for (i, key) in keys.iter_mut().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&digest[(i % 4) * 8..(i % 4) * 8 + 8]);
        *key = u64::from_le_bytes(word) ^ (i as u64 / 4).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    keys
}

/// The parent structure of one seal proof's sectors.
#[derive(Clone, Debug)]
pub struct Graph {
    nodes: u64,
    drg_keys: [u64; 2],
    feistel_keys: [u64; FEISTEL_ROUNDS],
    /// Bits of the high and low parts of a Feistel input (`nodes * 8` is `2^(high + low)`).
    high_bits: u32,
    low_bits: u32,
}

impl Graph {
    pub fn new(seal_proof: SealProof) -> Graph {
        let porep_id = seal_proof.porep_id();
        let nodes = seal_proof.params().nodes;
        let domain_bits = (nodes * EXP_DEGREE as u64).trailing_zeros();
        Graph {
            nodes,
            drg_keys: derive_keys(b"stoa/graph/drg/v1", &porep_id),
            feistel_keys: derive_keys(b"stoa/graph/expander/v1", &porep_id),
            high_bits: domain_bits.div_ceil(2),
            low_bits: domain_bits / 2,
        }
    }

    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// Pseudo-random word number `counter` of a node whose key is `node_key`.
    #[inline]
    fn drg_random(&self, node_key: u64, counter: u64) -> u64 {
        mix64(node_key ^ counter.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ self.drg_keys[1])
    }

    /// DRG parents of `node` (< nodes): five by bucket sampling, then `node - 1`. Nodes 0 and
    /// 1 have only node 0 as parent (node 0 is labelled without parents).
    pub fn drg_parents(&self, node: u64) -> [u32; DRG_DEGREE] {
        let mut parents = [0u32; DRG_DEGREE];
        if node < 2 {
            return parents;
        }
        let m_prime = (DRG_DEGREE - 1) as u64;
        let scaled = node * m_prime;
        // floor(log2(node * m')) without floats.
        let log_i = 63 - scaled.leading_zeros() as u64;
        let node_key = mix64(node ^ self.drg_keys[0]);
        for (k, parent) in parents.iter_mut().take(DRG_DEGREE - 1).enumerate() {
            let k = k as u64;
            let j = below(self.drg_random(node_key, 2 * k), log_i);
            let jj = (scaled + k).min(1u64 << (j + 1));
            let low = (jj >> 1).max(2);
            let back_dist = low + below(self.drg_random(node_key, 2 * k + 1), jj + 1 - low);
            let out = (scaled + k - back_dist) / m_prime;
            *parent = if out >= node { 0 } else { out as u32 };
        }
        parents[DRG_DEGREE - 1] = (node - 1) as u32;
        parents
    }

    /// The keyed permutation of `[0, nodes * 8)`: an unbalanced Feistel network. The domain
    /// has an odd number of bits for every sector size, so it is split into a high part of
    /// `high_bits` and a low part of `low_bits = high_bits - 1`; each round XORs one part with
    /// a keyed function of the other, alternating, which is a bijection however the parts are
    /// sized. That avoids the cycle walking a balanced network would need (and its variable
    /// cost), so an expander parent costs a fixed four mixes.
    #[inline]
    fn permute(&self, input: u64) -> u64 {
        let low_mask = (1u64 << self.low_bits) - 1;
        let high_mask = (1u64 << self.high_bits) - 1;
        let mut high = input >> self.low_bits;
        let mut low = input & low_mask;
        for (round, key) in self.feistel_keys.iter().enumerate() {
            if round % 2 == 0 {
                high ^= mix64(low ^ key) & high_mask;
            } else {
                low ^= mix64(high ^ key) & low_mask;
            }
        }
        (high << self.low_bits) | low
    }

    /// Expander parents of `node` in the previous layer: slot `i` of node `v` is mapped by the
    /// permutation to a slot of another node, which is the parent (Chung's construction).
    pub fn expander_parents(&self, node: u64) -> [u32; EXP_DEGREE] {
        let mut parents = [0u32; EXP_DEGREE];
        for (i, parent) in parents.iter_mut().enumerate() {
            let slot = node * EXP_DEGREE as u64 + i as u64;
            *parent = (self.permute(slot) / EXP_DEGREE as u64) as u32;
        }
        parents
    }

    /// All 14 parents: DRG first, then expander.
    pub fn parents(&self, node: u64) -> [u32; TOTAL_DEGREE] {
        let mut all = [0u32; TOTAL_DEGREE];
        all[..DRG_DEGREE].copy_from_slice(&self.drg_parents(node));
        all[DRG_DEGREE..].copy_from_slice(&self.expander_parents(node));
        all
    }
}
