//! `stoa-prover bench`: the SHA-256 rate of one core on 1,248-byte label inputs (the limit for
//! labeling), sealing throughput on one core and on the whole machine, Window PoSt proving
//! and verification time, PoRep proving and verification time, and peak memory of sealing.
//!
//! Peak memory is the process's VmHWM (resident high-water mark, which counts touched pages of
//! mapped files too), reset through /proc/self/clear_refs before the single-sector seal.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::json;

use crate::hash::sha256;
use crate::label::LABEL_INPUT_LEN;
use crate::params::SealProof;
use crate::prove::{
    generate_window_post, prove_porep, seal, seal_many, PoStSector, SealJob, SealOutput,
    SealTimings, Stage,
};
use crate::verify::{verify_porep, verify_post_sector, PoStSectorInfo, SealVerifyInfo};

/// Measured figures (seconds, bytes, MiB/s).
#[derive(Clone, Debug, Default)]
pub struct BenchReport {
    pub sector_size: String,
    pub sector_bytes: u64,
    pub cores: usize,
    /// SHA-256 of 1,248-byte inputs on one core.
    pub label_hashes_per_sec: f64,
    pub sha256_mib_per_sec: f64,
    /// nodes x layers / label_hashes_per_sec: the fastest labeling can be on one core.
    pub labeling_limit_secs: f64,
    /// One sector on a one-thread pool.
    pub single: SealTimings,
    pub single_mib_per_sec: f64,
    /// Labeling time over the SHA-256 limit.
    pub labeling_over_limit: f64,
    pub peak_rss_bytes: u64,
    /// RSS just before sealing (binary, thread stacks): the part of the peak not due to it.
    pub baseline_rss_bytes: u64,
    /// CPU seconds of the one-sector seal and the resulting MiB per CPU second.
    pub single_cpu_secs: f64,
    pub single_mib_per_cpu_sec: f64,
    pub multi_cpu_secs: f64,
    /// Several sectors at once on all cores.
    pub multi_sectors: usize,
    pub multi_secs: f64,
    pub multi_mib_per_sec: f64,
    pub post_prove_ms_per_sector: f64,
    pub post_verify_us_per_sector: f64,
    pub porep_prove_ms: f64,
    pub porep_verify_ms: f64,
    pub porep_proof_bytes: usize,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl BenchReport {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "sector_size": self.sector_size,
            "sector_bytes": self.sector_bytes,
            "cores": self.cores,
            "sha256_1248b_hashes_per_sec": self.label_hashes_per_sec,
            "sha256_mib_per_sec": self.sha256_mib_per_sec,
            "labeling_limit_secs": self.labeling_limit_secs,
            "single_sector": {
                "tree_d_secs": secs(self.single.tree_d),
                "labeling_secs": secs(self.single.labeling),
                "labeling_cpu_secs": self.single.labeling_cpu_secs,
                "trees_secs": secs(self.single.trees),
                "total_secs": secs(self.single.total),
                "mib_per_sec_per_core": self.single_mib_per_sec,
                "cpu_secs": self.single_cpu_secs,
                "mib_per_cpu_sec": self.single_mib_per_cpu_sec,
                "baseline_rss_bytes": self.baseline_rss_bytes,
                "labeling_over_sha_limit": self.labeling_over_limit,
                "peak_rss_bytes": self.peak_rss_bytes,
                "peak_rss_over_sector": self.peak_rss_bytes as f64 / self.sector_bytes as f64,
            },
            "whole_machine": {
                "sectors": self.multi_sectors,
                "secs": self.multi_secs,
                "mib_per_sec": self.multi_mib_per_sec,
                "cpu_secs": self.multi_cpu_secs,
            },
            "window_post": {
                "prove_ms_per_sector": self.post_prove_ms_per_sector,
                "verify_us_per_sector": self.post_verify_us_per_sector,
            },
            "porep": {
                "prove_ms": self.porep_prove_ms,
                "verify_ms": self.porep_verify_ms,
                "proof_bytes": self.porep_proof_bytes,
            },
        })
    }

    pub fn to_text(&self) -> String {
        let mib = self.sector_bytes as f64 / (1 << 20) as f64;
        format!(
            "sector size {} ({mib} MiB), {} cores\n\
             SHA-256 on 1,248-byte inputs, one core: {:.0} hashes per CPU second ({:.0} MiB/s); labeling limit {:.2} CPU s\n\
             one sector, one core: {:.2} s (tree_d {:.2}, labeling {:.2}, trees {:.2}) = {:.2} MiB/s per core; {:.2} CPU s = {:.2} MiB per CPU second; labeling {:.2} CPU s = {:.2}x the SHA-256 limit\n\
             peak RSS sealing one sector: {:.0} MiB = {:.2}x the sector (RSS before sealing {:.0} MiB)\n\
             {} sectors at once: {:.2} s ({:.2} CPU s) = {:.2} MiB/s for the machine\n\
             Window PoSt: prove {:.2} ms per sector, verify {:.1} us per sector\n\
             PoRep: prove {:.1} ms, verify {:.2} ms, proof {} bytes",
            self.sector_size,
            self.cores,
            self.label_hashes_per_sec,
            self.sha256_mib_per_sec,
            self.labeling_limit_secs,
            secs(self.single.total),
            secs(self.single.tree_d),
            secs(self.single.labeling),
            secs(self.single.trees),
            self.single_mib_per_sec,
            self.single_cpu_secs,
            self.single_mib_per_cpu_sec,
            self.single.labeling_cpu_secs,
            self.labeling_over_limit,
            self.peak_rss_bytes as f64 / (1 << 20) as f64,
            self.peak_rss_bytes as f64 / self.sector_bytes as f64,
            self.baseline_rss_bytes as f64 / (1 << 20) as f64,
            self.multi_sectors,
            self.multi_secs,
            self.multi_cpu_secs,
            self.multi_mib_per_sec,
            self.post_prove_ms_per_sector,
            self.post_verify_us_per_sector,
            self.porep_prove_ms,
            self.porep_verify_ms,
            self.porep_proof_bytes,
        )
    }
}

