//! PC1 + PC2 timing with filecoin-proofs, CPU only.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use filecoin_proofs::{
    add_piece, parameters::public_params, seal_pre_commit_phase1, seal_pre_commit_phase2,
    PaddedBytesAmount, SectorShapeBase, UnpaddedBytesAmount,
};
use filecoin_proofs_api::{RegisteredSealProof, SectorId};
use serde::Serialize;

use crate::{datagen::DataGen, rss, Output, DEFAULT_CACHE_ROOT, FILECOIN_PROOFS_VERSION};

/// 8 MiB and 512 MiB sectors both use the base shape (oct tree_r_last, no sub/top trees).
type Tree = SectorShapeBase;

const PROVER_ID: [u8; 32] = [0x5a; 32];
const TICKET: [u8; 32] = [0x7e; 32];
const SECTOR_ID: u64 = 1;

pub struct Options {
    pub sector_size: String,
    pub output: Output,
    pub seed: u64,
    pub work_dir: PathBuf,
    pub parent_cache: Option<PathBuf>,
    pub include_cache_build: bool,
    pub multicore_sdr: bool,
    pub keep: bool,
}

#[derive(Serialize)]
struct ParentCacheReport {
    dir: String,
    /// A parent cache file for this graph was already on disk before this run.
    preexisting: bool,
    /// Seconds spent building it in this run: 0 if preexisting, null if it was built inside
    /// PC1 (--include-cache-build) and so cannot be separated.
    build_seconds: Option<f64>,
    /// Whether that build time is part of `pc1_seconds`.
    build_included_in_pc1: bool,
}

#[derive(Serialize)]
struct Report {
    implementation: String,
    registered_seal_proof: String,
    sector_size_bytes: u64,
    porep_id_hex: String,
    api_version: String,
    layers: usize,
    threads: usize,
    multicore_sdr: bool,
    data_seed: u64,
    parent_cache: ParentCacheReport,
    /// add_piece (fr32-padding the data into the staged file); not part of total.
    add_piece_seconds: f64,
    pc1_seconds: f64,
    pc2_seconds: f64,
    /// CPU time (user + system, all threads) of each phase: less sensitive than wall time to
    /// other jobs on a shared machine.
    pc1_cpu_seconds: f64,
    pc2_cpu_seconds: f64,
    /// 1-minute load average when PC1 started and when PC2 ended.
    loadavg_start: Option<f64>,
    loadavg_end: Option<f64>,
    /// pc1_seconds + pc2_seconds.
    total_seconds: f64,
    /// sector size in MiB / total_seconds.
    mib_per_second: f64,
    /// getrusage(RUSAGE_SELF).ru_maxrss at the end of the run, MiB.
    peak_rss_mib: f64,
    /// VmHWM during PC1 / PC2 (peak reset before each phase), MiB; null if unavailable.
    pc1_peak_rss_mib: Option<f64>,
    pc2_peak_rss_mib: Option<f64>,
    comm_d_hex: String,
    comm_r_hex: String,
}

fn parse_sector(s: &str) -> Result<(RegisteredSealProof, &'static str, u64)> {
    let norm = s.to_ascii_lowercase().replace(['-', '_', ' '], "");
    Ok(match norm.as_str() {
        "8mib" | "8388608" => (
            RegisteredSealProof::StackedDrg8MiBV1_1,
            "StackedDrg8MiBV1_1",
            8 << 20,
        ),
        "512mib" | "536870912" => (
            RegisteredSealProof::StackedDrg512MiBV1_1,
            "StackedDrg512MiBV1_1",
            512 << 20,
        ),
        _ => bail!("unsupported --sector-size {s:?}: use 8MiB or 512MiB"),
    })
}

