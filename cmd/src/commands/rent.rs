//! `stoad rent`: books compute and runs a job on it end to end. It creates an order (or books
//! `--device` directly), waits for the lease, seals the job to each leased device's x25519 key
//! with a fresh reply key of its own, signs each upload with the renter's account key, sends
//! it to the device's endpoint (on chain), follows the job records on chain, then fetches the
//! sealed results, checks them against the hashes on chain, opens them and prints them.

use super::Ctx;
use crate::agent::protocol::{b64, upload_sign_bytes, ApiError, JobUpload};
use crate::agent::{chain, seal};
use crate::cli::{NodeArgs, TxFlags};
use crate::output::table;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use stoa_proto::compute::v1 as pb;

#[derive(Args, Debug)]
pub struct RentArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Keyring key of the renter: pays, and signs the job uploads.
    #[arg(long)]
    pub from: String,
    /// GPUs to rent (more than one device has: a cluster).
    #[arg(long, default_value_t = 1)]
    pub gpus: u32,
    /// GPU model to rent (e.g. H100, or CPU); not needed with --device.
    #[arg(long, required_unless_present = "device")]
    pub gpu_model: Option<String>,
    /// Only devices in this region.
    #[arg(long, default_value = "")]
    pub region: String,
    /// How long, in hours (decimals allowed: 0.5 is 30 minutes).
    #[arg(long, required_unless_present = "seconds")]
    pub hours: Option<String>,
    /// How long, in seconds (instead of --hours).
    #[arg(long, conflicts_with = "hours")]
    pub seconds: Option<u64>,
    /// Highest price per GPU-hour, in base units of --denom.
    #[arg(long)]
    pub max_price: u128,
    /// ucomp or uusdc.
    #[arg(long, default_value = "ucomp")]
    pub denom: String,
    /// The job: a script (with a #! line, else run by sh); its stdout is the result.
    #[arg(long)]
    pub job: PathBuf,
    /// Run the job in this container image (on workers with a Docker engine).
    #[arg(long, default_value = "")]
    pub image: String,
    /// Book this device directly instead of ordering.
    #[arg(long)]
    pub device: Option<u64>,
    /// Seconds to wait for the order to be matched (then it is cancelled).
    #[arg(long, default_value_t = 120)]
    pub wait_lease: u64,
    /// Seconds the job may run (default: the lease's length).
    #[arg(long)]
    pub job_timeout: Option<u64>,
    #[command(flatten)]
    pub tx: TxFlags,
}

/// One device's job as `rent` prints it.
#[derive(Debug, Serialize)]
pub struct JobOut {
    pub device_id: u64,
    pub job_id: u64,
    pub endpoint: String,
    pub status: String,
    pub exit_code: i32,
    pub payload_hash: String,
    pub payload_size: u64,
    pub result_hash: String,
    pub log_hash: String,
    /// The decrypted result (stdout), as text.
    pub result: String,
    pub log: String,
}

#[derive(Debug, Serialize)]
pub struct RentOut {
    pub order_id: Option<u64>,
    pub lease_id: u64,
    pub denom: String,
    pub devices: Vec<u64>,
    pub ends_at: i64,
    pub jobs: Vec<JobOut>,
}

/// `--hours` as whole seconds: decimal hours, exactly (0.01 h = 36 s).
pub fn hours_to_seconds(h: &str) -> Result<u64> {
    let bad = || anyhow!("--hours {h:?}: expected a positive number such as 2 or 0.5");
    let (int, frac) = h.trim().split_once('.').unwrap_or((h.trim(), ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 12
    {
        return Err(bad());
    }
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let scale = 10u128.pow(frac.len() as u32);
    let f: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| bad())?
    };
    let secs = u128::from(whole) * 3_600 + f * 3_600 / scale;
    let secs = u64::try_from(secs).map_err(|_| bad())?;
    if secs == 0 {
        bail!("--hours {h:?} is less than a second");
    }
    Ok(secs)
}

