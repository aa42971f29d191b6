//! jmt's `TreeReader`/`HasPreimage` over a [`KvBackend`], used to compute new versions and proofs.

use std::collections::BTreeMap;

use jmt::storage::{HasPreimage, LeafNode, Node, NodeBatch, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};

use super::backend::KvBackend;
use super::{chunks, keys, StoreError};

/// A decoded node and, for a leaf, its value.
pub type NodeEntry = (Node, Option<Vec<u8>>);

/// The tree nodes one version created, held in memory, with the values of its leaves.
pub struct VersionNodes {
    pub version: u64,
    pub nodes: NodeBatch,
    /// Values of leaves this version re-created at a new position without writing their key
    /// (jmt moves a leaf down when a new key lands next to it); written keys' values are in
    /// `nodes`' values.
    pub moved: BTreeMap<KeyHash, Vec<u8>>,
}

impl VersionNodes {
    /// The node at `node_key` and, for a leaf, its value.
    pub fn entry(&self, node_key: &NodeKey) -> Option<NodeEntry> {
        let node = self.nodes.get_node(node_key)?;
        let value = match node {
            Node::Leaf(leaf) => self.leaf_value(leaf),
            _ => None,
        };
        Some((node.clone(), value))
    }

    /// The value of a leaf this version created.
    pub fn leaf_value(&self, leaf: &LeafNode) -> Option<Vec<u8>> {
        let key_hash = leaf.key_hash();
        match self.nodes.values().get(&(self.version, key_hash)) {
            Some(value) => value.clone(),
            None => self.moved.get(&key_hash).cloned(),
        }
    }
}

/// Reads committed tree nodes, values and preimages from the backend.
///
/// jmt builds version `v` on top of the root stored at `v - 1`. When the new version does not
/// directly follow the last committed one (CometBFT's `initial_height`, or any skipped
/// heights), `root_alias` makes the root of `v - 1` resolve to the last committed root, so the
/// new version starts from the committed state instead of an empty tree.
pub struct JmtReader<'a> {
    backend: &'a dyn KvBackend,
    root_alias: Option<(NodeKey, NodeKey)>,
    /// The nodes the last committed version created, still in memory: a node key names one
    /// immutable node forever, so these answer without a backend read or a decode.
    recent: Option<&'a VersionNodes>,
}

impl<'a> JmtReader<'a> {
    /// A reader of committed state only.
    pub fn new(backend: &'a dyn KvBackend) -> Self {
        Self {
            backend,
            root_alias: None,
            recent: None,
        }
    }

    /// A reader for building `next_version` on top of committed `base_version`.
    pub fn for_next_version(
        backend: &'a dyn KvBackend,
        base_version: Option<u64>,
        next_version: u64,
    ) -> Self {
        let root_alias = match base_version {
            Some(base) if base.checked_add(1) != Some(next_version) => Some((
                keys::root_node_key(next_version.saturating_sub(1)),
                keys::root_node_key(base),
            )),
            _ => None,
        };
        Self {
            backend,
            root_alias,
            recent: None,
        }
    }

    /// Answers node reads from `recent` (nodes of a committed version) before the backend.
    pub fn with_recent_nodes(mut self, recent: Option<&'a VersionNodes>) -> Self {
        self.recent = recent;
        self
    }

    /// The node at `node_key`, decoded, with its value if it is a leaf.
    pub fn entry(&self, node_key: &NodeKey) -> Result<Option<NodeEntry>, StoreError> {
        let node_key = match &self.root_alias {
            Some((alias, target)) if alias == node_key => target,
            _ => node_key,
        };
        if let Some(recent) = self.recent.filter(|r| r.version == node_key.version()) {
            if let Some(entry) = recent.entry(node_key) {
                return Ok(Some(entry));
            }
        }
        let path = keys::path_key(node_key.nibble_path());
        match chunks::read(self.backend, node_key.version(), &path)? {
            None => Ok(None),
            Some((raw, value)) => {
                let node = borsh::from_slice(&raw)
                    .map_err(|e| StoreError::Corrupt(format!("decoding tree node: {e}")))?;
                Ok(Some((node, value)))
            }
        }
    }

    /// The node at `node_key`, decoded.
    pub fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, StoreError> {
        Ok(self.entry(node_key)?.map(|(node, _)| node))
    }

    /// The value of `key_hash` in the tree of `version` (whose root must exist): a walk from
    /// the root down the key's nibbles to its leaf, which carries the value.
    pub fn value_at(
        &self,
        version: Version,
        key_hash: &KeyHash,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut node_key = keys::root_node_key(version);
        // A key hash has 64 nibbles, so a leaf is at depth 64 at most.
        for depth in 0..=64 {
            let Some((node, value)) = self.entry(&node_key)? else {
                return Err(StoreError::Corrupt(format!(
                    "tree node at depth {depth} of version {version} is missing"
                )));
            };
            match node {
                Node::Null => return Ok(None),
                Node::Leaf(leaf) if leaf.key_hash() == *key_hash => {
                    return value
                        .map(Some)
                        .ok_or_else(|| StoreError::Corrupt("leaf without a value".into()));
                }
                Node::Leaf(_) => return Ok(None),
                Node::Internal(_) if depth >= 64 => break,
                Node::Internal(internal) => {
                    let nibble = keys::key_hash_nibble(key_hash, depth);
                    let Some(child) = internal.child(nibble.into()) else {
                        return Ok(None);
                    };
                    node_key =
                        NodeKey::new(child.version, keys::key_hash_prefix(key_hash, depth + 1));
                }
            }
        }
        Err(StoreError::Corrupt("tree deeper than a key hash".into()))
    }
}

impl TreeReader for JmtReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value_at(max_version, &key_hash)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only jmt's restore path (state sync) needs this; the store does not use it yet.
        Err(StoreError::Unsupported("get_rightmost_leaf").into())
    }
}

impl HasPreimage for JmtReader<'_> {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.backend.get(&keys::preimage(&key_hash))?)
    }
}