fn cache_files(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains("-sdr-parent-") && n.ends_with(".cache"))
                .collect()
        })
        .unwrap_or_default()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub fn run(opts: Options) -> Result<()> {
    let (proof, proof_name, sector_bytes) = parse_sector(&opts.sector_size)?;

    // filecoin-proofs reads its settings once, from FIL_PROOFS_* variables, on first use:
    // set them before calling into it. Already-set variables win.
    let parent_cache_dir = match std::env::var_os("FIL_PROOFS_PARENT_CACHE") {
        Some(v) => PathBuf::from(v),
        None => {
            let d = opts
                .parent_cache
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_ROOT).join("parents"));
            std::env::set_var("FIL_PROOFS_PARENT_CACHE", &d);
            d
        }
    };
    fs::create_dir_all(&parent_cache_dir)
        .with_context(|| format!("creating {}", parent_cache_dir.display()))?;
    if std::env::var_os("FIL_PROOFS_PARAMETER_CACHE").is_none() {
        // Not read by PC1/PC2 (they need no Groth16 parameters); kept off /var/tmp anyway.
        std::env::set_var(
            "FIL_PROOFS_PARAMETER_CACHE",
            PathBuf::from(DEFAULT_CACHE_ROOT).join("params"),
        );
    }
    std::env::set_var(
        "FIL_PROOFS_USE_MULTICORE_SDR",
        if opts.multicore_sdr { "1" } else { "0" },
    );

    let config = proof.as_v1_config();
    assert_eq!(u64::from(config.sector_size), sector_bytes);
    let pp = public_params::<Tree>(&config)?;
    let layers = pp.num_layers;

    fs::create_dir_all(&opts.work_dir)?;
    let tmp = tempfile::Builder::new()
        .prefix("fil-reference-bench-")
        .tempdir_in(&opts.work_dir)?;
    let staged = tmp.path().join("staged");
    let sealed = tmp.path().join("sealed");
    let cache = tmp.path().join("cache");
    fs::create_dir_all(&cache)?;

    // Data: the generator's stream, fr32-padded into the staged sector file by add_piece.
    let unpadded = UnpaddedBytesAmount::from(PaddedBytesAmount(sector_bytes));
    let t = Instant::now();
    let (piece, _) = {
        let mut w = BufWriter::new(File::create(&staged)?);
        let r = add_piece(
            DataGen::new(Some(opts.seed), u64::from(unpadded)),
            &mut w,
            unpadded,
            &[],
        )?;
        drop(w);
        r
    };
    let add_piece_seconds = t.elapsed().as_secs_f64();
    OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&sealed)?;

    // SDR parent cache.
    let before = cache_files(&parent_cache_dir);
    let mut cache_build_seconds = 0.0;
    let mut preexisting = true;
    if !opts.include_cache_build {
        let t = Instant::now();
        drop(pp.graph.parent_cache()?);
        let after = cache_files(&parent_cache_dir);
        if after != before {
            preexisting = false;
            cache_build_seconds = t.elapsed().as_secs_f64();
        }
    }
    drop(pp);

    let loadavg_start = rss::loadavg1();
    let pc1_reset = rss::reset_peak();
    let cpu0 = rss::cpu_seconds();
    let t = Instant::now();
    let p1 = seal_pre_commit_phase1::<_, _, _, Tree>(
        &config,
        &cache,
        &staged,
        &sealed,
        PROVER_ID,
        SectorId::from(SECTOR_ID),
        TICKET,
        &[piece],
    )?;
    let pc1_seconds = t.elapsed().as_secs_f64();
    let cpu1 = rss::cpu_seconds();
    let pc1_hwm = rss::hwm_kib().filter(|_| pc1_reset);
    if opts.include_cache_build && cache_files(&parent_cache_dir) != before {
        preexisting = false;
        cache_build_seconds = f64::NAN; // inside pc1_seconds, not separable (reported null)
    }

    let pc2_reset = rss::reset_peak();
    let t = Instant::now();
    let p2 = seal_pre_commit_phase2::<_, _, Tree>(&config, p1, &cache, &sealed)?;
    let pc2_seconds = t.elapsed().as_secs_f64();
    let cpu2 = rss::cpu_seconds();
    let loadavg_end = rss::loadavg1();
    let pc2_hwm = rss::hwm_kib().filter(|_| pc2_reset);

    let total = pc1_seconds + pc2_seconds;
    let report = Report {
        implementation: format!("filecoin-proofs {FILECOIN_PROOFS_VERSION}"),
        registered_seal_proof: proof_name.to_string(),
        sector_size_bytes: sector_bytes,
        porep_id_hex: hex::encode(config.porep_id),
        api_version: config.api_version.to_string(),
        layers,
        threads: rayon_threads(),
        multicore_sdr: opts.multicore_sdr,
        data_seed: opts.seed,
        parent_cache: ParentCacheReport {
            dir: parent_cache_dir.display().to_string(),
            preexisting,
            build_seconds: Some(cache_build_seconds).filter(|s| !s.is_nan()),
            build_included_in_pc1: opts.include_cache_build && !preexisting,
        },
        add_piece_seconds,
        pc1_seconds,
        pc2_seconds,
        pc1_cpu_seconds: cpu1 - cpu0,
        pc2_cpu_seconds: cpu2 - cpu1,
        loadavg_start,
        loadavg_end,
        total_seconds: total,
        mib_per_second: (sector_bytes as f64 / (1 << 20) as f64) / total,
        peak_rss_mib: mib(rss::maxrss_kib()),
        pc1_peak_rss_mib: pc1_hwm.map(mib),
        pc2_peak_rss_mib: pc2_hwm.map(mib),
        comm_d_hex: hex::encode(p2.comm_d),
        comm_r_hex: hex::encode(p2.comm_r),
    };

    if opts.keep {
        let kept = tmp.keep();
        eprintln!("kept work dir {}", kept.display());
    }

    match opts.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print_text(&report),
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