/// SHA-256 rate on label-sized inputs on the calling thread, per second of that thread's CPU
/// time (about `cpu_secs` of it): on a shared machine wall time would count other processes'
/// slices, while labeling is also measured in CPU time, so the two compare like for like.
pub fn label_hash_rate(cpu_secs: f64) -> f64 {
    let mut input = [0u8; LABEL_INPUT_LEN];
    let started = thread_cpu_secs();
    let mut count = 0u64;
    loop {
        for _ in 0..2000 {
            let digest = sha256(&input);
            input[..32].copy_from_slice(&digest);
        }
        count += 2000;
        let spent = thread_cpu_secs() - started;
        if spent >= cpu_secs {
            return count as f64 / spent;
        }
    }
}

/// CPU time (user + system) of the calling thread, from /proc/thread-self/stat (clock ticks of
/// 10 ms), so per-core throughput does not depend on what else shares the machine.
pub fn thread_cpu_secs() -> f64 {
    stat_cpu_secs("/proc/thread-self/stat")
}

/// CPU time of the whole process (all threads), from /proc/self/stat.
pub fn process_cpu_secs() -> f64 {
    stat_cpu_secs("/proc/self/stat")
}

/// utime + stime of a /proc `stat` file, in seconds; 0 when it cannot be read.
fn stat_cpu_secs(path: &str) -> f64 {
    fs::read_to_string(path)
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            // Fields after the command: state is 3rd overall, utime 14th, stime 15th.
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// Current resident set (VmRSS) of this process, in bytes.
pub fn rss_bytes() -> u64 {
    proc_status_kb("VmRSS:") * 1024
}

fn proc_status_kb(key: &str) -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .unwrap_or(0)
}

/// Peak resident set (VmHWM) of this process, in bytes.
pub fn peak_rss_bytes() -> u64 {
    proc_status_kb("VmHWM:") * 1024
}

/// Resets the VmHWM high-water mark to the current RSS (Linux: "5" to clear_refs).
fn reset_peak_rss() {
    let _ = fs::write("/proc/self/clear_refs", "5");
}

