//! The state a block works on: the committed store with the block's writes on top, and nested
//! branches (one per tx, and per message where a module wants one) that are merged on success
//! and dropped on failure.

use crate::error::{sdk, StoaError};
use crate::store::Store;
use std::collections::BTreeMap;

/// Writes of one layer: `None` is a delete.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Live (key, value) pairs, ascending by key.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

pub struct State {
    store: Store,
    /// Reads come from this committed version instead of the latest (historical queries).
    read_version: Option<u64>,
    /// `layers[0]` holds the block's writes; every later layer is an open branch.
    layers: Vec<WriteSet>,
}

impl State {
    pub fn new(store: Store) -> Self {
        State {
            store,
            read_version: None,
            layers: vec![WriteSet::new()],
        }
    }

    /// A read-only view of an older committed version: point reads only (listings need the
    /// latest version, whose keys are indexed).
    pub fn at_version(store: Store, version: u64) -> Self {
        State {
            store,
            read_version: Some(version),
            layers: vec![WriteSet::new()],
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoaError> {
        for layer in self.layers.iter().rev() {
            if let Some(v) = layer.get(key) {
                return Ok(v.clone());
            }
        }
        match self.read_version {
            Some(v) => self.store.get_at(key, v),
            None => self.store.get(key),
        }
        .map_err(|e| sdk::IO.with(format!("store read: {e}")))
    }

    /// Writes a value. An empty value is stored as a delete: the Merkle tree cannot prove an
    /// empty value (ICS23), so "empty" and "absent" are one state — a prost message with all
    /// default fields reads back as absent, which decodes to the same default.
    pub fn set(&mut self, key: Vec<u8>, value: Vec<u8>) {
        let value = if value.is_empty() { None } else { Some(value) };
        self.top().insert(key, value);
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.top().insert(key, None);
    }

    /// Every live (key, value) under `prefix`, ascending: the committed pairs overlaid with the
    /// writes of every layer.
    pub fn iter_prefix(&self, prefix: &[u8]) -> Result<Pairs, StoaError> {
        if let Some(v) = self.read_version {
            return Err(sdk::NOT_SUPPORTED.with(format!(
                "listing at historical height {v}; query the latest height"
            )));
        }
        let committed = self
            .store
            .iter_prefix(prefix, None, None)
            .map_err(|e| sdk::IO.with(format!("store scan: {e}")))?;
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> =
            committed.into_iter().map(|(k, v)| (k, Some(v))).collect();
        for layer in &self.layers {
            for (k, v) in layer.range(prefix.to_vec()..) {
                if !k.starts_with(prefix) {
                    break;
                }
                merged.insert(k.clone(), v.clone());
            }
        }
        Ok(merged
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }

    /// Opens a branch: writes from now on can be dropped as one.
    pub fn branch(&mut self) {
        self.layers.push(WriteSet::new());
    }

    /// Merges the innermost branch into the one below it.
    pub fn commit_branch(&mut self) {
        if self.layers.len() > 1 {
            if let Some(top) = self.layers.pop() {
                let below = self.top();
                below.extend(top);
            }
        }
    }

    /// Drops the innermost branch and every write in it.
    pub fn discard_branch(&mut self) {
        if self.layers.len() > 1 {
            self.layers.pop();
        }
    }

    pub fn depth(&self) -> usize {
        self.layers.len() - 1
    }

    /// The block's writes, with every branch merged; the state is left empty on top of the store.
    pub fn take_writes(&mut self) -> WriteSet {
        while self.layers.len() > 1 {
            self.commit_branch();
        }
        std::mem::take(&mut self.layers[0])
    }

    /// The block's writes so far (every branch included) without taking them.
    pub fn pending_writes(&self) -> WriteSet {
        let mut out = WriteSet::new();
        for layer in &self.layers {
            out.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        out
    }

    fn top(&mut self) -> &mut WriteSet {
        let last = self.layers.len() - 1;
        &mut self.layers[last]
    }
}
