//! `stoad sim ...`: offline simulations of a market's on-chain computations, through the very
//! code the modules run (JSON in on stdin, JSON out on stdout; no node, no keys).

use super::Ctx;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// One Yuma Consensus epoch of a subnet (the intelligence module's own code): reads one
    /// JSON object on stdin, writes one on stdout; malformed input exits with code 2.
    YumaEpoch,
}

pub fn run(ctx: &Ctx, cmd: SimCmd) -> Result<i32> {
    match cmd {
        SimCmd::YumaEpoch => super::intelligence::sim_yuma_epoch(ctx),
    }
}
