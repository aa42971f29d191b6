//! Multisig accounts as the Cosmos SDK has them: a `LegacyAminoPubKey` (threshold K of N
//! public keys), its address (sha256 of the key's legacy Amino encoding, truncated to 20
//! bytes), and the pieces `tx multi-sign` assembles: the `CompactBitArray` of who signed, the
//! `ModeInfo.Multi` and the `MultiSignature`.

use crate::keyring::Algo;
use anyhow::{anyhow, bail, Result};
use cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::{CompactBitArray, MultiSignature};
use cosmos_sdk_proto::cosmos::crypto::multisig::LegacyAminoPubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, ModeInfo};
use cosmos_sdk_proto::Any;
use prost::Message;
use sha2::{Digest, Sha256};
use stoa_framework::Address;

pub const LEGACY_AMINO_PUBKEY_URL: &str = "/cosmos.crypto.multisig.LegacyAminoPubKey";

/// Legacy Amino's registered-type prefixes (the first 4 bytes of sha256 of the type name,
/// after skipping leading zero bytes), as Tendermint registered them.
const AMINO_PREFIX_MULTISIG: [u8; 4] = [0x22, 0xc1, 0xf7, 0xe2]; // tendermint/PubKeyMultisigThreshold
const AMINO_PREFIX_SECP256K1: [u8; 4] = [0xeb, 0x5a, 0xe9, 0x87]; // tendermint/PubKeySecp256k1
const AMINO_PREFIX_ED25519: [u8; 4] = [0x16, 0x24, 0xde, 0x64]; // tendermint/PubKeyEd25519

/// The `Any` of a multisig public key.
pub fn legacy_amino_pubkey_any(threshold: u32, public_keys: Vec<Any>) -> Any {
    Any {
        type_url: LEGACY_AMINO_PUBKEY_URL.into(),
        value: LegacyAminoPubKey {
            threshold,
            public_keys,
        }
        .encode_to_vec(),
    }
}

/// Decodes a multisig public key `Any`.
pub fn decode_legacy_amino_pubkey(any: &Any) -> Result<LegacyAminoPubKey> {
    if any.type_url != LEGACY_AMINO_PUBKEY_URL {
        bail!("{} is not a multisig public key", any.type_url);
    }
    LegacyAminoPubKey::decode(any.value.as_slice())
        .map_err(|e| anyhow!("bad LegacyAminoPubKey: {e}"))
}

/// The algorithm and key bytes of a single public key `Any`.
pub fn single_pubkey(any: &Any) -> Result<(Algo, Vec<u8>)> {
    let algo = match any.type_url.as_str() {
        "/cosmos.crypto.secp256k1.PubKey" => Algo::Secp256k1,
        "/cosmos.crypto.ed25519.PubKey" => Algo::Ed25519,
        other => bail!("unsupported public key type {other}"),
    };
    // Both are `bytes key = 1`.
    let key = cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey::decode(any.value.as_slice())
        .map_err(|e| anyhow!("bad public key: {e}"))?
        .key;
    Ok((algo, key))
}

