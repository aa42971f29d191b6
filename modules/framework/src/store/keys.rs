//! Layout of the backend keyspace: one-byte namespace prefixes and their encodings.
//!
//! All namespaces share one backend keyspace so a commit is a single atomic batch. Versions are
//! big-endian so byte order equals numeric order, which the range scans below depend on.
//!
//! sled costs several microseconds per operation whatever the size of the value, so the layout
//! keeps the operations of a commit few: a version's tree nodes (with the values of its leaves)
//! are written as a handful of chunks rather than one key per node, and the latest-value map is
//! updated from an in-memory overlay only every so often (see `mod.rs`).

use jmt::storage::{NibblePath, NodeKey};
use jmt::KeyHash;

use super::StoreError;

/// Latest value per raw key as of the checkpoint version: `L | raw key -> value`. Writes since
/// then live in memory and in the `D` records.
pub const LATEST: u8 = b'L';
/// Key preimages: `P | key hash -> raw key`, needed for ICS23 proofs (jmt's `HasPreimage`).
pub const PREIMAGE: u8 = b'P';
/// Deletion marks: `Z | key hash -> version (8 bytes BE)` of the key's last deletion, so pruning
/// knows when a deleted key's preimage is no longer needed.
pub const DELETED: u8 = b'Z';
/// Tree node chunks: `N | version | chunk number (4 bytes BE) -> chunk` (see `chunks.rs`): the
/// nodes created at `version`, sorted by nibble path.
pub const NODE: u8 = b'N';
/// Chunk index of a version: `I | version -> first path and entry count of each chunk`.
pub const CHUNK_INDEX: u8 = b'I';
/// A version's effective writes: `D | version | piece (4 bytes BE) -> writes`, replayed into
/// the in-memory overlay when the store is reopened, until a checkpoint folds them into `L`;
/// from then on garbage, deleted a few versions per later `prepare`. Each piece is a record of
/// its own (see [`RECORD_PIECE_BYTES`]).
pub const WRITES: u8 = b'D';
/// Stale index: `S | stale since version | piece (4 bytes BE) -> node keys no longer in the
/// tree from that version on, and key hashes deleted at that version`, in pieces as `D`.
pub const STALE: u8 = b'S';
/// Changed-key index of a checkpoint: `K | checkpoint version | first raw key of the piece ->
/// raw keys`, every key the versions folded by that checkpoint changed (after the previous
/// checkpoint, up to and including this one), sorted and deduplicated, without values, in
/// pieces of about [`INDEX_PIECE_BYTES`] keyed by their first key so that a bounded listing
/// seeks straight to the pieces its bounds cover. What a listing at an older version needs once
/// the `D` records are gone (see `Store::visit_range`); deleted by pruning once every retained
/// version is at or after the checkpoint.
pub const INDEX: u8 = b'K';
/// Root per committed version: `R | version -> root`. Its presence marks a retained version.
pub const ROOT: u8 = b'R';
/// Last commit: version (8 bytes BE) ++ root (32 bytes).
pub const LAST_COMMIT: &[u8] = b"Mlast_commit";
/// The version the `L` map reflects (8 bytes BE); absent = none yet.
pub const CHECKPOINT: &[u8] = b"Mcheckpoint";
/// The oldest version a listing can be answered at (8 bytes BE); absent = 0, every version.
/// Set once, when a store of format 2 or 3 (which kept no `K` records) is opened by this code:
/// the versions its last checkpoint folded are listable no more.
pub const LIST_FROM: &[u8] = b"Mlist_from";
/// On-disk layout version, so an incompatible layout is refused rather than misread.
pub const FORMAT: &[u8] = b"Mformat";
/// The layout version written by this code. 1 was one backend key per tree node with a
/// separate value history; 2 the chunked layout; 3 writes `D` and `S` records in pieces; 4 adds
/// the changed-key index `K` of each checkpoint and [`LIST_FROM`] (a build that knows only 3
/// would checkpoint without writing `K`, which later listings at older versions rely on, so it
/// must refuse a format-4 store).
pub const FORMAT_VERSION: &[u8] = &[4];
/// Layouts this code opens: 2 is read as 3 (a whole record is a record of one piece, under the
/// version's key without a piece number), and 2 and 3 are moved to 4 when opened (see
/// [`LIST_FROM`]).
pub const READABLE_FORMATS: &[&[u8]] = &[&[2], &[3], FORMAT_VERSION];

