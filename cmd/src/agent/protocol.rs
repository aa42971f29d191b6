//! The worker's HTTP API, shared by `stoad worker run` (server) and `stoad rent` (client):
//! `POST /v1/jobs` takes a sealed job signed by the lease's renter, `GET /v1/jobs/L/J` its
//! status, `GET /v1/jobs/L/J/result` and `/log` the sealed result and log, `GET /v1/status`.

use anyhow::{anyhow, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// What the renter's account key signs for an upload: the domain, then the lease, job and
/// device ids (8 bytes big-endian each) and the SHA-256 of the sealed payload. Only the
/// lease's renter can start jobs on it, and a signature fits one payload on one device.
pub fn upload_sign_bytes(
    lease_id: u64,
    job_id: u64,
    device_id: u64,
    payload_hash: &[u8],
) -> Vec<u8> {
    let mut out = b"stoa/compute/job-upload".to_vec();
    out.extend_from_slice(&lease_id.to_be_bytes());
    out.extend_from_slice(&job_id.to_be_bytes());
    out.extend_from_slice(&device_id.to_be_bytes());
    out.extend_from_slice(payload_hash);
    out
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobUpload {
    pub lease_id: u64,
    pub job_id: u64,
    pub device_id: u64,
    /// The sealed job, base64.
    pub payload: String,
    /// The renter's signature over [`upload_sign_bytes`], base64.
    pub signature: String,
}

impl JobUpload {
    pub fn payload_bytes(&self) -> Result<Vec<u8>> {
        b64_decode(&self.payload, "payload")
    }
    pub fn signature_bytes(&self) -> Result<Vec<u8>> {
        b64_decode(&self.signature, "signature")
    }
}

/// A job as the worker knows it; hashes in hex (empty until known).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    pub lease_id: u64,
    pub job_id: u64,
    pub device_id: u64,
    /// "running", "succeeded" or "failed" (as on chain).
    pub status: String,
    pub exit_code: i32,
    pub payload_hash: String,
    pub payload_size: u64,
    pub result_hash: String,
    pub log_hash: String,
    /// Whether the record with these figures is on chain.
    pub reported: bool,
    /// Unix seconds the job started and ended (local clock, for the supplier's log only).
    pub started: u64,
    pub ended: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
}

pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn b64_decode(s: &str, what: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| anyhow!("{what} is not base64: {e}"))
}
