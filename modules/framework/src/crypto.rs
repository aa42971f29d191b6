//! Account public keys (secp256k1 and ed25519, as Cosmos SDK encodes them) and signature
//! verification: one signature at a time, or many at once (secp256k1 in parallel with rayon,
//! ed25519 in batches in parallel), for txs, vouchers, heartbeats and signed requests alike.
//!
//! secp256k1 signatures are ECDSA over sha256 of the message, 64 bytes r||s, low-s only (as
//! Cosmos SDK); ed25519 signatures are over the raw message.

use cosmrs::proto::cosmos::crypto::{ed25519, secp256k1};
use ed25519_dalek::Verifier as _;
use prost::Message;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{sdk, Address, Any, StoaError};

pub const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";
pub const ED25519_PUBKEY_URL: &str = "/cosmos.crypto.ed25519.PubKey";
pub const MULTISIG_PUBKEY_URL: &str = "/cosmos.crypto.multisig.LegacyAminoPubKey";

/// The most keys a multisig key may hold (each counts toward the tx's signature limit too).
pub const MAX_MULTISIG_KEYS: usize = 16;

/// ed25519 signatures per batch. The chunks are cut by position among the ed25519 jobs, never
/// by thread count, so a block gets the same verdicts on every machine (batch and single
/// verification of dalek disagree on some malformed signatures: the verdict must not depend on
/// the grouping a machine happened to choose).
pub const ED25519_BATCH: usize = 64;

/// An account's public key: one of the two signature schemes Stoa accepts, or a threshold
/// multisig of such keys (the Cosmos SDK's `LegacyAminoPubKey`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PubKey {
    /// 33-byte compressed point (wallet compatibility).
    Secp256k1([u8; 33]),
    /// 32 bytes (fast batch verification for agents that sign many txs).
    Ed25519([u8; 32]),
    /// `threshold` of `keys` must sign; its signatures are checked one sub-key at a time by the
    /// tx pipeline (a multisig signature carries the modes of its parts), never by [`verify`].
    Multisig(std::sync::Arc<MultisigKey>),
}

/// A threshold multisig key: single keys only (no nesting), 1 <= threshold <= keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultisigKey {
    pub threshold: u32,
    pub keys: Vec<PubKey>,
}

impl MultisigKey {
    /// A checked multisig key.
    pub fn new(threshold: u32, keys: Vec<PubKey>) -> Result<Self, StoaError> {
        let bad = |why: String| sdk::INVALID_PUBKEY.with(why);
        if keys.is_empty() || keys.len() > MAX_MULTISIG_KEYS {
            return Err(bad(format!(
                "a multisig key holds 1 to {MAX_MULTISIG_KEYS} keys, not {}",
                keys.len()
            )));
        }
        if threshold == 0 || threshold as usize > keys.len() {
            return Err(bad(format!(
                "multisig threshold {threshold} must be between 1 and the number of keys ({})",
                keys.len()
            )));
        }
        if keys.iter().any(|k| matches!(k, PubKey::Multisig(_))) {
            return Err(bad("nested multisig keys are not supported".into()));
        }
        Ok(MultisigKey { threshold, keys })
    }
}

/// The amino (binary) encoding of a key, which a multisig's address hashes (as the Cosmos SDK
/// and Tendermint's `PubKeyMultisigThreshold` do): a 4-byte type prefix, then the key bytes
/// length-prefixed, or for a multisig its threshold (field 1) and each key's encoding (field 2).
pub fn amino_binary(key: &PubKey) -> Vec<u8> {
    use prost::encoding::{encode_key, encode_varint, WireType};
    let mut out = Vec::new();
    match key {
        PubKey::Secp256k1(k) => {
            out.extend_from_slice(&[0xeb, 0x5a, 0xe9, 0x87, 33]);
            out.extend_from_slice(k);
        }
        PubKey::Ed25519(k) => {
            out.extend_from_slice(&[0x16, 0x24, 0xde, 0x64, 32]);
            out.extend_from_slice(k);
        }
        PubKey::Multisig(m) => {
            out.extend_from_slice(&[0x22, 0xc1, 0xf7, 0xe2]);
            encode_key(1, WireType::Varint, &mut out);
            encode_varint(u64::from(m.threshold), &mut out);
            for k in &m.keys {
                let inner = amino_binary(k);
                encode_key(2, WireType::LengthDelimited, &mut out);
                encode_varint(inner.len() as u64, &mut out);
                out.extend_from_slice(&inner);
            }
        }
    }
    out
}

