//! The file keyring: one JSON file per key under `HOME/keyring/NAME.json`, holding the name,
//! algorithm, address, public key, private key and (when derived from one) the mnemonic.
//! Keys are stored UNENCRYPTED in this version (mode 0600): fine for devnets and CI, not for
//! keys that hold value.

use crate::hd;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use stoa_framework::Address;

/// The signature algorithms a Stoa account key can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    Secp256k1,
    Ed25519,
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algo::Secp256k1 => "secp256k1",
            Algo::Ed25519 => "ed25519",
        })
    }
}

impl FromStr for Algo {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "secp256k1" => Ok(Algo::Secp256k1),
            "ed25519" => Ok(Algo::Ed25519),
            other => bail!("unknown key algorithm {other:?} (use secp256k1 or ed25519)"),
        }
    }
}

impl Algo {
    /// The protobuf type URL of this algorithm's public key inside `SignerInfo.public_key`.
    pub fn pubkey_type_url(self) -> &'static str {
        match self {
            Algo::Secp256k1 => "/cosmos.crypto.secp256k1.PubKey",
            Algo::Ed25519 => "/cosmos.crypto.ed25519.PubKey",
        }
    }
}

/// A private key that can sign, with its public key and address.
#[derive(Clone)]
pub struct PrivKey {
    algo: Algo,
    secret: [u8; 32],
}

impl PrivKey {
    pub fn from_bytes(algo: Algo, secret: [u8; 32]) -> Result<Self> {
        // Validate up front, so a bad key fails at import time rather than at signing time.
        if algo == Algo::Secp256k1 {
            k256::ecdsa::SigningKey::from_bytes((&secret).into())
                .map_err(|_| anyhow!("not a valid secp256k1 private key"))?;
        }
        Ok(PrivKey { algo, secret })
    }

    pub fn from_hex(algo: Algo, hex_str: &str) -> Result<Self> {
        let bytes = hex::decode(hex_str.trim().trim_start_matches("0x"))
            .map_err(|e| anyhow!("private key is not hex: {e}"))?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| anyhow!("private key must be 32 bytes, got {}", b.len()))?;
        Self::from_bytes(algo, secret)
    }

    /// Derives the key of `algo` from a mnemonic along the standard Stoa path.
    pub fn from_mnemonic(algo: Algo, mnemonic: &str) -> Result<Self> {
        let seed = hd::seed_from_mnemonic(mnemonic)?;
        let secret = match algo {
            Algo::Secp256k1 => hd::derive_secp256k1(&seed, hd::SECP256K1_PATH)?,
            Algo::Ed25519 => hd::derive_ed25519(&seed, hd::ED25519_PATH)?,
        };
        Self::from_bytes(algo, secret)
    }

    pub fn algo(&self) -> Algo {
        self.algo
    }

    pub fn secret_hex(&self) -> String {
        hex::encode(self.secret)
    }

    /// Public key bytes as they travel in `PubKey.key`: 33-byte compressed SEC1 for
    /// secp256k1, 32 bytes for ed25519.
    pub fn public_key(&self) -> Vec<u8> {
        match self.algo {
            Algo::Secp256k1 => match k256::ecdsa::SigningKey::from_bytes((&self.secret).into()) {
                Ok(sk) => sk
                    .verifying_key()
                    .to_encoded_point(true)
                    .as_bytes()
                    .to_vec(),
                // from_bytes validated the key; an invalid one cannot be constructed.
                Err(_) => Vec::new(),
            },
            Algo::Ed25519 => ed25519_dalek::SigningKey::from_bytes(&self.secret)
                .verifying_key()
                .to_bytes()
                .to_vec(),
        }
    }

    pub fn address(&self) -> Address {
        address_of(self.algo, &self.public_key())
    }

    /// Signs `msg`: secp256k1 is ECDSA over sha256(msg) with a low-s 64-byte r||s signature
    /// (what Cosmos SDK verifies); ed25519 signs the raw bytes.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        match self.algo {
            Algo::Secp256k1 => {
                use k256::ecdsa::signature::Signer;
                let sk = k256::ecdsa::SigningKey::from_bytes((&self.secret).into())
                    .map_err(|_| anyhow!("invalid secp256k1 key"))?;
                let sig: k256::ecdsa::Signature = sk.sign(msg);
                let sig = sig.normalize_s().unwrap_or(sig);
                Ok(sig.to_bytes().to_vec())
            }
            Algo::Ed25519 => {
                use ed25519_dalek::Signer;
                let sk = ed25519_dalek::SigningKey::from_bytes(&self.secret);
                Ok(sk.sign(msg).to_bytes().to_vec())
            }
        }
    }
}

