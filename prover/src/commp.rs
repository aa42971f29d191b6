//! Piece commitments exactly as Filecoin computes them: commP of a piece, `comm_d` of a sector
//! from its pieces, the zero-piece commitments, and piece CIDs in Filecoin's form.
//!
//! commP: the unpadded bytes are zero-filled to the next unpadded piece size (127 x 2^k bytes,
//! at least 127), Fr32-padded (so the padded size is 128 x 2^k), and committed with the binary
//! sha254 tree. A piece CID is CIDv1 with codec fil-commitment-unsealed (0xf101) and multihash
//! sha2-256-trunc254-padded (0x1012), printed in base32 lower ("baga6ea4sea...").

use crate::fr32;
use crate::hash::{hash_pair, Node};
use crate::params::SealProof;

/// Smallest padded piece Filecoin accepts (4 nodes).
pub const MIN_PADDED_PIECE: u64 = 128;

const CID_VERSION: u64 = 1;
const FIL_COMMITMENT_UNSEALED: u64 = 0xf101;
const SHA2_256_TRUNC254_PADDED: u64 = 0x1012;

/// A piece inside a sector: its commitment and its padded size (a power of two >= 128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PieceInfo {
    pub comm_p: Node,
    pub padded_size: u64,
}

/// Errors in piece and CID handling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PieceError {
    #[error("piece size {0} is not a power of two of at least 128 bytes")]
    BadPieceSize(u64),
    #[error("pieces of {total} padded bytes do not fit a sector of {sector} bytes")]
    TooLarge { total: u64, sector: u64 },
    #[error("no pieces given")]
    NoPieces,
    #[error("invalid piece CID: {0}")]
    BadCid(&'static str),
}

/// The unpadded piece size Filecoin pads a payload of `len` bytes to: 127 x 2^k >= len.
pub fn unpadded_piece_size(len: u64) -> u64 {
    let blocks = len.div_ceil(127).max(1);
    blocks.next_power_of_two() * 127
}

/// Padded size of a payload of `len` bytes once it is a piece.
pub fn padded_piece_size(len: u64) -> u64 {
    unpadded_piece_size(len) / 127 * 128
}

/// Commitment of an all-zero piece of `padded_size` bytes (a power of two >= 32): the root
/// of the zero tree, which Filecoin publishes as constants.
pub fn zero_piece_commitment(padded_size: u64) -> Option<Node> {
    if padded_size < 32 || !padded_size.is_power_of_two() {
        return None;
    }
    let mut node = [0u8; 32];
    let mut size = 32u64;
    while size < padded_size {
        node = hash_pair(&node, &node);
        size *= 2;
    }
    Some(node)
}

/// commP of an in-memory payload; returns the commitment and the padded piece size.
pub fn piece_commitment(payload: &[u8]) -> (Node, u64) {
    let padded_size = padded_piece_size(payload.len() as u64);
    let padded = fr32::pad(payload);
    let leaves = padded_size / 32;
    // Pad the level-0 nodes with zero nodes; whole zero subtrees come from the zero table.
    let mut level: Vec<Node> = padded
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0u8; 32]))
        .collect();
    let mut zero = [0u8; 32];
    let mut width = leaves;
    while width > 1 {
        if level.len() % 2 == 1 {
            level.push(zero);
        }
        level = level
            .chunks_exact(2)
            .map(|pair| hash_pair(&pair[0], &pair[1]))
            .collect();
        zero = hash_pair(&zero, &zero);
        width /= 2;
    }
    (level.first().copied().unwrap_or(zero), padded_size)
}

