//! Inserting a block's writes into the tree with the root's subtrees built in parallel: the
//! same nodes, stale nodes and root as jmt's own batched insert (`batch_put_value_sets`), which
//! runs on one thread.
//!
//! jmt does not export the types of internal nodes, so new internal nodes are built as their
//! borsh encoding and decoded back into jmt's `Node` (the encoding is jmt's on-disk format,
//! which the store already relies on); their hashes are jmt's own `InternalNode::hash`. Tests
//! compare every result with jmt's per-key insert. Deletions are not handled here (jmt's batch
//! does not handle them either); the store sends blocks with deletions down jmt's per-key path.

use std::collections::BTreeMap;

use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, StaleNodeIndex, StaleNodeIndexBatch};
use jmt::{KeyHash, ValueHash};
use rayon::prelude::*;
use sha2::Sha256;

use super::jmt_reader::JmtReader;
use super::{keys, StoreError};

/// What the insert produced for a version.
pub struct Inserted {
    pub root: [u8; 32],
    pub nodes: NodeBatch,
    pub stale: StaleNodeIndexBatch,
}

/// A child slot of an internal node: hash, version, and leaf count (`None` = a leaf).
#[derive(Clone, Copy)]
struct ChildInfo {
    hash: [u8; 32],
    version: u64,
    leaf_count: Option<u64>,
}

/// A node just built: enough for its parent's child slot.
struct Built {
    hash: [u8; 32],
    leaf_count: Option<u64>,
}

#[derive(Default)]
struct Out {
    nodes: Vec<(NodeKey, Node)>,
    stale: Vec<NodeKey>,
}

struct Inserter<'r, 'a> {
    reader: &'r JmtReader<'a>,
    version: u64,
}

/// Builds `version` from the tree whose root is `base_root`, setting each key of `values`
/// (sorted by key hash, distinct, non-empty) to its value.
pub fn insert(
    reader: &JmtReader<'_>,
    base_root: &NodeKey,
    version: u64,
    values: Vec<(KeyHash, Vec<u8>)>,
) -> Result<Inserted, StoreError> {
    let kvs: Vec<(KeyHash, ValueHash)> = values
        .iter()
        .map(|(k, v)| (*k, ValueHash::with::<Sha256>(v)))
        .collect();
    if kvs.is_empty() || kvs.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(StoreError::Tree(
            "batched insert needs distinct keys in key-hash order".into(),
        ));
    }
    let inserter = Inserter { reader, version };
    let mut out = Out::default();
    let root = inserter.update_root(base_root, &kvs, &mut out)?;
    let stale = out
        .stale
        .into_iter()
        .map(|node_key| StaleNodeIndex {
            stale_since_version: version,
            node_key,
        })
        .collect();
    let node_values = values
        .into_iter()
        .map(|(k, v)| ((version, k), Some(v)))
        .collect();
    let nodes: BTreeMap<NodeKey, Node> = out.nodes.into_iter().collect();
    Ok(Inserted {
        root: root.hash,
        nodes: NodeBatch::new(nodes, node_values),
        stale,
    })
}

/// Runs of `kvs` (sorted) sharing the nibble at `depth`: (nibble, run).
fn runs(kvs: &[(KeyHash, ValueHash)], depth: usize) -> Vec<(u8, &[(KeyHash, ValueHash)])> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < kvs.len() {
        let nibble = keys::key_hash_nibble(&kvs[start].0, depth);
        let mut end = start + 1;
        while end < kvs.len() && keys::key_hash_nibble(&kvs[end].0, depth) == nibble {
            end += 1;
        }
        out.push((nibble, &kvs[start..end]));
        start = end;
    }
    out
}

fn missing(node_key: &NodeKey) -> StoreError {
    StoreError::Corrupt(format!(
        "tree node of version {} at depth {} is missing",
        node_key.version(),
        node_key.nibble_path().num_nibbles()
    ))
}

