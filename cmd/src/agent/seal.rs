//! End-to-end encryption of compute jobs: libsodium-compatible sealed boxes (X25519 +
//! XSalsa20-Poly1305, `crypto_box_seal`) from RustCrypto's `crypto_box`. The renter seals a
//! job to the device's x25519 key (on chain); only the worker opens it. The job carries the
//! renter's one-off x25519 key, to which the worker seals the result and the log. The chain
//! only ever sees the SHA-256 and the size of the sealed bytes.

use anyhow::{anyhow, bail, Result};
use base64::Engine;
use crypto_box::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes a sealed box adds to its plaintext: the ephemeral public key and the tag.
pub const SEAL_OVERHEAD: usize = 32 + 16;

/// A new x25519 secret key from the OS's randomness.
pub fn generate() -> SecretKey {
    SecretKey::generate(&mut rand_core::OsRng)
}

pub fn secret_from_bytes(b: &[u8]) -> Result<SecretKey> {
    let k: [u8; 32] = b
        .try_into()
        .map_err(|_| anyhow!("an x25519 secret key is 32 bytes, not {}", b.len()))?;
    Ok(SecretKey::from_bytes(k))
}

pub fn public_bytes(sk: &SecretKey) -> [u8; 32] {
    sk.public_key().to_bytes()
}

/// Seals `plaintext` to the x25519 public key `to` (32 bytes).
pub fn seal(to: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let pk: [u8; 32] = to
        .try_into()
        .map_err(|_| anyhow!("an x25519 public key is 32 bytes, not {}", to.len()))?;
    PublicKey::from_bytes(pk)
        .seal(&mut rand_core::OsRng, plaintext)
        .map_err(|_| anyhow!("sealing failed"))
}

/// Opens a box sealed to `sk`'s public key; fails for another key or any changed byte.
pub fn open(sk: &SecretKey, sealed: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < SEAL_OVERHEAD {
        bail!("a sealed box is at least {SEAL_OVERHEAD} bytes");
    }
    sk.unseal(sealed)
        .map_err(|_| anyhow!("the box does not open with this key (wrong key or tampered)"))
}

pub fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// What a renter seals to a device: the job and where its result goes. The ids are inside
/// the box so a sealed job cannot be replayed on another lease or device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    pub lease_id: u64,
    pub job_id: u64,
    pub device_id: u64,
    /// The renter's x25519 public key (hex) the result and log are sealed to.
    pub reply_key: String,
    /// The program to run (a script with a `#!` line, or sh), base64.
    pub script: String,
    /// A container image to run the script in where a Docker engine answers.
    #[serde(default)]
    pub image: String,
    /// Seconds the job may run (the worker also stops it at the lease's end).
    pub timeout_s: u64,
}

impl JobSpec {
    pub fn script_bytes(&self) -> Result<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.script)
            .map_err(|e| anyhow!("job script is not base64: {e}"))
    }

    pub fn reply_key_bytes(&self) -> Result<[u8; 32]> {
        hex::decode(&self.reply_key)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| anyhow!("reply_key must be 32 bytes of hex"))
    }
}

/// Seals a job spec to a device's key.
pub fn seal_job(device_enc_key: &[u8], spec: &JobSpec) -> Result<Vec<u8>> {
    seal(device_enc_key, &serde_json::to_vec(spec)?)
}

/// Opens a sealed job with the device's key.
pub fn open_job(sk: &SecretKey, sealed: &[u8]) -> Result<JobSpec> {
    let plain = open(sk, sealed)?;
    serde_json::from_slice(&plain).map_err(|e| anyhow!("the opened job is not a job spec: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(reply: &SecretKey) -> JobSpec {
        JobSpec {
            lease_id: 3,
            job_id: 1,
            device_id: 9,
            reply_key: hex::encode(public_bytes(reply)),
            script: base64::engine::general_purpose::STANDARD.encode(b"echo hi"),
            image: String::new(),
            timeout_s: 60,
        }
    }

    #[test]
    fn only_the_device_key_opens_a_job_and_the_result_only_the_renter() {
        let device = generate();
        let renter = generate();
        let s = spec(&renter);
        let sealed = seal_job(&public_bytes(&device), &s).unwrap();
        // the ciphertext shows nothing of the script
        assert!(!sealed.windows(4).any(|w| w == b"echo"));
        assert_eq!(open_job(&device, &sealed).unwrap(), s);
        let e = open_job(&renter, &sealed).unwrap_err().to_string();
        assert!(e.contains("does not open"), "{e}");
        let other = generate();
        assert!(open(&other, &sealed).is_err());

        let result = seal(&s.reply_key_bytes().unwrap(), b"42\n").unwrap();
        assert_eq!(open(&renter, &result).unwrap(), b"42\n");
        assert!(
            open(&device, &result).is_err(),
            "the worker cannot reopen the result"
        );
    }

    #[test]
    fn a_tampered_or_truncated_box_is_rejected() {
        let device = generate();
        let sealed = seal(&public_bytes(&device), b"payload").unwrap();
        assert_eq!(sealed.len(), 7 + SEAL_OVERHEAD);
        for i in [0, 31, 32, 47, 48, sealed.len() - 1] {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert!(open(&device, &t).is_err(), "byte {i} flipped still opened");
        }
        assert!(open(&device, &sealed[..sealed.len() - 1]).is_err());
        assert!(open(&device, &sealed[..10]).is_err());
        // two seals of the same plaintext differ (a fresh ephemeral key each time)
        assert_ne!(sealed, seal(&public_bytes(&device), b"payload").unwrap());
    }

    #[test]
    fn keys_round_trip_through_bytes() {
        let k = generate();
        let k2 = secret_from_bytes(&k.to_bytes()).unwrap();
        assert_eq!(public_bytes(&k), public_bytes(&k2));
        assert!(secret_from_bytes(&[1; 31]).is_err());
        assert!(seal(&[1; 31], b"x").is_err());
    }
}