/// The most bytes a `D` or `S` piece holds (about; an entry is never split). sled keeps values
/// inside its tree nodes (16 entries to a leaf) and rewrites a whole node, beyond 128 KiB as a
/// file of its own, when it splits: whole records of ~1.5 MB per version made every few commits
/// rewrite tens of megabytes (commits of 15-180 ms instead of 5).
pub const RECORD_PIECE_BYTES: usize = 64 * 1024;

/// The most bytes a `K` piece holds (about). Smaller than a `D` piece: a listing decodes the
/// piece its bound falls in for each checkpoint it looks past, and only some keys of it are in
/// its range.
pub const INDEX_PIECE_BYTES: usize = 16 * 1024;

fn with_prefix(ns: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = 1 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.push(ns);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

pub fn latest(raw_key: &[u8]) -> Vec<u8> {
    with_prefix(LATEST, &[raw_key])
}

pub fn preimage(key_hash: &KeyHash) -> Vec<u8> {
    with_prefix(PREIMAGE, &[&key_hash.0])
}

pub fn deleted(key_hash: &KeyHash) -> Vec<u8> {
    with_prefix(DELETED, &[&key_hash.0])
}

pub fn chunk(version: u64, number: u32) -> Vec<u8> {
    with_prefix(NODE, &[&version.to_be_bytes(), &number.to_be_bytes()])
}

pub fn chunk_index(version: u64) -> Vec<u8> {
    with_prefix(CHUNK_INDEX, &[&version.to_be_bytes()])
}

/// The key of a format-2 writes record (the whole record, no piece number).
pub fn writes(version: u64) -> Vec<u8> {
    with_prefix(WRITES, &[&version.to_be_bytes()])
}

pub fn writes_piece(version: u64, piece: u32) -> Vec<u8> {
    with_prefix(WRITES, &[&version.to_be_bytes(), &piece.to_be_bytes()])
}

pub fn stale_piece(since: u64, piece: u32) -> Vec<u8> {
    with_prefix(STALE, &[&since.to_be_bytes(), &piece.to_be_bytes()])
}

/// The key of the `K` piece of checkpoint `version` whose first key is `first`.
pub fn index_piece(version: u64, first: &[u8]) -> Vec<u8> {
    with_prefix(INDEX, &[&version.to_be_bytes(), first])
}

/// The first backend key past every key of `version` in namespace `ns` (the namespace's end
/// for the last possible version).
pub fn version_end(ns: u8, version: u64) -> Vec<u8> {
    match version.checked_add(1) {
        Some(next) => with_prefix(ns, &[&next.to_be_bytes()]),
        None => vec![ns + 1],
    }
}

pub fn root(version: u64) -> Vec<u8> {
    with_prefix(ROOT, &[&version.to_be_bytes()])
}

/// The version of a `writes`, `stale`, `root` or `chunk_index` key (namespace byte, then the
/// version).
pub fn parse_version_key(key: &[u8]) -> Result<u64, StoreError> {
    be_u64(key.get(1..9), "versioned key")
}

/// The key of the root node of `version` (the node at the empty nibble path).
pub fn root_node_key(version: u64) -> NodeKey {
    NodeKey::new(version, std::iter::empty().collect::<NibblePath>())
}

/// A nibble path as bytes: its length in nibbles, then the nibbles two to a byte (high first).
/// Chunks are sorted by this encoding; any fixed order would do as long as writer and reader
/// agree.
pub fn path_key(path: &NibblePath) -> Vec<u8> {
    let n = path.num_nibbles();
    let mut out = Vec::with_capacity(1 + n.div_ceil(2));
    // At most 64 nibbles (a 32-byte key hash).
    out.push(n as u8);
    for i in (0..n).step_by(2) {
        let high = u8::from(path.get_nibble(i)) << 4;
        let low = if i + 1 < n {
            u8::from(path.get_nibble(i + 1))
        } else {
            0
        };
        out.push(high | low);
    }
    out
}

/// Nibble `i` (0 = high half of the first byte) of a key hash.
pub fn key_hash_nibble(key_hash: &KeyHash, i: usize) -> u8 {
    let byte = key_hash.0[i / 2];
    if i.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}

/// The first `len` nibbles of a key hash as a nibble path.
pub fn key_hash_prefix(key_hash: &KeyHash, len: usize) -> NibblePath {
    (0..len)
        .map(|i| key_hash_nibble(key_hash, i).into())
        .collect()
}

pub fn root_value(raw: &[u8]) -> Result<[u8; 32], StoreError> {
    raw.try_into()
        .map_err(|_| StoreError::Corrupt("malformed root entry".into()))
}

pub fn encode_version(version: u64) -> Vec<u8> {
    version.to_be_bytes().to_vec()
}

pub fn decode_version(raw: &[u8], what: &str) -> Result<u64, StoreError> {
    be_u64(Some(raw), what)
}

pub fn encode_last_commit(version: u64, root: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(root);
    out
}

pub fn decode_last_commit(raw: &[u8]) -> Result<(u64, [u8; 32]), StoreError> {
    if raw.len() != 40 {
        return Err(StoreError::Corrupt("malformed last commit record".into()));
    }
    let version = be_u64(raw.get(..8), "last commit record")?;
    Ok((version, root_value(&raw[8..])?))
}

/// A version's effective writes as pieces of about [`RECORD_PIECE_BYTES`], each a record of its
/// own: per entry a 4-byte BE key length, the key, then 0 (deleted) or 1 with a 4-byte BE value
/// length and the value. At least one piece, so that every version after the checkpoint has a
/// record to replay.
pub fn encode_writes<'a>(
    writes: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>,
) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut out = Vec::new();
    for (key, value) in writes {
        put_bytes(&mut out, key);
        match value {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                put_bytes(&mut out, v);
            }
        }
        if out.len() >= RECORD_PIECE_BYTES {
            pieces.push(std::mem::take(&mut out));
        }
    }
    if !out.is_empty() || pieces.is_empty() {
        pieces.push(out);
    }
    pieces
}

