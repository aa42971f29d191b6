//! The state a block works on: the committed store with the block's writes on top, and nested
//! branches (one per tx, and per message where a module wants one) that are merged on success
//! and dropped on failure.
//!
//! All writes live in one map; a branch is a mark in an undo journal, so a read is one map
//! lookup whatever the depth, merging a branch costs nothing and dropping one replays its
//! journal backwards. Beside the writes sits a cache of decoded values (params, module account
//! lists) that changes no read's answer: an entry is forgotten as soon as a key it came from is
//! written or a branch that wrote one is dropped ([`State::cached`]).

use crate::error::{sdk, StoaError};
use crate::store::Store;
use std::any::Any;
use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

/// Which way a range is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// Writes of one layer: `None` is a delete.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Live (key, value) pairs, ascending by key.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// What a key held in the write map before a write in an open branch: `None` = no entry.
type Undo = (Vec<u8>, Option<Option<Vec<u8>>>);

/// A decoded value and what reading its source cost, so a cache hit is metered as the read.
#[derive(Clone)]
pub struct CachedValue {
    /// The byte lengths a read of the source reported: one value length for a point read,
    /// `key + value` of every pair for a listing.
    pub read_lens: Arc<[u64]>,
    pub value: Arc<dyn Any + Send + Sync>,
}

#[derive(Clone)]
struct CacheEntry {
    /// A point key, or a prefix when `prefix`.
    key: Vec<u8>,
    prefix: bool,
    cached: CachedValue,
}

impl CacheEntry {
    fn covers(&self, key: &[u8]) -> bool {
        if self.prefix {
            key.starts_with(&self.key)
        } else {
            key == self.key.as_slice()
        }
    }
}

/// Cloning copies the pending writes: a copy taken at a block's start can rerun the block.
#[derive(Clone)]
pub struct State {
    store: Store,
    /// Reads come from this committed version instead of the latest (historical queries).
    read_version: Option<u64>,
    /// Every write of the block, open branches included.
    writes: WriteSet,
    /// What every write in an open branch replaced, oldest first.
    journal: Vec<Undo>,
    /// The journal length at each open branch, innermost last.
    marks: Vec<usize>,
    /// Decoded values; a handful at most, so a list.
    cache: Vec<CacheEntry>,
}

impl State {
    pub fn new(store: Store) -> Self {
        State {
            store,
            read_version: None,
            writes: WriteSet::new(),
            journal: Vec::new(),
            marks: Vec::new(),
            cache: Vec::new(),
        }
    }

    /// A read-only view of an older committed version: point reads only (listings need the
    /// latest version, whose keys are indexed).
    pub fn at_version(store: Store, version: u64) -> Self {
        State {
            read_version: Some(version),
            ..State::new(store)
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoaError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(v.clone());
        }
        self.get_committed(key)
    }