fn print_text(r: &Report) {
    let opt = |v: Option<f64>| {
        v.map(|x| format!("{x:.1} MiB"))
            .unwrap_or_else(|| "n/a".into())
    };
    println!(
        "{} — {} ({} bytes, {} layers)",
        r.implementation, r.registered_seal_proof, r.sector_size_bytes, r.layers
    );
    println!("  api {}  porep_id {}", r.api_version, r.porep_id_hex);
    println!("  threads {}  multicore SDR {}", r.threads, r.multicore_sdr);
    println!(
        "  parent cache {}: {}",
        r.parent_cache.dir,
        if r.parent_cache.preexisting {
            "already built (not timed)".to_string()
        } else if r.parent_cache.build_included_in_pc1 {
            "built during PC1 (included in PC1)".to_string()
        } else {
            format!(
                "built before PC1 in {:.2} s (not included)",
                r.parent_cache.build_seconds.unwrap_or(0.0)
            )
        }
    );
    println!("  add_piece  {:>9.2} s (not in total)", r.add_piece_seconds);
    println!(
        "  PC1        {:>9.2} s   cpu {:>9.2} s   peak RSS {}",
        r.pc1_seconds,
        r.pc1_cpu_seconds,
        opt(r.pc1_peak_rss_mib)
    );
    println!(
        "  PC2        {:>9.2} s   cpu {:>9.2} s   peak RSS {}",
        r.pc2_seconds,
        r.pc2_cpu_seconds,
        opt(r.pc2_peak_rss_mib)
    );
    println!(
        "  total      {:>9.2} s   {:.3} MiB/s",
        r.total_seconds, r.mib_per_second
    );
    println!("  process peak RSS (ru_maxrss) {:.1} MiB", r.peak_rss_mib);
    let la = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "n/a".into());
    println!(
        "  load average (1 min) at start {}  at end {}",
        la(r.loadavg_start),
        la(r.loadavg_end)
    );
    println!("  comm_d {}", r.comm_d_hex);
    println!("  comm_r {}", r.comm_r_hex);
}
