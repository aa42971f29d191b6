//! Helpers shared by the integration tests: deterministic pseudo-random bytes and sealing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use stoa_prover::prove::{seal, SealJob, SealOutput};
use stoa_prover::SealProof;

/// `len` pseudo-random bytes from `seed` (SHA-256 in counter mode).
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut counter = 0u64;
    while out.len() < len {
        let block = Sha256::new()
            .chain_update(seed.to_le_bytes())
            .chain_update(counter.to_le_bytes())
            .finalize();
        out.extend_from_slice(&block);
        counter += 1;
    }
    out.truncate(len);
    out
}

pub fn bytes32(seed: u64) -> [u8; 32] {
    random_bytes(seed, 32).try_into().unwrap()
}

/// Writes `data` under `root` and seals it as sector `number`; returns the sector directory.
pub fn seal_data(
    root: &Path,
    seal_proof: SealProof,
    number: u64,
    data: &[u8],
) -> (PathBuf, SealOutput) {
    let data_path = root.join(format!("data-{number}"));
    std::fs::write(&data_path, data).unwrap();
    let dir = root.join(format!("sector-{number}"));
    let job = SealJob {
        seal_proof,
        data: data_path,
        sector_number: number,
        prover_id: bytes32(1000),
        ticket: bytes32(2000 + number),
        out_dir: dir.clone(),
    };
    let output = seal(&job, None).unwrap();
    (dir, output)
}
