//! The keyring: one JSON file per key, `NAME.json`, holding the name, algorithm, address and
//! public key in the clear and the private key and mnemonic either sealed with the keyring's
//! passphrase (the `file` backend, in `HOME/keyring-file`) or in the clear (the `test`
//! backend, in `HOME/keyring-test`, for devnets and CI), as Cosmos SDK's two backends of the
//! same names. Files are created with mode 0600 either way.

use crate::hd;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;
use stoa_framework::Address;
use zeroize::{Zeroize, Zeroizing};

/// The signature algorithms a Stoa account key can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    Secp256k1,
    Ed25519,
    /// An offline multisig key (`keys add --multisig`): its `pubkey` is a LegacyAminoPubKey;
    /// it has no secret and never signs itself.
    #[value(skip)]
    Multisig,
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algo::Secp256k1 => "secp256k1",
            Algo::Ed25519 => "ed25519",
            Algo::Multisig => "multisig",
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
            Algo::Multisig => crate::multisig::LEGACY_AMINO_PUBKEY_URL,
        }
    }
}

/// A private key that can sign, with its public key and address.
#[derive(Clone)]
pub struct PrivKey {
    algo: Algo,
    secret: [u8; 32],
}

impl Drop for PrivKey {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl PrivKey {
    pub fn from_bytes(algo: Algo, secret: [u8; 32]) -> Result<Self> {
        // Validate up front, so a bad key fails at import time rather than at signing time.
        if algo == Algo::Multisig {
            bail!("a multisig key has no private key");
        }
        if algo == Algo::Secp256k1 {
            k256::ecdsa::SigningKey::from_bytes((&secret).into())
                .map_err(|_| anyhow!("not a valid secp256k1 private key"))?;
        }
        Ok(PrivKey { algo, secret })
    }

    pub fn from_hex(algo: Algo, hex_str: &str) -> Result<Self> {
        let bytes = Zeroizing::new(
            hex::decode(hex_str.trim().trim_start_matches("0x"))
                .map_err(|e| anyhow!("private key is not hex: {e}"))?,
        );
        let mut secret: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| anyhow!("private key must be 32 bytes, got {}", bytes.len()))?;
        let key = Self::from_bytes(algo, secret);
        secret.zeroize();
        key
    }

    /// Derives the key of `algo` from a mnemonic along the standard Stoa path.
    pub fn from_mnemonic(algo: Algo, mnemonic: &str) -> Result<Self> {
        let seed = hd::seed_from_mnemonic(mnemonic)?;
        let secret = match algo {
            Algo::Secp256k1 => hd::derive_secp256k1(&seed, hd::SECP256K1_PATH)?,
            Algo::Ed25519 => hd::derive_ed25519(&seed, hd::ED25519_PATH)?,
            Algo::Multisig => bail!("a multisig key is not derived from a mnemonic"),
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
            // from_bytes refuses it: no PrivKey of this algorithm exists.
            Algo::Multisig => Vec::new(),
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
            Algo::Multisig => bail!("a multisig key cannot sign: use tx multi-sign"),
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
        // A key that does not decode keeps the zero address, which no one can sign for.
        Algo::Multisig => {
            use prost::Message;
            let key =
                cosmos_sdk_proto::cosmos::crypto::multisig::LegacyAminoPubKey::decode(public_key);
            if let Some(a) = key.ok().and_then(|k| crate::multisig::address(&k).ok()) {
                return a;
            }
        }
    }
    Address(out)
}

/// What anyone may see of a key: enough to list it, show it and name it as an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub name: String,
    pub algo: Algo,
    pub address: String,
    /// Base64 of the public key bytes (the `key` field of Cosmos' PubKey JSON).
    pub pubkey: String,
}

impl KeyInfo {
    pub fn address(&self) -> Result<Address> {
        Address::parse(&self.address)
            .map_err(|e| anyhow!("key {:?} has a bad address: {e}", self.name))
    }
}

/// A whole key: its public part and its secrets.
#[derive(Clone, Debug)]
pub struct KeyRecord {
    pub info: KeyInfo,
    pub secrets: Secrets,
}

