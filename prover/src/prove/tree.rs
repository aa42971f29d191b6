//! Binary sha254 trees on disk: built chunk by chunk in parallel, read back for paths.
//!
//! A tree file holds its levels bottom-up, from `first_stored` to the root, each level's nodes
//! in order. tree_d and tree_c store every level (their leaves are needed for proofs);
//! tree_r_last drops its bottom rows because its leaves are the replica itself and the missing
//! rows are recomputed from 2^rows replica nodes when a path is needed. Building and reading
//! use positioned reads and writes rather than mappings, so building a tree costs a few MiB of
//! memory whatever the sector size.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use rayon::prelude::*;

use crate::fr32::{self, PADDED_BLOCK, UNPADDED_BLOCK};
use crate::hash::{hash_pair, Node};
use crate::params::NODE_SIZE;

/// Leaves per parallel chunk when building (1 MiB of nodes).
pub const CHUNK_LEAVES: u64 = 1 << 15;

/// Which levels of a tree over `leaves` nodes a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeLayout {
    pub leaves: u64,
    pub first_stored: u32,
}

impl TreeLayout {
    pub fn depth(&self) -> u32 {
        self.leaves.trailing_zeros()
    }

    /// Node offset of `level` in the file (levels below `first_stored` are not stored).
    pub fn level_start(&self, level: u32) -> u64 {
        (self.first_stored..level).map(|l| self.leaves >> l).sum()
    }

    /// Size of the tree file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.level_start(self.depth() + 1) * NODE_SIZE as u64
    }
}

fn write_nodes(
    file: &File,
    layout: &TreeLayout,
    level: u32,
    first: u64,
    nodes: &[Node],
) -> io::Result<()> {
    let offset = (layout.level_start(level) + first) * NODE_SIZE as u64;
    file.write_all_at(nodes.as_flattened(), offset)
}

/// Builds the tree whose leaf chunk `i` (`chunk` leaves from `i * chunk`) `fill` produces,
/// writing the stored levels to `out` when given; returns the root. Chunks run in parallel.
pub fn build_tree<F>(layout: TreeLayout, out: Option<&File>, fill: F) -> io::Result<Node>
where
    F: Fn(u64, &mut [Node]) -> io::Result<()> + Sync,
{
    let chunk = CHUNK_LEAVES.min(layout.leaves);
    let chunk_levels = chunk.trailing_zeros();
    let chunks = layout.leaves / chunk;
    let roots = (0..chunks)
        .into_par_iter()
        .map(|index| {
            let mut nodes = vec![[0u8; 32]; chunk as usize];
            fill(index, &mut nodes)?;
            let mut len = nodes.len();
            for level in 0..=chunk_levels {
                if level > 0 {
                    // In place: node j of the new level overwrites an already-read slot.
                    for j in 0..len / 2 {
                        nodes[j] = hash_pair(&nodes[2 * j], &nodes[2 * j + 1]);
                    }
                    len /= 2;
                }
                if let Some(file) = out.filter(|_| level >= layout.first_stored) {
                    write_nodes(file, &layout, level, index * len as u64, &nodes[..len])?;
                }
            }
            Ok(nodes[0])
        })
        .collect::<io::Result<Vec<Node>>>()?;
    let mut level_nodes = roots;
    let mut level = chunk_levels;
    while level_nodes.len() > 1 {
        level_nodes = level_nodes
            .chunks_exact(2)
            .map(|pair| hash_pair(&pair[0], &pair[1]))
            .collect();
        level += 1;
        if let Some(file) = out.filter(|_| level >= layout.first_stored) {
            write_nodes(file, &layout, level, 0, &level_nodes)?;
        }
    }
    Ok(level_nodes[0])
}

/// Reads `nodes.len()` nodes from `file` at node offset `first`.
pub fn read_nodes(file: &File, first: u64, nodes: &mut [Node]) -> io::Result<()> {
    file.read_exact_at(nodes.as_flattened_mut(), first * NODE_SIZE as u64)
}

/// Reads up to `buf.len()` bytes at `offset`, stopping at end of file; returns bytes read.
pub(crate) fn read_up_to(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Unpadded bytes whose Fr32 padding fills `leaves` nodes (127 per 4 nodes).
pub(crate) fn unpadded_bytes_for(leaves: usize) -> u64 {
    (leaves / (PADDED_BLOCK / NODE_SIZE) * UNPADDED_BLOCK) as u64
}

/// Fills leaf chunk `chunk` of a tree over the Fr32-padded contents of `file`: reads that
/// chunk's unpadded bytes (zeros past the end of the file) and pads them into `leaves`.
pub(crate) fn read_padded_leaves(file: &File, chunk: u64, leaves: &mut [Node]) -> io::Result<()> {
    let unpadded_per_chunk = unpadded_bytes_for(leaves.len());
    let mut raw = vec![0u8; unpadded_per_chunk as usize];
    read_up_to(file, &mut raw, chunk * unpadded_per_chunk)?;
    fr32::pad_into(&raw, leaves.as_flattened_mut());
    Ok(())
}

/// One node of `file` at node offset `index`.
pub fn read_node(file: &File, index: u64) -> io::Result<Node> {
    let mut node = [0u8; 32];
    file.read_exact_at(&mut node, index * NODE_SIZE as u64)?;
    Ok(node)
}

/// A stored tree opened for proving.
pub struct TreeReader {
    file: File,
    layout: TreeLayout,
    /// Where the leaves are when the tree file does not hold them (tree_r_last: the replica).
    leaf_file: Option<File>,
}

impl TreeReader {
    pub fn new(file: File, layout: TreeLayout, leaf_file: Option<File>) -> TreeReader {
        TreeReader {
            file,
            layout,
            leaf_file,
        }
    }

    pub fn leaf(&self, index: u64) -> io::Result<Node> {
        match (&self.leaf_file, self.layout.first_stored) {
            (_, 0) => read_node(&self.file, index),
            (Some(leaves), _) => read_node(leaves, index),
            (None, _) => Err(io::Error::other("tree has no leaf source")),
        }
    }

    pub fn root(&self) -> io::Result<Node> {
        read_node(&self.file, self.layout.level_start(self.layout.depth()))
    }

    /// Sibling path of leaf `index`, bottom-up.
    pub fn path(&self, index: u64) -> io::Result<Vec<Node>> {
        let depth = self.layout.depth();
        let mut siblings = Vec::with_capacity(depth as usize);
        let rows = self.layout.first_stored.min(depth);
        if rows > 0 {
            // Recompute the dropped rows from the 2^rows leaves around `index`.
            let leaves = self
                .leaf_file
                .as_ref()
                .ok_or_else(|| io::Error::other("tree has no leaf source"))?;
            let block = 1u64 << rows;
            let base = index & !(block - 1);
            let mut nodes = vec![[0u8; 32]; block as usize];
            read_nodes(leaves, base, &mut nodes)?;
            let mut position = (index - base) as usize;
            let mut len = nodes.len();
            while len > 1 {
                siblings.push(nodes[position ^ 1]);
                for j in 0..len / 2 {
                    nodes[j] = hash_pair(&nodes[2 * j], &nodes[2 * j + 1]);
                }
                len /= 2;
                position >>= 1;
            }
        }
        for level in rows..depth {
            let sibling = (index >> level) ^ 1;
            siblings.push(read_node(
                &self.file,
                self.layout.level_start(level) + sibling,
            )?);
        }
        Ok(siblings)
    }
}