impl Inserter<'_, '_> {
    /// The root: like [`Self::update`], but an internal root's subtrees are built in parallel.
    fn update_root(
        &self,
        node_key: &NodeKey,
        kvs: &[(KeyHash, ValueHash)],
        out: &mut Out,
    ) -> Result<Built, StoreError> {
        let node = self.read(node_key)?;
        if !matches!(node, Node::Internal(_)) {
            return self.update_node(node_key, node, kvs, 0, out);
        }
        out.stale.push(node_key.clone());
        let mut children = child_slots(&node);
        let built: Vec<(u8, Built, Out)> = runs(kvs, 0)
            .into_par_iter()
            .map(|(nibble, run)| {
                // About 1.45 new nodes per written key on average (more in some subtrees);
                // growing the vectors instead copies them and faults fresh pages in.
                let mut sub = Out {
                    nodes: Vec::with_capacity(run.len() * 2 + 16),
                    stale: Vec::with_capacity(run.len() * 2 + 16),
                };
                let built = self.child(&children, nibble, run, 1, &mut sub)?;
                Ok((nibble, built, sub))
            })
            .collect::<Result<_, StoreError>>()?;
        out.nodes.reserve(
            built
                .iter()
                .map(|(_, _, sub)| sub.nodes.len())
                .sum::<usize>()
                + 1,
        );
        out.stale.reserve(
            built
                .iter()
                .map(|(_, _, sub)| sub.stale.len())
                .sum::<usize>(),
        );
        for (nibble, child, sub) in built {
            children[nibble as usize] = Some(self.slot(&child));
            out.nodes.extend(sub.nodes);
            out.stale.extend(sub.stale);
        }
        self.internal(keys::key_hash_prefix(&kvs[0].0, 0), &children, out)
    }

    /// The existing node at `node_key`; its absence means the tree is corrupt.
    fn read(&self, node_key: &NodeKey) -> Result<Node, StoreError> {
        self.reader.node(node_key)?.ok_or_else(|| missing(node_key))
    }

    /// Writes `kvs` into the subtree at `node_key` (an existing node at `depth`).
    fn update(
        &self,
        node_key: &NodeKey,
        kvs: &[(KeyHash, ValueHash)],
        depth: usize,
        out: &mut Out,
    ) -> Result<Built, StoreError> {
        let node = self.read(node_key)?;
        self.update_node(node_key, node, kvs, depth, out)
    }

    fn update_node(
        &self,
        node_key: &NodeKey,
        node: Node,
        kvs: &[(KeyHash, ValueHash)],
        depth: usize,
        out: &mut Out,
    ) -> Result<Built, StoreError> {
        match &node {
            // Only corrupt data puts an internal node below the last nibble of a key hash.
            Node::Internal(_) if depth >= 64 => Err(StoreError::Corrupt(
                "internal tree node deeper than a key hash".into(),
            )),
            Node::Internal(_) => {
                out.stale.push(node_key.clone());
                let mut children = child_slots(&node);
                for (nibble, run) in runs(kvs, depth) {
                    let child = self.child(&children, nibble, run, depth + 1, out)?;
                    children[nibble as usize] = Some(self.slot(&child));
                }
                self.internal(keys::key_hash_prefix(&kvs[0].0, depth), &children, out)
            }
            Node::Leaf(leaf) => {
                out.stale.push(node_key.clone());
                self.with_existing_leaf(leaf, kvs, depth, out)
            }
            // Only an empty tree's root is null; jmt does not mark it stale either.
            Node::Null if depth == 0 => self.create(kvs, depth, out),
            Node::Null => Err(StoreError::Corrupt(format!(
                "null tree node below the root at depth {depth}"
            ))),
        }
    }

    /// The new child at `nibble` of an internal node whose current slots are `children`.
    fn child(
        &self,
        children: &[Option<ChildInfo>; 16],
        nibble: u8,
        run: &[(KeyHash, ValueHash)],
        depth: usize,
        out: &mut Out,
    ) -> Result<Built, StoreError> {
        match &children[nibble as usize] {
            Some(existing) => {
                let key = NodeKey::new(existing.version, keys::key_hash_prefix(&run[0].0, depth));
                self.update(&key, run, depth, out)
            }
            None => self.create(run, depth, out),
        }
    }

    /// A subtree where there was an existing leaf: jmt pushes the leaf down until it parts from
    /// the new keys (or replaces it if the only new key is its own).
    fn with_existing_leaf(
        &self,
        leaf: &LeafNode,
        kvs: &[(KeyHash, ValueHash)],
        depth: usize,
        out: &mut Out,
    ) -> Result<Built, StoreError> {
        let existing = leaf.key_hash();
        if kvs.len() == 1 && kvs[0].0 == existing {
            return Ok(self.leaf(&kvs[0], depth, out));
        }
        let bucket = keys::key_hash_nibble(&existing, depth);
        let mut children: [Option<ChildInfo>; 16] = [None; 16];
        let mut isolated = true;
        for (nibble, run) in runs(kvs, depth) {
            let child = if nibble == bucket {
                isolated = false;
                self.with_existing_leaf(leaf, run, depth + 1, out)?
            } else {
                self.create(run, depth + 1, out)?
            };
            children[nibble as usize] = Some(self.slot(&child));
        }
        if isolated {
            let key = NodeKey::new(self.version, keys::key_hash_prefix(&existing, depth + 1));
            let hash = leaf.hash::<Sha256>();
            out.nodes.push((key, Node::Leaf(leaf.clone())));
            children[bucket as usize] = Some(ChildInfo {
                hash,
                version: self.version,
                leaf_count: None,
            });
        }
        self.internal(keys::key_hash_prefix(&existing, depth), &children, out)
    }

