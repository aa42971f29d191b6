//! Piece commitments (commP) computed by filecoin-proofs' `generate_piece_commitment`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read};
use std::path::Path;

use anyhow::{ensure, Context, Result};
use cid::multihash::Multihash;
use cid::Cid;
use filecoin_proofs::{generate_piece_commitment, UnpaddedBytesAmount};
use serde::Serialize;

use crate::datagen::DataGen;

/// Multicodec `fil-commitment-unsealed`.
const FIL_COMMITMENT_UNSEALED: u64 = 0xf101;
/// Multihash `sha2-256-trunc254-padded`.
const SHA2_256_TRUNC254_PADDED: u64 = 0x1012;

#[derive(Serialize)]
pub struct CommpVector {
    /// Raw (unpadded) data length N.
    pub size_bytes: u64,
    /// Generator seed; null = all-zero data.
    pub seed: Option<u64>,
    /// Padded piece size the data was zero-filled up to (power of two, >= 128).
    pub padded_piece_size: u64,
    /// Piece CID (CIDv1, fil-commitment-unsealed, sha2-256-trunc254-padded), base32.
    pub piece_cid: String,
    /// The 32 commitment bytes as filecoin-proofs returns them (= the CID's digest), hex.
    pub comm_p_hex: String,
}

/// Smallest unpadded piece size (127 * 2^k, k >= 0) that holds `n` bytes.
pub fn unpadded_piece_size(n: u64) -> u64 {
    let mut u = 127u64;
    while u < n {
        u *= 2;
    }
    u
}

pub fn piece_cid(comm_p: &[u8; 32]) -> Result<String> {
    let mh = Multihash::<64>::wrap(SHA2_256_TRUNC254_PADDED, comm_p)?;
    Ok(Cid::new_v1(FIL_COMMITMENT_UNSEALED, mh).to_string())
}

/// commP of the first `size_bytes` bytes of the generator stream, zero-filled up to the next
/// unpadded piece size (what Lotus does for a piece that is not a whole piece size).
pub fn compute(size_bytes: u64, seed: Option<u64>, data_out: Option<&Path>) -> Result<CommpVector> {
    ensure!(size_bytes > 0, "--size-bytes must be at least 1");
    if let Some(path) = data_out {
        let mut w = BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        io::copy(&mut DataGen::new(seed, size_bytes), &mut w)?;
    }
    let unpadded = unpadded_piece_size(size_bytes);
    let source = DataGen::new(seed, size_bytes).chain(io::repeat(0).take(unpadded - size_bytes));
    let info = generate_piece_commitment(source, UnpaddedBytesAmount(unpadded))?;
    Ok(CommpVector {
        size_bytes,
        seed,
        padded_piece_size: unpadded / 127 * 128,
        piece_cid: piece_cid(&info.commitment)?,
        comm_p_hex: hex::encode(info.commitment),
    })
}

/// (size_bytes, seed) pairs written by `vectors`.
pub fn vector_cases() -> Vec<(u64, Option<u64>)> {
    let mut v = Vec::new();
    // Whole pieces: 128 B .. 2 KiB, 4 KiB, 1 MiB, 8 MiB padded.
    for n in [127u64, 254, 508, 1016, 2032, 4064, 127 * 8192, 8_323_072] {
        v.push((n, Some(1)));
    }
    // Not a whole piece: zero-filled up to the next piece size.
    for n in [1u64, 100, 128, 1000, 100_000, 1_048_576] {
        v.push((n, Some(1)));
    }
    // Other seeds (seed 0 is generated data, not zeros).
    for (n, s) in [(2032u64, 0u64), (2032, 42), (1000, 42), (127 * 8192, 42)] {
        v.push((n, Some(s)));
    }
    // All-zero pieces.
    for n in [127u64, 254, 2032, 4064, 127 * 8192, 8_323_072, 1000] {
        v.push((n, None));
    }
    v
}

pub fn write_vectors(out: &Path) -> Result<()> {
    let mut all = Vec::new();
    for (n, seed) in vector_cases() {
        let v = compute(n, seed, None)?;
        eprintln!(
            "size_bytes={:>8} seed={:<5} {}",
            n,
            seed.map(|s| s.to_string()).unwrap_or_else(|| "null".into()),
            v.piece_cid
        );
        all.push(v);
    }
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut text = serde_json::to_string_pretty(&all)?;
    text.push('\n');
    fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {} vectors to {}", all.len(), out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piece_sizes() {
        assert_eq!(unpadded_piece_size(1), 127);
        assert_eq!(unpadded_piece_size(127), 127);
        assert_eq!(unpadded_piece_size(128), 254);
        assert_eq!(unpadded_piece_size(1000), 1016);
        assert_eq!(unpadded_piece_size(8_323_072), 8_323_072);
    }

    #[test]
    fn cid_prefix() {
        // Every piece CID of this codec/multihash pair starts with "baga6ea4sea".
        assert!(piece_cid(&[1; 32]).unwrap().starts_with("baga6ea4sea"));
    }
}
