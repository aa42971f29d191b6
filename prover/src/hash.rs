//! SHA-256 truncated to 254 bits ("sha254"), the one hash of every tree, label and id.
//!
//! Hashing goes straight to `sha2::compress256` (the sha2 crate's block function, which picks
//! SHA-NI or another CPU backend at run time) with the padding done here: inputs are short and
//! of fixed shape (64-byte pairs, 1,248-byte labels), so the generic buffered `Digest` layer
//! would only add copying, and it would be compiled at our crate's opt-level in debug builds.

#[allow(deprecated)]
use sha2::digest::generic_array::GenericArray;

/// A 32-byte node: a tree hash, a label, a data or replica element.
pub type Node = [u8; 32];

const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Clears the top two bits so the value is below 2^254 and hence a BLS12-381 scalar
/// (Filecoin's convention for every commitment and label).
#[inline]
pub fn trunc254(mut digest: Node) -> Node {
    digest[31] &= 0x3f;
    digest
}

// generic-array 0.14 marks GenericArray deprecated, but it is what sha2 0.10's block function
// takes; the type goes away when sha2 moves to generic-array 1.x.
#[allow(deprecated)]
#[inline]
fn compress(state: &mut [u32; 8], block: &[u8]) {
    sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

#[inline]
fn digest_bytes(state: &[u32; 8]) -> Node {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Plain SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Node {
    let mut state = IV;
    let mut blocks = data.chunks_exact(64);
    for block in &mut blocks {
        compress(&mut state, block);
    }
    let tail = blocks.remainder();
    let mut last = [0u8; 128];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] = 0x80;
    let total = if tail.len() < 56 { 64 } else { 128 };
    last[total - 8..total].copy_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in last[..total].chunks_exact(64) {
        compress(&mut state, block);
    }
    digest_bytes(&state)
}

/// sha254 of the concatenation of `parts`.
pub fn sha254(parts: &[&[u8]]) -> Node {
    trunc254(sha256(&parts.concat()))
}

/// The padding block of a 64-byte message: 0x80, zeros, bit length 512.
const PAIR_PADDING: [u8; 64] = {
    let mut block = [0u8; 64];
    block[0] = 0x80;
    block[62] = 0x02;
    block
};

/// Internal node of every binary tree: sha254(left || right).
#[inline]
pub fn hash_pair(left: &Node, right: &Node) -> Node {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    let mut state = IV;
    compress(&mut state, &block);
    compress(&mut state, &PAIR_PADDING);
    trunc254(digest_bytes(&state))
}

/// A node from a byte field of a proof: exactly 32 bytes, else `None`.
pub fn node_from_slice(bytes: &[u8]) -> Option<Node> {
    bytes.try_into().ok()
}