fn push_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The legacy Amino binary encoding of a multisig key (`LegacyAminoPubKey.Bytes()` in the
/// SDK): the registered prefix, then field 1 `threshold` (varint) and each key as field 2
/// (length-delimited: the key's own prefix and length-prefixed bytes).
pub fn amino_bytes(key: &LegacyAminoPubKey) -> Result<Vec<u8>> {
    let mut out = AMINO_PREFIX_MULTISIG.to_vec();
    if key.threshold != 0 {
        out.push(0x08);
        push_uvarint(&mut out, u64::from(key.threshold));
    }
    for pk in &key.public_keys {
        let (algo, bytes) = single_pubkey(pk)?;
        let mut inner = match algo {
            Algo::Secp256k1 => AMINO_PREFIX_SECP256K1.to_vec(),
            Algo::Ed25519 => AMINO_PREFIX_ED25519.to_vec(),
            Algo::Multisig => bail!("a multisig key cannot hold another multisig key"),
        };
        push_uvarint(&mut inner, bytes.len() as u64);
        inner.extend_from_slice(&bytes);
        out.push(0x12);
        push_uvarint(&mut out, inner.len() as u64);
        out.extend_from_slice(&inner);
    }
    Ok(out)
}

/// The account address of a multisig key: sha256(amino bytes)[..20].
pub fn address(key: &LegacyAminoPubKey) -> Result<Address> {
    let mut a = [0u8; 20];
    a.copy_from_slice(&Sha256::digest(amino_bytes(key)?)[..20]);
    Ok(Address(a))
}

/// The address of any public key `Any` (single or multisig).
pub fn address_of_any(any: &Any) -> Result<Address> {
    if any.type_url == LEGACY_AMINO_PUBKEY_URL {
        return address(&decode_legacy_amino_pubkey(any)?);
    }
    let (algo, key) = single_pubkey(any)?;
    Ok(crate::keyring::address_of(algo, &key))
}

/// A multisig key of `threshold` out of `keys`, checked as the SDK checks it (1 <= threshold
/// <= N, no key twice); sorted by address unless `nosort`, as `keys add --multisig` does.
pub fn new_multisig(threshold: u32, mut keys: Vec<Any>, nosort: bool) -> Result<LegacyAminoPubKey> {
    if keys.is_empty() {
        bail!("a multisig key needs at least one key");
    }
    if threshold == 0 || threshold as usize > keys.len() {
        bail!(
            "threshold {threshold} must be between 1 and the number of keys ({})",
            keys.len()
        );
    }
    let mut addrs = Vec::with_capacity(keys.len());
    for k in &keys {
        addrs.push((address_of_any(k)?, k.clone()));
    }
    if !nosort {
        addrs.sort_by_key(|a| a.0 .0);
        keys = addrs.iter().map(|(_, k)| k.clone()).collect();
    }
    let mut seen = std::collections::BTreeSet::new();
    for (a, _) in &addrs {
        if !seen.insert(a.0) {
            bail!("key {a} appears twice in the multisig");
        }
    }
    Ok(LegacyAminoPubKey {
        threshold,
        public_keys: keys,
    })
}

/// A `CompactBitArray` of `n` bits with `set` on (bit i is the high bit first of byte i/8).
pub fn bit_array(n: usize, set: &[bool]) -> CompactBitArray {
    let mut elems = vec![0u8; n.div_ceil(8)];
    for (i, on) in set.iter().enumerate().take(n) {
        if *on {
            elems[i / 8] |= 1 << (7 - (i % 8));
        }
    }
    CompactBitArray {
        extra_bits_stored: (n % 8) as u32,
        elems,
    }
}

/// The `ModeInfo` and signature bytes of a multisig signer: `sigs[i]` is the signature of the
/// multisig's i-th key (in its order) if that key signed; every signature is in `mode`.
pub fn multi_signature(sigs: &[Option<Vec<u8>>], mode: SignMode) -> (ModeInfo, Vec<u8>) {
    let set: Vec<bool> = sigs.iter().map(Option::is_some).collect();
    let signed: Vec<Vec<u8>> = sigs.iter().flatten().cloned().collect();
    let mode_infos = signed
        .iter()
        .map(|_| ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: mode as i32,
            })),
        })
        .collect();
    let info = ModeInfo {
        sum: Some(mode_info::Sum::Multi(mode_info::Multi {
            bitarray: Some(bit_array(sigs.len(), &set)),
            mode_infos,
        })),
    };
    let sig = MultiSignature { signatures: signed }.encode_to_vec();
    (info, sig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn secp(b64: &str) -> Any {
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        crate::tx::pubkey_any(Algo::Secp256k1, key)
    }

    /// A 2-of-3 key whose address other Cosmos clients print (terra.js' and initia.js'
    /// tests give it as terra1gufrav46... and init1gufrav46...: the same 20 bytes), in the
    /// order given.
    #[test]
    fn address_matches_other_cosmos_clients() {
        let key = LegacyAminoPubKey {
            threshold: 2,
            public_keys: vec![
                secp("A/PwvW/JLEnhb0/o5g+AnOqMN+FFT24gjJfDtA1tBsBv"),
                secp("A9XR3uRxAD5L9kkYotz094hH6ye92YLraSO/sGhWalxb"),
                secp("AyETa9Y9ihObzeRPWMP0MBAa0Mqune3I+5KonOCPTtkv"),
            ],
        };
        let want = bech32::decode("terra1gufrav46pnpwf03yu7xz76ylkmatsxtplrxnmc")
            .unwrap()
            .1;
        assert_eq!(address(&key).unwrap().0.to_vec(), want);
        let bytes = amino_bytes(&key).unwrap();
        assert_eq!(&bytes[..7], &[0x22, 0xc1, 0xf7, 0xe2, 0x08, 0x02, 0x12]);
        assert_eq!(bytes.len(), 4 + 2 + 3 * (2 + 38));
    }

    #[test]
    fn new_multisig_sorts_by_address_and_checks_threshold() {
        let keys = vec![
            secp("A/PwvW/JLEnhb0/o5g+AnOqMN+FFT24gjJfDtA1tBsBv"),
            secp("A9XR3uRxAD5L9kkYotz094hH6ye92YLraSO/sGhWalxb"),
            secp("AyETa9Y9ihObzeRPWMP0MBAa0Mqune3I+5KonOCPTtkv"),
        ];
        let m = new_multisig(2, keys.clone(), false).unwrap();
        let addrs: Vec<_> = m
            .public_keys
            .iter()
            .map(|k| address_of_any(k).unwrap().0)
            .collect();
        let mut sorted = addrs.clone();
        sorted.sort();
        assert_eq!(addrs, sorted);
        assert_eq!(
            new_multisig(2, keys.clone(), true).unwrap().public_keys,
            keys
        );
        assert!(new_multisig(0, keys.clone(), false).is_err());
        assert!(new_multisig(4, keys.clone(), false).is_err());
        let dup = vec![keys[0].clone(), keys[0].clone()];
        assert!(new_multisig(1, dup, true).is_err());
    }

    #[test]
    fn bit_array_sets_high_bits_first() {
        let b = bit_array(3, &[true, false, true]);
        assert_eq!(b.elems, vec![0b1010_0000]);
        assert_eq!(b.extra_bits_stored, 3);
        let b = bit_array(
            9,
            &[false; 8].iter().copied().chain([true]).collect::<Vec<_>>(),
        );
        assert_eq!(b.elems, vec![0, 0b1000_0000]);
        assert_eq!(b.extra_bits_stored, 1);
    }
}
