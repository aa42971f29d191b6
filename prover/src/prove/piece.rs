//! commP of a file on disk, streamed in parallel chunks (the `commp` command).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{Context, Result};

use crate::commp::padded_piece_size;
use crate::fr32;
use crate::hash::Node;
use crate::prove::tree::{build_tree, TreeLayout};

/// commP of the file at `path`: (commitment, padded piece size, payload length). The payload
/// is zero-filled to the next unpadded piece size, as Filecoin's tools do.
pub fn commp_of_file(path: &Path) -> Result<(Node, u64, u64)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len();
    let padded = padded_piece_size(len);
    let layout = TreeLayout {
        leaves: padded / 32,
        first_stored: u32::MAX,
    };
    let root = build_tree(layout, None, |chunk, nodes| {
        let per_chunk = nodes.len() as u64 / 4 * 127;
        let mut raw = vec![0u8; per_chunk as usize];
        let mut done = 0;
        while done < raw.len() {
            let n = file.read_at(&mut raw[done..], chunk * per_chunk + done as u64)?;
            if n == 0 {
                break;
            }
            done += n;
        }
        let out = nodes.as_flattened_mut();
        for (block, unpadded) in raw.chunks_exact(127).enumerate() {
            let mut padded_block = [0u8; 128];
            fr32::pad_block(unpadded, &mut padded_block);
            out[block * 128..block * 128 + 128].copy_from_slice(&padded_block);
        }
        Ok(())
    })
    .with_context(|| format!("reading {}", path.display()))?;
    Ok((root, padded, len))
}
