//! The Merklized, versioned state store: a Jellyfish Merkle tree (jmt) persisted in sled.
//!
//! Layout (see `keys.rs`): tree nodes, a per-key value history, a "latest value" map keyed by raw
//! key, key preimages, per-version roots, and jmt's stale node index all live in one backend
//! keyspace. A block's writes are turned into tree nodes in memory by [`Store::prepare`] and
//! written by [`Store::commit`] as one atomic batch followed by a flush, so a crash at any point
//! leaves the last fully committed version readable. Pruning rides along in that same batch.

mod backend;
mod jmt_reader;
mod keys;
mod sled_backend;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use jmt::storage::{NodeBatch, TreeUpdateBatch};
use jmt::{KeyHash, Sha256Jmt};
use sha2::Sha256;

pub use backend::{KvBackend, KvPair, WriteBatch};
pub use sled_backend::SledBackend;

use jmt_reader::JmtReader;

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

/// A prepared but not yet committed version.
struct Staged {
    version: u64,
    root: [u8; 32],
    /// The effective writes (no-ops dropped), for the latest-value map and preimages.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Keys of `writes` absent from the latest committed state: only these need a preimage
    /// written (a present key's preimage is already stored).
    new_keys: std::collections::BTreeSet<Vec<u8>>,
    update: TreeUpdateBatch,
}