impl PubKey {
    pub fn from_any(any: &Any) -> Result<PubKey, StoaError> {
        Self::from_parts(&any.type_url, &any.value)
    }

    /// As [`PubKey::from_any`] from the `Any`'s type URL and value.
    pub fn from_parts(type_url: &str, value: &[u8]) -> Result<PubKey, StoaError> {
        let bad = |why: String| sdk::INVALID_PUBKEY.with(why);
        match type_url {
            SECP256K1_PUBKEY_URL => {
                let pk = secp256k1::PubKey::decode(value).map_err(|e| bad(e.to_string()))?;
                let key: [u8; 33] = pk
                    .key
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad(format!("secp256k1 key of {} bytes", pk.key.len())))?;
                Ok(PubKey::Secp256k1(key))
            }
            ED25519_PUBKEY_URL => {
                let pk = ed25519::PubKey::decode(value).map_err(|e| bad(e.to_string()))?;
                let key: [u8; 32] = pk
                    .key
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad(format!("ed25519 key of {} bytes", pk.key.len())))?;
                Ok(PubKey::Ed25519(key))
            }
            MULTISIG_PUBKEY_URL => {
                let pk = cosmrs::proto::cosmos::crypto::multisig::LegacyAminoPubKey::decode(value)
                    .map_err(|e| bad(e.to_string()))?;
                if pk.public_keys.len() > MAX_MULTISIG_KEYS {
                    return Err(bad(format!(
                        "a multisig key holds at most {MAX_MULTISIG_KEYS} keys"
                    )));
                }
                let keys = pk
                    .public_keys
                    .iter()
                    .map(|k| match k.type_url.as_str() {
                        MULTISIG_PUBKEY_URL => {
                            Err(bad("nested multisig keys are not supported".into()))
                        }
                        url => PubKey::from_parts(url, &k.value),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(PubKey::Multisig(std::sync::Arc::new(MultisigKey::new(
                    pk.threshold,
                    keys,
                )?)))
            }
            other => Err(bad(format!("unsupported public key type {other:?}"))),
        }
    }

    pub fn to_any(&self) -> Any {
        match self {
            PubKey::Secp256k1(k) => Any {
                type_url: SECP256K1_PUBKEY_URL.into(),
                value: secp256k1::PubKey { key: k.to_vec() }.encode_to_vec(),
            },
            PubKey::Ed25519(k) => Any {
                type_url: ED25519_PUBKEY_URL.into(),
                value: ed25519::PubKey { key: k.to_vec() }.encode_to_vec(),
            },
            PubKey::Multisig(m) => Any {
                type_url: MULTISIG_PUBKEY_URL.into(),
                value: cosmrs::proto::cosmos::crypto::multisig::LegacyAminoPubKey {
                    threshold: m.threshold,
                    public_keys: m.keys.iter().map(PubKey::to_any).collect(),
                }
                .encode_to_vec(),
            },
        }
    }

    /// The account address the key controls, as Cosmos SDK derives it: secp256k1 is
    /// `ripemd160(sha256(key))`, ed25519 is `sha256(key)[..20]`, a multisig
    /// `sha256(amino_binary(key))[..20]`.
    pub fn address(&self) -> Address {
        let mut out = [0u8; 20];
        match self {
            PubKey::Secp256k1(k) => {
                use ripemd::Ripemd160;
                let h = Ripemd160::digest(Sha256::digest(k));
                out.copy_from_slice(&h);
            }
            PubKey::Ed25519(k) => out.copy_from_slice(&Sha256::digest(k)[..20]),
            PubKey::Multisig(_) => out.copy_from_slice(&Sha256::digest(amino_binary(self))[..20]),
        }
        Address(out)
    }

    /// Whether `sig` is this key's signature of `msg` (see [`verify`]).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        verify(self, msg, sig)
    }
}

/// One signature to check in [`verify_batch`].
#[derive(Clone, Copy, Debug)]
pub struct SigJob<'a> {
    pub pub_key: &'a PubKey,
    pub msg: &'a [u8],
    pub sig: &'a [u8],
}