/// Sorted keys as `K` pieces of about [`INDEX_PIECE_BYTES`], each with its first key: per key a
/// 4-byte BE length and the key.
pub fn encode_index<'a>(sorted_keys: impl Iterator<Item = &'a [u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pieces = Vec::new();
    let mut first: Option<&[u8]> = None;
    let mut out = Vec::new();
    for key in sorted_keys {
        first.get_or_insert(key);
        put_bytes(&mut out, key);
        if out.len() >= INDEX_PIECE_BYTES {
            pieces.extend(first.take().map(|f| (f.to_vec(), std::mem::take(&mut out))));
        }
    }
    pieces.extend(first.map(|f| (f.to_vec(), out)));
    pieces
}

pub fn decode_index(mut raw: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        out.push(take_bytes(&mut raw, "changed-key index")?.to_vec());
    }
    Ok(out)
}

pub type DecodedWrites = Vec<(Vec<u8>, Option<Vec<u8>>)>;

pub fn decode_writes(mut raw: &[u8]) -> Result<DecodedWrites, StoreError> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let key = take_bytes(&mut raw, "writes record")?.to_vec();
        let (tag, rest) = raw
            .split_first()
            .ok_or_else(|| StoreError::Corrupt("malformed writes record".into()))?;
        raw = rest;
        let value = match tag {
            0 => None,
            1 => Some(take_bytes(&mut raw, "writes record")?.to_vec()),
            _ => return Err(StoreError::Corrupt("malformed writes record".into())),
        };
        out.push((key, value));
    }
    Ok(out)
}

