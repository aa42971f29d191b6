//! The Merklized, versioned state store: a Jellyfish Merkle tree (jmt) persisted in sled.
//!
//! Layout (see `keys.rs`): each version's new tree nodes, with the values of their leaves, as a
//! few chunks; a "latest value" map keyed by raw key as of a checkpoint, plus each later
//! version's writes; key preimages; per-version roots; a stale index; and per checkpoint the
//! keys it changed (what listings at older versions need, see `listing.rs`), all in one backend
//! keyspace. A block's writes are turned into tree nodes by [`Store::prepare`], which also
//! writes the new version's own records (chunks, root, writes record, stale list, a
//! checkpoint's changed keys: nothing reads them yet); [`Store::commit`] then makes the
//! version the committed one in one atomic batch followed by a flush, so a crash at any point
//! leaves the last fully committed version readable (and `open` deletes the records of a
//! version that never was). Pruning rides along in the commit's batch.
//!
//! Why this shape: sled costs several microseconds per operation, so one operation per node and
//! per written key made a 5,000-transfer block cost hundreds of milliseconds to commit. Here a
//! commit is a few dozen operations; the latest-value map is brought up to date from memory
//! (the overlay) only at checkpoints, where a key written by many versions is written once.

mod backend;
mod batch_insert;
mod chunks;
mod jmt_reader;
mod keys;
mod listing;
mod sled_backend;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use jmt::storage::{Node, StaleNodeIndexBatch};
use jmt::{KeyHash, Sha256Jmt};
use rayon::prelude::*;
use sha2::Sha256;

pub use backend::{KvBackend, KvPair, WriteBatch};
pub use listing::{is_empty_range, prefix_end};
pub use sled_backend::SledBackend;

use jmt_reader::{JmtReader, VersionNodes};

