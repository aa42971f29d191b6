//! The key-value backend the store persists into: a small trait so sled can be swapped out.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::StoreError;

/// One (key, value) pair read back from a backend.
pub type KvPair = (Vec<u8>, Vec<u8>);

/// A set of writes applied atomically by [`KvBackend::apply_batch`]. Keyed by backend key so a
/// later operation on the same key replaces an earlier one; the store relies on this to queue
/// pruning deletions first and let the new version's writes win on any overlap.
#[derive(Debug, Default)]
pub struct WriteBatch {
    ops: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.insert(key, Some(value));
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.ops.insert(key, None);
    }

    /// Number of distinct keys touched.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch touches nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The operations, ascending by key (`None` = delete).
    pub fn ops(&self) -> &BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        &self.ops
    }
}

/// An ordered byte-key/byte-value store with atomic batches. Everything the Merklized store
/// keeps (tree nodes, value history, latest values, metadata) lives in one keyspace of one
/// backend, separated by key prefixes, so a single `apply_batch` makes a whole commit atomic.
pub trait KvBackend: Send + Sync {
    /// The value stored at `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Entries whose key starts with `prefix`, ascending by key. When `after` is given, keys
    /// `<= after` are skipped (`after` is a full backend key, not a suffix).
    fn scan<'a>(
        &'a self,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Box<dyn Iterator<Item = Result<KvPair, StoreError>> + 'a>;

    /// Entries with keys inside `(start, end)` (full backend keys), ascending by key, or
    /// descending when `reverse`. Lazy: the store reads only as many as it takes, so a limited
    /// listing costs what it returns, not what the namespace holds.
    fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<KvPair, StoreError>> + 'a>;

    /// The entry with the greatest key `k` such that `prefix <= k <= upper` and `k` starts with
    /// `prefix`. Used for "newest value at or before version v" lookups.
    fn last_at_or_before(&self, prefix: &[u8], upper: &[u8]) -> Result<Option<KvPair>, StoreError>;

    /// Applies every operation of `batch` atomically: after a crash either all or none of them
    /// are visible.
    fn apply_batch(&self, batch: &WriteBatch) -> Result<(), StoreError>;

    /// Makes everything applied so far durable.
    fn flush(&self) -> Result<(), StoreError>;
}
