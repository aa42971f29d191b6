//! Ordered, bounded listings of the latest committed state and of retained older versions.
//!
//! **Latest version.** The latest state is the checkpointed map `L` overlaid with the writes
//! since the checkpoint (`overlay`, where `None` = deleted). A listing merges a backend range
//! scan of `L` with a range of the overlay, both in the requested order, and stops at the
//! caller's say: it reads what it returns, plus the overlay's deletions in range and the `L`
//! entries they hide, however many keys the namespace holds.
//!
//! **An older version `v`.** The tree is keyed by key hash, so it cannot list raw keys in
//! order; walking it means walking the whole state. Instead a key present at `v` is either
//! unchanged since (then it is in the latest state, with the same value) or was written by a
//! version after `v` (then it is in the overlay, or, if a checkpoint after `v` folded that
//! write, in that checkpoint's changed-key index `K`; see `keys::INDEX`). So the candidates are
//! the latest keys in range plus the overlay's and the `K` indexes' keys in range of every
//! checkpoint after `v`, merged in order; a candidate found only in `L` has its `L` value (no
//! version after `v` touched it), any other is read from `v`'s tree (`get_at`), and the
//! absent ones are skipped before the limit counts. A listing at `v` thus costs about what one
//! at the latest version costs, plus a point read for each key in range changed since `v`,
//! plus a seek (and a piece of at most 16 KiB of keys decoded) per checkpoint after `v`: with
//! the default checkpoint interval (200 versions) and retention (1,000), at most five.
//!
//! Why an index per checkpoint rather than keeping the versions' writes records (`D`) until
//! they are pruned: those hold values too and are in version order, so a listing would decode
//! every write of every version after `v` (for blocks of 15,000 writes and 200 versions, 3
//! million entries) for each page; and the checkpoint's own writes have no `D` record. The
//! index holds each changed key once per checkpoint, sorted, in pieces keyed by their first
//! key so a bound seeks straight to its piece; `prepare` of a checkpoint writes it with the
//! version's other records, a few dozen backend operations next to the tens of thousands of
//! `L` writes of the same checkpoint, and nothing changes for the other versions. Pruning
//! deletes the index of a checkpoint once every retained version is at or after it.

use std::ops::Bound;

use jmt::KeyHash;
use sha2::Sha256;

use super::jmt_reader::JmtReader;
use super::{keys, KvBackend, KvPair, Store, StoreError};
use crate::state::Order;

/// A key a listing may return, from one of the merged sources.
struct Candidate {
    key: Vec<u8>,
    /// Its latest value as far as the source knows (`None` = deleted, or not known).
    latest: Option<Vec<u8>>,
    /// Written after the checkpoint, or by a version a checkpoint's index covers: at an older
    /// version its value comes from that version's tree.
    changed: bool,
}

type Candidates<'a> = Box<dyn Iterator<Item = Result<Candidate, StoreError>> + 'a>;

/// One ordered source of candidates, with its next one taken out so that the heads of all
/// sources can be compared without borrowing them mutably.
struct Source<'a> {
    rest: Candidates<'a>,
    head: Option<Candidate>,
}

impl<'a> Source<'a> {
    fn new(rest: Candidates<'a>) -> Result<Self, StoreError> {
        let mut source = Source { rest, head: None };
        source.advance()?;
        Ok(source)
    }

    fn advance(&mut self) -> Result<(), StoreError> {
        self.head = self.rest.next().transpose()?;
        Ok(())
    }
}

/// The source whose head comes first in the listing's order; of equal heads the earliest
/// source, which is the one whose latest value wins.
fn first_source(sources: &[Source<'_>], reverse: bool) -> Option<usize> {
    let mut best: Option<(usize, &[u8])> = None;
    for (i, source) in sources.iter().enumerate() {
        let Some(head) = &source.head else { continue };
        let key = head.key.as_slice();
        let better = match best {
            None => true,
            Some((_, b)) if reverse => key > b,
            Some((_, b)) => key < b,
        };
        if better {
            best = Some((i, key));
        }
    }
    best.map(|(i, _)| i)
}

/// Whether no key lies between the bounds (which `BTreeMap::range` would panic on).
pub fn is_empty_range(start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) => {
            s >= e
        }
        _ => false,
    }
}

fn after_start(key: &[u8], start: Bound<&[u8]>) -> bool {
    match start {
        Bound::Included(s) => key >= s,
        Bound::Excluded(s) => key > s,
        Bound::Unbounded => true,
    }
}

fn before_end(key: &[u8], end: Bound<&[u8]>) -> bool {
    match end {
        Bound::Included(e) => key <= e,
        Bound::Excluded(e) => key < e,
        Bound::Unbounded => true,
    }
}