/// A secp256k1 signature (64 bytes r||s over sha256 of `msg`); a high-s signature is refused.
pub fn verify_secp256k1(key: &[u8; 33], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = k256::ecdsa::VerifyingKey::from_sec1_bytes(key) else {
        return false;
    };
    let Ok(sig) = k256::ecdsa::Signature::from_slice(sig) else {
        return false;
    };
    // Cosmos SDK rejects high-s signatures: each signature has exactly one valid form. (k256
    // 0.13 refuses them in `verify` too; checked here so the rule does not hang on that.)
    if sig.normalize_s().is_some() {
        return false;
    }
    vk.verify(msg, &sig).is_ok()
}

/// An ed25519 signature (64 bytes over the raw `msg`), checked by dalek's cofactorless `verify`
/// (not `verify_strict`, which would also refuse small-order keys and `R`s: changing that would
/// change which txs are valid).
pub fn verify_ed25519(key: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    vk.verify(msg, &sig).is_ok()
}

/// Whether `sig` is `pub_key`'s signature of `msg`, in the key's scheme.
pub fn verify(pub_key: &PubKey, msg: &[u8], sig: &[u8]) -> bool {
    match pub_key {
        PubKey::Secp256k1(k) => verify_secp256k1(k, msg, sig),
        PubKey::Ed25519(k) => verify_ed25519(k, msg, sig),
        // Its parts are checked by the tx pipeline, each in its own mode.
        PubKey::Multisig(_) => false,
    }
}

/// The verdicts of all jobs, in order, computed in parallel (in the current rayon pool): each
/// secp256k1 job alone, the ed25519 jobs in batches of [`ED25519_BATCH`] cut by their position
/// among the ed25519 jobs of `jobs`. A batch that fails is checked one signature at a time, so
/// a bad signature fails only its own job.
pub fn verify_batch(jobs: &[SigJob<'_>]) -> Vec<bool> {
    let mut out = vec![false; jobs.len()];
    let ed: Vec<usize> = (0..jobs.len())
        .filter(|i| matches!(jobs[*i].pub_key, PubKey::Ed25519(_)))
        .collect();
    let secp: Vec<usize> = (0..jobs.len())
        .filter(|i| matches!(jobs[*i].pub_key, PubKey::Secp256k1(_)))
        .collect();

    let secp_verdicts: Vec<bool> = secp
        .par_iter()
        .map(|i| verify(jobs[*i].pub_key, jobs[*i].msg, jobs[*i].sig))
        .collect();
    for (i, ok) in secp.iter().zip(secp_verdicts) {
        out[*i] = ok;
    }

    let ed_verdicts: Vec<Vec<bool>> = ed
        .par_chunks(ED25519_BATCH)
        .map(|chunk| verify_ed25519_chunk(jobs, chunk))
        .collect();
    for (i, ok) in ed.iter().zip(ed_verdicts.into_iter().flatten()) {
        out[*i] = ok;
    }
    out
}

/// Batch-verifies one chunk; when the batch fails, each signature is checked alone to find the
/// bad ones.
fn verify_ed25519_chunk(jobs: &[SigJob<'_>], chunk: &[usize]) -> Vec<bool> {
    let mut keys = Vec::with_capacity(chunk.len());
    let mut sigs = Vec::with_capacity(chunk.len());
    let mut msgs = Vec::with_capacity(chunk.len());
    let mut parsed = true;
    for i in chunk {
        let job = &jobs[*i];
        let PubKey::Ed25519(k) = job.pub_key else {
            parsed = false;
            break;
        };
        match (
            ed25519_dalek::VerifyingKey::from_bytes(k),
            ed25519_dalek::Signature::from_slice(job.sig),
        ) {
            (Ok(k), Ok(s)) => {
                keys.push(k);
                sigs.push(s);
                msgs.push(job.msg);
            }
            _ => {
                parsed = false;
                break;
            }
        }
    }
    if parsed && ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return vec![true; chunk.len()];
    }
    chunk
        .iter()
        .map(|i| verify(jobs[*i].pub_key, jobs[*i].msg, jobs[*i].sig))
        .collect()
}
