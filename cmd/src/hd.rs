//! Hierarchical key derivation from BIP39 mnemonics: BIP32 for secp256k1 (the Cosmos path
//! m/44'/118'/0'/0/0) and SLIP-0010 for ed25519 (m/44'/118'/0'/0'/0', every level hardened,
//! because SLIP-0010 defines no public derivation on ed25519).

use anyhow::{anyhow, bail, Context, Result};
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// Cosmos' registered SLIP-0044 coin type; wallets such as Keplr derive the same keys.
pub const COIN_TYPE: u32 = 118;
/// The BIP44 path `stoad keys` uses for secp256k1 keys.
pub const SECP256K1_PATH: &str = "m/44'/118'/0'/0/0";
/// The SLIP-0010 path `stoad keys` uses for ed25519 keys.
pub const ED25519_PATH: &str = "m/44'/118'/0'/0'/0'";

const HARDENED: u32 = 0x8000_0000;

/// A mnemonic with its words separated by single spaces (any whitespace is accepted in input).
pub fn normalize_mnemonic(mnemonic: &str) -> String {
    mnemonic.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses a mnemonic (any whitespace between words) and returns its BIP39 seed with the empty
/// passphrase, as Cosmos SDK's keyring does.
pub fn seed_from_mnemonic(mnemonic: &str) -> Result<[u8; 64]> {
    let m = bip39::Mnemonic::parse_normalized(&normalize_mnemonic(mnemonic))
        .map_err(|e| anyhow!("invalid BIP39 mnemonic: {e}"))?;
    Ok(m.to_seed(""))
}

/// A fresh 24-word mnemonic from the operating system's random source.
pub fn generate_mnemonic() -> Result<String> {
    use rand_core::{OsRng, RngCore};
    let mut entropy = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut entropy)
        .map_err(|e| anyhow!("no randomness from the operating system: {e}"))?;
    let m = bip39::Mnemonic::from_entropy(&entropy).map_err(|e| anyhow!("mnemonic: {e}"))?;
    Ok(m.to_string())
}

/// BIP32 derivation of a secp256k1 private key (32 bytes) along `path`.
pub fn derive_secp256k1(seed: &[u8], path: &str) -> Result<[u8; 32]> {
    let path: bip32::DerivationPath = path
        .parse()
        .map_err(|e| anyhow!("invalid derivation path {path:?}: {e}"))?;
    let xprv = bip32::XPrv::derive_from_path(seed, &path)
        .map_err(|e| anyhow!("BIP32 derivation failed: {e}"))?;
    Ok(xprv.private_key().to_bytes().into())
}

/// A SLIP-0010 ed25519 node: private key and chain code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slip10Node {
    pub private_key: [u8; 32],
    pub chain_code: [u8; 32],
}

fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> [u8; 64] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn split(i: [u8; 64]) -> Slip10Node {
    let mut private_key = [0u8; 32];
    let mut chain_code = [0u8; 32];
    private_key.copy_from_slice(&i[..32]);
    chain_code.copy_from_slice(&i[32..]);
    Slip10Node {
        private_key,
        chain_code,
    }
}

/// SLIP-0010 ed25519 master node of `seed`.
pub fn slip10_master(seed: &[u8]) -> Slip10Node {
    split(hmac_sha512(b"ed25519 seed", &[seed]))
}

/// SLIP-0010 ed25519 hardened child `index` (the hardened bit is added if missing).
pub fn slip10_child(parent: &Slip10Node, index: u32) -> Slip10Node {
    let i = (index | HARDENED).to_be_bytes();
    split(hmac_sha512(
        &parent.chain_code,
        &[&[0u8], &parent.private_key, &i],
    ))
}

/// Parses `m/a'/b'/...` into indices. For ed25519 every level must be hardened: SLIP-0010
/// has no non-hardened derivation on this curve, so an unmarked level is an error rather
/// than silently hardened.
pub fn parse_hardened_path(path: &str) -> Result<Vec<u32>> {
    let mut parts = path.split('/');
    if parts.next() != Some("m") {
        bail!("derivation path {path:?} must start with m/");
    }
    parts
        .map(|p| {
            let digits = p
                .strip_suffix('\'')
                .or_else(|| p.strip_suffix('H'))
                .or_else(|| p.strip_suffix('h'))
                .ok_or_else(|| {
                    anyhow!(
                        "level {p:?} of {path:?} is not hardened; ed25519 needs hardened levels"
                    )
                })?;
            let n: u32 = digits
                .parse()
                .with_context(|| format!("level {p:?} of {path:?}"))?;
            if n >= HARDENED {
                bail!("level {p:?} of {path:?} is too large");
            }
            Ok(n | HARDENED)
        })
        .collect()
}

/// SLIP-0010 ed25519 derivation of `seed` along `path`.
pub fn derive_ed25519_node(seed: &[u8], path: &str) -> Result<Slip10Node> {
    let mut node = slip10_master(seed);
    for index in parse_hardened_path(path)? {
        node = slip10_child(&node, index);
    }
    Ok(node)
}

/// SLIP-0010 ed25519 private key (the 32-byte seed of the ed25519 key pair) along `path`.
pub fn derive_ed25519(seed: &[u8], path: &str) -> Result<[u8; 32]> {
    Ok(derive_ed25519_node(seed, path)?.private_key)
}
