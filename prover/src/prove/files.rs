//! A sealed sector on disk: the directory layout, the metadata file and checks on open.
//!
//! ```text
//! DIR/meta.json     public parameters and commitments (SectorMeta)
//! DIR/replica       the sealed replica (sector size)
//! DIR/tree-r-last   tree over the replica, bottom rows dropped (1/8 of the sector)
//! DIR/tree-c        tree over column hashes (needed for PoRep only)
//! DIR/tree-d        tree over the Fr32-padded data, leaves included (PoRep only)
//! DIR/layer-N       labels of layer N (PoRep only; unsealing regenerates them if absent)
//! ```
//! PoSt needs only meta.json, replica and tree-r-last.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::hash::Node;
use crate::params::{SealProof, SectorParams};
use crate::prove::tree::{TreeLayout, TreeReader};

pub const META_FILE: &str = "meta.json";
pub const REPLICA_FILE: &str = "replica";
pub const TREE_D_FILE: &str = "tree-d";
pub const TREE_C_FILE: &str = "tree-c";
pub const TREE_R_LAST_FILE: &str = "tree-r-last";

/// File name of layer `layer` (1-based).
pub fn layer_file(layer: u32) -> String {
    format!("layer-{layer}")
}

/// Version of the metadata format.
pub const META_FORMAT: u32 = 1;

/// The metadata file of a sealed sector; hex strings for every 32-byte value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorMeta {
    pub format: u32,
    /// Sector size name ("8MiB").
    pub sector_size: String,
    pub sector_bytes: u64,
    pub sector_number: u64,
    pub prover_id: String,
    pub ticket: String,
    /// Length of the original (unpadded) data, restored exactly by unsealing.
    pub data_len: u64,
    pub comm_d: String,
    /// comm_d as a piece CID (the unsealed sector CID).
    pub unsealed_cid: String,
    pub replica_id: String,
    pub comm_c: String,
    pub comm_r_last: String,
    pub comm_r: String,
}

/// A 32-byte value from hex.
pub fn parse_hex32(text: &str, what: &str) -> Result<[u8; 32]> {
    let bytes = hex::decode(text.trim().trim_start_matches("0x"))
        .with_context(|| format!("{what} is not hex"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("{what} must be 32 bytes, got {}", b.len()))
}

impl SectorMeta {
    pub fn seal_proof(&self) -> Result<SealProof> {
        SealProof::from_sector_bytes(self.sector_bytes)
            .with_context(|| format!("unsupported sector size {} bytes", self.sector_bytes))
    }
    pub fn prover_id(&self) -> Result<[u8; 32]> {
        parse_hex32(&self.prover_id, "prover_id")
    }
    pub fn ticket(&self) -> Result<[u8; 32]> {
        parse_hex32(&self.ticket, "ticket")
    }
    pub fn comm_d(&self) -> Result<Node> {
        parse_hex32(&self.comm_d, "comm_d")
    }
    pub fn replica_id(&self) -> Result<Node> {
        parse_hex32(&self.replica_id, "replica_id")
    }
    pub fn comm_c(&self) -> Result<Node> {
        parse_hex32(&self.comm_c, "comm_c")
    }
    pub fn comm_r_last(&self) -> Result<Node> {
        parse_hex32(&self.comm_r_last, "comm_r_last")
    }
    pub fn comm_r(&self) -> Result<Node> {
        parse_hex32(&self.comm_r, "comm_r")
    }

    pub fn load(dir: &Path) -> Result<SectorMeta> {
        let path = dir.join(META_FILE);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("cannot read sector metadata {}", path.display()))?;
        let meta: SectorMeta = serde_json::from_str(&text)
            .with_context(|| format!("corrupted sector metadata {}", path.display()))?;
        if meta.format != META_FORMAT {
            bail!(
                "{}: unknown metadata format {}",
                path.display(),
                meta.format
            );
        }
        Ok(meta)
    }

    /// Writes the file atomically (temporary file, then rename).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(META_FILE);
        let tmp = dir.join(format!("{META_FILE}.tmp"));
        fs::write(&tmp, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

/// A sealed sector directory, opened and checked.
pub struct SealedSector {
    pub dir: PathBuf,
    pub meta: SectorMeta,
    pub seal_proof: SealProof,
    pub params: SectorParams,
}

/// Opens `dir/name`, checking it has exactly `bytes` bytes.
pub fn open_checked(dir: &Path, name: &str, bytes: u64) -> Result<File> {
    let path = dir.join(name);
    let file = File::open(&path).with_context(|| format!("missing file {}", path.display()))?;
    let len = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len();
    if len != bytes {
        bail!(
            "corrupted file {}: {len} bytes, expected {bytes}",
            path.display()
        );
    }
    Ok(file)
}

impl SealedSector {
    pub fn open(dir: &Path) -> Result<SealedSector> {
        let meta = SectorMeta::load(dir)?;
        let seal_proof = meta.seal_proof()?;
        Ok(SealedSector {
            dir: dir.to_path_buf(),
            params: seal_proof.params(),
            seal_proof,
            meta,
        })
    }

    pub fn tree_d_layout(&self) -> TreeLayout {
        TreeLayout {
            leaves: self.params.nodes,
            first_stored: 0,
        }
    }
    pub fn tree_c_layout(&self) -> TreeLayout {
        self.tree_d_layout()
    }
    pub fn tree_r_layout(&self) -> TreeLayout {
        TreeLayout {
            leaves: self.params.nodes,
            first_stored: self
                .params
                .tree_r_discarded_rows
                .min(self.params.tree_depth()),
        }
    }

    pub fn replica(&self) -> Result<File> {
        open_checked(&self.dir, REPLICA_FILE, self.params.sector_bytes)
    }

    pub fn layer(&self, layer: u32) -> Result<File> {
        open_checked(&self.dir, &layer_file(layer), self.params.sector_bytes)
    }

    pub fn tree_d(&self) -> Result<TreeReader> {
        let layout = self.tree_d_layout();
        Ok(TreeReader::new(
            open_checked(&self.dir, TREE_D_FILE, layout.file_bytes())?,
            layout,
            None,
        ))
    }

    pub fn tree_c(&self) -> Result<TreeReader> {
        let layout = self.tree_c_layout();
        Ok(TreeReader::new(
            open_checked(&self.dir, TREE_C_FILE, layout.file_bytes())?,
            layout,
            None,
        ))
    }

    pub fn tree_r_last(&self) -> Result<TreeReader> {
        let layout = self.tree_r_layout();
        Ok(TreeReader::new(
            open_checked(&self.dir, TREE_R_LAST_FILE, layout.file_bytes())?,
            layout,
            Some(self.replica()?),
        ))
    }
}
