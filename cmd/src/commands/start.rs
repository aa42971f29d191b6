//! `stoad start`: loads config/app.toml and runs the ABCI app and gRPC server until stopped.
//! Logs go to stderr through tracing (filter with RUST_LOG, default "info").

use super::Ctx;
use crate::app_glue;
use crate::cli::StartArgs;
use anyhow::{bail, Result};

pub fn run(ctx: &Ctx, args: StartArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second init (tests calling run twice in one process) is harmless: keep the first.
    // Colours only on a terminal: log files (tests, testnet scripts) stay plain text.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    let app_toml = crate::home::app_toml_path(&ctx.home);
    if !app_toml.exists() {
        bail!(
            "{} does not exist: run `stoad init --chain-id ID --home {}` first",
            app_toml.display(),
            ctx.home.display()
        );
    }
    app_glue::start_node(
        &ctx.home,
        args.abci_addr.as_deref(),
        args.grpc_addr.as_deref(),
    )
}