fn borrowed(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

/// The first key after every key that starts with `prefix`: the excluded end of a prefix
/// listing. `None` when no key is (an empty prefix, or one of 0xff bytes only).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The checkpointed latest values (`L`) in range, in order.
fn latest_values<'a>(
    backend: &'a dyn KvBackend,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    reverse: bool,
) -> Candidates<'a> {
    let lower = match start {
        Bound::Included(k) => Bound::Included(keys::latest(k)),
        Bound::Excluded(k) => Bound::Excluded(keys::latest(k)),
        Bound::Unbounded => Bound::Included(vec![keys::LATEST]),
    };
    let upper = match end {
        Bound::Included(k) => Bound::Included(keys::latest(k)),
        Bound::Excluded(k) => Bound::Excluded(keys::latest(k)),
        Bound::Unbounded => Bound::Excluded(vec![keys::LATEST + 1]),
    };
    let scan = backend.range(borrowed(&lower), borrowed(&upper), reverse);
    Box::new(scan.map(|item| {
        let (key, value) = item?;
        Ok(Candidate {
            // Strip the namespace byte; every key of this scan carries it.
            key: key.get(1..).unwrap_or_default().to_vec(),
            latest: Some(value),
            changed: false,
        })
    }))
}

/// The keys in range of the changed-key index of one checkpoint, in order, read a piece at a
/// time.
struct IndexKeys<'a> {
    pieces: Box<dyn Iterator<Item = Result<KvPair, StoreError>> + 'a>,
    /// The keys of the current piece not yet returned, in the listing's order.
    keys: std::vec::IntoIter<Vec<u8>>,
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    reverse: bool,
    done: bool,
}

