//! `stoad sim ...`: offline forecasts computed by the very functions the chain runs, so a
//! supplier, subnet owner or validator can check a figure without a node (JSON out; `yuma-epoch`
//! reads JSON on stdin). One subcommand per market.

use super::Ctx;
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use stoa_compute::emission::{emitted_by, month_of};
use stoa_compute::params::EmissionSchedule;
use stoa_compute::ComputeParams;

/// Simulations: one variant per line, each market adds its own.
#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// The cumulative ucomp the compute emission schedule has emitted SECONDS of block time
    /// after emission started (stoa_compute::emission::emitted_by), as JSON
    /// {"at", "month", "emitted"}. The schedule is the default params' unless --genesis names
    /// a genesis file whose app_state.compute.params to use.
    ComputeEmission(ComputeEmissionArgs),
    /// One Yuma Consensus epoch of a subnet (the intelligence module's own code): reads one
    /// JSON object on stdin, writes one on stdout; malformed input exits with code 2.
    YumaEpoch,
}

#[derive(clap::Args, Debug)]
pub struct ComputeEmissionArgs {
    /// Seconds of block time since the emission started (the chain's first end block).
    #[arg(long, allow_negative_numbers = true)]
    pub at: i64,
    /// A genesis.json (CometBFT's, with app_state) whose compute params to use.
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
}

/// Runs a simulation; returns the exit code (2 for malformed input).
pub fn run(ctx: &Ctx, cmd: SimCmd) -> Result<i32> {
    match cmd {
        SimCmd::ComputeEmission(a) => {
            let schedule = match &a.genesis {
                Some(path) => schedule_from_genesis(path)?,
                None => ComputeParams::default().emission,
            };
            // Always JSON: the figure is meant for scripts and forecasts.
            crate::output::print_json(&compute_emission(&schedule, a.at)).map(|_| 0)
        }
        SimCmd::YumaEpoch => super::intelligence::sim_yuma_epoch(ctx),
    }
}

/// `{"at": S, "month": M, "emitted": "..."}` for `at` seconds after emission started.
pub fn compute_emission(s: &EmissionSchedule, at: i64) -> serde_json::Value {
    json!({
        "at": at,
        "month": month_of(s, at),
        "emitted": emitted_by(s, at).to_string(),
    })
}

fn schedule_from_genesis(path: &std::path::Path) -> Result<EmissionSchedule> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    let g: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{} is not JSON: {e}", path.display()))?;
    let Some(section) = g.get("app_state").and_then(|a| a.get("compute")) else {
        bail!("{} has no app_state.compute section", path.display());
    };
    let genesis = stoa_compute::genesis::ComputeGenesis::from_json(section)
        .map_err(|e| anyhow!("{}: {}", path.display(), e.log))?;
    genesis
        .validate()
        .map_err(|e| anyhow!("{}: {}", path.display(), e.log))?;
    Ok(genesis.params.emission)
}