/// What must not leak: the private key and, when derived from one, the mnemonic.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Secrets {
    /// Hex of the 32-byte private key.
    pub private_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mnemonic: Option<String>,
}

impl Drop for Secrets {
    fn drop(&mut self) {
        self.private_key.zeroize();
        self.mnemonic.zeroize();
    }
}

impl KeyRecord {
    pub fn new(name: &str, key: &PrivKey, mnemonic: Option<String>) -> Self {
        KeyRecord {
            info: KeyInfo {
                name: name.to_string(),
                algo: key.algo(),
                address: key.address().to_string(),
                pubkey: base64::engine::general_purpose::STANDARD.encode(key.public_key()),
            },
            secrets: Secrets {
                private_key: key.secret_hex(),
                mnemonic,
            },
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
        PrivKey::from_hex(self.info.algo, &self.secrets.private_key)
            .with_context(|| format!("key {:?} is corrupt", self.info.name))
    }
}

/// How a keyring keeps its keys' secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Sealed with a key derived from the keyring's passphrase (argon2id, XChaCha20-Poly1305).
    File,
    /// In the clear: for devnets and tests, never for keys that hold value.
    Test,
}

impl Backend {
    /// The directory name under the home, as Cosmos SDK names it.
    pub fn dir_name(self) -> &'static str {
        match self {
            Backend::File => "keyring-file",
            Backend::Test => "keyring-test",
        }
    }

    /// A backend by the name the flag takes (`file`, `test`).
    pub fn parse(s: &str) -> Result<Self> {
        <Backend as clap::ValueEnum>::from_str(s, false)
            .map_err(|_| anyhow!("unknown keyring backend {s:?} (use file or test)"))
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::File => "file",
            Backend::Test => "test",
        })
    }
}

/// Where the `file` backend's passphrase comes from.
pub enum Passphrase {
    /// Asked on the terminal without echo, or read as lines from stdin when it is not one
    /// (`echo ... | stoad keys add`), as Cosmos SDK reads it.
    Prompt,
    /// Given by the program (library users and tests).
    Given(String),
}

/// Cosmos SDK's file keyring asks for at least this many characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// The `file` backend's `keyhash`: how the keyring key is derived from the passphrase, and a
/// token sealed with that key, which opens only with the right passphrase.
#[derive(Serialize, Deserialize)]
struct KeyHash {
    #[serde(flatten)]
    kdf: Kdf,
    check: Sealed,
}

/// How the keyring key is derived from the passphrase.
#[derive(Serialize, Deserialize)]
struct Kdf {
    kdf: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    /// Base64 of the argon2id salt.
    salt: String,
}

/// An XChaCha20-Poly1305 ciphertext and its nonce (both base64).
#[derive(Serialize, Deserialize)]
struct Sealed {
    nonce: String,
    ciphertext: String,
}

/// One key file as stored: the public part, and the secrets in the clear (`private_key`,
/// `mnemonic`: the `test` backend, and the files of earlier versions) or `sealed`.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    #[serde(flatten)]
    info: KeyInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mnemonic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

const KEYHASH_FILE: &str = "keyhash";
const CHECK_TOKEN: &[u8] = b"stoa keyring";
/// argon2id with the argon2 crate's defaults (19 MiB, 2 passes, 1 lane): OWASP's minimum,
/// about 50 ms here, paid once per command that needs a secret.
const KDF_MEMORY_KIB: u32 = 19 * 1024;
const KDF_ITERATIONS: u32 = 2;
const KDF_PARALLELISM: u32 = 1;

/// The sealed secrets are bound to the key they belong to: a file copied under another name
/// or with another address does not open.
fn associated_data(info: &KeyInfo) -> Vec<u8> {
    format!(
        "stoa-keyring-v1\0{}\0{}\0{}\0{}",
        info.name, info.algo, info.address, info.pubkey
    )
    .into_bytes()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(what: &str, s: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| anyhow!("{what} is not base64: {e}"))
}

fn seal(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Sealed> {
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let ciphertext = XChaCha20Poly1305::new(key.into())
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| anyhow!("sealing failed"))?;
    Ok(Sealed {
        nonce: b64(&nonce),
        ciphertext: b64(&ciphertext),
    })
}

