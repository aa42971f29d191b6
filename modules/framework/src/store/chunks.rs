//! A version's tree nodes stored as a few large backend values ("chunks") with a small index,
//! rather than one backend key per node.
//!
//! Each entry is one node created at that version: its nibble path (as `keys::path_key`), the
//! node (borsh) and, for a leaf, the leaf's value, so reading an old version's value is a walk
//! down that version's tree with no separate value history. Entries are sorted by path and cut
//! into chunks of about `CHUNK_TARGET_BYTES`; the index holds each chunk's first path and live
//! entry count. Pruning rewrites the chunks it removes entries from and deletes the empty ones.

use std::collections::BTreeSet;

use super::{keys, KvBackend, StoreError, WriteBatch};

/// About this many bytes per chunk: large enough that a commit is a few backend operations,
/// small enough that reading one node reads little.
pub const CHUNK_TARGET_BYTES: usize = 64 * 1024;

/// One node of a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub node: Vec<u8>,
    /// The value of a leaf; `None` for other nodes.
    pub value: Option<Vec<u8>>,
}

/// A stored node (borsh) and, for a leaf, its value.
pub type StoredNode = (Vec<u8>, Option<Vec<u8>>);

/// An entry inside a chunk, borrowed: path, node, value.
type RawEntry<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);

/// The index of a version's chunks: first path and number of live entries of each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChunkIndex {
    pub chunks: Vec<(Vec<u8>, u32)>,
}

fn malformed(what: &str) -> StoreError {
    StoreError::Corrupt(format!("malformed tree node {what}"))
}

impl ChunkIndex {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (first, count) in &self.chunks {
            out.push(first.len() as u8);
            out.extend_from_slice(first);
            out.extend_from_slice(&count.to_be_bytes());
        }
        out
    }

    pub fn decode(mut raw: &[u8]) -> Result<Self, StoreError> {
        let mut chunks = Vec::new();
        while let Some((len, rest)) = raw.split_first() {
            let (first, rest) = rest
                .split_at_checked(*len as usize)
                .ok_or_else(|| malformed("chunk index"))?;
            raw = rest;
            let count = keys::take_u32(&mut raw).ok_or_else(|| malformed("chunk index"))?;
            chunks.push((first.to_vec(), count));
        }
        Ok(Self { chunks })
    }

    /// The chunk that holds `path` if any does: the last one whose first path is <= it.
    pub fn chunk_for(&self, path: &[u8]) -> Option<usize> {
        let after = self
            .chunks
            .partition_point(|(first, _)| first.as_slice() <= path);
        after.checked_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.iter().all(|(_, count)| *count == 0)
    }
}

/// Adds `entries` (sorted by path, paths distinct) as the chunks and index of `version`.
pub fn write_version(version: u64, entries: &[Entry], batch: &mut WriteBatch) {
    let mut index = ChunkIndex::default();
    let mut start = 0;
    while start < entries.len() {
        let mut end = start;
        let mut size = 0;
        while end < entries.len() && (end == start || size < CHUNK_TARGET_BYTES) {
            size += encoded_len(&entries[end]);
            end += 1;
        }
        let number = index.chunks.len() as u32;
        batch.put(
            keys::chunk(version, number),
            encode_chunk(&entries[start..end]),
        );
        index
            .chunks
            .push((entries[start].path.clone(), (end - start) as u32));
        start = end;
    }
    batch.put(keys::chunk_index(version), index.encode());
}

fn encoded_len(entry: &Entry) -> usize {
    4 + 1 + entry.path.len() + 4 + entry.node.len() + 4 + entry.value.as_ref().map_or(0, Vec::len)
}

/// A chunk: entry count (4 bytes BE), the offset of each entry (4 bytes BE each, from the start
/// of the entry area) for binary search, then the entries: path length (1 byte), path, node
/// (4-byte BE length + bytes), value (4-byte BE length + bytes; length 0 = no value, as stored
/// values are never empty).
pub fn encode_chunk(entries: &[Entry]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut offsets = Vec::with_capacity(entries.len());
    for entry in entries {
        offsets.push(body.len() as u32);
        body.push(entry.path.len() as u8);
        body.extend_from_slice(&entry.path);
        keys::put_bytes(&mut body, &entry.node);
        keys::put_bytes(&mut body, entry.value.as_deref().unwrap_or_default());
    }
    let mut out = Vec::with_capacity(4 + 4 * offsets.len() + body.len());
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for offset in offsets {
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(&body);
    out
}

/// The entries area of a chunk and the offset of entry `i` in it.
struct ChunkView<'a> {
    offsets: &'a [u8],
    body: &'a [u8],
    count: usize,
}