pub async fn run(ctx: &Ctx, args: RentArgs) -> Result<i32> {
    let seconds = match (&args.hours, args.seconds) {
        (_, Some(s)) if s > 0 => s,
        (Some(h), None) => hours_to_seconds(h)?,
        _ => bail!("give --hours or --seconds (positive)"),
    };
    let script =
        std::fs::read(&args.job).with_context(|| format!("reading {}", args.job.display()))?;
    let node = chain::with_chain_id(ctx, &args.node).await?;
    let info = ctx.keyring.get(&args.from)?;
    let key = ctx.keyring.unlock(&info.name)?.priv_key()?;
    let renter = key.address().to_string();
    let mut q = chain::compute(&node).await?;
    let progress = |s: String| {
        if !ctx.json() {
            eprintln!("{s}");
        }
    };

    // 1. The lease: booked directly, or ordered and matched at end block.
    let (order_id, lease_id) = match args.device {
        Some(device_id) => {
            let m = pb::MsgBookDevice {
                renter: renter.clone(),
                device_id,
                gpu_count: args.gpus,
                duration_s: seconds,
                denom: args.denom.clone(),
                max_price: args.max_price.to_string(),
            };
            let out = chain::send(ctx, &node, &key, vec![chain::any(&m)], &args.tx).await?;
            let r: pb::MsgBookDeviceResponse = chain::first_response(&node, &out.txhash).await?;
            progress(format!("booked device {device_id}: lease {}", r.lease_id));
            (None, r.lease_id)
        }
        None => {
            let first_lease = chain::next_lease_id(&mut q).await?;
            let m = pb::MsgCreateOrder {
                renter: renter.clone(),
                gpu_model: args.gpu_model.clone().unwrap_or_default(),
                region: args.region.clone(),
                gpu_count: args.gpus,
                duration_s: seconds,
                max_price: args.max_price.to_string(),
                denom: args.denom.clone(),
            };
            let out = chain::send(ctx, &node, &key, vec![chain::any(&m)], &args.tx).await?;
            let r: pb::MsgCreateOrderResponse = chain::first_response(&node, &out.txhash).await?;
            progress(format!(
                "order {} placed; waiting for a lease...",
                r.order_id
            ));
            let deadline = Instant::now() + Duration::from_secs(args.wait_lease);
            let lease = loop {
                let found = chain::recent_leases(&mut q, &renter, 20)
                    .await?
                    .into_iter()
                    // Order ids and booked leases' order_id (0) overlap: only leases opened
                    // after the order was placed count.
                    .find(|l| l.order_id == r.order_id && l.id >= first_lease);
                if let Some(l) = found {
                    break l.id;
                }
                if Instant::now() > deadline {
                    let cancel = pb::MsgCancelOrder {
                        renter: renter.clone(),
                        order_id: r.order_id,
                    };
                    let cancelled =
                        chain::send(ctx, &node, &key, vec![chain::any(&cancel)], &args.tx).await;
                    bail!(
                        "order {} was not matched within {} s ({}); no device of that model fits the price, GPUs and region",
                        r.order_id,
                        args.wait_lease,
                        if cancelled.is_ok() { "cancelled, deposit refunded" } else { "it may still be matched: cancel it with MsgCancelOrder" }
                    );
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            };
            progress(format!("order {} matched: lease {lease}", r.order_id));
            (Some(r.order_id), lease)
        }
    };
    let lease = chain::lease(&mut q, lease_id)
        .await?
        .ok_or_else(|| anyhow!("lease {lease_id} not found"))?;

    // 2. One sealed job per leased device, uploaded to its endpoint.
    let reply = seal::generate();
    let reply_pub = hex::encode(seal::public_bytes(&reply));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")?;
    let timeout_s = args.job_timeout.unwrap_or(seconds);
    let mut sent = Vec::new();
    for (i, part) in lease.parts.iter().enumerate() {
        let d = chain::device(&mut q, part.device_id)
            .await?
            .device
            .ok_or_else(|| anyhow!("device {} not found", part.device_id))?;
        if d.endpoint.is_empty() {
            bail!("device {} has no endpoint on chain: it takes no jobs", d.id);
        }
        let job_id = i as u64 + 1;
        let spec = seal::JobSpec {
            lease_id,
            job_id,
            device_id: d.id,
            reply_key: reply_pub.clone(),
            script: b64(&script),
            image: args.image.clone(),
            timeout_s,
        };
        let sealed = seal::seal_job(&d.enc_key, &spec)?;
        let hash = seal::sha256(&sealed);
        let sig = key.sign(&upload_sign_bytes(lease_id, job_id, d.id, &hash))?;
        let up = JobUpload {
            lease_id,
            job_id,
            device_id: d.id,
            payload: b64(&sealed),
            signature: b64(&sig),
        };
        let url = format!("{}/v1/jobs", d.endpoint.trim_end_matches('/'));
        let resp = http
            .post(&url)
            .json(&up)
            .send()
            .await
            .with_context(|| format!("sending job {job_id} to device {} at {url}", d.id))?;
        let code = resp.status();
        if !code.is_success() {
            let e: Option<ApiError> = resp.json().await.ok();
            bail!(
                "device {} refused job {job_id} ({code}): {}",
                d.id,
                e.map_or_else(String::new, |e| e.error)
            );
        }
        progress(format!(
            "job {job_id} sealed to device {} ({} bytes, sha256 {}) and accepted",
            d.id,
            sealed.len(),
            hex::encode(hash)
        ));
        sent.push((d, job_id, hash, sealed.len() as u64));
    }

    // 3. Follow the records on chain; fetch, check and open each result once it is final.
    let deadline_unix = u64::try_from(lease.ends_at).unwrap_or(0) + 60;
    let mut out: Vec<Option<JobOut>> = sent.iter().map(|_| None).collect();
    while out.iter().any(Option::is_none) {
        let records = chain::jobs(&mut q, lease_id).await?;
        for (k, (d, job_id, hash, size)) in sent.iter().enumerate() {
            if out[k].is_some() {
                continue;
            }
            let Some(r) = records.iter().find(|r| r.job_id == *job_id) else {
                continue;
            };
            if r.payload_hash != hash.as_slice() || r.payload_size != *size {
                bail!(
                    "device {} put another payload hash or size on chain for job {job_id}",
                    d.id
                );
            }
            if r.status == "running" {
                continue;
            }
            let base = format!(
                "{}/v1/jobs/{lease_id}/{job_id}",
                d.endpoint.trim_end_matches('/')
            );
            let get = |what: &'static str| {
                let http = http.clone();
                let url = format!("{base}/{what}");
                async move {
                    let r = http
                        .get(&url)
                        .send()
                        .await
                        .with_context(|| format!("GET {url}"))?;
                    if !r.status().is_success() {
                        bail!("GET {url}: {}", r.status());
                    }
                    Ok::<_, anyhow::Error>(r.bytes().await?.to_vec())
                }
            };
            let (result_box, log_box) = (get("result").await?, get("log").await?);
            if seal::sha256(&result_box) != r.result_hash.as_slice() {
                bail!(
                    "job {job_id}'s result from device {} does not match its hash on chain",
                    d.id
                );
            }
            if seal::sha256(&log_box) != r.log_hash.as_slice() {
                bail!(
                    "job {job_id}'s log from device {} does not match its hash on chain",
                    d.id
                );
            }
            let result = seal::open(&reply, &result_box)?;
            let log = seal::open(&reply, &log_box)?;
            progress(format!(
                "job {job_id} on device {}: {} (exit {})",
                d.id, r.status, r.exit_code
            ));
            out[k] = Some(JobOut {
                device_id: d.id,
                job_id: *job_id,
                endpoint: d.endpoint.clone(),
                status: r.status.clone(),
                exit_code: r.exit_code,
                payload_hash: hex::encode(&r.payload_hash),
                payload_size: r.payload_size,
                result_hash: hex::encode(&r.result_hash),
                log_hash: hex::encode(&r.log_hash),
                result: String::from_utf8_lossy(&result).into_owned(),
                log: String::from_utf8_lossy(&log).into_owned(),
            });
        }
        if out.iter().any(Option::is_none) {
            if crate::agent::worker::unix_now() > deadline_unix {
                bail!("the jobs of lease {lease_id} did not finish before the lease ended");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let jobs: Vec<JobOut> = out.into_iter().flatten().collect();
    let ok = jobs.iter().all(|j| j.status == "succeeded");
    let report = RentOut {
        order_id,
        lease_id,
        denom: lease.denom.clone(),
        devices: lease.parts.iter().map(|p| p.device_id).collect(),
        ends_at: lease.ends_at,
        jobs,
    };
    if ctx.json() {
        crate::output::print_json(&report)?;
    } else {
        let mut t = table(&[
            "device",
            "job",
            "status",
            "exit",
            "result sha256 (sealed)",
            "result",
        ]);
        for j in &report.jobs {
            t.add_row(vec![
                j.device_id.to_string(),
                j.job_id.to_string(),
                j.status.clone(),
                j.exit_code.to_string(),
                j.result_hash.chars().take(16).collect::<String>(),
                j.result.trim_end().chars().take(200).collect::<String>(),
            ]);
        }
        crate::outln!(
            "lease {} ({}), devices {:?}, ends at {}",
            report.lease_id,
            report.denom,
            report.devices,
            report.ends_at
        );
        crate::outln!("{t}");
    }
    Ok(if ok { 0 } else { crate::EXIT_FAILED })
}

#[cfg(test)]
mod tests {
    use super::hours_to_seconds;

    #[test]
    fn hours_are_exact_seconds() {
        assert_eq!(hours_to_seconds("2").unwrap(), 7_200);
        assert_eq!(hours_to_seconds("0.5").unwrap(), 1_800);
        assert_eq!(hours_to_seconds("0.01").unwrap(), 36);
        assert_eq!(hours_to_seconds(".25").unwrap(), 900);
        for bad in ["", "0", "-1", "1e3", "abc", "0.0001"] {
            assert!(hours_to_seconds(bad).is_err(), "{bad}");
        }
    }
}