/// The plaintext, or `None` when the key (the passphrase) or the associated data is wrong.
fn open(key: &[u8; 32], sealed: &Sealed, aad: &[u8]) -> Result<Option<Vec<u8>>> {
    let nonce: [u8; 24] = unb64("nonce", &sealed.nonce)?
        .try_into()
        .map_err(|n: Vec<u8>| anyhow!("nonce of {} bytes (want 24)", n.len()))?;
    let ciphertext = unb64("ciphertext", &sealed.ciphertext)?;
    Ok(XChaCha20Poly1305::new(key.into())
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .ok())
}

impl Kdf {
    /// This version's parameters with a fresh random salt.
    fn new_random() -> Self {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        Kdf {
            kdf: "argon2id".into(),
            memory_kib: KDF_MEMORY_KIB,
            iterations: KDF_ITERATIONS,
            parallelism: KDF_PARALLELISM,
            salt: b64(&salt),
        }
    }

    fn derive(&self, passphrase: &str) -> Result<[u8; 32]> {
        if self.kdf != "argon2id" {
            bail!("unknown key derivation {:?}", self.kdf);
        }
        let params =
            argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
                .map_err(|e| anyhow!("bad argon2 parameters: {e}"))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = [0u8; 32];
        argon
            .hash_password_into(passphrase.as_bytes(), &unb64("salt", &self.salt)?, &mut key)
            .map_err(|e| anyhow!("deriving the keyring key: {e}"))?;
        Ok(key)
    }
}

/// One line of a secret: from the terminal without echo, else from stdin.
fn read_secret(prompt: &str) -> Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .context("reading the passphrase");
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the passphrase from stdin")?;
    let secret = line.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        bail!("the file keyring needs its passphrase: type it, or give it as a line on stdin (or use --keyring-backend test for a devnet)");
    }
    Ok(Zeroizing::new(secret.to_string()))
}

