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
/// jmt's stale node index: `S | stale since version | borsh(NodeKey) -> ()`.
pub const STALE_NODE: u8 = b'S';
/// Our stale value index: `W | version | key hash -> ()`, meaning "key hash was written at
/// version, so its older history entries are superseded from then on".
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

pub fn stale_node(since: u64, node_key: &NodeKey) -> Result<Vec<u8>, StoreError> {
    Ok(with_prefix(
        STALE_NODE,
        &[&since.to_be_bytes(), &node_key_bytes(node_key)?],
    ))
}

/// Splits a stale node index key into (stale since version, node storage key).
pub fn parse_stale_node(key: &[u8]) -> Result<(u64, Vec<u8>), StoreError> {
    let since = be_u64(key.get(1..9), "stale node index key")?;
    let node_key = key.get(9..).unwrap_or_default();
    Ok((since, with_prefix(NODE, &[node_key])))
}

pub fn stale_value(since: u64, key_hash: &KeyHash) -> Vec<u8> {
    with_prefix(STALE_VALUE, &[&since.to_be_bytes(), &key_hash.0])
}

/// Splits a stale value index key into (version written, key hash).
pub fn parse_stale_value(key: &[u8]) -> Result<(u64, KeyHash), StoreError> {
    let since = be_u64(key.get(1..9), "stale value index key")?;
    let hash: [u8; 32] = key
        .get(9..)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt("malformed stale value index key".into()))?;
    Ok((since, KeyHash(hash)))
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
