//! `stoad init`: makes a home usable by CometBFT and stoad. CometBFT writes its own config,
//! keys and genesis (`cometbft init`); stoad then fills the genesis chain id and app_state,
//! writes app.toml and points CometBFT's proxy_app at the app. Running it again changes only
//! what the flags ask for.

use super::Ctx;
use crate::cli::InitArgs;
use crate::keyring::Backend;
use crate::output::{kv_table, print_json};
use crate::toml_edit::{quote, set_key};
use crate::{app_glue, client_config, home};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// CometBFT rejects chain ids longer than this.
const MAX_CHAIN_ID_LEN: usize = 50;

/// `keyring_backend`: the `--keyring-backend` flag, which init records in client.toml.
pub fn run(ctx: &Ctx, args: InitArgs, keyring_backend: Option<Backend>) -> Result<()> {
    let home = &ctx.home;
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    let genesis_path = home::genesis_path(home);

    let mut created = false;
    if !genesis_path.exists() {
        if args.chain_id.is_none() {
            bail!("--chain-id is required to initialise a new home");
        }
        let bin = find_cometbft()?;
        let out = Command::new(&bin)
            .arg("init")
            .arg("--home")
            .arg(home)
            .output()
            .with_context(|| format!("running {} init", bin.display()))?;
        if !out.status.success() {
            bail!(
                "`{} init --home {}` failed: {}",
                bin.display(),
                home.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        created = true;
    }

    let mut genesis = home::read_genesis(home)?;
    let obj = genesis
        .as_object_mut()
        .ok_or_else(|| anyhow!("{} is not a JSON object", genesis_path.display()))?;
    let chain_id = match &args.chain_id {
        Some(id) => {
            validate_chain_id(id)?;
            obj.insert("chain_id".into(), Value::String(id.clone()));
            id.clone()
        }
        None => obj
            .get("chain_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                anyhow!(
                    "{} has no chain_id: pass --chain-id",
                    genesis_path.display()
                )
            })?,
    };
    let app_state_empty = match obj.get("app_state") {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(_) => false,
    };
    let app_state = if args.overwrite || app_state_empty {
        obj.insert("app_state".into(), app_glue::default_app_state());
        "default"
    } else {
        "kept"
    };
    home::write_genesis(home, &genesis)?;

    let app_toml = home::app_toml_path(home);
    if !app_toml.exists() {
        app_glue::write_default_app_toml(home)?;
    }
    // app.toml's rpc_addr (used by the app's gRPC BroadcastTx/GetTx) follows --rpc-laddr.
    let rpc_addr = args.rpc_laddr.as_deref().map(rpc_url_of_laddr);
    if args.abci_addr.is_some() || args.grpc_addr.is_some() || rpc_addr.is_some() {
        app_glue::set_app_addrs(
            home,
            args.abci_addr.as_deref(),
            args.grpc_addr.as_deref(),
            rpc_addr.as_deref(),
        )?;
    }
    let proxy_app = app_glue::proxy_app(home)?;
    let keyring_backend = write_client_toml(home, keyring_backend, &args, &chain_id)?;

    let config_toml = home::cometbft_config_path(home);
    if config_toml.exists() {
        patch_cometbft_config(&config_toml, &args, &proxy_app)?;
    } else {
        eprintln!(
            "warning: {} does not exist; set proxy_app = \"{proxy_app}\" in CometBFT's config yourself",
            config_toml.display()
        );
    }

    let node_id = find_cometbft()
        .ok()
        .and_then(|bin| show_node_id(&bin, home));
    let moniker = read_moniker(&config_toml);
    if ctx.json() {
        return print_json(&json!({
            "home": home.display().to_string(),
            "chain_id": chain_id,
            "moniker": moniker,
            "node_id": node_id,
            "genesis": genesis_path.display().to_string(),
            "created": created,
            "app_state": app_state,
            "proxy_app": proxy_app,
            "keyring_backend": keyring_backend.to_string(),
        }));
    }
    crate::outln!(
        "{}",
        kv_table(&[
            ("home", home.display().to_string()),
            ("chain id", chain_id),
            ("moniker", moniker.unwrap_or_default()),
            ("node id", node_id.unwrap_or_default()),
            ("genesis", genesis_path.display().to_string()),
            ("app_state", app_state.to_string()),
            ("proxy_app", proxy_app),
            ("keyring backend", keyring_backend.to_string()),
        ])
    );
    Ok(())
}

/// `tcp://127.0.0.1:26657` -> `http://127.0.0.1:26657`; a wildcard host becomes 127.0.0.1 so the
/// app can connect to it.
fn rpc_url_of_laddr(laddr: &str) -> String {
    let hostport = laddr.split_once("://").map(|(_, r)| r).unwrap_or(laddr);
    let hostport = match hostport.strip_prefix("0.0.0.0:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => hostport.to_string(),
    };
    format!("http://{hostport}")
}

