//! jmt's `TreeReader`/`HasPreimage` over a [`KvBackend`], used to compute new versions and proofs.

use jmt::storage::{HasPreimage, LeafNode, Node, NodeBatch, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};

use super::backend::KvBackend;
use super::{keys, StoreError};

/// Reads committed tree nodes, value history and preimages from the backend.
///
/// jmt builds version `v` on top of the root stored at `v - 1`. When the new version does not
/// directly follow the last committed one (CometBFT's `initial_height`, or any skipped
/// heights), `root_alias` makes the root of `v - 1` resolve to the last committed root, so the
/// new version starts from the committed state instead of an empty tree.
pub struct JmtReader<'a> {
    backend: &'a dyn KvBackend,
    root_alias: Option<(NodeKey, NodeKey)>,
    /// The nodes written by the last committed version, still in memory: a node key names one
    /// immutable node forever, so these answer without a backend read or a decode.
    recent: Option<&'a NodeBatch>,
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
    pub fn with_recent_nodes(mut self, recent: Option<&'a NodeBatch>) -> Self {
        self.recent = recent;
        self
    }

    /// The node at `node_key`, decoded.
    pub fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, StoreError> {
        let node_key = match &self.root_alias {
            Some((alias, target)) if alias == node_key => target,
            _ => node_key,
        };
        if let Some(node) = self.recent.and_then(|batch| batch.get_node(node_key)) {
            return Ok(Some(node.clone()));
        }
        match self.backend.get(&keys::node(node_key)?)? {
            None => Ok(None),
            Some(raw) => borsh::from_slice(&raw)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("decoding tree node: {e}"))),
        }
    }

    /// The newest value history entry of `key_hash` at or before `max_version`; `None` if the
    /// key was absent (never written or deleted) at that version.
    pub fn value_at(
        &self,
        max_version: Version,
        key_hash: &KeyHash,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let prefix = keys::value_prefix(key_hash);
        let upper = keys::value(key_hash, max_version);
        match self.backend.last_at_or_before(&prefix, &upper)? {
            None => Ok(None),
            Some((_, raw)) => keys::decode_value(&raw),
        }
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
