//! The worker's state under its home (`HOME/worker/`), so it survives restarts: its keys
//! (`keys.json`: the ed25519 worker key that signs heartbeats, reports and settlements, and
//! the x25519 key jobs are sealed to; mode 0600), and `state.json` (the device id, the leases
//! it serves, its jobs and where its lease scan stopped). Each file is replaced atomically.

use super::protocol::JobStatus;
use super::seal;
use crate::keyring::{Algo, PrivKey};
use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
struct KeysFile {
    /// ed25519 secret, hex.
    worker_key: String,
    /// x25519 secret, hex.
    enc_key: String,
}

pub struct Keys {
    pub worker: PrivKey,
    pub enc: crypto_box::SecretKey,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AgentState {
    pub device_id: Option<u64>,
    /// Leases below this id have been looked at.
    pub lease_cursor: u64,
    /// Active leases this device is on (id -> ends_at).
    pub leases: BTreeMap<u64, i64>,
    /// Jobs by "lease/job".
    pub jobs: BTreeMap<String, JobStatus>,
}

pub fn job_key(lease: u64, job: u64) -> String {
    format!("{lease}/{job}")
}

pub fn dir(home: &Path) -> PathBuf {
    home.join("worker")
}

pub fn job_dir(home: &Path, lease: u64, job: u64) -> PathBuf {
    dir(home).join("jobs").join(format!("{lease}-{job}"))
}

/// Writes `bytes` to `path` through a temporary file and a rename, mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

/// The worker's keys, made on first run.
pub fn load_or_create_keys(home: &Path) -> Result<Keys> {
    let d = dir(home);
    std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    let path = d.join("keys.json");
    if !path.exists() {
        let worker = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let enc = seal::generate();
        let f = KeysFile {
            worker_key: hex::encode(worker.to_bytes()),
            enc_key: hex::encode(enc.to_bytes()),
        };
        write_atomic(&path, &serde_json::to_vec_pretty(&f)?)?;
    }
    let f: KeysFile = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("parsing {}", path.display()))?;
    let enc = hex::decode(&f.enc_key).map_err(|e| anyhow!("enc_key: {e}"))?;
    Ok(Keys {
        worker: PrivKey::from_hex(Algo::Ed25519, &f.worker_key)?,
        enc: seal::secret_from_bytes(&enc)?,
    })
}

impl AgentState {
    pub fn load(home: &Path) -> Result<AgentState> {
        let path = dir(home).join("state.json");
        if !path.exists() {
            return Ok(AgentState::default());
        }
        serde_json::from_slice(&std::fs::read(&path)?)
            .with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, home: &Path) -> Result<()> {
        write_atomic(
            &dir(home).join("state.json"),
            &serde_json::to_vec_pretty(self)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_state_survive_a_restart() {
        let home = tempfile::tempdir().unwrap();
        let k1 = load_or_create_keys(home.path()).unwrap();
        let k2 = load_or_create_keys(home.path()).unwrap();
        assert_eq!(k1.worker.public_key(), k2.worker.public_key());
        assert_eq!(seal::public_bytes(&k1.enc), seal::public_bytes(&k2.enc));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir(home.path()).join("keys.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let mut s = AgentState::load(home.path()).unwrap();
        assert_eq!(s.device_id, None);
        s.device_id = Some(4);
        s.jobs.insert(
            job_key(1, 2),
            JobStatus {
                status: "running".into(),
                ..Default::default()
            },
        );
        s.save(home.path()).unwrap();
        let s2 = AgentState::load(home.path()).unwrap();
        assert_eq!(s2.device_id, Some(4));
        assert_eq!(s2.jobs["1/2"].status, "running");
    }
}