    /// A new subtree holding exactly `kvs`.
    fn create(
        &self,
        kvs: &[(KeyHash, ValueHash)],
        depth: usize,
        out: &mut Out,
    ) -> Result<Built, StoreError> {
        if let [only] = kvs {
            return Ok(self.leaf(only, depth, out));
        }
        let mut children: [Option<ChildInfo>; 16] = [None; 16];
        for (nibble, run) in runs(kvs, depth) {
            let child = self.create(run, depth + 1, out)?;
            children[nibble as usize] = Some(self.slot(&child));
        }
        self.internal(keys::key_hash_prefix(&kvs[0].0, depth), &children, out)
    }

    fn leaf(&self, (key, value): &(KeyHash, ValueHash), depth: usize, out: &mut Out) -> Built {
        let leaf = LeafNode::new(*key, *value);
        let hash = leaf.hash::<Sha256>();
        let node_key = NodeKey::new(self.version, keys::key_hash_prefix(key, depth));
        out.nodes.push((node_key, Node::Leaf(leaf)));
        Built {
            hash,
            leaf_count: None,
        }
    }

    fn slot(&self, built: &Built) -> ChildInfo {
        ChildInfo {
            hash: built.hash,
            version: self.version,
            leaf_count: built.leaf_count,
        }
    }

    /// A new internal node at `path` with `children`.
    fn internal(
        &self,
        path: jmt::storage::NibblePath,
        children: &[Option<ChildInfo>; 16],
        out: &mut Out,
    ) -> Result<Built, StoreError> {
        let node: Node = borsh::from_slice(&encode_internal(children))
            .map_err(|e| StoreError::Tree(format!("building an internal node: {e}")))?;
        let Node::Internal(internal) = &node else {
            return Err(StoreError::Tree("built node is not internal".into()));
        };
        let hash = internal.hash::<Sha256>();
        let leaf_count = internal.leaf_count() as u64;
        out.nodes.push((NodeKey::new(self.version, path), node));
        Ok(Built {
            hash,
            leaf_count: Some(leaf_count),
        })
    }
}

/// The child slots of an existing internal node (empty for any other node). Read through the
/// methods jmt makes public: its internal node type is not nameable outside jmt.
fn child_slots(node: &Node) -> [Option<ChildInfo>; 16] {
    let mut slots = [None; 16];
    if let Node::Internal(internal) = node {
        for (nibble, child) in internal.children_sorted() {
            slots[u8::from(nibble) as usize] = Some(ChildInfo {
                hash: child.hash,
                version: child.version,
                leaf_count: (!child.is_leaf()).then_some(child.leaf_count() as u64),
            });
        }
    }
    slots
}

/// The borsh encoding of `Node::Internal` with these children, as jmt derives it: the `Node`
/// variant index (1), then `Children` (16 × `Option<Child>`, `Child` = hash, version (u64 LE),
/// `NodeType` (0 = leaf, 1 = internal + leaf count u64 LE); then the number of children as
/// u64 LE), then the internal node's leaf count (u64 LE).
fn encode_internal(children: &[Option<ChildInfo>; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 16 * 50 + 16);
    out.push(1);
    let mut count = 0u64;
    let mut leaves = 0u64;
    for slot in children {
        match slot {
            None => out.push(0),
            Some(child) => {
                count += 1;
                out.push(1);
                out.extend_from_slice(&child.hash);
                out.extend_from_slice(&child.version.to_le_bytes());
                match child.leaf_count {
                    None => {
                        leaves += 1;
                        out.push(0);
                    }
                    Some(n) => {
                        leaves += n;
                        out.push(1);
                        out.extend_from_slice(&n.to_le_bytes());
                    }
                }
            }
        }
    }
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&leaves.to_le_bytes());
    out
}