/// The account address of a public key, as Cosmos SDK computes it: ripemd160(sha256(pk)) for
/// secp256k1, sha256(pk)[..20] for ed25519.
pub fn address_of(algo: Algo, public_key: &[u8]) -> Address {
    let mut out = [0u8; 20];
    match algo {
        Algo::Secp256k1 => {
            use ripemd::Ripemd160;
            let h = Ripemd160::digest(Sha256::digest(public_key));
            out.copy_from_slice(&h);
        }
        Algo::Ed25519 => out.copy_from_slice(&Sha256::digest(public_key)[..20]),
    }
    Address(out)
}

/// One key file's content.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRecord {
    pub name: String,
    pub algo: Algo,
    pub address: String,
    /// Base64 of the public key bytes (the `key` field of Cosmos' PubKey JSON).
    pub pubkey: String,
    /// Hex of the 32-byte private key.
    pub private_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mnemonic: Option<String>,
}

impl KeyRecord {
    pub fn new(name: &str, key: &PrivKey, mnemonic: Option<String>) -> Self {
        KeyRecord {
            name: name.to_string(),
            algo: key.algo(),
            address: key.address().to_string(),
            pubkey: base64::engine::general_purpose::STANDARD.encode(key.public_key()),
            private_key: key.secret_hex(),
            mnemonic,
        }
    }

    /// The record of the `algo` key derived from `mnemonic`, which it keeps (normalised).
    pub fn from_mnemonic(name: &str, algo: Algo, mnemonic: &str) -> Result<Self> {
        let key = PrivKey::from_mnemonic(algo, mnemonic)?;
        Ok(KeyRecord::new(
            name,
            &key,
            Some(hd::normalize_mnemonic(mnemonic)),
        ))
    }

    pub fn priv_key(&self) -> Result<PrivKey> {
        PrivKey::from_hex(self.algo, &self.private_key)
            .with_context(|| format!("key {:?} is corrupt", self.name))
    }

    pub fn address(&self) -> Result<Address> {
        Address::parse(&self.address)
            .map_err(|e| anyhow!("key {:?} has a bad address: {e}", self.name))
    }
}

/// The keyring directory.
pub struct Keyring {
    dir: PathBuf,
}

/// Key names become file names: keep them to a safe alphabet so no name can escape the
/// keyring directory.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if !ok {
        bail!("invalid key name {name:?}: use 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
    }
    Ok(())
}

impl Keyring {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Keyring { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    pub fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.path(name)?.exists())
    }

    pub fn get(&self, name: &str) -> Result<KeyRecord> {
        let path = self.path(name)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!(
                    "no key named {name:?} in {} (see `stoad keys list`)",
                    self.dir.display()
                )
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid key file", path.display()))
    }

    /// Writes a new key; an existing key of the same name is an error (never overwritten).
    pub fn add(&self, record: &KeyRecord) -> Result<()> {
        let path = self.path(&record.name)?;
        if path.exists() {
            bail!(
                "a key named {:?} already exists (delete it first with `stoad keys delete`)",
                record.name
            );
        }
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let text = serde_json::to_string_pretty(record)?;
        write_private(&path, text.as_bytes())
    }

    pub fn delete(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("no key named {name:?} in {}", self.dir.display())
            }
            Err(e) => Err(e).with_context(|| format!("deleting {}", path.display())),
        }
    }

    /// All keys, sorted by name. Files that are not key files are skipped with a warning.
    pub fn list(&self) -> Result<Vec<KeyRecord>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.dir.display())),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let parsed = std::fs::read_to_string(&path)
                .map_err(anyhow::Error::from)
                .and_then(|t| serde_json::from_str::<KeyRecord>(&t).map_err(anyhow::Error::from));
            match parsed {
                Ok(r) => out.push(r),
                Err(e) => eprintln!("warning: skipping {}: {e}", path.display()),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// Writes a file readable by its owner only, since it holds a private key.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
