//! Layout of the backend keyspace: one-byte namespace prefixes and their encodings.
//!
//! All namespaces share one backend keyspace so a commit is a single atomic batch. Versions are
//! big-endian so byte order equals numeric order, which the range scans below depend on.

use jmt::storage::{NibblePath, NodeKey};
use jmt::KeyHash;

use super::StoreError;

/// Latest committed value per raw key: `L | raw key -> value`. Serves `get`/`iter_prefix`
/// without walking the tree.
pub const LATEST: u8 = b'L';
/// Key preimages: `P | key hash -> raw key`, needed for ICS23 proofs (jmt's `HasPreimage`).
pub const PREIMAGE: u8 = b'P';
/// Tree nodes: `N | borsh(NodeKey) -> borsh(Node)`.
pub const NODE: u8 = b'N';
/// Value history: `V | key hash | version -> 0 (deleted) or 1 ++ value`.
pub const VALUE: u8 = b'V';
/// jmt's stale node index: `S | stale since version -> list of node storage keys` (nodes that
/// are no longer part of the tree from that version on).
pub const STALE_NODE: u8 = b'S';
/// Our stale value index: `W | version -> key hashes written at that version`; each key's
/// older history entries are superseded from then on.
pub const STALE_VALUE: u8 = b'W';
/// Root per committed version: `R | version -> root`. Its presence marks a retained version.
pub const ROOT: u8 = b'R';
/// Last commit: version (8 bytes BE) ++ root (32 bytes).
pub const LAST_COMMIT: &[u8] = b"Mlast_commit";
/// On-disk layout version, so an incompatible future layout is refused rather than misread.
pub const FORMAT: &[u8] = b"Mformat";
/// The layout version written by this code.
pub const FORMAT_VERSION: &[u8] = &[1];

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

pub fn node_key_bytes(node_key: &NodeKey) -> Result<Vec<u8>, StoreError> {
    borsh::to_vec(node_key).map_err(|e| StoreError::Corrupt(format!("encoding node key: {e}")))
}

pub fn node(node_key: &NodeKey) -> Result<Vec<u8>, StoreError> {
    Ok(with_prefix(NODE, &[&node_key_bytes(node_key)?]))
}

/// The key of the root node of `version` (the node at the empty nibble path).
pub fn root_node_key(version: u64) -> NodeKey {
    NodeKey::new(version, std::iter::empty().collect::<NibblePath>())
}

pub fn value_prefix(key_hash: &KeyHash) -> Vec<u8> {
    with_prefix(VALUE, &[&key_hash.0])
}

pub fn value(key_hash: &KeyHash, version: u64) -> Vec<u8> {
    with_prefix(VALUE, &[&key_hash.0, &version.to_be_bytes()])
}

/// The version suffix of a `value` key.
pub fn value_version(key: &[u8]) -> Result<u64, StoreError> {
    be_u64(key.get(33..41), "value history key")
}

pub fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(v) => {
            let mut out = Vec::with_capacity(1 + v.len());
            out.push(1);
            out.extend_from_slice(v);
            out
        }
    }
}

pub fn decode_value(raw: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    match raw.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) => Ok(Some(rest.to_vec())),
        _ => Err(StoreError::Corrupt("malformed value history entry".into())),
    }
}

/// Key of the stale node list of `since`. One entry per version, not per node, keeps the
/// commit batch small (sled costs per operation, not per byte).
pub fn stale_nodes(since: u64) -> Vec<u8> {
    with_prefix(STALE_NODE, &[&since.to_be_bytes()])
}

/// Key of the stale value list of `since` (one entry per version, as above).
pub fn stale_values(since: u64) -> Vec<u8> {
    with_prefix(STALE_VALUE, &[&since.to_be_bytes()])
}

/// The version of a `stale_nodes`/`stale_values` key.
pub fn parse_stale_key(key: &[u8]) -> Result<u64, StoreError> {
    be_u64(key.get(1..9), "stale index key")
}

/// Appends a node's storage key to a stale node list: 4-byte big-endian length, then the key.
pub fn push_stale_node(list: &mut Vec<u8>, node_key: &NodeKey) -> Result<(), StoreError> {
    let key = node(node_key)?;
    let len = u32::try_from(key.len())
        .map_err(|_| StoreError::Corrupt("node key too long for the stale index".into()))?;
    list.extend_from_slice(&len.to_be_bytes());
    list.extend_from_slice(&key);
    Ok(())
}

/// The node storage keys of a stale node list.
pub fn parse_stale_nodes(mut list: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    let malformed = || StoreError::Corrupt("malformed stale node list".into());
    let mut out = Vec::new();
    while !list.is_empty() {
        let (len, rest) = list.split_at_checked(4).ok_or_else(malformed)?;
        let len = u32::from_be_bytes(len.try_into().map_err(|_| malformed())?) as usize;
        let (key, rest) = rest.split_at_checked(len).ok_or_else(malformed)?;
        out.push(key.to_vec());
        list = rest;
    }
    Ok(out)
}

/// The key hashes of a stale value list (32 bytes each, concatenated).
pub fn parse_stale_values(list: &[u8]) -> Result<Vec<KeyHash>, StoreError> {
    let malformed = || StoreError::Corrupt("malformed stale value list".into());
    let chunks = list.chunks_exact(32);
    if !chunks.remainder().is_empty() {
        return Err(malformed());
    }
    chunks
        .map(|c| c.try_into().map(KeyHash).map_err(|_| malformed()))
        .collect()
}

pub fn root(version: u64) -> Vec<u8> {
    with_prefix(ROOT, &[&version.to_be_bytes()])
}

pub fn parse_root_key(key: &[u8]) -> Result<u64, StoreError> {
    be_u64(key.get(1..9), "root key")
}

pub fn root_value(raw: &[u8]) -> Result<[u8; 32], StoreError> {
    raw.try_into()
        .map_err(|_| StoreError::Corrupt("malformed root entry".into()))
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

fn be_u64(bytes: Option<&[u8]>, what: &str) -> Result<u64, StoreError> {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("malformed {what}")))
}