impl<'a> ChunkView<'a> {
    fn new(mut raw: &'a [u8]) -> Result<Self, StoreError> {
        let count = keys::take_u32(&mut raw).ok_or_else(|| malformed("chunk"))? as usize;
        let (offsets, body) = raw
            .split_at_checked(count.checked_mul(4).ok_or_else(|| malformed("chunk"))?)
            .ok_or_else(|| malformed("chunk"))?;
        Ok(Self {
            offsets,
            body,
            count,
        })
    }

    /// Entry `i` as (path, node, value).
    fn entry(&self, i: usize) -> Result<RawEntry<'a>, StoreError> {
        let at = self
            .offsets
            .get(4 * i..4 * i + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| malformed("chunk"))? as usize;
        let mut raw = self.body.get(at..).ok_or_else(|| malformed("chunk"))?;
        let (len, rest) = raw.split_first().ok_or_else(|| malformed("chunk"))?;
        let (path, rest) = rest
            .split_at_checked(*len as usize)
            .ok_or_else(|| malformed("chunk"))?;
        raw = rest;
        let node = keys::take_bytes(&mut raw, "tree node chunk")?;
        let value = keys::take_bytes(&mut raw, "tree node chunk")?;
        Ok((path, node, (!value.is_empty()).then_some(value)))
    }
}

/// The node (borsh) and leaf value stored under `path` in `chunk`, if present.
pub fn find(chunk: &[u8], path: &[u8]) -> Result<Option<StoredNode>, StoreError> {
    let view = ChunkView::new(chunk)?;
    let (mut lo, mut hi) = (0, view.count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let (p, node, value) = view.entry(mid)?;
        match p.cmp(path) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                return Ok(Some((node.to_vec(), value.map(<[u8]>::to_vec))));
            }
        }
    }
    Ok(None)
}

pub fn decode_chunk(chunk: &[u8]) -> Result<Vec<Entry>, StoreError> {
    let view = ChunkView::new(chunk)?;
    (0..view.count)
        .map(|i| {
            let (path, node, value) = view.entry(i)?;
            Ok(Entry {
                path: path.to_vec(),
                node: node.to_vec(),
                value: value.map(<[u8]>::to_vec),
            })
        })
        .collect()
}

/// The stored node and leaf value of (`version`, `path`).
pub fn read(
    backend: &dyn KvBackend,
    version: u64,
    path: &[u8],
) -> Result<Option<StoredNode>, StoreError> {
    let Some(raw) = backend.get(&keys::chunk_index(version))? else {
        return Ok(None);
    };
    let index = ChunkIndex::decode(&raw)?;
    let Some(number) = index.chunk_for(path) else {
        return Ok(None);
    };
    match backend.get(&keys::chunk(version, number as u32))? {
        None => Ok(None),
        Some(chunk) => find(&chunk, path),
    }
}

/// Queues the removal of the entries at `paths` from `version`'s chunks: affected chunks are
/// rewritten without them, emptied chunks deleted, and the whole version once nothing is left.
/// Paths that are not stored are ignored (jmt also marks nodes stale that were never written,
/// such as the root alias of a skipped height).
pub fn remove(
    backend: &dyn KvBackend,
    version: u64,
    paths: &BTreeSet<Vec<u8>>,
    batch: &mut WriteBatch,
) -> Result<(), StoreError> {
    let Some(raw) = backend.get(&keys::chunk_index(version))? else {
        return Ok(());
    };
    let mut index = ChunkIndex::decode(&raw)?;
    let affected: BTreeSet<usize> = paths.iter().filter_map(|p| index.chunk_for(p)).collect();
    for number in affected {
        let key = keys::chunk(version, number as u32);
        let Some(chunk) = backend.get(&key)? else {
            continue;
        };
        let mut entries = decode_chunk(&chunk)?;
        let before = entries.len();
        entries.retain(|e| !paths.contains(&e.path));
        if entries.len() == before {
            continue;
        }
        index.chunks[number].1 = entries.len() as u32;
        if entries.is_empty() {
            batch.delete(key);
        } else {
            batch.put(key, encode_chunk(&entries));
        }
    }
    if index.is_empty() {
        for number in 0..index.chunks.len() {
            batch.delete(keys::chunk(version, number as u32));
        }
        batch.delete(keys::chunk_index(version));
    } else {
        batch.put(keys::chunk_index(version), index.encode());
    }
    Ok(())
}