/// The keyring directory and its backend.
pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
    passphrase: Passphrase,
    /// The keyring key, derived at most once per process.
    key: OnceLock<[u8; 32]>,
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
    pub fn new(dir: impl Into<PathBuf>, backend: Backend, passphrase: Passphrase) -> Self {
        Keyring {
            dir: dir.into(),
            backend,
            passphrase,
            key: OnceLock::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    pub fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.path(name)?.exists())
    }

    fn read(&self, name: &str) -> Result<StoredKey> {
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

    /// The public part of a key (no passphrase needed).
    pub fn get(&self, name: &str) -> Result<KeyInfo> {
        Ok(self.read(name)?.info)
    }

    /// The whole key, secrets included: the `file` backend asks for the passphrase.
    pub fn unlock(&self, name: &str) -> Result<KeyRecord> {
        let stored = self.read(name)?;
        let secrets = match (stored.private_key, stored.sealed) {
            (Some(private_key), None) => Secrets {
                private_key,
                mnemonic: stored.mnemonic,
            },
            (None, Some(sealed)) => {
                let key = self.keyring_key(false)?;
                let plain = open(&key, &sealed, &associated_data(&stored.info))?
                    .map(Zeroizing::new)
                    .ok_or_else(|| anyhow!("key {name:?} does not open with this keyring's key (its file was altered or comes from another keyring)"))?;
                serde_json::from_slice(&plain)
                    .with_context(|| format!("key {name:?} holds no valid secrets"))?
            }
            (None, None) if stored.info.algo == Algo::Multisig => bail!(
                "{name:?} is an offline multisig key: it cannot sign; its members sign with \
                 `stoad tx sign --multisig` and `stoad tx multi-sign` combines their signatures"
            ),
            _ => bail!("key file of {name:?} has neither or both of clear and sealed secrets"),
        };
        Ok(KeyRecord {
            info: stored.info,
            secrets,
        })
    }

    /// The keyring key: derived from the passphrase and checked against `keyhash`; when the
    /// keyring has none yet and `create`, made from a passphrase entered twice.
    fn keyring_key(&self, create: bool) -> Result<[u8; 32]> {
        if let Some(k) = self.key.get() {
            return Ok(*k);
        }
        let path = self.dir.join(KEYHASH_FILE);
        let key = if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let hash: KeyHash = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid keyhash file", path.display()))?;
            let passphrase = self.passphrase("Enter keyring passphrase: ")?;
            let key = hash.kdf.derive(&passphrase)?;
            if open(&key, &hash.check, KEYHASH_FILE.as_bytes())?.as_deref() != Some(CHECK_TOKEN) {
                bail!(
                    "incorrect passphrase for the keyring in {}",
                    self.dir.display()
                );
            }
            key
        } else if create {
            let passphrase = self.passphrase("Enter keyring passphrase: ")?;
            if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
                bail!(
                    "the keyring passphrase must have at least {MIN_PASSPHRASE_CHARS} characters"
                );
            }
            if matches!(self.passphrase, Passphrase::Prompt)
                && read_secret("Re-enter keyring passphrase: ")? != passphrase
            {
                bail!("the passphrases do not match");
            }
            let kdf = Kdf::new_random();
            let key = kdf.derive(&passphrase)?;
            let hash = KeyHash {
                kdf,
                check: seal(&key, CHECK_TOKEN, KEYHASH_FILE.as_bytes())?,
            };
            std::fs::create_dir_all(&self.dir)
                .with_context(|| format!("creating {}", self.dir.display()))?;
            write_private(&path, serde_json::to_string_pretty(&hash)?.as_bytes())?;
            key
        } else {
            bail!("the keyring in {} has no keyhash file", self.dir.display());
        };
        Ok(*self.key.get_or_init(|| key))
    }

    fn passphrase(&self, prompt: &str) -> Result<Zeroizing<String>> {
        match &self.passphrase {
            Passphrase::Given(p) => Ok(Zeroizing::new(p.clone())),
            Passphrase::Prompt => read_secret(prompt),
        }
    }

    /// Writes a new key; an existing key of the same name is an error (never overwritten).
    pub fn add(&self, record: &KeyRecord) -> Result<()> {
        let path = self.path(&record.info.name)?;
        if path.exists() {
            bail!(
                "a key named {:?} already exists (delete it first with `stoad keys delete`)",
                record.info.name
            );
        }
        let stored = match self.backend {
            Backend::Test => StoredKey {
                info: record.info.clone(),
                private_key: Some(record.secrets.private_key.clone()),
                mnemonic: record.secrets.mnemonic.clone(),
                sealed: None,
            },
            Backend::File => {
                let key = self.keyring_key(true)?;
                let plain = Zeroizing::new(serde_json::to_vec(&record.secrets)?);
                StoredKey {
                    info: record.info.clone(),
                    private_key: None,
                    mnemonic: None,
                    sealed: Some(seal(&key, &plain, &associated_data(&record.info))?),
                }
            }
        };
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        write_private(&path, serde_json::to_string_pretty(&stored)?.as_bytes())
    }

    /// Writes a key that has no secret (a multisig key): never sealed, never a passphrase.
    pub fn add_offline(&self, info: &KeyInfo) -> Result<()> {
        let path = self.path(&info.name)?;
        if path.exists() {
            bail!(
                "a key named {:?} already exists (delete it first with `stoad keys delete`)",
                info.name
            );
        }
        let stored = StoredKey {
            info: info.clone(),
            private_key: None,
            mnemonic: None,
            sealed: None,
        };
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        write_private(&path, serde_json::to_string_pretty(&stored)?.as_bytes())
    }

    /// The key whose address is `address`, if the keyring has one.
    pub fn find_by_address(&self, address: &Address) -> Result<Option<KeyInfo>> {
        let want = address.to_string();
        Ok(self.list()?.into_iter().find(|k| k.address == want))
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

    /// The public part of all keys, sorted by name. Files that are not key files are skipped
    /// with a warning.
    pub fn list(&self) -> Result<Vec<KeyInfo>> {
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
                .and_then(|t| serde_json::from_str::<StoredKey>(&t).map_err(anyhow::Error::from));
            match parsed {
                Ok(r) => out.push(r.info),
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