impl<'a> IndexKeys<'a> {
    fn new(
        backend: &'a dyn KvBackend,
        checkpoint: u64,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<Self, StoreError> {
        let first = keys::index_piece(checkpoint, &[]);
        // Pieces are keyed by their first key: those that may hold keys up to `end` are the
        // ones whose first key is not past it.
        let upper = match end {
            Bound::Unbounded => Bound::Excluded(keys::version_end(keys::INDEX, checkpoint)),
            Bound::Included(k) | Bound::Excluded(k) => {
                Bound::Included(keys::index_piece(checkpoint, k))
            }
        };
        let pieces = if reverse {
            backend.range(Bound::Included(&first), borrowed(&upper), true)
        } else {
            // The piece `start` falls in is the last one whose first key is not past it.
            let lower = match start {
                Bound::Unbounded => first,
                Bound::Included(k) | Bound::Excluded(k) => {
                    let at = keys::index_piece(checkpoint, k);
                    match backend
                        .range(Bound::Included(&first), Bound::Included(&at), true)
                        .next()
                        .transpose()?
                    {
                        Some((key, _)) => key,
                        None => first,
                    }
                }
            };
            backend.range(Bound::Included(&lower), borrowed(&upper), false)
        };
        Ok(IndexKeys {
            pieces,
            keys: Vec::new().into_iter(),
            start: start.map(<[u8]>::to_vec),
            end: end.map(<[u8]>::to_vec),
            reverse,
            done: false,
        })
    }
}

impl Iterator for IndexKeys<'_> {
    type Item = Result<Candidate, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if let Some(key) = self.keys.next() {
                let (before, past) = if self.reverse {
                    (
                        !before_end(&key, borrowed(&self.end)),
                        !after_start(&key, borrowed(&self.start)),
                    )
                } else {
                    (
                        !after_start(&key, borrowed(&self.start)),
                        !before_end(&key, borrowed(&self.end)),
                    )
                };
                if before {
                    continue;
                }
                if past {
                    self.done = true;
                    break;
                }
                return Some(Ok(Candidate {
                    key,
                    latest: None,
                    changed: true,
                }));
            }
            let piece = match self.pieces.next() {
                None => {
                    self.done = true;
                    break;
                }
                Some(piece) => piece.and_then(|(_, raw)| keys::decode_index(&raw)),
            };
            match piece {
                Ok(mut piece_keys) => {
                    if self.reverse {
                        piece_keys.reverse();
                    }
                    self.keys = piece_keys.into_iter();
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// The changed-key indexes of the checkpoints after `version` up to `checkpoint`, one source
/// each. Found by seeking from one checkpoint's records to the next, without a list in memory.
fn index_sources<'a>(
    backend: &'a dyn KvBackend,
    version: u64,
    checkpoint: u64,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    reverse: bool,
) -> Result<Vec<Source<'a>>, StoreError> {
    let mut sources = Vec::new();
    // Not past the committed checkpoint: `prepare` writes the next one's index ahead.
    let last = keys::version_end(keys::INDEX, checkpoint);
    let mut from = keys::version_end(keys::INDEX, version);
    while from < last {
        let next = backend
            .range(Bound::Included(&from), Bound::Excluded(&last), false)
            .next()
            .transpose()?;
        let Some((key, _)) = next else { break };
        let found = keys::parse_version_key(&key)?;
        let stream = IndexKeys::new(backend, found, start, end, reverse)?;
        sources.push(Source::new(Box::new(stream))?);
        from = keys::version_end(keys::INDEX, found);
    }
    Ok(sources)
}

impl Store {
    /// Calls `visit` with each live (key, value) whose key lies inside `(start, end)`, in
    /// `order`, at the latest committed version (`version` `None` or the latest) or at a
    /// retained older one, until `visit` returns false. Reads only as far as the listing goes
    /// (see the module doc for what a listing at an older version costs).
    ///
    /// The whole listing sees one version: it holds the store's read lock, so a commit waits
    /// for it, and `visit` must not call back into the store (a commit queued meanwhile would
    /// deadlock the two). Errors: the version's as [`Store::get_at`]'s, and
    /// [`StoreError::ListingUnavailable`] for a version before this store's format kept the
    /// index listings need.
    pub fn visit_range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        version: Option<u64>,
        visit: &mut dyn FnMut(Vec<u8>, Vec<u8>) -> bool,
    ) -> Result<(), StoreError> {
        let committed = self.read_committed();
        let latest = committed.info.map(|i| i.version);
        let past = match version {
            Some(v) if Some(v) != latest => {
                self.check_retained(committed.info, v)?;
                if v < committed.list_from {
                    return Err(StoreError::ListingUnavailable {
                        version: v,
                        earliest: committed.list_from,
                    });
                }
                Some(v)
            }
            _ => None,
        };
        if is_empty_range(start, end) {
            return Ok(());
        }
        let reverse = order == Order::Descending;
        let backend = self.backend();

        let overlay = committed.overlay.range::<[u8], _>((start, end));
        let overlay: Box<dyn Iterator<Item = _>> = if reverse {
            Box::new(overlay.rev())
        } else {
            Box::new(overlay)
        };
        let overlay = overlay.map(|(key, value): (&Vec<u8>, &Option<Vec<u8>>)| {
            Ok(Candidate {
                key: key.clone(),
                // At an older version the value comes from its tree.
                latest: if past.is_none() { value.clone() } else { None },
                changed: true,
            })
        });
        // The overlay first: it is newer than `L`, so its value wins on equal keys.
        let mut sources = vec![
            Source::new(Box::new(overlay))?,
            Source::new(latest_values(backend, start, end, reverse))?,
        ];
        if let Some(v) = past.filter(|v| *v < committed.checkpoint) {
            let checkpoint = committed.checkpoint;
            sources.extend(index_sources(backend, v, checkpoint, start, end, reverse)?);
        }

        let recent = past.and_then(|_| self.recent());
        let reader = JmtReader::new(backend).with_recent_nodes(recent.as_deref());
        while let Some(i) = first_source(&sources, reverse) {
            let Some(mut found) = sources[i].head.take() else {
                break;
            };
            sources[i].advance()?;
            // Later sources with the same key only add whether it changed.
            for other in &mut sources[i + 1..] {
                if other.head.as_ref().is_some_and(|c| c.key == found.key) {
                    found.changed |= other.head.take().is_some_and(|c| c.changed);
                    other.advance()?;
                }
            }
            let value = match past {
                Some(v) if found.changed => {
                    reader.value_at(v, &KeyHash::with::<Sha256>(&found.key))?
                }
                _ => found.latest,
            };
            if let Some(value) = value {
                if !visit(found.key, value) {
                    break;
                }
            }
        }
        Ok(())
    }

    /// At most `limit` live pairs with keys inside `(start, end)`, in `order`, at the latest
    /// committed version. A caller pages by passing the last key it saw as an excluded bound.
    pub fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        self.collect_range(start, end, order, None, limit)
    }

    /// As [`Store::range`], at a retained committed `version`.
    pub fn range_at(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        limit: usize,
        version: u64,
    ) -> Result<Vec<KvPair>, StoreError> {
        self.collect_range(start, end, order, Some(version), limit)
    }

    /// All (key, value) pairs whose raw key starts with `prefix`, at the latest committed
    /// version, ascending by raw key bytes; `start_after` skips keys <= it (pagination);
    /// `limit` caps count.
    pub fn iter_prefix(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<Vec<KvPair>, StoreError> {
        let start = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        let end = prefix_end(prefix);
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let limit = limit.unwrap_or(usize::MAX);
        self.collect_range(start, end, Order::Ascending, None, limit)
    }

    fn collect_range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        version: Option<u64>,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        let mut out = Vec::new();
        self.visit_range(start, end, order, version, &mut |key, value| {
            if out.len() < limit {
                out.push((key, value));
            }
            out.len() < limit
        })?;
        Ok(out)
    }
}
