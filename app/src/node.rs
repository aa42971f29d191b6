//! `stoad start`: opens the state store in the home directory, builds the app, and serves ABCI
//! to CometBFT and gRPC, gRPC-web and REST to clients until the process is killed.

use std::path::Path;

use anyhow::Context;
use stoa_framework::Store;

use crate::abci_server::{AbciAddr, AbciServer, Limits};
use crate::app::{AppOptions, StoaApp};
use crate::config::AppConfig;

/// Where the state store lives under the home directory.
pub fn store_path(home: &Path) -> std::path::PathBuf {
    home.join("data").join("stoa")
}

/// Builds the app over the on-disk store of `home`.
pub fn open_app(home: &Path, config: &AppConfig) -> anyhow::Result<StoaApp> {
    let path = store_path(home);
    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    let store = Store::open(&path, config.retention)
        .with_context(|| format!("opening the state store at {}", path.display()))?;
    let opts = AppOptions {
        min_gas_prices: config.min_gas_prices()?,
        check_invariants: config.check_invariants,
    };
    Ok(StoaApp::new(store, opts))
}

/// Serves ABCI on `config.abci_addr` (see [`AbciAddr`]), gRPC (and gRPC-web) on
/// `config.grpc_addr` and the REST gateway on `config.rest_addr`; blocks.
pub fn start(home: &Path, config: AppConfig) -> anyhow::Result<()> {
    start_with(home, config, |_| {})
}

/// As [`start`], running `before_serving` with the app's last committed height once the store
/// is open and before the ABCI socket exists, i.e. before CometBFT can connect (`stoad start`
/// re-indexes the last blocks there, see `cmd/src/commands/start.rs`).
pub fn start_with(
    home: &Path,
    config: AppConfig,
    before_serving: impl FnOnce(u64),
) -> anyhow::Result<()> {
    let app = open_app(home, &config)?;
    let (height, app_hash) = app.last_commit();
    tracing::info!(height, app_hash = %hex::encode_upper(&app_hash), home = %home.display(), "state store opened");
    before_serving(height);

    let grpc_app = app.clone();
    let grpc_listener = crate::grpc::bind(&config)?;
    let rest_listener = crate::serve::bind_rest(&config)?;
    let serve_config = config.clone();
    std::thread::Builder::new()
        .name("grpc".into())
        .spawn(move || {
            if let Err(e) =
                crate::serve::serve_blocking(grpc_app, serve_config, grpc_listener, rest_listener)
            {
                tracing::error!("gRPC / REST server stopped: {e:#}");
            }
        })?;

    if !config.metrics_addr.is_empty() {
        // A port in use stops the node, as a taken gRPC port does: an operator who asked for
        // metrics should not find out from an empty dashboard.
        let listener = crate::metrics::bind(&config.metrics_addr)?;
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::new(Some(store_path(home)))?);
        app.set_metrics(metrics.clone());
        crate::metrics::serve(listener, metrics)?;
        tracing::info!(metrics = %config.metrics_addr, "serving Prometheus metrics at /metrics");
    }

    let addr = AbciAddr::parse(&config.abci_addr, home)?;
    let server = AbciServer::bind(&addr, app, Limits::from_home(home))?;
    tracing::info!(abci = %server.local_addr(), grpc = %config.grpc_addr, rest = %config.rest_addr, "stoad serving");
    server.listen().context("ABCI server")?;
    Ok(())
}