fn write_random_data(path: &Path, len: u64) -> Result<()> {
    let mut file = std::io::BufWriter::new(
        fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    let mut written = 0u64;
    let mut counter = 0u64;
    while written < len {
        let mut block = [0u8; 64];
        block[..8].copy_from_slice(&counter.to_le_bytes());
        let digest = sha256(&block);
        let take = (len - written).min(32) as usize;
        file.write_all(&digest[..take])?;
        written += take as u64;
        counter += 1;
    }
    file.flush()?;
    Ok(())
}

fn note(progress: bool, text: &str) {
    if progress {
        eprintln!("bench: {text}");
    }
}

/// Runs every measurement for `seal_proof` in `dir` (a temporary directory if `None`).
pub fn run(
    seal_proof: SealProof,
    sectors: Option<usize>,
    dir: Option<&Path>,
    progress: bool,
) -> Result<BenchReport> {
    let scratch = match dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("cannot create a scratch directory")?),
    };
    let root: PathBuf = match (dir, &scratch) {
        (Some(d), _) => d.to_path_buf(),
        (None, Some(s)) => s.path().to_path_buf(),
        (None, None) => unreachable!("scratch exists when no dir is given"),
    };
    fs::create_dir_all(&root)?;
    let params = seal_proof.params();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sector_mib = params.sector_bytes as f64 / (1 << 20) as f64;
    let mut report = BenchReport {
        sector_size: seal_proof.size_name().to_string(),
        sector_bytes: params.sector_bytes,
        cores,
        ..BenchReport::default()
    };

    note(progress, "SHA-256 rate on 1,248-byte inputs");
    report.label_hashes_per_sec = label_hash_rate(2.0);
    report.sha256_mib_per_sec =
        report.label_hashes_per_sec * LABEL_INPUT_LEN as f64 / (1 << 20) as f64;
    report.labeling_limit_secs =
        (params.nodes * params.layers as u64) as f64 / report.label_hashes_per_sec;

    let data = root.join("data");
    write_random_data(&data, params.max_unpadded_bytes())?;
    let job = |number: u64| SealJob {
        seal_proof,
        data: data.clone(),
        sector_number: number,
        prover_id: [7u8; 32],
        ticket: [number as u8; 32],
        out_dir: root.join(format!("sector-{number}")),
    };
    for number in 0..=sectors.unwrap_or(cores) as u64 {
        let _ = fs::remove_dir_all(root.join(format!("sector-{number}")));
    }

    note(progress, "sealing one sector on one core");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    reset_peak_rss();
    report.baseline_rss_bytes = rss_bytes();
    let bar = if progress {
        indicatif::ProgressBar::new(1)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {percent:>3}% eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report_progress = |stage: Stage, done: u64, total: u64| {
        bar.set_message(match stage {
            Stage::TreeD => "tree_d".to_string(),
            Stage::Layer(l) => format!("layer {l}"),
            Stage::Trees => "trees".to_string(),
        });
        bar.set_length(total);
        bar.set_position(done);
    };
    let (single, cpu) = pool.install(|| {
        let before = thread_cpu_secs();
        let out = seal(&job(0), Some(&report_progress));
        (out, thread_cpu_secs() - before)
    });
    bar.finish_and_clear();
    let single: SealOutput = single?;
    report.peak_rss_bytes = peak_rss_bytes();
    report.single = single.timings;
    report.single_cpu_secs = cpu;
    report.single_mib_per_sec = sector_mib / secs(single.timings.total);
    report.single_mib_per_cpu_sec = sector_mib / cpu.max(0.01);
    report.labeling_over_limit = single.timings.labeling_cpu_secs / report.labeling_limit_secs;

    let count = sectors.unwrap_or(cores).max(1);
    note(
        progress,
        &format!("sealing {count} sectors at once on all cores"),
    );
    let jobs: Vec<SealJob> = (1..=count as u64).map(job).collect();
    let started = Instant::now();
    let cpu_before = process_cpu_secs();
    let outputs = seal_many(&jobs, None)
        .into_iter()
        .collect::<Result<Vec<SealOutput>>>()?;
    report.multi_sectors = count;
    report.multi_secs = secs(started.elapsed());
    report.multi_cpu_secs = process_cpu_secs() - cpu_before;
    report.multi_mib_per_sec = sector_mib * count as f64 / report.multi_secs;

    note(progress, "Window PoSt");
    let post_sectors: Vec<PoStSector> = jobs
        .iter()
        .map(|j| PoStSector {
            sector_number: j.sector_number,
            dir: j.out_dir.clone(),
        })
        .collect();
    let randomness = [42u8; 32];
    let started = Instant::now();
    let post = generate_window_post(&post_sectors, &randomness);
    report.post_prove_ms_per_sector = secs(started.elapsed()) * 1e3 / count as f64;
    anyhow::ensure!(post.faults.is_empty(), "PoSt faults: {:?}", post.faults);
    let infos: Vec<PoStSectorInfo> = outputs
        .iter()
        .map(|o| -> Result<PoStSectorInfo> {
            Ok(PoStSectorInfo {
                seal_proof,
                sector_number: o.meta.sector_number,
                comm_r: o.meta.comm_r()?,
            })
        })
        .collect::<Result<_>>()?;
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        for (info, proof) in infos.iter().zip(&post.proof.sectors) {
            verify_post_sector(&randomness, info, proof)?;
        }
    }
    report.post_verify_us_per_sector = secs(started.elapsed()) * 1e6 / (rounds * count) as f64;

    note(progress, "PoRep");
    let seed = [9u8; 32];
    let started = Instant::now();
    let porep = prove_porep(&job(0).out_dir, &seed)?;
    report.porep_prove_ms = secs(started.elapsed()) * 1e3;
    report.porep_proof_bytes = prost::Message::encoded_len(&porep);
    let meta = &single.meta;
    let info = SealVerifyInfo {
        seal_proof,
        prover_id: meta.prover_id()?,
        sector_number: meta.sector_number,
        ticket: meta.ticket()?,
        seed,
        comm_d: meta.comm_d()?,
        comm_r: meta.comm_r()?,
    };
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        verify_porep(&info, &porep)?;
    }
    report.porep_verify_ms = secs(started.elapsed()) * 1e3 / rounds as f64;
    drop(scratch);
    Ok(report)
}