/// `comm_d` of a sector holding `pieces` in order, as Filecoin's `compute_comm_d`: each piece
/// starts at a multiple of its own size (zero padding in between) and the rest of the sector
/// is zero.
pub fn compute_comm_d(seal_proof: SealProof, pieces: &[PieceInfo]) -> Result<Node, PieceError> {
    let sector = seal_proof.sector_bytes();
    if pieces.is_empty() {
        return zero_piece_commitment(sector).ok_or(PieceError::NoPieces);
    }
    // A stack of (commitment, size) subtrees with strictly decreasing sizes, left to right.
    let mut stack: Vec<(Node, u64)> = Vec::new();
    for piece in pieces {
        let size = piece.padded_size;
        if size < MIN_PADDED_PIECE || !size.is_power_of_two() {
            return Err(PieceError::BadPieceSize(size));
        }
        // Align: pad the open subtree with zeros until the next free offset is a multiple of
        // this piece's size.
        while let Some(&(_, top)) = stack.last() {
            if top >= size {
                break;
            }
            push_reduce(
                &mut stack,
                zero_piece_commitment(top).unwrap_or([0u8; 32]),
                top,
            );
        }
        push_reduce(&mut stack, piece.comm_p, size);
        let total: u64 = stack.iter().map(|&(_, s)| s).sum();
        if total > sector {
            return Err(PieceError::TooLarge { total, sector });
        }
    }
    while stack.len() > 1 || stack.last().is_some_and(|&(_, s)| s < sector) {
        let top = stack.last().map_or(sector, |&(_, s)| s);
        push_reduce(
            &mut stack,
            zero_piece_commitment(top).unwrap_or([0u8; 32]),
            top,
        );
        let total: u64 = stack.iter().map(|&(_, s)| s).sum();
        if total > sector {
            return Err(PieceError::TooLarge { total, sector });
        }
    }
    stack
        .pop()
        .map(|(comm, _)| comm)
        .ok_or(PieceError::NoPieces)
}

/// Pushes a subtree and merges equal-sized neighbours.
fn push_reduce(stack: &mut Vec<(Node, u64)>, comm: Node, size: u64) {
    stack.push((comm, size));
    while stack.len() >= 2 {
        let (right, right_size) = stack[stack.len() - 1];
        let (left, left_size) = stack[stack.len() - 2];
        if left_size != right_size {
            break;
        }
        stack.truncate(stack.len() - 2);
        stack.push((hash_pair(&left, &right), left_size * 2));
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

const BASE32_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The binary CID of a piece commitment.
pub fn piece_cid_bytes(comm: &Node) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    push_varint(&mut out, CID_VERSION);
    push_varint(&mut out, FIL_COMMITMENT_UNSEALED);
    push_varint(&mut out, SHA2_256_TRUNC254_PADDED);
    push_varint(&mut out, 32);
    out.extend_from_slice(comm);
    out
}

/// Piece CID as Filecoin prints it (multibase 'b', RFC 4648 base32 lower, no padding).
pub fn piece_cid(comm: &Node) -> String {
    let bytes = piece_cid_bytes(comm);
    let mut text = String::with_capacity(1 + bytes.len() * 8 / 5 + 1);
    text.push('b');
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for &byte in &bytes {
        buffer = (buffer << 8) | byte as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(BASE32_ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        text.push(BASE32_ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    text
}

/// The commitment inside a piece CID string; rejects anything but a v1 unsealed piece CID.
pub fn parse_piece_cid(text: &str) -> Result<Node, PieceError> {
    let body = text
        .strip_prefix('b')
        .ok_or(PieceError::BadCid("not base32 lower (multibase 'b')"))?;
    let mut bytes = Vec::with_capacity(body.len() * 5 / 8);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for ch in body.bytes() {
        let value = BASE32_ALPHABET
            .iter()
            .position(|&c| c == ch)
            .ok_or(PieceError::BadCid("invalid base32 character"))? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    let mut pos = 0;
    let fields = [
        (CID_VERSION, "not a CIDv1"),
        (
            FIL_COMMITMENT_UNSEALED,
            "codec is not fil-commitment-unsealed",
        ),
        (
            SHA2_256_TRUNC254_PADDED,
            "hash is not sha2-256-trunc254-padded",
        ),
        (32, "digest is not 32 bytes"),
    ];
    for (want, err) in fields {
        if read_varint(&bytes, &mut pos) != Some(want) {
            return Err(PieceError::BadCid(err));
        }
    }
    let digest = bytes
        .get(pos..)
        .filter(|d| d.len() == 32)
        .ok_or(PieceError::BadCid("digest is not 32 bytes"))?;
    let mut comm = [0u8; 32];
    comm.copy_from_slice(digest);
    Ok(comm)
}