    /// Calls `f` with the value at `key` (`None` = absent) without copying it out of the state.
    pub fn get_with<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Result<R, StoaError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(f(v.as_deref()));
        }
        Ok(f(self.get_committed(key)?.as_deref()))
    }

    fn get_committed(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoaError> {
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
        self.write(key, value);
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.write(key, None);
    }

    fn write(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        if !self.cache.is_empty() {
            self.cache.retain(|e| !e.covers(&key));
        }
        if self.marks.is_empty() {
            self.writes.insert(key, value);
        } else {
            let before = self.writes.insert(key.clone(), value);
            self.journal.push((key, before));
        }
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
        for (k, v) in self.writes.range(prefix.to_vec()..) {
            if !k.starts_with(prefix) {
                break;
            }
            merged.insert(k.clone(), v.clone());
        }
        Ok(merged
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }

    /// Live pairs with keys inside `(start, end)`, in `order`, at most `limit` of them: the
    /// committed pairs overlaid with the writes of every layer. A caller pages by passing the
    /// last key it saw as an excluded bound. Works at historical versions within retention.
    pub fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Pairs, StoaError> {
        // Placeholder over `iter_prefix` of the bounds' common prefix; replaced by a streaming
        // scan of the store.
        let lo: &[u8] = match start {
            Bound::Included(k) | Bound::Excluded(k) => k,
            Bound::Unbounded => &[],
        };
        let hi: &[u8] = match end {
            Bound::Included(k) | Bound::Excluded(k) => k,
            Bound::Unbounded => &[],
        };
        let common = lo.iter().zip(hi).take_while(|(a, b)| a == b).count();
        let prefix = if matches!(end, Bound::Unbounded) {
            lo
        } else {
            &lo[..common]
        };
        let mut pairs: Pairs = self
            .iter_prefix(prefix)?
            .into_iter()
            .filter(|(k, _)| {
                <(Bound<&[u8]>, Bound<&[u8]>) as RangeBounds<[u8]>>::contains(
                    &(start, end),
                    k.as_slice(),
                )
            })
            .collect();
        if order == Order::Descending {
            pairs.reverse();
        }
        pairs.truncate(limit);
        Ok(pairs)
    }

    /// Opens a branch: writes from now on can be dropped as one.
    pub fn branch(&mut self) {
        self.marks.push(self.journal.len());
    }

    /// Merges the innermost branch into the one below it.
    pub fn commit_branch(&mut self) {
        if self.marks.pop().is_some() && self.marks.is_empty() {
            // No branch is left that could drop these writes.
            self.journal.clear();
        }
    }

    /// Drops the innermost branch and every write in it.
    pub fn discard_branch(&mut self) {
        let Some(mark) = self.marks.pop() else {
            return;
        };
        while self.journal.len() > mark {
            let Some((key, before)) = self.journal.pop() else {
                break;
            };
            if !self.cache.is_empty() {
                self.cache.retain(|e| !e.covers(&key));
            }
            match before {
                Some(v) => {
                    self.writes.insert(key, v);
                }
                None => {
                    self.writes.remove(&key);
                }
            }
        }
    }

    pub fn depth(&self) -> usize {
        self.marks.len()
    }

    /// The block's writes, with every branch merged; the state is left empty on top of the store
    /// (which may then move on, so the cache goes too).
    pub fn take_writes(&mut self) -> WriteSet {
        self.marks.clear();
        self.journal.clear();
        self.cache.clear();
        std::mem::take(&mut self.writes)
    }

    // ---- caches ---------------------------------------------------------------------------

    /// The cached decoded value of a point key (`prefix` false) or a listing (`prefix` true).
    pub fn cached(&self, key: &[u8], prefix: bool) -> Option<&CachedValue> {
        self.cache
            .iter()
            .find(|e| e.prefix == prefix && e.key == key)
            .map(|e| &e.cached)
    }

    /// Remembers a value decoded from what the state holds now under `key` (a point key, or
    /// every key under it when `prefix`); forgotten when any of those keys is written.
    pub fn cache(&mut self, key: &[u8], prefix: bool, cached: CachedValue) {
        self.cache.retain(|e| !(e.prefix == prefix && e.key == key));
        self.cache.push(CacheEntry {
            key: key.to_vec(),
            prefix,
            cached,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlockInfo, Ctx, ExecMode};

    fn decode(raw: Option<&[u8]>) -> Result<Vec<u8>, StoaError> {
        Ok(raw.unwrap_or_default().to_vec())
    }

    #[test]
    fn a_dropped_branch_restores_every_write_and_forgets_what_it_cached() {
        let mut state = State::new(Store::open_temporary().unwrap());
        state.set(b"p".to_vec(), b"1".to_vec());
        state.set(b"l/a".to_vec(), b"x".to_vec());
        let mut ctx = Ctx::unmetered(&mut state, BlockInfo::default(), ExecMode::Finalize);
        assert_eq!(*ctx.get_cached(b"p", decode).unwrap(), b"1");
        let listed = |c: &mut Ctx<'_>| c.iter_prefix_cached(b"l/", |p| Ok(p.len())).unwrap();
        assert_eq!(*listed(&mut ctx), 1);

        // Written in a branch (the cache follows), then dropped: the old values are back.
        let failed: Result<(), StoaError> = ctx.branch(|c| {
            c.set(b"p".to_vec(), b"2".to_vec())?;
            c.set(b"l/b".to_vec(), b"y".to_vec())?;
            c.delete(b"l/a".to_vec())?;
            assert_eq!(*c.get_cached(b"p", decode)?, b"2");
            assert_eq!(*listed(c), 1);
            c.branch(|c2| c2.set(b"p".to_vec(), b"3".to_vec()))?;
            assert_eq!(*c.get_cached(b"p", decode)?, b"3");
            Err(sdk::INVALID_REQUEST.with("boom"))
        });
        assert!(failed.is_err());
        assert_eq!(*ctx.get_cached(b"p", decode).unwrap(), b"1");
        assert_eq!(*listed(&mut ctx), 1);
        assert_eq!(ctx.get(b"l/a").unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(ctx.get(b"l/b").unwrap(), None);

        // Committed branches keep their writes; the cache sees them.
        ctx.branch(|c| c.set(b"l/c".to_vec(), b"z".to_vec()))
            .unwrap();
        assert_eq!(*listed(&mut ctx), 2);
        // A hit costs the gas of the read it replaces.
        let before = ctx.gas().consumed();
        ctx.get_cached(b"p", decode).unwrap();
        let hit = ctx.gas().consumed() - before;
        ctx.get(b"p").unwrap();
        assert_eq!(ctx.gas().consumed() - before - hit, hit);
        drop(ctx);
        assert_eq!(state.depth(), 0);
        let writes = state.take_writes();
        let keys: Vec<&[u8]> = writes.keys().map(Vec::as_slice).collect();
        assert_eq!(keys, vec![&b"l/a"[..], b"l/c", b"p"]);
    }
}
