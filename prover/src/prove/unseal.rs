//! Unsealing: `data = replica - label(L)` node by node, then Fr32 unpadding, truncated to the
//! original length. The last layer's labels come from the sector directory if still there,
//! else they are regenerated (labels depend only on replica_id, not on the data). The
//! decoded data is checked against comm_d, so a corrupted replica is an error, not bad bytes.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::encode::decode;
use crate::fr32;
use crate::prove::files::{layer_file, open_checked, SealedSector};
use crate::prove::seal::{generate_layers, Progress};
use crate::prove::tree::{build_tree, read_nodes, unpadded_bytes_for};

/// Unseals the sector in `dir` into `out`; returns the number of bytes written.
pub fn unseal(dir: &Path, out: &Path, progress: Option<Progress>) -> Result<u64> {
    let sector = SealedSector::open(dir)?;
    let params = sector.params;
    let replica = sector.replica()?;
    let last = params.layers;
    let (_scratch, labels): (Option<tempfile::TempDir>, File) =
        match open_checked(dir, &layer_file(last), params.sector_bytes) {
            Ok(file) => (None, file),
            Err(_) => {
                let scratch = tempfile::tempdir_in(dir).with_context(|| {
                    format!("cannot create a scratch directory in {}", dir.display())
                })?;
                generate_layers(
                    scratch.path(),
                    sector.seal_proof,
                    &sector.meta.replica_id()?,
                    progress,
                )?;
                let file = open_checked(scratch.path(), &layer_file(last), params.sector_bytes)?;
                (Some(scratch), file)
            }
        };
    let data_len = sector.meta.data_len;
    let output = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    let comm_d = build_tree(sector.tree_d_layout(), None, |chunk, leaves| {
        let first = chunk * leaves.len() as u64;
        let mut label_chunk = vec![[0u8; 32]; leaves.len()];
        read_nodes(&replica, first, leaves)?;
        read_nodes(&labels, first, &mut label_chunk)?;
        for (node, label) in leaves.iter_mut().zip(&label_chunk) {
            *node = decode(node, label)
                .filter(|d| d[31] & 0xc0 == 0)
                .ok_or_else(|| {
                    io::Error::other(format!("replica node near {first} is corrupted"))
                })?;
        }
        let unpadded_per_chunk = unpadded_bytes_for(leaves.len());
        let offset = chunk * unpadded_per_chunk;
        if offset < data_len {
            let raw = fr32::unpad(leaves.as_flattened());
            let keep = (data_len - offset).min(unpadded_per_chunk) as usize;
            output.write_all_at(&raw[..keep], offset)?;
        }
        Ok(())
    })
    .context("decoding the replica")?;
    if comm_d != sector.meta.comm_d()? {
        bail!(
            "unsealed data does not match comm_d: the replica in {} is corrupted",
            dir.display()
        );
    }
    output.set_len(data_len)?;
    Ok(data_len)
}
