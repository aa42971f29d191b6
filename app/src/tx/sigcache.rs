//! Signatures CheckTx found valid, by tx hash, so FinalizeBlock need not verify them again.
//! An entry records the key and account number each signer's signature was valid for; the
//! block uses it only when both still hold. Only valid verdicts of single verification are
//! kept: a signature valid alone is valid in any ed25519 batch too, so a block gets the same
//! verdicts whether or not a node had the tx in its cache.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use stoa_bank::PubKey;

/// Entries kept; the oldest go first.
pub const SIG_CACHE_CAPACITY: usize = 100_000;

/// (key, account number) per signer, in signer order.
pub type Verified = Vec<(PubKey, u64)>;

#[derive(Default)]
struct Inner {
    // Looked up by hash only, never iterated: its order cannot leak into consensus.
    map: HashMap<[u8; 32], Verified>,
    order: VecDeque<[u8; 32]>,
}

#[derive(Default)]
pub struct SigCache {
    inner: Mutex<Inner>,
}

impl SigCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, hash: [u8; 32], verified: Verified) {
        let mut inner = self.lock();
        if inner.map.insert(hash, verified).is_none() {
            inner.order.push_back(hash);
        }
        while inner.order.len() > SIG_CACHE_CAPACITY {
            if let Some(old) = inner.order.pop_front() {
                inner.map.remove(&old);
            }
        }
    }

    /// The verified signers of each tx (`None` where not cached), in one lock.
    pub fn get_all(&self, hashes: &[Option<[u8; 32]>]) -> Vec<Option<Verified>> {
        let inner = self.lock();
        hashes
            .iter()
            .map(|h| h.and_then(|h| inner.map.get(&h).cloned()))
            .collect()
    }

    /// Forgets the txs of a committed block: they cannot be included again.
    pub fn remove_all(&self, hashes: &[[u8; 32]]) {
        let mut inner = self.lock();
        for h in hashes {
            inner.map.remove(h);
        }
        let Inner { map, order } = &mut *inner;
        order.retain(|h| map.contains_key(h));
    }

    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
