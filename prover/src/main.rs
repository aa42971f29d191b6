//! The `stoa-prover` binary: seal, prove, post, verify, unseal, commp, bench.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use prost::Message;
use serde_json::json;

use stoa_prover::commp::piece_cid;
use stoa_prover::prove::files::parse_hex32;
use stoa_prover::prove::{self, PoStSector, SealJob, SealedSector, Stage};
use stoa_prover::{
    verify_porep_bytes, verify_window_post_bytes, PoRepPartition, PoStSectorInfo, SealProof,
    SealVerifyInfo,
};

#[derive(Parser)]
#[command(
    name = "stoa-prover",
    version,
    about = "Seal sectors, prove spacetime, verify proofs"
)]
struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Seal data into a sector (several --data files are sealed in parallel, numbered from
    /// --sector, into OUT/<number>).
    Seal {
        #[arg(long)]
        sector_size: String,
        #[arg(long, required = true)]
        data: Vec<PathBuf>,
        #[arg(long)]
        sector: u64,
        /// 32-byte seal randomness, hex.
        #[arg(long)]
        ticket: String,
        /// 32-byte prover id, hex (default: zeros).
        #[arg(long)]
        prover_id: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// PoRep proof of a sealed sector for the interactive randomness.
    Prove {
        #[arg(long)]
        sector: PathBuf,
        /// 32-byte interactive randomness, hex.
        #[arg(long)]
        seed: String,
        /// Where to write the protobuf proof (default: DIR/porep-proof.bin). With several
        /// partitions, partition K goes to OUT with "-K" before its extension
        /// (DIR/porep-proof-0.bin, ...).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Challenges in all, as the chain's policy for the sector size sets them (default:
        /// the prover's own count for the size).
        #[arg(long)]
        challenges: Option<u32>,
        /// Challenges per partition (one proof file, one message each; default: all in one).
        #[arg(long)]
        partition_size: Option<u32>,
    },
    /// Window PoSt over sectors (DIR, or NUMBER=DIR when DIR's metadata may be missing).
    Post {
        #[arg(long, required = true, num_args = 1..)]
        sectors: Vec<String>,
        /// 32-byte randomness, hex.
        #[arg(long)]
        randomness: String,
        /// Where to write the protobuf proof (default: window-post-proof.bin).
        #[arg(long, default_value = "window-post-proof.bin")]
        out: PathBuf,
    },
    /// Offline check of a proof.
    Verify {
        #[command(subcommand)]
        kind: VerifyKind,
    },
    /// Recover the original data of a sealed sector.
    Unseal {
        #[arg(long)]
        sector: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Piece CID of a file, as Filecoin's tools print it.
    Commp { file: PathBuf },
    /// Measure SHA-256 rate, sealing throughput, PoSt and peak memory.
    Bench {
        #[arg(long, default_value = "8MiB")]
        sector_size: String,
        /// Sectors sealed at once for the whole-machine figure (default: one per core).
        #[arg(long)]
        sectors: Option<usize>,
        /// Scratch directory (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum VerifyKind {
    /// Verify a PoRep proof. Public inputs come from --sector's metadata unless given.
    Porep {
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        seed: String,
        #[arg(long)]
        sector: Option<PathBuf>,
        #[arg(long)]
        sector_size: Option<String>,
        #[arg(long)]
        sector_number: Option<u64>,
        #[arg(long)]
        prover_id: Option<String>,
        #[arg(long)]
        ticket: Option<String>,
        #[arg(long)]
        comm_d: Option<String>,
        #[arg(long)]
        comm_r: Option<String>,
    },
    /// Verify a Window PoSt proof against sectors given as DIR or SIZE:NUMBER:COMM_R.
    Post {
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        randomness: String,
        #[arg(long, required = true, num_args = 1..)]
        sectors: Vec<String>,
    },
}

fn seal_proof_arg(text: &str) -> Result<SealProof> {
    SealProof::parse_size(text).with_context(|| {
        format!("wrong sector size {text:?}: expected one of 2KiB, 8MiB, 512MiB, 32GiB")
    })
}

fn progress_bar(hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {percent:>3}% eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn print(output: Output, value: serde_json::Value, text: String) {
    match output {
        Output::Json => println!("{value}"),
        Output::Text => println!("{text}"),
    }
}

fn run(cli: Cli) -> Result<()> {
    let output = cli.output;
    let quiet = output == Output::Json;
    match cli.command {
        Command::Seal {
            sector_size,
            data,
            sector,
            ticket,
            prover_id,
            out,
        } => {
            let seal_proof = seal_proof_arg(&sector_size)?;
            let ticket = parse_hex32(&ticket, "--ticket")?;
            let prover_id = match prover_id {
                Some(p) => parse_hex32(&p, "--prover-id")?,
                None => [0u8; 32],
            };
            let jobs: Vec<SealJob> = data
                .iter()
                .enumerate()
                .map(|(i, file)| SealJob {
                    seal_proof,
                    data: file.clone(),
                    sector_number: sector + i as u64,
                    prover_id,
                    ticket,
                    out_dir: if data.len() == 1 {
                        out.clone()
                    } else {
                        out.join((sector + i as u64).to_string())
                    },
                })
                .collect();
            let bar = progress_bar(quiet);
            let multi = jobs.len() > 1;
            let report = |stage: Stage, done: u64, total: u64| {
                if multi {
                    return;
                }
                bar.set_message(match stage {
                    Stage::TreeD => "tree_d".to_string(),
                    Stage::Layer(l) => format!("layer {l}"),
                    Stage::Trees => "trees".to_string(),
                });
                bar.set_length(total);
                bar.set_position(done);
            };
            let started = Instant::now();
            let results = prove::seal_many(&jobs, Some(&report));
            bar.finish_and_clear();
            let mut sealed = Vec::new();
            for (job, result) in jobs.iter().zip(results) {
                let result =
                    result.with_context(|| format!("sealing sector {}", job.sector_number))?;
                sealed.push((job, result));
            }
            let elapsed = started.elapsed().as_secs_f64();
            let values: Vec<_> = sealed
                .iter()
                .map(|(job, r)| {
                    json!({
                        "sector": job.sector_number,
                        "dir": job.out_dir,
                        "comm_d": r.meta.comm_d,
                        "comm_r": r.meta.comm_r,
                        "unsealed_cid": r.meta.unsealed_cid,
                        "seconds": r.timings.total.as_secs_f64(),
                    })
                })
                .collect();
            let text = sealed
                .iter()
                .map(|(job, r)| {
                    format!(
                        "sealed sector {} in {}\n  comm_d {}\n  comm_r {}\n  unsealed CID {}\n  {:.2} s",
                        job.sector_number,
                        job.out_dir.display(),
                        r.meta.comm_d,
                        r.meta.comm_r,
                        r.meta.unsealed_cid,
                        r.timings.total.as_secs_f64()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(output, json!({"sectors": values, "seconds": elapsed}), text);
        }
        Command::Prove {
            sector,
            seed,
            out,
            challenges,
            partition_size,
        } => {
            let seed = parse_hex32(&seed, "--seed")?;
            let seal_proof = SealedSector::open(&sector)?.seal_proof;
            let challenges = challenges.unwrap_or(seal_proof.params().porep_challenges);
            let per_partition = partition_size.unwrap_or(challenges);
            let count = PoRepPartition::count(challenges, per_partition);
            if count == 0 {
                bail!("--challenges and --partition-size must be positive");
            }
            let out = out.unwrap_or_else(|| sector.join("porep-proof.bin"));
            let started = Instant::now();
            let mut files = Vec::new();
            for index in 0..count {
                let part = PoRepPartition {
                    challenges,
                    per_partition,
                    index,
                };
                let proof = prove::prove_porep_partition(&sector, &seed, &part)?;
                let bytes = proof.encode_to_vec();
                let path = if count == 1 {
                    out.clone()
                } else {
                    partition_path(&out, index)
                };
                fs::write(&path, &bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                files.push((path, bytes.len(), proof.challenges.len()));
            }
            let text = files
                .iter()
                .enumerate()
                .map(|(k, (path, bytes, n))| {
                    format!(
                        "PoRep proof{} ({n} challenges, {bytes} bytes) written to {}",
                        if count == 1 {
                            String::new()
                        } else {
                            format!(" partition {k}")
                        },
                        path.display()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let bytes: usize = files.iter().map(|f| f.1).sum();
            print(
                output,
                json!({
                    "proof": files[0].0,
                    "partitions": files.iter().map(|f| json!({"proof": f.0, "bytes": f.1, "challenges": f.2})).collect::<Vec<_>>(),
                    "bytes": bytes,
                    "challenges": challenges,
                    "seconds": started.elapsed().as_secs_f64()
                }),
                text,
            );
        }
        Command::Post {
            sectors,
            randomness,
            out,
        } => {
            let randomness = parse_hex32(&randomness, "--randomness")?;
            let mut inputs = Vec::new();
            let mut unknown = Vec::new();
            for spec in &sectors {
                let (number, dir) = match spec.split_once('=') {
                    Some((n, d)) => (
                        Some(
                            n.parse::<u64>()
                                .with_context(|| format!("bad sector number in {spec:?}"))?,
                        ),
                        PathBuf::from(d),
                    ),
                    None => (None, PathBuf::from(spec)),
                };
                let number = match number {
                    Some(n) => n,
                    None => match SealedSector::open(&dir) {
                        Ok(s) => s.meta.sector_number,
                        Err(err) => {
                            unknown.push(format!("{}: {err:#}", dir.display()));
                            continue;
                        }
                    },
                };
                inputs.push(PoStSector {
                    sector_number: number,
                    dir,
                });
            }
            let started = Instant::now();
            let result = prove::generate_window_post(&inputs, &randomness);
            let bytes = result.proof.encode_to_vec();
            fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
            let faults: Vec<_> = result
                .faults
                .iter()
                .map(|f| json!({"sector": f.sector_number, "reason": f.reason}))
                .collect();
            let mut text = format!(
                "Window PoSt: {} sectors proven, {} faulty; {} bytes written to {}",
                result.proof.sectors.len(),
                result.faults.len(),
                bytes.len(),
                out.display()
            );
            for f in &result.faults {
                text.push_str(&format!(
                    "\n  fault: sector {}: {}",
                    f.sector_number, f.reason
                ));
            }
            for u in &unknown {
                text.push_str(&format!("\n  fault: unknown sector at {u}"));
            }
            print(
                output,
                json!({"proof": out, "bytes": bytes.len(), "proven": result.proof.sectors.iter().map(|s| s.sector_number).collect::<Vec<_>>(), "faults": faults, "unreadable": unknown, "seconds": started.elapsed().as_secs_f64()}),
                text,
            );
        }
        Command::Verify { kind } => verify(output, kind)?,
        Command::Unseal { sector, out } => {
            let bar = progress_bar(quiet);
            let report = |stage: Stage, done: u64, total: u64| {
                if let Stage::Layer(l) = stage {
                    bar.set_message(format!("layer {l}"));
                }
                bar.set_length(total);
                bar.set_position(done);
            };
            let bytes = prove::unseal(&sector, &out, Some(&report))?;
            bar.finish_and_clear();
            print(
                output,
                json!({"out": out, "bytes": bytes}),
                format!("unsealed {bytes} bytes to {}", out.display()),
            );
        }
        Command::Commp { file } => {
            let (comm, padded, len) = prove::piece::commp_of_file(&file)?;
            let cid = piece_cid(&comm);
            print(
                output,
                json!({"piece_cid": cid, "comm_p": hex::encode(comm), "payload_bytes": len, "padded_piece_size": padded}),
                cid,
            );
        }
        Command::Bench {
            sector_size,
            sectors,
            dir,
        } => {
            let seal_proof = seal_proof_arg(&sector_size)?;
            let report = prove::bench::run(seal_proof, sectors, dir.as_deref(), !quiet)?;
            print(output, report.to_json(), report.to_text());
        }
    }
    Ok(())
}

/// OUT with "-K" before its extension: porep-proof.bin -> porep-proof-2.bin.
fn partition_path(out: &Path, index: u32) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}-{index}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{index}"),
    };
    out.with_file_name(name)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(bytes)
}

fn verify(output: Output, kind: VerifyKind) -> Result<()> {
    match kind {
        VerifyKind::Porep {
            proof,
            seed,
            sector,
            sector_size,
            sector_number,
            prover_id,
            ticket,
            comm_d,
            comm_r,
        } => {
            let meta = match &sector {
                Some(dir) => Some(SealedSector::open(dir)?.meta),
                None => None,
            };
            let field = |given: Option<String>,
                         from_meta: Option<String>,
                         what: &str|
             -> Result<[u8; 32]> {
                match given.or(from_meta) {
                    Some(v) => parse_hex32(&v, what),
                    None => bail!("{what} is required (or give --sector DIR)"),
                }
            };
            let seal_proof = match (sector_size, &meta) {
                (Some(s), _) => seal_proof_arg(&s)?,
                (None, Some(m)) => m.seal_proof()?,
                (None, None) => bail!("--sector-size is required (or give --sector DIR)"),
            };
            let info = SealVerifyInfo {
                seal_proof,
                prover_id: field(
                    prover_id,
                    meta.as_ref().map(|m| m.prover_id.clone()),
                    "--prover-id",
                )?,
                sector_number: match (sector_number, &meta) {
                    (Some(n), _) => n,
                    (None, Some(m)) => m.sector_number,
                    (None, None) => bail!("--sector-number is required (or give --sector DIR)"),
                },
                ticket: field(ticket, meta.as_ref().map(|m| m.ticket.clone()), "--ticket")?,
                seed: parse_hex32(&seed, "--seed")?,
                comm_d: field(comm_d, meta.as_ref().map(|m| m.comm_d.clone()), "--comm-d")?,
                comm_r: field(comm_r, meta.as_ref().map(|m| m.comm_r.clone()), "--comm-r")?,
            };
            let bytes = read_file(&proof)?;
            let started = Instant::now();
            let result = verify_porep_bytes(&info, &bytes);
            let micros = started.elapsed().as_micros();
            match result {
                Ok(()) => print(
                    output,
                    json!({"valid": true, "micros": micros}),
                    format!("valid PoRep proof ({micros} us)"),
                ),
                Err(err) => {
                    print(
                        output,
                        json!({"valid": false, "error": err.to_string()}),
                        format!("INVALID: {err}"),
                    );
                    std::process::exit(2);
                }
            }
        }
        VerifyKind::Post {
            proof,
            randomness,
            sectors,
        } => {
            let mut infos = Vec::new();
            for spec in &sectors {
                let parts: Vec<&str> = spec.split(':').collect();
                let info = if parts.len() == 3 {
                    PoStSectorInfo {
                        seal_proof: seal_proof_arg(parts[0])?,
                        sector_number: parts[1]
                            .parse()
                            .with_context(|| format!("bad sector number in {spec:?}"))?,
                        comm_r: parse_hex32(parts[2], "comm_r")?,
                    }
                } else {
                    let sector = SealedSector::open(Path::new(spec))?;
                    PoStSectorInfo {
                        seal_proof: sector.seal_proof,
                        sector_number: sector.meta.sector_number,
                        comm_r: sector.meta.comm_r()?,
                    }
                };
                infos.push(info);
            }
            let bytes = read_file(&proof)?;
            let randomness = parse_hex32(&randomness, "--randomness")?;
            let started = Instant::now();
            let result = verify_window_post_bytes(&randomness, &infos, &bytes);
            let micros = started.elapsed().as_micros();
            match result {
                Ok(outcome) => print(
                    output,
                    json!({"valid": true, "proven": outcome.proven, "faulty": outcome.faulty, "micros": micros}),
                    format!(
                        "valid Window PoSt: {} sectors proven, faulty {:?} ({micros} us)",
                        outcome.proven.len(),
                        outcome.faulty
                    ),
                ),
                Err(err) => {
                    print(
                        output,
                        json!({"valid": false, "error": err.to_string()}),
                        format!("INVALID: {err}"),
                    );
                    std::process::exit(2);
                }
            }
        }
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let json_output = cli.output == Output::Json;
    if let Err(err) = run(cli) {
        if json_output {
            println!("{}", json!({"error": format!("{err:#}")}));
        } else {
            eprintln!("error: {err:#}");
        }
        std::process::exit(1);
    }
}
