//! Binary sha254 Merkle trees: roots of in-memory leaves and checking of proof paths.
//!
//! Every tree of Stoa (comm_d/commP, tree_c, tree_r_last) has this shape: leaves are 32-byte
//! nodes, an internal node is `hash_pair(left, right)`, a path lists siblings bottom-up and
//! the bits of the leaf index say on which side each sibling sits.

use crate::hash::{hash_pair, node_from_slice, Node};

/// Root over `leaves` (a power-of-two count, at least one).
pub fn root(leaves: &[Node]) -> Option<Node> {
    if leaves.is_empty() || !leaves.len().is_power_of_two() {
        return None;
    }
    let mut level: Vec<Node> = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| hash_pair(&pair[0], &pair[1]))
            .collect();
    }
    level.first().copied()
}

/// Sibling path of `index` in the tree over `leaves` (power-of-two count), bottom-up.
pub fn path(leaves: &[Node], index: usize) -> Option<Vec<Node>> {
    if leaves.is_empty() || !leaves.len().is_power_of_two() || index >= leaves.len() {
        return None;
    }
    let mut siblings = Vec::new();
    let mut level: Vec<Node> = leaves.to_vec();
    let mut position = index;
    while level.len() > 1 {
        siblings.push(level[position ^ 1]);
        level = level
            .chunks_exact(2)
            .map(|pair| hash_pair(&pair[0], &pair[1]))
            .collect();
        position >>= 1;
    }
    Some(siblings)
}

/// Why a path did not check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// Wrong number of siblings for the tree depth.
    WrongLength { expected: u32, got: usize },
    /// A sibling is not 32 bytes.
    BadSibling,
    /// The index does not fit the tree.
    IndexOutOfRange,
}

/// Root that `leaf` at `index` hashes up to along `siblings` (raw proof bytes); the path must
/// have exactly `depth` siblings.
pub fn root_from_path(
    leaf: &Node,
    index: u64,
    siblings: &[Vec<u8>],
    depth: u32,
) -> Result<Node, PathError> {
    if siblings.len() != depth as usize {
        return Err(PathError::WrongLength {
            expected: depth,
            got: siblings.len(),
        });
    }
    if depth < 64 && index >> depth != 0 {
        return Err(PathError::IndexOutOfRange);
    }
    let mut current = *leaf;
    for (level, sibling) in siblings.iter().enumerate() {
        let sibling = node_from_slice(sibling).ok_or(PathError::BadSibling)?;
        current = if (index >> level) & 1 == 0 {
            hash_pair(&current, &sibling)
        } else {
            hash_pair(&sibling, &current)
        };
    }
    Ok(current)
}
