//! `stoad start`: loads config/app.toml, re-indexes the last blocks' txs for CometBFT (what a
//! crash may have left unindexed), and runs the ABCI app and gRPC server until stopped.
//! Logs go to stderr through tracing (filter with RUST_LOG, default "info").

use super::Ctx;
use crate::app_glue;
use crate::cli::StartArgs;
use anyhow::{bail, Result};
use std::path::Path;
use std::process::{Command, Stdio};

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
    let home = ctx.home.clone();
    app_glue::start_node(
        &ctx.home,
        args.abci_addr.as_deref(),
        args.grpc_addr.as_deref(),
        |height| reindex_recent_blocks(&home, height),
    )
}

/// How many of the last committed blocks `stoad start` re-indexes.
pub const REINDEX_BLOCKS: u64 = 20;

/// Makes every committed tx findable by hash after a crash. CometBFT indexes a block's txs
/// asynchronously, after its state is saved: a crash in between leaves a block executed (the
/// app committed it, its fees paid) but absent from `/tx`, and a restart replays nothing, so
/// nothing ever indexes it. (A block the app had not committed is replayed at CometBFT's
/// handshake, whose indexer runs already and indexes it.) So before serving ABCI, while
/// CometBFT cannot be running (it stops itself when stoad dies and cannot start without the
/// socket), `stoad start` runs `cometbft reindex-event` over the last [`REINDEX_BLOCKS`]
/// blocks the app committed. Re-indexing is idempotent. This keeps one index, CometBFT's,
/// behind all four lookups (`/tx`, `stoad query tx`, gRPC GetTx, the CLI's wait) instead of a
/// second one in the app that `/tx` would not see. It is best effort: without the cometbft
/// binary or its data, or while a CometBFT holds its databases, it logs and goes on.
pub fn reindex_recent_blocks(home: &Path, app_height: u64) {
    if app_height == 0 || !home.join("data").join("blockstore.db").exists() {
        return;
    }
    let cometbft = match super::init::find_cometbft() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("not re-indexing recent blocks: {e:#}");
            return;
        }
    };
    let start = app_height.saturating_sub(REINDEX_BLOCKS - 1).max(1);
    let started = std::time::Instant::now();
    let out = Command::new(&cometbft)
        .arg("reindex-event")
        .arg("--home")
        .arg(home)
        .args(["--start-height", &start.to_string()])
        .args(["--end-height", &app_height.to_string()])
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => tracing::info!(
            start,
            end = app_height,
            ms = started.elapsed().as_millis() as u64,
            "re-indexed the last blocks' txs and events"
        ),
        Ok(o) => tracing::warn!(
            start,
            end = app_height,
            "cometbft reindex-event failed (is CometBFT running?): {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .chain(String::from_utf8_lossy(&o.stdout).lines())
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
        ),
        Err(e) => tracing::warn!("running {}: {e}", cometbft.display()),
    }
}
