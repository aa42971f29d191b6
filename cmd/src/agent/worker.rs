//! The worker agent's running parts: heartbeats answering the device's challenge as soon as
//! it is drawn, the watch over the leases its device is on (found by scanning new lease ids),
//! periodic settlement (the supplier's earnings), and the jobs: a sealed upload checked
//! against the chain (active lease with this device, signed by its renter, hash consistent
//! with any record), opened, run, its result and log sealed to the renter, and its record
//! (`MsgReportJob`) put on chain, retried until it lands. Every tx is signed by the worker
//! key's own account, one at a time.

use super::chain;
use super::jobs;
use super::protocol::{upload_sign_bytes, JobStatus, JobUpload};
use super::seal;
use super::state::{job_dir, job_key, AgentState, Keys};
use crate::cli::{NodeArgs, TxFlags};
use crate::commands::Ctx;
use anyhow::{anyhow, Result};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stoa_compute::heartbeat::{challenge_answer, heartbeat_sign_bytes};
use stoa_framework::crypto::PubKey;
use stoa_proto::compute::v1 as pb;

pub struct Agent {
    pub ctx: Ctx,
    pub node: NodeArgs,
    pub flags: TxFlags,
    pub keys: Keys,
    pub device_id: u64,
    pub home: PathBuf,
    pub state: Mutex<AgentState>,
    /// Held while a tx of the worker account is in flight (one sequence number at a time).
    pub tx_lock: tokio::sync::Mutex<()>,
    /// Jobs naming an image run in Docker.
    pub docker: bool,
    pub max_job_seconds: u64,
    pub max_payload: usize,
    pub settle_every: Duration,
    pub net_mbps: u32,
    pub json_log: bool,
    /// Failed report attempts per job, in this run.
    pub report_failures: Mutex<std::collections::BTreeMap<String, u32>>,
    /// Reports being sent ("lease/job/status").
    pub in_flight: Mutex<std::collections::BTreeSet<String>>,
}

/// A job record the chain keeps refusing is given up after this many tries.
const MAX_REPORT_TRIES: u32 = 10;

/// An HTTP status and message for a refused request.
pub struct Refused(pub u16, pub String);

