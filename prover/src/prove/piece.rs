//! commP of a file on disk, streamed in parallel chunks (the `commp` command).

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};

use crate::commp::padded_piece_size;
use crate::hash::Node;
use crate::prove::tree::{build_tree, read_padded_leaves, TreeLayout};

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
        read_padded_leaves(&file, chunk, nodes)
    })
    .with_context(|| format!("reading {}", path.display()))?;
    Ok((root, padded, len))
}
