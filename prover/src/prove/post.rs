//! Window PoSt proving over many sectors in parallel. A sector that cannot be proven (missing
//! or corrupted files, or a proof that does not verify against its own comm_r) is reported as
//! a fault and listed in the proof's `faulty_sectors`; the other sectors are still proven.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::challenges::post_challenges;
use crate::params::POST_CHALLENGES_PER_SECTOR;
use crate::prove::files::SealedSector;
use crate::verify::{verify_post_sector, PoStSectorInfo};
use stoa_proto::storage::v1::{MerklePath, PoStLeafProof, PoStSectorProof, WindowPoStProof};

/// A sector to prove: its number (known to the provider from chain state) and its directory.
#[derive(Clone, Debug)]
pub struct PoStSector {
    pub sector_number: u64,
    pub dir: PathBuf,
}

/// A sector that could not be proven, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoStFault {
    pub sector_number: u64,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct PoStResult {
    pub proof: WindowPoStProof,
    pub faults: Vec<PoStFault>,
}

/// One sector's PoSt proof, read from disk as is (no self-check).
pub fn prove_post_sector(
    dir: &Path,
    sector_number: u64,
    randomness: &[u8; 32],
) -> Result<PoStSectorProof> {
    let sector = SealedSector::open(dir)?;
    prove_opened(&sector, sector_number, randomness)
}

/// One sector's PoSt proof from an already opened sector (no self-check).
fn prove_opened(
    sector: &SealedSector,
    sector_number: u64,
    randomness: &[u8; 32],
) -> Result<PoStSectorProof> {
    if sector.meta.sector_number != sector_number {
        bail!(
            "{} holds sector {}, not {sector_number}",
            sector.dir.display(),
            sector.meta.sector_number
        );
    }
    let tree_r = sector.tree_r_last()?;
    let leaves = post_challenges(
        randomness,
        sector_number,
        POST_CHALLENGES_PER_SECTOR,
        sector.params.nodes,
    )
    .into_iter()
    .map(|index| -> Result<PoStLeafProof> {
        Ok(PoStLeafProof {
            leaf: tree_r.leaf(index).context("reading the replica")?.to_vec(),
            path: Some(MerklePath {
                siblings: tree_r
                    .path(index)
                    .context("reading tree_r_last")?
                    .into_iter()
                    .map(|s| s.to_vec())
                    .collect(),
            }),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(PoStSectorProof {
        sector_number,
        comm_c: sector.meta.comm_c()?.to_vec(),
        comm_r_last: sector.meta.comm_r_last()?.to_vec(),
        leaves,
    })
}

/// Proves and self-checks one sector against the comm_r recorded in its metadata.
fn prove_checked(sector: &PoStSector, randomness: &[u8; 32]) -> Result<PoStSectorProof> {
    let opened = SealedSector::open(&sector.dir)?;
    let info = PoStSectorInfo {
        seal_proof: opened.seal_proof,
        sector_number: sector.sector_number,
        comm_r: opened.meta.comm_r()?,
    };
    let proof = prove_opened(&opened, sector.sector_number, randomness)?;
    verify_post_sector(randomness, &info, &proof)
        .context("proof does not verify: the replica or tree_r_last is corrupted")?;
    Ok(proof)
}

/// Window PoSt over `sectors` (in the order given, which should be the chain's order).
pub fn generate_window_post(sectors: &[PoStSector], randomness: &[u8; 32]) -> PoStResult {
    let results: Vec<Result<PoStSectorProof>> = sectors
        .par_iter()
        .map(|sector| prove_checked(sector, randomness))
        .collect();
    let mut proof = WindowPoStProof::default();
    let mut faults = Vec::new();
    for (sector, result) in sectors.iter().zip(results) {
        match result {
            Ok(sector_proof) => proof.sectors.push(sector_proof),
            Err(err) => {
                proof.faulty_sectors.push(sector.sector_number);
                faults.push(PoStFault {
                    sector_number: sector.sector_number,
                    reason: format!("{err:#}"),
                });
            }
        }
    }
    PoStResult { proof, faults }
}