/// The root of the empty tree (jmt's placeholder hash, which jmt does not export). A test
/// checks it against what jmt actually produces for a tree whose keys were all deleted.
pub const EMPTY_ROOT: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("state store database (sled) error: {0}")]
    Sled(#[from] sled::Error),
    #[error("state store merkle tree error: {0}")]
    Tree(String),
    #[error("state store is corrupt: {0}")]
    Corrupt(String),
    #[error("version 0 is not a valid version; versions start at 1")]
    ZeroVersion,
    #[error("cannot prepare version {version}: it must be greater than the last committed version {last}")]
    VersionNotIncreasing { version: u64, last: u64 },
    #[error("invalid write: {0}")]
    InvalidWrite(&'static str),
    #[error("commit called with nothing prepared")]
    NothingStaged,
    #[error("version {version} has been pruned (earliest retained version is {earliest})")]
    Pruned { version: u64, earliest: u64 },
    #[error("version {version} was never committed (last committed version: {last:?})")]
    VersionNotFound { version: u64, last: Option<u64> },
    #[error("cannot prove anything against the empty tree of version {0}")]
    EmptyTree(u64),
    #[error("operation not supported by the state store: {0}")]
    Unsupported(&'static str),
    #[error("cannot list keys at version {version}: listings reach back to version {earliest} (the versions before it were written by an older on-disk format)")]
    ListingUnavailable { version: u64, earliest: u64 },
}

impl StoreError {
    /// jmt reports errors as `anyhow::Error`; errors that our own reader raised inside jmt are
    /// unwrapped back to themselves so callers see e.g. `Sled` rather than a string.
    fn from_jmt(err: anyhow::Error) -> Self {
        match err.downcast::<StoreError>() {
            Ok(own) => own,
            Err(other) => StoreError::Tree(format!("{other:#}")),
        }
    }
}

/// A committed version and the root hash (app hash) of its tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    pub version: u64,
    pub root: [u8; 32],
}

/// Writes since the checkpoint fold into `L` once this many distinct keys have piled up...
const CHECKPOINT_KEYS: usize = 50_000;
/// ...or this many versions have been committed since the last checkpoint (bounds the replay
/// of `D` records when the store is reopened).
const CHECKPOINT_VERSIONS: u64 = 200;
/// How many folded versions' writes records each `prepare` deletes (see
/// [`Committed::folded`]): a checkpoint's 200 are gone 25 versions later.
const FOLDED_VERSIONS_PER_PREPARE: usize = 8;

type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A prepared but not yet committed version.
struct Staged {
    version: u64,
    root: [u8; 32],
    /// The effective writes (no-ops dropped), for the overlay.
    writes: Writes,
    /// The version's new tree nodes, kept in memory once committed.
    nodes: VersionNodes,
    /// Whether `batch` folds the overlay into the checkpointed map.
    checkpoint: bool,
    /// How many pieces the version's `D` record has (none if `checkpoint`).
    writes_pieces: u32,
    /// The keys of the version's own records (see [`VERSION_RECORDS`]), which `prepare`
    /// already wrote to the backend: deleted again if this version is abandoned.
    written_ahead: Vec<Vec<u8>>,
    /// Everything else the commit writes, in one atomic backend batch: what makes the version
    /// the committed one (the last-commit record first of all), pruning, preimages, and
    /// checkpoints. Built by `prepare`: the app runs `prepare` alongside the block's signature
    /// verification, while `commit` runs alone.
    batch: WriteBatch,
}

/// Namespaces whose keys start with the version they belong to: a version's tree node chunks
/// and their index, its root, writes record, stale list and (a checkpoint's) changed-key index.
/// `prepare` writes these for the new version to the backend at once, while the block's
/// signatures are still being verified:
/// nothing reads a version's records before the last-commit record names it (and `open`
/// deletes those of any version after it, left by a crash before `commit`), so they need not
/// wait for `commit`, which then only writes the small rest.
const VERSION_RECORDS: [u8; 6] = [
    keys::NODE,
    keys::CHUNK_INDEX,
    keys::ROOT,
    keys::WRITES,
    keys::STALE,
    keys::INDEX,
];

/// The committed state readers see, changed only under the write lock by `commit`.
struct Committed {
    info: Option<CommitInfo>,
    /// The version the backend's `L` map reflects (0 = none yet).
    checkpoint: u64,
    /// The effective writes of the versions after `checkpoint`, merged (newest wins;
    /// `None` = deleted). `L` overlaid with this is the latest state.
    overlay: Writes,
    /// The versions whose `D` records hold those writes, with their number of pieces.
    pending: Vec<(u64, u32)>,
    /// Versions at or before `checkpoint` whose `D` records are still on disk, oldest first:
    /// nothing reads them any more. Deleting them all in the checkpoint's own batch doubled
    /// that commit (sled rewrites the leaves the pieces sit in: 0.2-0.8 s for 200 versions of
    /// 15,000 keys), so each `prepare` deletes a few, on the path that runs alongside the
    /// block's signature verification; `open` finds any left by a restart.
    folded: VecDeque<(u64, u32)>,
    /// The oldest version a listing can be answered at (see [`keys::LIST_FROM`]).
    list_from: u64,
}

impl Committed {
    /// The latest value of `key`: the overlay, else the checkpointed map.
    fn get(&self, backend: &dyn KvBackend, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.overlay.get(key) {
            Some(value) => Ok(value.clone()),
            None => backend.get(&keys::latest(key)),
        }
    }

    /// Whether `key`'s latest value is `value` (`None` = absent), and whether it is present;
    /// without copying a value the overlay holds.
    fn compare(
        &self,
        backend: &dyn KvBackend,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(bool, bool), StoreError> {
        if let Some(current) = self.overlay.get(key) {
            return Ok((current.as_deref() == value, current.is_some()));
        }
        let current = backend.get(&keys::latest(key))?;
        Ok((current.as_deref() == value, current.is_some()))
    }
}

struct Inner {
    backend: Box<dyn KvBackend>,
    /// The tree nodes of the last commit, kept in memory for the next `prepare` (a block mostly
    /// touches the paths recent blocks touched) and for reads. Replaced by `commit` just after
    /// `committed` (never while holding that lock), so it may briefly lag behind; a node key
    /// names one node forever, so a lagging copy is still correct for the keys it has.
    recent: RwLock<Option<Arc<VersionNodes>>>,
    /// The nodes `recent` held before the last commit, freed by the next `prepare`: freeing
    /// tens of thousands of nodes is work `commit` need not wait for, while the app runs
    /// `prepare` alongside other work.
    retired: Mutex<Option<Arc<VersionNodes>>>,
    /// How many recent versions stay readable; 0 = all.
    retention: u64,
    checkpoint_keys: usize,
    checkpoint_versions: u64,
    /// The last commit. Readers hold the read lock while they touch the backend and `commit`
    /// holds the write lock while it applies its batch, so a reader never sees half a commit
    /// and pruning never deletes nodes under a proof being built.
    committed: RwLock<Committed>,
    /// The staged batch. `prepare` and `commit` hold this for their whole run, which also
    /// serialises them against each other; lock order is always `staged` then `committed`.
    staged: Mutex<Option<Staged>>,
}

/// Handle to the store; cheap to clone (Arc inside); Send + Sync. Clones share state: a query
/// thread reads committed data while the block thread prepares the next version.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("last_commit", &self.last_commit())
            .field("retention", &self.inner.retention)
            .finish()
    }
}