fn validate_chain_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > MAX_CHAIN_ID_LEN
        || id.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        bail!("invalid chain id {id:?}: 1-{MAX_CHAIN_ID_LEN} characters, no spaces");
    }
    Ok(())
}

/// Edits only the keys stoad owns (proxy_app) and the ones the flags name.
fn patch_cometbft_config(path: &Path, args: &InitArgs, proxy_app: &str) -> Result<()> {
    let mut text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text = set_key(&text, None, "proxy_app", &quote(proxy_app))?;
    if let Some(m) = &args.moniker {
        text = set_key(&text, None, "moniker", &quote(m))?;
    }
    if args.fast_blocks {
        for (k, v) in [
            ("timeout_propose", "1s"),
            ("timeout_prevote", "500ms"),
            ("timeout_precommit", "500ms"),
            ("timeout_commit", "500ms"),
        ] {
            text = set_key(&text, Some("consensus"), k, &quote(v))?;
        }
    }
    if let Some(a) = &args.rpc_laddr {
        text = set_key(&text, Some("rpc"), "laddr", &quote(a))?;
    }
    if let Some(a) = &args.p2p_laddr {
        text = set_key(&text, Some("p2p"), "laddr", &quote(a))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes `config/client.toml` (the client defaults of the home's commands, as Cosmos SDK's
/// file of that name): a new file gets the home's chain id, CometBFT RPC and gRPC URLs and
/// keyring backend; an existing one changes only where the flags say so (a client.toml
/// pointed at another node stays pointed there). Returns the home's keyring backend.
fn write_client_toml(
    home: &Path,
    flag: Option<Backend>,
    args: &InitArgs,
    chain_id: &str,
) -> Result<Backend> {
    let path = home::client_toml_path(home);
    let fresh = !path.exists();
    if fresh {
        std::fs::write(&path, client_config::HEADER)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if fresh || flag.is_some() {
        let backend = flag.unwrap_or(Backend::File);
        client_config::set(home, "keyring-backend", &backend.to_string())?;
    }
    if fresh || args.chain_id.is_some() {
        client_config::set(home, "chain-id", chain_id)?;
    }
    let app = app_glue::load_config(home)?;
    if fresh || args.rpc_laddr.is_some() {
        client_config::set(home, "node", &app.rpc_addr)?;
    }
    if fresh || args.grpc_addr.is_some() {
        client_config::set(home, "grpc", &grpc_url_of_addr(&app.grpc_addr))?;
    }
    home::keyring_backend(home, None)
}

/// `0.0.0.0:9090` -> `http://127.0.0.1:9090`: the URL a client on this host dials.
fn grpc_url_of_addr(addr: &str) -> String {
    let hostport = addr.split_once("://").map(|(_, r)| r).unwrap_or(addr);
    let hostport = match hostport.strip_prefix("0.0.0.0:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => hostport.to_string(),
    };
    format!("http://{hostport}")
}

fn read_moniker(config_toml: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_toml).ok()?;
    let v: toml::Value = toml::from_str(&text).ok()?;
    v.get("moniker")?.as_str().map(str::to_string)
}

fn show_node_id(bin: &Path, home: &Path) -> Option<String> {
    let out = Command::new(bin)
        .arg("show-node-id")
        .arg("--home")
        .arg(home)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!id.is_empty()).then_some(id)
}

/// Finds the cometbft binary: $STOA_COMETBFT, then PATH, then $(go env GOBIN),
/// $(go env GOPATH)/bin and ~/go/bin (where `go install` puts it).
pub fn find_cometbft() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("STOA_COMETBFT").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        bail!("STOA_COMETBFT={} is not a file", p.display());
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let c = dir.join("cometbft");
            if c.is_file() {
                return Ok(c);
            }
        }
    }
    let mut candidates = Vec::new();
    for (var, bin) in [("GOBIN", ""), ("GOPATH", "bin")] {
        if let Ok(out) = Command::new("go").args(["env", var]).output() {
            let dirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !dirs.is_empty() {
                candidates
                    .extend(std::env::split_paths(&dirs).map(|p| p.join(bin).join("cometbft")));
            }
        }
    }
    if let Some(h) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(h).join("go").join("bin").join("cometbft"));
    }
    candidates
        .into_iter()
        .find(|c| c.is_file())
        .ok_or_else(|| anyhow!("cometbft not found on PATH or in $(go env GOPATH)/bin: install it with testnet/install-cometbft.sh"))
}
