//! Labels and column hashes of the stacked graph.
//!
//! `label(l, v) = sha254(replica_id || l as u32 BE || v as u64 BE || 20 zero bytes ||
//! 37 parent labels)`: 64 bytes of prefix plus 37 x 32 bytes of parents (the 6 or 14 parents
//! repeated in order), 1,248 bytes, as in Filecoin. Node 0 hashes the prefix alone.

use crate::hash::{sha254, sha256, trunc254, Node};
use crate::params::{DRG_DEGREE, LABEL_PARENTS, NODE_SIZE, TOTAL_DEGREE};

/// Bytes of the prefix block.
pub const LABEL_PREFIX_LEN: usize = 64;
/// Bytes hashed per label.
pub const LABEL_INPUT_LEN: usize = LABEL_PREFIX_LEN + LABEL_PARENTS * NODE_SIZE;

/// A reusable label input: the prefix is rewritten per node, the parents per node.
pub struct LabelInput {
    buffer: [u8; LABEL_INPUT_LEN],
}

impl LabelInput {
    pub fn new(replica_id: &Node, layer: u32) -> LabelInput {
        let mut buffer = [0u8; LABEL_INPUT_LEN];
        buffer[..32].copy_from_slice(replica_id);
        buffer[32..36].copy_from_slice(&layer.to_be_bytes());
        LabelInput { buffer }
    }

    #[inline]
    pub fn set_node(&mut self, node: u64) {
        self.buffer[36..44].copy_from_slice(&node.to_be_bytes());
    }

    /// Slot `slot` (< `degree`) of the parent labels.
    #[inline]
    pub fn parent_slot(&mut self, slot: usize) -> &mut [u8] {
        let start = LABEL_PREFIX_LEN + slot * NODE_SIZE;
        &mut self.buffer[start..start + NODE_SIZE]
    }

    /// Repeats the first `degree` parent labels to fill all 37 slots and hashes.
    #[inline]
    pub fn finish(&mut self, degree: usize) -> Node {
        let base = LABEL_PREFIX_LEN;
        let mut filled = degree;
        // Doubling copies: each copy_within is one memcpy of what is already in place.
        while filled < LABEL_PARENTS {
            let take = filled.min(LABEL_PARENTS - filled);
            self.buffer
                .copy_within(base..base + take * NODE_SIZE, base + filled * NODE_SIZE);
            filled += take;
        }
        trunc254(sha256(&self.buffer))
    }

    /// The label of node 0, which has no parents.
    pub fn finish_without_parents(&self) -> Node {
        sha254(&[&self.buffer[..LABEL_PREFIX_LEN]])
    }
}

/// Label of `node` in `layer` from its parents' labels: the 6 DRG parents' labels in this
/// layer, followed (from layer 2 on) by the 8 expander parents' labels in the previous layer.
/// `parents.len()` must be 6 or 14; returns `None` otherwise.
pub fn label_from_parents(
    replica_id: &Node,
    layer: u32,
    node: u64,
    parents: &[Node],
) -> Option<Node> {
    if parents.len() != DRG_DEGREE && parents.len() != TOTAL_DEGREE {
        return None;
    }
    let mut input = LabelInput::new(replica_id, layer);
    input.set_node(node);
    if node == 0 {
        return Some(input.finish_without_parents());
    }
    for (slot, parent) in parents.iter().enumerate() {
        input.parent_slot(slot).copy_from_slice(parent);
    }
    Some(input.finish(parents.len()))
}

/// Column hash: sha254 of a node's labels in every layer, layer 1 first (tree_c's leaf).
pub fn column_hash(labels: &[Node]) -> Node {
    trunc254(sha256(labels.as_flattened()))
}
