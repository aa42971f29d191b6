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
use crate::store::{is_empty_range, prefix_end, Store, StoreError};
use std::any::Any;
use std::collections::BTreeMap;
use std::ops::Bound;
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

/// One entry of the write map, borrowed.
type WriteEntry<'a> = (&'a Vec<u8>, &'a Option<Vec<u8>>);

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

    /// A read-only view of an older committed version (point reads and listings).
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
    /// writes of every layer. Works at historical versions within retention, as [`State::range`].
    pub fn iter_prefix(&self, prefix: &[u8]) -> Result<Pairs, StoaError> {
        let end = prefix_end(prefix);
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        self.range(Bound::Included(prefix), end, Order::Ascending, usize::MAX)
    }

    /// Live pairs with keys inside `(start, end)`, in `order`, at most `limit` of them: the
    /// committed pairs overlaid with the writes of every layer. A caller pages by passing the
    /// last key it saw as an excluded bound. Works at historical versions within retention.
    ///
    /// One streaming pass: the store's listing (of one committed version throughout, see
    /// [`Store::visit_range`]) merged with the write map's range in `order`, a write replacing
    /// the committed pair of its key and a delete hiding it, stopping at the `limit`-th live
    /// pair. The store reads on past pairs the write map hides, so no paging is needed.
    pub fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Pairs, StoaError> {
        let mut out = Pairs::new();
        let store_error = |e: StoreError| match e {
            StoreError::ListingUnavailable { .. } => sdk::NOT_SUPPORTED.with(e.to_string()),
            e => sdk::IO.with(format!("store scan: {e}")),
        };
        if limit == 0 {
            // Still an error at a version that cannot be listed.
            self.store
                .visit_range(start, end, order, self.read_version, &mut |_, _| false)
                .map_err(store_error)?;
            return Ok(out);
        }
        let writes: Box<dyn Iterator<Item = WriteEntry<'_>>> = if is_empty_range(start, end) {
            Box::new(std::iter::empty())
        } else {
            let writes = self.writes.range::<[u8], _>((start, end));
            match order {
                Order::Ascending => Box::new(writes),
                Order::Descending => Box::new(writes.rev()),
            }
        };
        let mut writes = writes.peekable();
        let precedes = |a: &[u8], b: &[u8]| match order {
            Order::Ascending => a < b,
            Order::Descending => a > b,
        };
        let mut visit = |key: Vec<u8>, value: Vec<u8>| {
            // The block's writes that come first, then the committed pair unless written.
            while let Some((k, v)) = writes.next_if(|(k, _)| precedes(k, &key)) {
                if let Some(v) = v {
                    out.push((k.clone(), v.clone()));
                    if out.len() == limit {
                        return false;
                    }
                }
            }
            match writes.next_if(|(k, _)| **k == key) {
                Some((_, Some(v))) => out.push((key, v.clone())),
                Some((_, None)) => {}
                None => out.push((key, value)),
            }
            out.len() < limit
        };
        self.store
            .visit_range(start, end, order, self.read_version, &mut visit)
            .map_err(store_error)?;
        for (k, v) in writes {
            if out.len() == limit {
                break;
            }
            if let Some(v) = v {
                out.push((k.clone(), v.clone()));
            }
        }
        Ok(out)
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
    use crate::store::SledBackend;
    use crate::{BlockInfo, Ctx, ExecMode};
    use proptest::prelude::*;

    type Model = BTreeMap<Vec<u8>, Vec<u8>>;
    type Batch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

    fn arb_batch() -> impl Strategy<Value = Batch> {
        proptest::collection::vec(
            (
                proptest::collection::vec(0u8..4, 1..3),
                proptest::option::weighted(0.7, proptest::collection::vec(1u8..4, 1..3)),
            ),
            0..10,
        )
    }

    fn arb_bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
        let key = || proptest::collection::vec(0u8..5, 0..3);
        prop_oneof![
            Just(Bound::Unbounded),
            key().prop_map(Bound::Included),
            key().prop_map(Bound::Excluded),
        ]
    }

    fn apply(state: &mut State, model: &mut Model, batch: &Batch) {
        for (key, value) in batch {
            match value {
                Some(v) => {
                    state.set(key.clone(), v.clone());
                    model.insert(key.clone(), v.clone());
                }
                None => {
                    state.delete(key.clone());
                    model.remove(key);
                }
            }
        }
    }

    fn model_range(
        model: &Model,
        start: &Bound<Vec<u8>>,
        end: &Bound<Vec<u8>>,
        order: Order,
    ) -> Pairs {
        let bounds = (
            start.as_ref().map(Vec::as_slice),
            end.as_ref().map(Vec::as_slice),
        );
        let mut pairs: Pairs = model
            .iter()
            .filter(|(k, _)| std::ops::RangeBounds::<[u8]>::contains(&bounds, k.as_slice()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if order == Order::Descending {
            pairs.reverse();
        }
        pairs
    }

    /// Pages through `state.range` `limit` pairs at a time, each page after the last key seen.
    fn page_through(
        state: &State,
        start: &Bound<Vec<u8>>,
        end: &Bound<Vec<u8>>,
        order: Order,
        limit: usize,
    ) -> Result<Pairs, StoaError> {
        let (mut start, mut end) = (start.clone(), end.clone());
        let mut out = Pairs::new();
        loop {
            let page = state.range(
                start.as_ref().map(Vec::as_slice),
                end.as_ref().map(Vec::as_slice),
                order,
                limit,
            )?;
            assert!(page.len() <= limit);
            let full = page.len() == limit;
            if let Some((last, _)) = page.last() {
                match order {
                    Order::Ascending => start = Bound::Excluded(last.clone()),
                    Order::Descending => end = Bound::Excluded(last.clone()),
                }
            }
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
        ))]

        /// `range` over committed versions (checkpoints forced every few keys or versions) and
        /// a block's pending writes, some in an open branch, some in a dropped one, equals the
        /// model's range paged to the end, in both orders and with any bounds and page size;
        /// and a view of each retained older version lists that version.
        #[test]
        fn range_matches_model_over_store_and_block_writes(
            blocks in proptest::collection::vec((arb_batch(), arb_batch(), any::<bool>()), 1..7),
            pending in (arb_batch(), arb_batch(), arb_batch()),
            retention in 0u64..4,
            checkpoint_keys in 1usize..10,
            checkpoint_versions in 1u64..4,
            queries in proptest::collection::vec((arb_bound(), arb_bound(), any::<bool>(), 1usize..5), 1..6),
        ) {
            let backend = SledBackend::open_temporary().unwrap();
            let store = Store::with_checkpoints(Box::new(backend), retention, checkpoint_keys, checkpoint_versions).unwrap();
            let mut state = State::new(store.clone());
            let mut model = Model::new();
            let mut history: Vec<Model> = Vec::new();
            for (i, (writes, branched, keep)) in blocks.iter().enumerate() {
                apply(&mut state, &mut model, writes);
                state.branch();
                let mut in_branch = model.clone();
                apply(&mut state, &mut in_branch, branched);
                if *keep {
                    state.commit_branch();
                    model = in_branch;
                } else {
                    state.discard_branch();
                }
                store.prepare_owned(i as u64 + 1, state.take_writes()).unwrap();
                store.commit().unwrap();
                history.push(model.clone());
            }
            // The block in progress: plain writes, a dropped branch, an open one.
            let (plain, dropped, open) = &pending;
            apply(&mut state, &mut model, plain);
            state.branch();
            apply(&mut state, &mut model.clone(), dropped);
            state.discard_branch();
            state.branch();
            apply(&mut state, &mut model, open);

            let latest = history.len() as u64;
            for (start, end, descending, limit) in &queries {
                let order = if *descending { Order::Descending } else { Order::Ascending };
                let got = page_through(&state, start, end, order, *limit).unwrap();
                prop_assert_eq!(got, model_range(&model, start, end, order));
                for (i, snapshot) in history.iter().enumerate() {
                    let version = i as u64 + 1;
                    let old = State::at_version(store.clone(), version);
                    let got = page_through(&old, start, end, order, *limit);
                    if retention != 0 && version + retention <= latest {
                        prop_assert!(got.is_err());
                        continue;
                    }
                    prop_assert_eq!(got.unwrap(), model_range(snapshot, start, end, order), "version {}", version);
                }
            }
            for prefix in [vec![], vec![0u8], vec![1, 3], vec![3]] {
                let end = prefix_end(&prefix);
                let end = end.map_or(Bound::Unbounded, Bound::Excluded);
                let want = model_range(&model, &Bound::Included(prefix.clone()), &end, Order::Ascending);
                prop_assert_eq!(state.iter_prefix(&prefix).unwrap(), want);
                let snapshot = &history[history.len() - 1];
                let want = model_range(snapshot, &Bound::Included(prefix.clone()), &end, Order::Ascending);
                prop_assert_eq!(State::at_version(store.clone(), latest).iter_prefix(&prefix).unwrap(), want);
            }
        }
    }

    #[test]
    fn range_reads_past_pairs_the_block_deleted() {
        let store = Store::open_temporary().unwrap();
        let mut state = State::new(store.clone());
        for i in 0..100u8 {
            state.set(vec![b'k', i], vec![i + 1]);
        }
        store.prepare_owned(1, state.take_writes()).unwrap();
        store.commit().unwrap();
        // The block deletes the first 90 and adds one past the end.
        for i in 0..90u8 {
            state.delete(vec![b'k', i]);
        }
        state.set(vec![b'k', 200], vec![1]);
        let got = state
            .range(
                Bound::Included(b"k"),
                Bound::Excluded(b"l"),
                Order::Ascending,
                5,
            )
            .unwrap();
        let keys: Vec<u8> = got.iter().map(|(k, _)| k[1]).collect();
        assert_eq!(keys, [90, 91, 92, 93, 94]);
        let got = state
            .range(
                Bound::Unbounded,
                Bound::Excluded(&[b'k', 95][..]),
                Order::Descending,
                3,
            )
            .unwrap();
        let keys: Vec<u8> = got.iter().map(|(k, _)| k[1]).collect();
        assert_eq!(keys, [94, 93, 92]);
        assert_eq!(state.iter_prefix(b"k").unwrap().len(), 11);
    }

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