/// What the last commit wrote, kept in memory for the next `prepare`: a block mostly touches
/// keys (and so tree paths) that recent blocks touched too. Never persisted; a reopened store
/// starts without it and reads everything from the backend.
struct Recent {
    /// The version these came from; used only while it is still the last committed one.
    version: u64,
    /// Its new tree nodes: exactly the nodes of that version's tree on the paths it changed,
    /// which the next version's changes to the same keys read back.
    nodes: NodeBatch,
    /// Its effective writes, i.e. the latest values of those keys (`None` = absent).
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

struct Inner {
    backend: Box<dyn KvBackend>,
    /// See [`Recent`]. Replaced by `commit` just after `committed` (never while holding that
    /// lock), so it may briefly lag behind: users check that its version is the committed one.
    recent: RwLock<Option<Arc<Recent>>>,
    /// How many recent versions stay readable; 0 = all.
    retention: u64,
    /// The last commit. Readers hold the read lock while they touch the backend and `commit`
    /// holds the write lock while it applies its batch, so a reader never sees half a commit
    /// (sled batches are crash-atomic, but a concurrent range scan could straddle one) and
    /// pruning never deletes nodes under a proof being built.
    committed: RwLock<Option<CommitInfo>>,
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
        if let Some(format) = backend.get(keys::FORMAT)? {
            if format != keys::FORMAT_VERSION {
                return Err(StoreError::Corrupt(format!(
                    "unknown on-disk format {format:?}, this build understands {:?}",
                    keys::FORMAT_VERSION
                )));
            }
        }
        let committed = match backend.get(keys::LAST_COMMIT)? {
            None => None,
            Some(raw) => {
                let (version, root) = keys::decode_last_commit(&raw)?;
                Some(CommitInfo { version, root })
            }
        };
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                recent: RwLock::new(None),
                retention,
                committed: RwLock::new(committed),
                staged: Mutex::new(None),
            }),
        })
    }

    /// Last committed version and its root, None before the first commit.
    pub fn last_commit(&self) -> Option<CommitInfo> {
        *self.read_committed()
    }

    /// Value at the latest committed version.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let guard = self.read_committed();
        // The read lock keeps the committed version fixed, so the last commit's writes, if
        // they are of that version, are its latest values.
        if let Some(recent) = self.recent_of(guard.map(|c| c.version)) {
            if let Some(value) = recent.writes.get(key) {
                return Ok(value.clone());
            }
        }
        self.inner.backend.get(&keys::latest(key))
    }

    /// Value at an older committed version (still retained); error if pruned or in the future.
    pub fn get_at(&self, key: &[u8], version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let guard = self.read_committed();
        self.check_retained(*guard, version)?;
        // The value history answers directly; no need to walk the tree.
        JmtReader::new(self.backend()).value_at(version, &KeyHash::with::<Sha256>(key))
    }

    /// All (key, value) pairs whose raw key starts with `prefix`, at the latest committed version,
    /// ascending by raw key bytes; `start_after` skips keys <= it (pagination); `limit` caps count.
    pub fn iter_prefix(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<Vec<KvPair>, StoreError> {
        let _guard = self.read_committed();
        let full_prefix = keys::latest(prefix);
        let after = start_after.map(keys::latest);
        let mut out = Vec::new();
        for item in self.backend().scan(&full_prefix, after.as_deref()) {
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            let (k, v) = item?;
            // Strip the namespace byte; every key from this scan carries it.
            let raw = k.get(1..).unwrap_or_default().to_vec();
            out.push((raw, v));
        }
        Ok(out)
    }

    /// Computes the root of `version` = the latest committed state plus `writes` (None = delete),
    /// staging the resulting tree nodes in memory; nothing reaches disk. Calling it again before
    /// commit replaces the staged batch. `version` must be greater than the last committed one.
    /// Keys and values must be non-empty (ICS23 proofs require it).
    pub fn prepare(
        &self,
        version: u64,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ) -> Result<[u8; 32], StoreError> {
        let mut staged = self.lock_staged();
        // Drop any earlier staged batch first, so a failed re-prepare cannot leave a stale one
        // that a later commit would persist.
        *staged = None;
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
        // (Cosmos SDK stores likewise reject empty keys).
        for (key, value) in writes {
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
        // Only what the last committed version wrote is still current.
        let recent = self.recent_of(last.map(|l| l.version));
        let recent = recent.as_deref();

        // Drop writes that change nothing (deleting an absent key, rewriting the same value):
        // the root is a function of the contents alone so it is unaffected, and skipping them
        // saves tree nodes and history tombstones for keys that never existed.
        let mut effective = BTreeMap::new();
        let mut new_keys = std::collections::BTreeSet::new();
        for (key, value) in writes {
            let current = match recent.and_then(|r| r.writes.get(key)) {
                Some(current) => current.clone(),
                None => backend.get(&keys::latest(key))?,
            };
            if current.as_deref() != value.as_deref() {
                if current.is_none() {
                    new_keys.insert(key.clone());
                }
                effective.insert(key.clone(), value.clone());
            }
        }

        let reader = JmtReader::for_next_version(backend, last.map(|l| l.version), version)
            .with_recent_nodes(recent.map(|r| &r.nodes));
        let tree = Sha256Jmt::new(&reader);
        let value_set = effective
            .iter()
            .map(|(k, v)| (KeyHash::with::<Sha256>(k), v.clone()));
        let (root, update) = tree
            .put_value_set(value_set, version)
            .map_err(StoreError::from_jmt)?;

        *staged = Some(Staged {
            version,
            root: root.0,
            writes: effective,
            new_keys,
            update,
        });
        Ok(root.0)
    }

    /// Persists the staged batch atomically (tree nodes, value history, latest values, key
    /// preimages, version metadata and pruning in one backend batch) and flushes it to disk.
    /// Error if nothing is staged. If writing the batch fails, the batch stays staged.
    pub fn commit(&self) -> Result<CommitInfo, StoreError> {
        let mut staged_guard = self.lock_staged();
        let staged = staged_guard.as_ref().ok_or(StoreError::NothingStaged)?;
        let info = CommitInfo {
            version: staged.version,
            root: staged.root,
        };
        let mut batch = WriteBatch::new();
        // Pruning first: the new version's writes are added afterwards and replace any
        // deletion of the same key (e.g. the preimage of a key deleted long ago and now
        // rewritten).
        if let Some(cutoff) = self.cutoff(info.version) {
            self.prune(cutoff, &mut batch)?;
        }
        self.write_version(staged, &mut batch)?;
        let ops = batch.len();

        {
            let mut committed = self.write_committed();
            // On failure nothing was applied (the batch is atomic) and the batch stays staged,
            // so the caller may retry the commit.
            self.backend().apply_batch(batch)?;
            *committed = Some(info);
        }
        // The applied version's nodes and values stay in memory for the next prepare (and
        // for `get`). Set after `committed`, outside its lock: see `Inner::recent`.
        let done = staged_guard.take().map(|done| {
            Arc::new(Recent {
                version: done.version,
                nodes: done.update.node_batch,
                writes: done.writes,
            })
        });
        let superseded = std::mem::replace(
            &mut *self
                .inner
                .recent
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            done,
        );
        drop(staged_guard);
        // Freed outside the locks (tens of thousands of nodes for a big block).
        drop(superseded);
        // Durability outside the locks: the batch is already crash-atomic, readers need not
        // wait for the fsync, and commit only returns once it is done. If the flush fails the
        // version is applied but maybe not durable; the error tells the caller to stop.
        self.backend().flush()?;
        tracing::debug!(version = info.version, ops, "state store committed version");
        Ok(info)
    }

    /// Root at a retained version; `None` for a version that was never committed or lies in
    /// the future; an error for a pruned one.
    pub fn root_at(&self, version: u64) -> Result<Option<[u8; 32]>, StoreError> {
        let guard = self.read_committed();
        match self.check_retained(*guard, version) {
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
        let root = self.check_retained(*guard, version)?;
        // An empty tree has no neighbours to build a non-existence proof from.
        if root == EMPTY_ROOT {
            return Err(StoreError::EmptyTree(version));
        }
        let reader = JmtReader::new(self.backend());
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

    // Lock poisoning only means another thread panicked while holding the lock; the data is a
    // plain value that is always consistent, so recover it rather than propagate a panic.
    fn read_committed(&self) -> RwLockReadGuard<'_, Option<CommitInfo>> {
        self.inner
            .committed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_committed(&self) -> std::sync::RwLockWriteGuard<'_, Option<CommitInfo>> {
        self.inner
            .committed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The last commit's in-memory data if it is of `version` (the committed version the
    /// caller sees), else None.
    fn recent_of(&self, version: Option<u64>) -> Option<Arc<Recent>> {
        let recent = self
            .inner
            .recent
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        recent
            .as_ref()
            .filter(|r| version == Some(r.version))
            .cloned()
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

    /// Adds the new version's data to `batch`.
    fn write_version(&self, staged: &Staged, batch: &mut WriteBatch) -> Result<(), StoreError> {
        let version = staged.version;
        let node_batch = &staged.update.node_batch;
        for (node_key, node) in node_batch.nodes() {
            let raw = borsh::to_vec(node)
                .map_err(|e| StoreError::Corrupt(format!("encoding tree node: {e}")))?;
            batch.put(keys::node(node_key)?, raw);
        }
        // Grouped by version (always just `version` here, as jmt gets one value set).
        let mut stale_values: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for ((value_version, key_hash), value) in node_batch.values() {
            batch.put(
                keys::value(key_hash, *value_version),
                keys::encode_value(value.as_deref()),
            );
            // Every write supersedes the key's older history entries from this version on.
            stale_values
                .entry(*value_version)
                .or_default()
                .extend_from_slice(&key_hash.0);
        }
        for (since, list) in stale_values {
            batch.put(keys::stale_values(since), list);
        }
        let mut stale_nodes: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for index in &staged.update.stale_node_index_batch {
            keys::push_stale_node(
                stale_nodes.entry(index.stale_since_version).or_default(),
                &index.node_key,
            )?;
        }
        for (since, list) in stale_nodes {
            batch.put(keys::stale_nodes(since), list);
        }
        for (key, value) in &staged.writes {
            match value {
                Some(value) => {
                    batch.put(keys::latest(key), value.clone());
                    if staged.new_keys.contains(key) {
                        batch.put(keys::preimage(&KeyHash::with::<Sha256>(key)), key.clone());
                    }
                }
                // The preimage stays: older retained versions still prove against this key.
                None => batch.delete(keys::latest(key)),
            }
        }
        batch.put(keys::root(version), staged.root.to_vec());
        batch.put(
            keys::LAST_COMMIT.to_vec(),
            keys::encode_last_commit(version, &staged.root),
        );
        batch.put(keys::FORMAT.to_vec(), keys::FORMAT_VERSION.to_vec());
        Ok(())
    }

    /// Queues deletion of everything only versions older than `cutoff` need. Works from what is
    /// already on disk; the batch being committed is indexed and pruned by a later commit.
    fn prune(&self, cutoff: u64, batch: &mut WriteBatch) -> Result<(), StoreError> {
        let backend = self.backend();

        // Roots (and the version records) of pruned versions. jmt's stale index covers roots
        // that were replaced, but not the root copied forward by a version with no changes,
        // nor the root a skipped-height alias built on.
        for item in backend.scan(&[keys::ROOT], None) {
            let (key, _) = item?;
            let version = keys::parse_root_key(&key)?;
            if version >= cutoff {
                break;
            }
            batch.delete(keys::node(&keys::root_node_key(version))?);
            batch.delete(key);
        }

        // Tree nodes that went stale at or before the cutoff: no retained version uses them
        // (a node stale since `s` is only part of trees of versions < s).
        for item in backend.scan(&[keys::STALE_NODE], None) {
            let (key, list) = item?;
            if keys::parse_stale_key(&key)? > cutoff {
                break;
            }
            for node_key in keys::parse_stale_nodes(&list)? {
                batch.delete(node_key);
            }
            batch.delete(key);
        }

        // Value history: a write at `since <= cutoff` makes the key's older entries useless.
        for item in backend.scan(&[keys::STALE_VALUE], None) {
            let (key, list) = item?;
            let since = keys::parse_stale_key(&key)?;
            if since > cutoff {
                break;
            }
            for key_hash in keys::parse_stale_values(&list)? {
                self.prune_value_history(&key_hash, since, batch)?;
            }
            batch.delete(key);
        }
        Ok(())
    }

    fn prune_value_history(
        &self,
        key_hash: &KeyHash,
        since: u64,
        batch: &mut WriteBatch,
    ) -> Result<(), StoreError> {
        let backend = self.backend();
        let prefix = keys::value_prefix(key_hash);
        for item in backend.scan(&prefix, None) {
            let (key, _) = item?;
            if keys::value_version(&key)? >= since {
                break;
            }
            batch.delete(key);
        }
        // A deletion at `since` with nothing older left is equivalent to no entry at all.
        let at_since = keys::value(key_hash, since);
        if let Some(raw) = backend.get(&at_since)? {
            if keys::decode_value(&raw)?.is_none() {
                batch.delete(at_since.clone());
                // If nothing newer exists the key is gone from every retained version, so its
                // preimage can go too (a rewrite in this commit re-adds it after this).
                let newer = backend.scan(&prefix, Some(&at_since)).next().transpose()?;
                if newer.is_none() {
                    batch.delete(keys::preimage(key_hash));
                }
            }
        }
        Ok(())
    }
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