impl Store {
    /// Opens (creating if missing) a store on disk in directory `path`; `retention` = how many
    /// recent versions keep their old tree nodes (0 = keep all).
    pub fn open(path: &Path, retention: u64) -> Result<Store, StoreError> {
        Self::with_backend(Box::new(SledBackend::open(path)?), retention)
    }

    /// A throwaway store (sled temporary mode) for tests and simulations. Keeps all versions.
    pub fn open_temporary() -> Result<Store, StoreError> {
        Self::with_backend(Box::new(SledBackend::open_temporary()?), 0)
    }

    /// A store over any backend (how sled could be swapped for something else).
    pub fn with_backend(backend: Box<dyn KvBackend>, retention: u64) -> Result<Store, StoreError> {
        Self::with_checkpoints(backend, retention, CHECKPOINT_KEYS, CHECKPOINT_VERSIONS)
    }

    /// As [`Store::with_backend`], with the checkpoint thresholds given (tests use small ones).
    pub(crate) fn with_checkpoints(
        backend: Box<dyn KvBackend>,
        retention: u64,
        checkpoint_keys: usize,
        checkpoint_versions: u64,
    ) -> Result<Store, StoreError> {
        if let Some(format) = backend.get(keys::FORMAT)? {
            if !keys::READABLE_FORMATS.contains(&format.as_slice()) {
                return Err(StoreError::Corrupt(format!(
                    "unknown on-disk format {format:?}, this build understands {:?}",
                    keys::FORMAT_VERSION
                )));
            }
        }
        let info = match backend.get(keys::LAST_COMMIT)? {
            None => None,
            Some(raw) => {
                let (version, root) = keys::decode_last_commit(&raw)?;
                Some(CommitInfo { version, root })
            }
        };
        Self::delete_uncommitted_records(backend.as_ref(), info.map(|i| i.version))?;
        let checkpoint = match backend.get(keys::CHECKPOINT)? {
            None => 0,
            Some(raw) => keys::decode_version(&raw, "checkpoint record")?,
        };
        let list_from = Self::upgrade_format(backend.as_ref(), info.is_some(), checkpoint)?;
        // The writes after the checkpoint, in version order, back into the overlay; those at
        // or before it are only left to delete.
        let mut overlay = Writes::new();
        let mut pending: Vec<(u64, u32)> = Vec::new();
        let mut folded: Vec<(u64, u32)> = Vec::new();
        for item in backend.scan(&[keys::WRITES], None) {
            let (key, raw) = item?;
            let version = keys::parse_version_key(&key)?;
            let list = if version <= checkpoint {
                &mut folded
            } else {
                overlay.extend(keys::decode_writes(&raw)?);
                &mut pending
            };
            // One entry per version, counting its pieces (the scan is in version order).
            match list.last_mut() {
                Some((last, pieces)) if *last == version => *pieces += 1,
                _ => list.push((version, 1)),
            }
        }
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                recent: RwLock::new(None),
                retired: Mutex::new(None),
                retention,
                checkpoint_keys,
                checkpoint_versions,
                committed: RwLock::new(Committed {
                    info,
                    checkpoint,
                    overlay,
                    pending,
                    folded: folded.into(),
                    list_from,
                }),
                staged: Mutex::new(None),
            }),
        })
    }

    /// Last committed version and its root, None before the first commit.
    pub fn last_commit(&self) -> Option<CommitInfo> {
        self.read_committed().info
    }

    /// Value at the latest committed version.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_committed().get(self.backend(), key)
    }

    /// Value at an older committed version (still retained); error if pruned or in the future.
    pub fn get_at(&self, key: &[u8], version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let guard = self.read_committed();
        self.check_retained(guard.info, version)?;
        let recent = self.recent();
        JmtReader::new(self.backend())
            .with_recent_nodes(recent.as_deref())
            .value_at(version, &KeyHash::with::<Sha256>(key))
    }

    /// As [`Store::prepare_owned`], for a caller that keeps its writes.
    pub fn prepare(&self, version: u64, writes: &Writes) -> Result<[u8; 32], StoreError> {
        self.prepare_owned(version, writes.clone())
    }

    /// Computes the root of `version` = the latest committed state plus `writes` (None = delete)
    /// and stages what [`Store::commit`] writes; the version's own records (tree chunks, root,
    /// writes record, stale list) go to the backend at once, unreachable until the commit.
    /// Calling it again before commit replaces the staged version. `version` must be greater
    /// than the last committed one. Keys and values must be non-empty (ICS23 proofs require it).
    pub fn prepare_owned(&self, version: u64, writes: Writes) -> Result<[u8; 32], StoreError> {
        drop(
            self.inner
                .retired
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        let mut staged = self.lock_staged();
        // Drop any earlier staged version first, so a failed re-prepare cannot leave a stale
        // one that a later commit would persist, and delete what it wrote ahead before pruning
        // below reads the backend.
        if let Some(abandoned) = staged.take() {
            let mut undo = WriteBatch::new();
            for key in abandoned.written_ahead {
                undo.delete(key);
            }
            self.backend().apply_batch(&undo)?;
        }
        if version == 0 {
            return Err(StoreError::ZeroVersion);
        }
        let last = self.last_commit();
        if let Some(last) = last {
            if version <= last.version {
                return Err(StoreError::VersionNotIncreasing {
                    version,
                    last: last.version,
                });
            }
        }
        // ICS23 cannot prove an entry with an empty key or value, and an empty-valued leaf
        // would also break the absence proofs of its neighbours, so refuse both up front
        // (Cosmos SDK stores likewise reject empty keys). Stored values are never empty, which
        // the chunk encoding relies on.
        for (key, value) in &writes {
            if key.is_empty() {
                return Err(StoreError::InvalidWrite("empty key"));
            }
            if value.as_ref().is_some_and(|v| v.is_empty()) {
                return Err(StoreError::InvalidWrite(
                    "empty value (ICS23 cannot prove it); delete the key instead",
                ));
            }
        }
        let backend = self.backend();
        self.delete_folded_records()?;

        // Drop writes that change nothing (deleting an absent key, rewriting the same value):
        // the root is a function of the contents alone so it is unaffected, and skipping them
        // saves tree nodes for keys that never existed.
        let mut effective = Writes::new();
        let mut new_keys = BTreeSet::new();
        {
            // `prepare` holds `staged`, so no commit can move the committed state meanwhile.
            let committed = self.read_committed();
            for (key, value) in writes {
                let (unchanged, present) = committed.compare(backend, &key, value.as_deref())?;
                if !unchanged {
                    if !present {
                        new_keys.insert(key.clone());
                    }
                    effective.insert(key, value);
                }
            }
        }

        // Only the nodes of the last committed version are the ones its tree reads.
        let recent = self
            .recent()
            .filter(|r| last.map(|l| l.version) == Some(r.version));
        let reader = JmtReader::for_next_version(backend, last.map(|l| l.version), version)
            .with_recent_nodes(recent.as_deref());
        let tree = Sha256Jmt::new(&reader);
        let has_deletes = effective.values().any(Option::is_none);
        let (root, update) = if effective.is_empty() || has_deletes || last.is_none() {
            // jmt's batched insert handles neither deletions, nor an empty set, nor a missing
            // base tree; the per-key path does (it rehashes each key's path, so it is several
            // times slower).
            let value_set = effective
                .iter()
                .map(|(k, v)| (KeyHash::with::<Sha256>(k), v.clone()));
            tree.put_value_set(value_set, version)
                .map_err(StoreError::from_jmt)?
        } else {
            // Hashes each changed node once, the root's subtrees in parallel; the same tree,
            // nodes and stale nodes as jmt's batched insert (the tests compare them with jmt's
            // per-key path).
            let mut value_set: Vec<(KeyHash, Vec<u8>)> = effective
                .iter()
                .filter_map(|(k, v)| Some((KeyHash::with::<Sha256>(k), v.clone()?)))
                .collect();
            value_set.sort_unstable_by_key(|(key_hash, _)| *key_hash);
            let base = keys::root_node_key(last.map_or(0, |l| l.version));
            let inserted = batch_insert::insert(&reader, &base, version, value_set)?;
            (
                jmt::RootHash(inserted.root),
                jmt::storage::TreeUpdateBatch {
                    node_batch: inserted.nodes,
                    stale_node_index_batch: inserted.stale,
                    node_stats: Vec::new(),
                },
            )
        };

        // Leaves jmt re-created at a new path without their key being written carry their
        // unchanged value, read from the base tree.
        let mut moved = BTreeMap::new();
        for node in update.node_batch.nodes().values() {
            if let Node::Leaf(leaf) = node {
                let key_hash = leaf.key_hash();
                if !update
                    .node_batch
                    .values()
                    .contains_key(&(version, key_hash))
                {
                    let value = reader
                        .value_at(version - 1, &key_hash)?
                        .ok_or_else(|| StoreError::Corrupt("moved leaf has no value".into()))?;
                    moved.insert(key_hash, value);
                }
            }
        }

        let nodes = VersionNodes {
            version,
            nodes: update.node_batch,
            moved,
        };
        let entries = encode_entries(&nodes)?;
        let mut batch = WriteBatch::new();
        let mut ahead = WriteBatch::new();
        // Pruning first: the new version's writes are added afterwards and replace any
        // deletion of the same key (e.g. the preimage of a key deleted long ago and now
        // rewritten). Pruning reads only versions before this one, whose records only
        // `commit` changes, so what it reads now is what the commit applies to.
        if let Some(cutoff) = self.cutoff(version) {
            self.prune(cutoff, &mut batch)?;
        }
        chunks::write_version(version, &entries, &mut ahead);
        Self::write_version(
            version,
            &root.0,
            &effective,
            &new_keys,
            &update.stale_node_index_batch,
            &mut ahead,
            &mut batch,
        );
        let (checkpoint, writes_pieces) = {
            let committed = self.read_committed();
            let due = committed.overlay.len() + effective.len() >= self.inner.checkpoint_keys
                || committed.pending.len() as u64 + 1 >= self.inner.checkpoint_versions;
            if due {
                Self::write_checkpoint(&committed, version, &effective, &mut batch);
                // With a retention of 1 no older version outlives this commit, so nothing
                // would ever read the index.
                if self.inner.retention != 1 {
                    let changed = merge_sorted(
                        committed.overlay.keys().map(Vec::as_slice),
                        effective.keys().map(Vec::as_slice),
                    );
                    for (first, piece) in keys::encode_index(changed) {
                        ahead.put(keys::index_piece(version, &first), piece);
                    }
                }
                (true, 0)
            } else {
                let pieces = keys::encode_writes(effective.iter());
                let count = pieces.len() as u32;
                for (number, piece) in (0..).zip(pieces) {
                    ahead.put(keys::writes_piece(version, number), piece);
                }
                (false, count)
            }
        };
        debug_assert!(ahead
            .ops()
            .keys()
            .all(|k| VERSION_RECORDS.contains(&k[0])
                && keys::parse_version_key(k).ok() == Some(version)));
        backend.apply_batch(&ahead)?;
        *staged = Some(Staged {
            version,
            root: root.0,
            writes: effective,
            nodes,
            checkpoint,
            writes_pieces,
            written_ahead: ahead.ops().keys().cloned().collect(),
            batch,
        });
        Ok(root.0)
    }

    /// Makes the staged version the committed one: applies its batch atomically (the
    /// last-commit record, key preimages, pruning, a checkpoint; the version's own records
    /// were written by `prepare`, unreachable until this batch lands) and flushes everything
    /// to disk. Error if nothing is staged. If writing the batch fails, the batch stays
    /// staged.
    pub fn commit(&self) -> Result<CommitInfo, StoreError> {
        let mut staged_guard = self.lock_staged();
        let staged = staged_guard.as_ref().ok_or(StoreError::NothingStaged)?;
        let info = CommitInfo {
            version: staged.version,
            root: staged.root,
        };
        let (checkpoint, ops) = (staged.checkpoint, staged.batch.len());

        let done = {
            let mut committed = self.write_committed();
            // On failure nothing was applied (the batch is atomic) and the batch stays staged,
            // so the caller may retry the commit.
            self.backend().apply_batch(&staged.batch)?;
            let done = staged_guard.take().ok_or(StoreError::NothingStaged)?;
            committed.info = Some(info);
            if checkpoint {
                committed.overlay.clear();
                let folded = std::mem::take(&mut committed.pending);
                committed.folded.extend(folded);
                committed.checkpoint = info.version;
            } else {
                committed.overlay.extend(done.writes);
                committed.pending.push((info.version, done.writes_pieces));
            }
            done.nodes
        };
        // The applied version's nodes stay in memory for the next prepare (and for reads). Set
        // after `committed`, outside its lock: see `Inner::recent`.
        let superseded = self
            .inner
            .recent
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .replace(Arc::new(done));
        drop(staged_guard);
        *self
            .inner
            .retired
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = superseded;
        // Durability outside the locks: the batch is already crash-atomic, readers need not
        // wait for the fsync, and commit only returns once it is done. If the flush fails the
        // version is applied but maybe not durable; the error tells the caller to stop.
        self.backend().flush()?;
        tracing::debug!(
            version = info.version,
            ops,
            checkpoint,
            "state store committed version"
        );
        Ok(info)
    }

    /// Whether the staged version, once committed, is a checkpoint (the overlay folds into the
    /// checkpointed map: the slow commits); `None` if nothing is staged. For metrics.
    pub fn staged_checkpoint(&self) -> Option<bool> {
        self.lock_staged().as_ref().map(|s| s.checkpoint)
    }

    /// Root at a retained version; `None` for a version that was never committed or lies in
    /// the future; an error for a pruned one.
    pub fn root_at(&self, version: u64) -> Result<Option<[u8; 32]>, StoreError> {
        let guard = self.read_committed();
        match self.check_retained(guard.info, version) {
            Ok(root) => Ok(Some(root)),
            Err(StoreError::VersionNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The value (or its absence) at `version` with an ICS23 existence/non-existence proof
    /// against that version's root.
    pub fn get_with_proof(
        &self,
        key: &[u8],
        version: u64,
    ) -> Result<(Option<Vec<u8>>, ics23::CommitmentProof), StoreError> {
        let guard = self.read_committed();
        let root = self.check_retained(guard.info, version)?;
        // An empty tree has no neighbours to build a non-existence proof from.
        if root == EMPTY_ROOT {
            return Err(StoreError::EmptyTree(version));
        }
        let recent = self.recent();
        let reader = JmtReader::new(self.backend()).with_recent_nodes(recent.as_deref());
        // Read the root ourselves first: jmt turns any failure to load it into "missing root,
        // probably pruned", which would hide corruption of a version we know is retained.
        if reader.node(&keys::root_node_key(version))?.is_none() {
            return Err(StoreError::Corrupt(format!(
                "root node of retained version {version} is missing"
            )));
        }
        Sha256Jmt::new(&reader)
            .get_with_ics23_proof(key.to_vec(), version)
            .map_err(StoreError::from_jmt)
    }

    /// The ICS23 proof spec for verifying those proofs (jmt::ics23_spec()).
    pub fn proof_spec() -> ics23::ProofSpec {
        jmt::ics23_spec()
    }

    fn backend(&self) -> &dyn KvBackend {
        self.inner.backend.as_ref()
    }

    // Lock poisoning only means another thread panicked while holding the lock; the data is
    // always left consistent (it changes only after the backend batch is applied), so recover
    // it rather than propagate a panic.
    fn read_committed(&self) -> RwLockReadGuard<'_, Committed> {
        self.inner
            .committed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_committed(&self) -> std::sync::RwLockWriteGuard<'_, Committed> {
        self.inner
            .committed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The last commit's nodes in memory, if any.
    fn recent(&self) -> Option<Arc<VersionNodes>> {
        self.inner
            .recent
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn lock_staged(&self) -> MutexGuard<'_, Option<Staged>> {
        self.inner
            .staged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The oldest version still retained when `latest` is the newest, if pruning is on.
    fn cutoff(&self, latest: u64) -> Option<u64> {
        let retention = self.inner.retention;
        if retention == 0 {
            return None;
        }
        Some(latest.saturating_add(1).saturating_sub(retention).max(1))
    }

    /// The oldest version listings reach, moving a store of format 2 or 3 to format 4 first:
    /// those kept no changed-key index, so the versions folded by their last checkpoint cannot
    /// be listed (the versions after it can: their `D` records are replayed into the overlay,
    /// and the next checkpoint indexes them). Written with the format in one batch, so a build
    /// that knows only format 3, which would checkpoint without an index, refuses the store.
    fn upgrade_format(
        backend: &dyn KvBackend,
        committed: bool,
        checkpoint: u64,
    ) -> Result<u64, StoreError> {
        if let Some(raw) = backend.get(keys::LIST_FROM)? {
            return keys::decode_version(&raw, "list-from record");
        }
        let format = backend.get(keys::FORMAT)?;
        if !committed || format.as_deref() == Some(keys::FORMAT_VERSION) {
            return Ok(0);
        }
        let mut batch = WriteBatch::new();
        batch.put(keys::LIST_FROM.to_vec(), keys::encode_version(checkpoint));
        batch.put(keys::FORMAT.to_vec(), keys::FORMAT_VERSION.to_vec());
        backend.apply_batch(&batch)?;
        backend.flush()?;
        tracing::info!(
            from = ?format,
            list_from = checkpoint,
            "state store: on-disk format moved to 4; listings at older versions reach back to the last checkpoint"
        );
        Ok(checkpoint)
    }

    /// Deletes the version records (see [`VERSION_RECORDS`]) of every version after `last`
    /// (all of them when nothing was committed): what `prepare` wrote ahead for a version that
    /// was never committed.
    fn delete_uncommitted_records(
        backend: &dyn KvBackend,
        last: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut batch = WriteBatch::new();
        for ns in VERSION_RECORDS {
            // The first key after every key of version `last` (a `K` key ends in a raw key of
            // any length, so no fixed suffix bounds them).
            let from = match last {
                Some(v) => keys::version_end(ns, v),
                None => vec![ns],
            };
            let end = [ns + 1];
            for item in backend.range(Bound::Included(&from), Bound::Excluded(&end), false) {
                batch.delete(item?.0);
            }
        }
        if !batch.is_empty() {
            tracing::info!(
                keys = batch.len(),
                "state store: deleting the records of a version prepared but never committed"
            );
            backend.apply_batch(&batch)?;
        }
        Ok(())
    }

    /// Checks that `version` is committed and retained, returning its root.
    fn check_retained(
        &self,
        committed: Option<CommitInfo>,
        version: u64,
    ) -> Result<[u8; 32], StoreError> {
        let not_found = StoreError::VersionNotFound {
            version,
            last: committed.map(|c| c.version),
        };
        let Some(last) = committed else {
            return Err(not_found);
        };
        if version > last.version {
            return Err(not_found);
        }
        if let Some(earliest) = self.cutoff(last.version) {
            if version < earliest {
                return Err(StoreError::Pruned { version, earliest });
            }
        }
        match self.backend().get(&keys::root(version))? {
            Some(raw) => keys::root_value(&raw),
            // Skipped heights (before initial_height, or gaps) have no tree of their own.
            None => Err(not_found),
        }
    }

    /// Adds the new version's tree nodes, stale index, preimages and metadata to `batch`.
    fn write_version(
        version: u64,
        root: &[u8; 32],
        writes: &Writes,
        new_keys: &BTreeSet<Vec<u8>>,
        stale: &StaleNodeIndexBatch,
        ahead: &mut WriteBatch,
        batch: &mut WriteBatch,
    ) {
        let stale_nodes: Vec<(u64, Vec<u8>)> = stale
            .iter()
            .map(|index| {
                (
                    index.node_key.version(),
                    keys::path_key(index.node_key.nibble_path()),
                )
            })
            .collect();
        let mut deleted = Vec::new();
        for (key, value) in writes {
            match value {
                // Most writes change a present key, which needs nothing here.
                Some(_) if !new_keys.contains(key) => {}
                Some(_) => {
                    let key_hash = KeyHash::with::<Sha256>(key);
                    batch.put(keys::preimage(&key_hash), key.clone());
                    batch.delete(keys::deleted(&key_hash));
                }
                // The preimage stays while older retained versions still prove against this
                // key; pruning removes it once the deletion is older than every of them.
                None => {
                    let key_hash = KeyHash::with::<Sha256>(key);
                    batch.put(keys::deleted(&key_hash), keys::encode_version(version));
                    deleted.push(key_hash);
                }
            }
        }
        // jmt marks stale only at the version that replaces a node, which is this one.
        for (number, piece) in (0..).zip(keys::encode_stale_pieces(&stale_nodes, &deleted)) {
            ahead.put(keys::stale_piece(version, number), piece);
        }
        ahead.put(keys::root(version), root.to_vec());
        batch.put(
            keys::LAST_COMMIT.to_vec(),
            keys::encode_last_commit(version, root),
        );
        batch.put(keys::FORMAT.to_vec(), keys::FORMAT_VERSION.to_vec());
    }

    /// Adds a checkpoint to `batch`: the overlay and `version`'s writes into `L`, the folded
    /// `D` records deleted, the checkpoint moved to `version`.
    fn write_checkpoint(
        committed: &Committed,
        version: u64,
        writes: &Writes,
        batch: &mut WriteBatch,
    ) {
        let older = committed
            .overlay
            .iter()
            .filter(|(k, _)| !writes.contains_key(*k));
        for (key, value) in older.chain(writes.iter()) {
            match value {
                Some(value) => batch.put(keys::latest(key), value.clone()),
                None => batch.delete(keys::latest(key)),
            }
        }
        batch.put(keys::CHECKPOINT.to_vec(), keys::encode_version(version));
    }

    /// Deletes the `D` records of up to [`FOLDED_VERSIONS_PER_PREPARE`] folded versions. They
    /// are garbage once their checkpoint is committed, so this needs no atomicity with any
    /// commit: a crash part way leaves records that `open` lists as folded again.
    fn delete_folded_records(&self) -> Result<(), StoreError> {
        let take: Vec<(u64, u32)> = {
            let committed = self.read_committed();
            let n = committed.folded.len().min(FOLDED_VERSIONS_PER_PREPARE);
            committed.folded.iter().take(n).copied().collect()
        };
        if take.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::new();
        for &(version, pieces) in &take {
            // A format-2 record is one value under the version's key.
            batch.delete(keys::writes(version));
            for number in 0..pieces {
                batch.delete(keys::writes_piece(version, number));
            }
        }
        self.backend().apply_batch(&batch)?;
        // `prepare` holds `staged`, so no commit changed `folded` meanwhile.
        self.write_committed().folded.drain(..take.len());
        Ok(())
    }

    /// Queues deletion of everything only versions older than `cutoff` need. Works from what is
    /// already on disk; the batch being committed is indexed and pruned by a later commit.
    fn prune(&self, cutoff: u64, batch: &mut WriteBatch) -> Result<(), StoreError> {
        let backend = self.backend();
        let mut removals: BTreeMap<u64, BTreeSet<Vec<u8>>> = BTreeMap::new();
        let root_path = keys::path_key(keys::root_node_key(0).nibble_path());

        // Roots (and the version records) of pruned versions. The stale index covers roots
        // that were replaced, but not the root copied forward by a version with no changes,
        // nor the root a skipped-height alias built on.
        for item in backend.scan(&[keys::ROOT], None) {
            let (key, _) = item?;
            let version = keys::parse_version_key(&key)?;
            if version >= cutoff {
                break;
            }
            removals
                .entry(version)
                .or_default()
                .insert(root_path.clone());
            batch.delete(key);
        }

        // Tree nodes that went stale at or before the cutoff: no retained version uses them
        // (a node stale since `s` is only part of trees of versions < s). Keys deleted then
        // and not written since are absent from every retained version: their preimages go.
        for item in backend.scan(&[keys::STALE], None) {
            let (key, list) = item?;
            let since = keys::parse_version_key(&key)?;
            if since > cutoff {
                break;
            }
            let (nodes, deleted) = keys::decode_stale(&list)?;
            for (version, path) in nodes {
                removals.entry(version).or_default().insert(path);
            }
            for key_hash in deleted {
                let mark = keys::deleted(&key_hash);
                if let Some(raw) = backend.get(&mark)? {
                    if keys::decode_version(&raw, "deletion mark")? == since {
                        batch.delete(mark);
                        batch.delete(keys::preimage(&key_hash));
                    }
                }
            }
            batch.delete(key);
        }

        for (version, paths) in removals {
            chunks::remove(backend, version, &paths, batch)?;
        }

        // Changed-key indexes of checkpoints at or before the cutoff: a listing at version `v`
        // reads those of checkpoints after `v`, and every retained `v` is >= the cutoff. In
        // the commit's batch, not earlier: until it lands, `cutoff - 1` is still readable.
        let end = keys::version_end(keys::INDEX, cutoff);
        for item in backend.range(
            Bound::Included(&[keys::INDEX]),
            Bound::Excluded(&end),
            false,
        ) {
            batch.delete(item?.0);
        }
        Ok(())
    }
}

/// The union of two ascending key sequences, ascending, each key once.
fn merge_sorted<'a>(
    a: impl Iterator<Item = &'a [u8]>,
    b: impl Iterator<Item = &'a [u8]>,
) -> impl Iterator<Item = &'a [u8]> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) => match x.cmp(y) {
            std::cmp::Ordering::Less => a.next(),
            std::cmp::Ordering::Greater => b.next(),
            std::cmp::Ordering::Equal => {
                b.next();
                a.next()
            }
        },
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}

/// The new nodes of a version as chunk entries, sorted by path. Encoding tens of thousands of
/// nodes is spread over the thread pool (the sort fixes the order).
fn encode_entries(nodes: &VersionNodes) -> Result<Vec<chunks::Entry>, StoreError> {
    let mut entries = nodes
        .nodes
        .nodes()
        .par_iter()
        .map(|(node_key, node)| {
            let value = match node {
                Node::Leaf(leaf) => Some(nodes.leaf_value(leaf).ok_or_else(|| {
                    StoreError::Corrupt("new leaf without a value in its batch".into())
                })?),
                _ => None,
            };
            Ok(chunks::Entry {
                path: keys::path_key(node_key.nibble_path()),
                node: borsh::to_vec(node)
                    .map_err(|e| StoreError::Corrupt(format!("encoding tree node: {e}")))?,
                value,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    entries.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// Verifies a proof from get_with_proof against a root: existence when value is Some,
/// non-existence otherwise.
pub fn verify_proof(
    root: &[u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &ics23::CommitmentProof,
) -> bool {
    let spec = jmt::ics23_spec();
    let root = root.to_vec();
    match value {
        Some(value) => {
            ics23::verify_membership::<ics23::HostFunctionsManager>(proof, &spec, &root, key, value)
        }
        None => {
            ics23::verify_non_membership::<ics23::HostFunctionsManager>(proof, &spec, &root, key)
        }
    }
}
