//! The sled implementation of [`KvBackend`].

use std::ops::Bound;
use std::path::Path;

use super::backend::{KvBackend, KvPair, WriteBatch};
use super::StoreError;

/// A [`KvBackend`] over sled's default tree. sled applies a `Batch` atomically, also across a
/// crash, which is what makes a commit all-or-nothing.
pub struct SledBackend {
    db: sled::Db,
}

impl SledBackend {
    /// Opens (creating if missing) the sled database in directory `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        Ok(Self { db })
    }

    /// A database that lives in a temporary directory and is deleted when dropped.
    pub fn open_temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        Ok(Self { db })
    }
}

fn pair(item: sled::Result<(sled::IVec, sled::IVec)>) -> Result<KvPair, StoreError> {
    let (k, v) = item?;
    Ok((k.to_vec(), v.to_vec()))
}

impl KvBackend for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn scan<'a>(
        &'a self,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Box<dyn Iterator<Item = Result<KvPair, StoreError>> + 'a> {
        let prefix_owned = prefix.to_vec();
        // Start at whichever is later: the prefix itself or just past `after`. An `after` that
        // sorts before the prefix must not start the scan outside the prefix, or the
        // `take_while` below would stop at once.
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a.to_vec()),
            _ => Bound::Included(prefix.to_vec()),
        };
        let iter = self
            .db
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
            .take_while(move |item| match item {
                Ok((k, _)) => k.starts_with(&prefix_owned),
                // Surface errors to the caller instead of silently ending the scan.
                Err(_) => true,
            })
            .map(pair);
        Box::new(iter)
    }

    fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<KvPair, StoreError>> + 'a> {
        let bounds = (start.map(<[u8]>::to_vec), end.map(<[u8]>::to_vec));
        let iter = self.db.range::<Vec<u8>, _>(bounds);
        if reverse {
            Box::new(iter.rev().map(pair))
        } else {
            Box::new(iter.map(pair))
        }
    }

    fn last_at_or_before(&self, prefix: &[u8], upper: &[u8]) -> Result<Option<KvPair>, StoreError> {
        if upper < prefix {
            return Ok(None);
        }
        match self.db.range(prefix..=upper).next_back() {
            None => Ok(None),
            Some(item) => {
                let (k, v) = pair(item)?;
                Ok(k.starts_with(prefix).then_some((k, v)))
            }
        }
    }

    fn apply_batch(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for (k, v) in batch.ops() {
            match v {
                Some(v) => sled_batch.insert(k.as_slice(), v.as_slice()),
                None => sled_batch.remove(k.as_slice()),
            }
        }
        self.db.apply_batch(sled_batch)?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