fn refused(code: u16, msg: impl Into<String>) -> Refused {
    Refused(code, msg.into())
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Agent {
    pub fn worker_address(&self) -> String {
        self.keys.worker.address().to_string()
    }

    /// One line of the agent's log: text on stderr, or a JSON line on stdout with
    /// `--output json`.
    pub fn log(&self, event: &str, fields: serde_json::Value) {
        if self.json_log {
            let mut v = serde_json::json!({ "time": unix_now(), "event": event });
            if let (Some(o), serde_json::Value::Object(f)) = (v.as_object_mut(), fields) {
                o.extend(f);
            }
            crate::outln!("{v}");
        } else {
            let rest = match fields {
                serde_json::Value::Object(f) => f
                    .iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => format!("{k}={s}"),
                        v => format!("{k}={v}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
            eprintln!("stoad worker [{}]: {event} {rest}", unix_now());
        }
    }

    /// Sends messages signed by the worker key, one tx at a time.
    pub async fn send(&self, msgs: Vec<cosmos_sdk_proto::Any>) -> Result<String> {
        let _guard = self.tx_lock.lock().await;
        let out = chain::send(&self.ctx, &self.node, &self.keys.worker, msgs, &self.flags).await?;
        Ok(out.txhash)
    }

    fn save_state(&self, st: &AgentState) {
        if let Err(e) = st.save(&self.home) {
            self.log(
                "state_not_saved",
                serde_json::json!({ "error": format!("{e:#}") }),
            );
        }
    }

    // ---- heartbeats ---------------------------------------------------------------------

    /// Answers the device's current challenge when it is drawn and not yet answered.
    pub async fn heartbeat_once(&self, last_status: &mut String) -> Result<()> {
        let mut q = chain::compute(&self.node).await?;
        let r = chain::device(&mut q, self.device_id).await?;
        let d = r
            .device
            .ok_or_else(|| anyhow!("device {} not found", self.device_id))?;
        if d.status != *last_status {
            self.log(
                "device_status",
                serde_json::json!({ "device": d.id, "status": d.status }),
            );
            *last_status = d.status.clone();
        }
        let Ok(seed) = <[u8; 32]>::try_from(r.challenge_seed.as_slice()) else {
            return Ok(());
        };
        if r.challenge_time <= d.last_challenge {
            return Ok(());
        }
        let mut m = pb::MsgHeartbeat {
            sender: self.worker_address(),
            device_id: self.device_id,
            challenge_time: r.challenge_time,
            answer: challenge_answer(self.device_id, &seed),
            net_mbps: self.net_mbps,
            gpu_util_bps: 0,
            gpu_temp_c: 0,
            signature: Vec::new(),
        };
        m.signature = self.keys.worker.sign(&heartbeat_sign_bytes(&m))?;
        let hash = self.send(vec![chain::any(&m)]).await?;
        self.log(
            "heartbeat",
            serde_json::json!({ "device": self.device_id, "challenge": r.challenge_time, "tx": hash }),
        );
        Ok(())
    }

    pub async fn heartbeat_loop(&self) {
        let mut status = String::new();
        loop {
            if let Err(e) = self.heartbeat_once(&mut status).await {
                self.log(
                    "heartbeat_failed",
                    serde_json::json!({ "error": format!("{e:#}") }),
                );
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    // ---- leases -------------------------------------------------------------------------

    /// Looks at the leases opened since the last scan, follows the known ones, settles the
    /// active ones when due and reports what is not yet on chain.
    pub async fn leases_once(&self, last_settle: &mut u64) -> Result<()> {
        let mut q = chain::compute(&self.node).await?;
        let mut cursor = self
            .state
            .lock()
            .map_err(|_| anyhow!("state lock"))?
            .lease_cursor;
        while let Some(l) = chain::lease(&mut q, cursor).await? {
            if l.state == "active" && l.parts.iter().any(|p| p.device_id == self.device_id) {
                let part = l.parts.iter().find(|p| p.device_id == self.device_id);
                self.log(
                    "lease_opened",
                    serde_json::json!({
                        "lease": l.id, "renter": l.renter, "denom": l.denom,
                        "gpus": part.map_or(0, |p| p.gpu_count),
                        "price_per_gpu_hour": part.map(|p| p.price_per_gpu_hour.clone()),
                        "ends_at": l.ends_at,
                    }),
                );
                let mut st = self.state.lock().map_err(|_| anyhow!("state lock"))?;
                st.leases.insert(l.id, l.ends_at);
            }
            cursor = l.id + 1;
        }
        let known: Vec<u64> = {
            let mut st = self.state.lock().map_err(|_| anyhow!("state lock"))?;
            st.lease_cursor = cursor;
            self.save_state(&st);
            st.leases.keys().copied().collect()
        };
        let settle = unix_now() >= *last_settle + self.settle_every.as_secs();
        for id in known {
            match chain::lease(&mut q, id).await? {
                Some(l) if l.state == "active" => {
                    if settle {
                        let m = pb::MsgSettleLease {
                            sender: self.worker_address(),
                            lease_id: id,
                        };
                        match self.send(vec![chain::any(&m)]).await {
                            Ok(tx) => {
                                self.log("settled", serde_json::json!({ "lease": id, "tx": tx }))
                            }
                            Err(e) => self.log(
                                "settle_failed",
                                serde_json::json!({ "lease": id, "error": format!("{e:#}") }),
                            ),
                        }
                    }
                }
                other => {
                    let part = other.as_ref().and_then(|l| {
                        l.parts
                            .iter()
                            .find(|p| p.device_id == self.device_id)
                            .cloned()
                    });
                    self.log(
                        "lease_closed",
                        serde_json::json!({
                            "lease": id,
                            "reason": other.as_ref().map(|l| l.close_reason.clone()),
                            "paid": part.map(|p| p.paid),
                        }),
                    );
                    let mut st = self.state.lock().map_err(|_| anyhow!("state lock"))?;
                    st.leases.remove(&id);
                    self.save_state(&st);
                }
            }
        }
        if settle {
            *last_settle = unix_now();
        }
        self.report_pending().await;
        Ok(())
    }

    pub async fn lease_loop(&self) {
        let mut last_settle = unix_now();
        loop {
            if let Err(e) = self.leases_once(&mut last_settle).await {
                self.log(
                    "lease_watch_failed",
                    serde_json::json!({ "error": format!("{e:#}") }),
                );
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    // ---- jobs ---------------------------------------------------------------------------

    /// Puts a job's record on chain as the agent has it.
    async fn report(&self, j: &JobStatus) -> Result<String> {
        let unhex = |s: &str| hex::decode(s).unwrap_or_default();
        let m = pb::MsgReportJob {
            sender: self.worker_address(),
            lease_id: j.lease_id,
            device_id: j.device_id,
            job_id: j.job_id,
            payload_hash: unhex(&j.payload_hash),
            payload_size: j.payload_size,
            status: j.status.clone(),
            exit_code: j.exit_code,
            log_hash: unhex(&j.log_hash),
            result_hash: unhex(&j.result_hash),
        };
        self.send(vec![chain::any(&m)]).await
    }

    /// Reports and records one job's current figures (once at a time per job and status).
    async fn report_and_mark(&self, j: JobStatus) {
        let flight = format!("{}/{}/{}", j.lease_id, j.job_id, j.status);
        if !self
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(flight.clone())
        {
            return;
        }
        self.report_and_mark_now(&j).await;
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&flight);
    }

    async fn report_and_mark_now(&self, j: &JobStatus) {
        let j = j.clone();
        match self.report(&j).await {
            Ok(tx) => {
                self.log(
                    "job_reported",
                    serde_json::json!({
                        "lease": j.lease_id, "job": j.job_id, "status": j.status,
                        "exit_code": j.exit_code, "tx": tx,
                    }),
                );
                if let Ok(mut st) = self.state.lock() {
                    if let Some(cur) = st.jobs.get_mut(&job_key(j.lease_id, j.job_id)) {
                        // Only if nothing changed meanwhile (the job may have finished).
                        if cur.status == j.status {
                            cur.reported = true;
                        }
                    }
                    self.save_state(&st);
                }
            }
            Err(e) => {
                // Already on chain (an earlier attempt landed after all)? Then it is done.
                let landed = match chain::compute(&self.node).await {
                    Ok(mut q) => chain::jobs(&mut q, j.lease_id).await.is_ok_and(|list| {
                        list.iter()
                            .any(|c| c.job_id == j.job_id && c.status == j.status)
                    }),
                    Err(_) => false,
                };
                let key = job_key(j.lease_id, j.job_id);
                let tries = {
                    let mut f = self
                        .report_failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    let n = f.entry(key.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                let give_up = !landed && tries >= MAX_REPORT_TRIES;
                self.log(
                    if landed { "job_reported" } else if give_up { "job_report_abandoned" } else { "job_report_failed" },
                    serde_json::json!({ "lease": j.lease_id, "job": j.job_id, "error": format!("{e:#}") }),
                );
                if landed || give_up {
                    if let Ok(mut st) = self.state.lock() {
                        if let Some(cur) = st.jobs.get_mut(&key) {
                            if cur.status == j.status {
                                cur.reported = true;
                            }
                        }
                        self.save_state(&st);
                    }
                }
            }
        }
    }

    /// Reports every job whose record is not on chain yet (after a failure or a restart).
    pub async fn report_pending(&self) {
        let pending: Vec<JobStatus> = match self.state.lock() {
            Ok(st) => st.jobs.values().filter(|j| !j.reported).cloned().collect(),
            Err(_) => return,
        };
        for j in pending {
            self.report_and_mark(j).await;
        }
    }

    /// After a restart: jobs that were running when the agent stopped have no process any
    /// more; they are failed (their log says why) and reported.
    pub fn fail_interrupted(&self) -> Result<()> {
        let mut st = self.state.lock().map_err(|_| anyhow!("state lock"))?;
        let reply: Vec<(String, JobStatus)> = st
            .jobs
            .iter()
            .filter(|(_, j)| j.status == "running")
            .map(|(k, j)| (k.clone(), j.clone()))
            .collect();
        for (k, mut j) in reply {
            let dir = job_dir(&self.home, j.lease_id, j.job_id);
            let spec = std::fs::read(dir.join("payload.box"))
                .ok()
                .and_then(|b| seal::open_job(&self.keys.enc, &b).ok());
            let note = b"[stoa-worker] the agent restarted while the job ran; it did not finish\n";
            if let Some(spec) = spec.and_then(|s| s.reply_key_bytes().ok()) {
                if let Ok(log) = seal::seal(&spec, note) {
                    j.log_hash = hex::encode(seal::sha256(&log));
                    let _ = std::fs::write(dir.join("log.box"), &log);
                }
            }
            j.status = "failed".into();
            j.exit_code = -1;
            j.ended = unix_now();
            j.reported = false;
            self.log(
                "job_interrupted",
                serde_json::json!({ "lease": j.lease_id, "job": j.job_id }),
            );
            st.jobs.insert(k, j);
        }
        self.save_state(&st);
        Ok(())
    }

    pub fn job_status(&self, lease: u64, job: u64) -> Option<JobStatus> {
        self.state
            .lock()
            .ok()?
            .jobs
            .get(&job_key(lease, job))
            .cloned()
    }

    /// Checks an upload against the chain and this device; on success the job is recorded
    /// as running (on chain too) and started.
    pub async fn accept(self: &std::sync::Arc<Self>, up: JobUpload) -> Result<JobStatus, Refused> {
        let internal = |e: anyhow::Error| refused(502, format!("{e:#}"));
        let payload = up
            .payload_bytes()
            .map_err(|e| refused(400, e.to_string()))?;
        if payload.len() > self.max_payload {
            return Err(refused(
                413,
                format!("payload above {} bytes", self.max_payload),
            ));
        }
        if up.device_id != self.device_id {
            return Err(refused(400, format!("this is device {}", self.device_id)));
        }
        let mut q = chain::compute(&self.node).await.map_err(internal)?;
        let lease = chain::lease(&mut q, up.lease_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| refused(404, format!("no lease {}", up.lease_id)))?;
        if !lease.parts.iter().any(|p| p.device_id == self.device_id) {
            return Err(refused(
                403,
                format!("device {} is not on lease {}", self.device_id, lease.id),
            ));
        }
        let hash = seal::sha256(&payload);
        // The renter's signature over this payload, by the key of the lease's renter account.
        let sig = up
            .signature_bytes()
            .map_err(|e| refused(400, e.to_string()))?;
        let any = chain::account_pubkey(&self.node, &lease.renter)
            .await
            .map_err(internal)?
            .ok_or_else(|| refused(403, "the renter's account has no public key on chain"))?;
        let pk = PubKey::from_any(&any).map_err(|e| refused(403, e.log))?;
        if pk.address().to_string() != lease.renter
            || !pk.verify(
                &upload_sign_bytes(up.lease_id, up.job_id, up.device_id, &hash),
                &sig,
            )
        {
            return Err(refused(401, "not signed by the lease's renter"));
        }
        let key = job_key(up.lease_id, up.job_id);
        if let Some(j) = self.job_status(up.lease_id, up.job_id) {
            return if j.payload_hash == hex::encode(hash) {
                Ok(j)
            } else {
                Err(refused(
                    409,
                    format!("job {key} exists with another payload"),
                ))
            };
        }
        // A record on chain (from before a lost state file) must be of the same payload.
        let on_chain = chain::jobs(&mut q, up.lease_id).await.map_err(internal)?;
        if let Some(j) = on_chain.iter().find(|j| j.job_id == up.job_id) {
            if j.payload_hash != hash {
                return Err(refused(
                    409,
                    format!("job {key} is on chain with another payload hash"),
                ));
            }
        }
        if lease.state != "active" {
            return Err(refused(
                409,
                format!("lease {} is {}", lease.id, lease.state),
            ));
        }
        let spec =
            seal::open_job(&self.keys.enc, &payload).map_err(|e| refused(400, e.to_string()))?;
        if (spec.lease_id, spec.job_id, spec.device_id) != (up.lease_id, up.job_id, up.device_id) {
            return Err(refused(
                400,
                "the sealed job names another lease, job or device",
            ));
        }
        let reply = spec
            .reply_key_bytes()
            .map_err(|e| refused(400, e.to_string()))?;
        let script = spec
            .script_bytes()
            .map_err(|e| refused(400, e.to_string()))?;
        let dir = job_dir(&self.home, up.lease_id, up.job_id);
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join("payload.box"), &payload))
            .map_err(|e| refused(500, e.to_string()))?;
        let status = JobStatus {
            lease_id: up.lease_id,
            job_id: up.job_id,
            device_id: self.device_id,
            status: "running".into(),
            exit_code: 0,
            payload_hash: hex::encode(hash),
            payload_size: payload.len() as u64,
            started: unix_now(),
            ..Default::default()
        };
        {
            let mut st = self.state.lock().map_err(|_| refused(500, "state lock"))?;
            st.jobs.insert(key, status.clone());
            st.leases.entry(lease.id).or_insert(lease.ends_at);
            self.save_state(&st);
        }
        self.log(
            "job_accepted",
            serde_json::json!({
                "lease": up.lease_id, "job": up.job_id, "payload_bytes": payload.len(),
                "payload_hash": status.payload_hash, "image": spec.image,
            }),
        );
        self.report_and_mark(status.clone()).await;
        // The job may run until the lease ends (local clock), at most its own and the
        // supplier's limits.
        let left = u64::try_from(lease.ends_at)
            .unwrap_or(0)
            .saturating_sub(unix_now());
        let limit = spec
            .timeout_s
            .min(self.max_job_seconds)
            .min(left.max(1))
            .max(1);
        let agent = self.clone();
        tokio::spawn(async move {
            agent
                .run_job(status, spec.image, script, reply, limit)
                .await;
        });
        Ok(self.job_status(up.lease_id, up.job_id).unwrap_or_default())
    }

    async fn run_job(
        &self,
        mut j: JobStatus,
        image: String,
        script: Vec<u8>,
        reply: [u8; 32],
        limit: u64,
    ) {
        let dir = job_dir(&self.home, j.lease_id, j.job_id);
        let run = jobs::run(
            &dir,
            j.lease_id,
            j.job_id,
            &script,
            &image,
            self.docker,
            Duration::from_secs(limit),
        )
        .await
        .unwrap_or_else(|e| jobs::JobRun {
            exit_code: -1,
            timed_out: false,
            result: Vec::new(),
            log: format!("[stoa-worker] {e:#}\n").into_bytes(),
        });
        let sealed =
            seal::seal(&reply, &run.result).and_then(|r| Ok((r, seal::seal(&reply, &run.log)?)));
        match sealed {
            Ok((result, log)) => {
                let w = std::fs::write(dir.join("result.box"), &result)
                    .and_then(|_| std::fs::write(dir.join("log.box"), &log));
                if let Err(e) = w {
                    self.log(
                        "job_output_not_saved",
                        serde_json::json!({ "error": e.to_string() }),
                    );
                }
                j.result_hash = hex::encode(seal::sha256(&result));
                j.log_hash = hex::encode(seal::sha256(&log));
            }
            Err(e) => self.log(
                "job_output_not_sealed",
                serde_json::json!({ "error": format!("{e:#}") }),
            ),
        }
        j.status = if run.succeeded() {
            "succeeded"
        } else {
            "failed"
        }
        .into();
        j.exit_code = run.exit_code;
        j.ended = unix_now();
        j.reported = false;
        self.log(
            "job_finished",
            serde_json::json!({
                "lease": j.lease_id, "job": j.job_id, "status": j.status,
                "exit_code": j.exit_code, "timed_out": run.timed_out,
                "result_bytes": run.result.len(),
            }),
        );
        if let Ok(mut st) = self.state.lock() {
            st.jobs.insert(job_key(j.lease_id, j.job_id), j.clone());
            self.save_state(&st);
        }
        self.report_and_mark(j).await;
    }
}