/// A version's stale list as pieces of about [`RECORD_PIECE_BYTES`], each a stale list of its
/// own: the node keys first, then the deleted key hashes. No pieces for an empty list.
pub fn encode_stale_pieces(nodes: &[(u64, Vec<u8>)], deleted: &[KeyHash]) -> Vec<Vec<u8>> {
    // A node key takes at most 8 + 1 + 33 bytes; most take 12 to 14.
    const NODES_PER_PIECE: usize = RECORD_PIECE_BYTES / 16;
    const DELETED_PER_PIECE: usize = RECORD_PIECE_BYTES / 32;
    let node_pieces = nodes
        .chunks(NODES_PER_PIECE)
        .map(|part| encode_stale(part, &[]));
    let deleted_pieces = deleted
        .chunks(DELETED_PER_PIECE)
        .map(|part| encode_stale(&[], part));
    node_pieces.chain(deleted_pieces).collect()
}

/// A stale list: node keys (8-byte BE version, 1-byte path key length, path key) and key
/// hashes deleted at that version, as two length-prefixed sections.
pub fn encode_stale(nodes: &[(u64, Vec<u8>)], deleted: &[KeyHash]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(nodes.len() as u32).to_be_bytes());
    for (version, path) in nodes {
        out.extend_from_slice(&version.to_be_bytes());
        out.push(path.len() as u8);
        out.extend_from_slice(path);
    }
    out.extend_from_slice(&(deleted.len() as u32).to_be_bytes());
    for key_hash in deleted {
        out.extend_from_slice(&key_hash.0);
    }
    out
}

pub type StaleNodes = Vec<(u64, Vec<u8>)>;

pub fn decode_stale(mut raw: &[u8]) -> Result<(StaleNodes, Vec<KeyHash>), StoreError> {
    let malformed = || StoreError::Corrupt("malformed stale list".into());
    let count = take_u32(&mut raw).ok_or_else(malformed)?;
    let mut nodes = Vec::new();
    for _ in 0..count {
        let (version, rest) = raw.split_at_checked(8).ok_or_else(malformed)?;
        let version = be_u64(Some(version), "stale list")?;
        let (len, rest) = rest.split_first().ok_or_else(malformed)?;
        let (path, rest) = rest.split_at_checked(*len as usize).ok_or_else(malformed)?;
        nodes.push((version, path.to_vec()));
        raw = rest;
    }
    let count = take_u32(&mut raw).ok_or_else(malformed)? as usize;
    if raw.len() != count.checked_mul(32).ok_or_else(malformed)? {
        return Err(malformed());
    }
    let deleted = raw
        .chunks_exact(32)
        .map(|c| c.try_into().map(KeyHash).map_err(|_| malformed()))
        .collect::<Result<_, _>>()?;
    Ok((nodes, deleted))
}

pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

pub fn take_u32(raw: &mut &[u8]) -> Option<u32> {
    let (head, rest) = raw.split_at_checked(4)?;
    *raw = rest;
    Some(u32::from_be_bytes(head.try_into().ok()?))
}

pub fn take_bytes<'a>(raw: &mut &'a [u8], what: &str) -> Result<&'a [u8], StoreError> {
    let malformed = || StoreError::Corrupt(format!("malformed {what}"));
    let len = take_u32(raw).ok_or_else(malformed)? as usize;
    let (bytes, rest) = raw.split_at_checked(len).ok_or_else(malformed)?;
    *raw = rest;
    Ok(bytes)
}

fn be_u64(bytes: Option<&[u8]>, what: &str) -> Result<u64, StoreError> {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("malformed {what}")))
}
