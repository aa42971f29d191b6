//! The home directory shared by CometBFT and `stoad` (`--home`, default `~/.stoa`): paths of
//! its files and the few facts other commands read from it (the genesis chain id).

use crate::keyring::Backend;
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};

/// Resolves `--home` (or `STOA_HOME`, handled by clap) with `~/.stoa` as the default.
pub fn resolve_home(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(h) = flag {
        return Ok(h.to_path_buf());
    }
    let user_home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| anyhow!("HOME is not set: pass --home DIR or set STOA_HOME"))?;
    Ok(PathBuf::from(user_home).join(".stoa"))
}

pub fn config_dir(home: &Path) -> PathBuf {
    home.join("config")
}

pub fn genesis_path(home: &Path) -> PathBuf {
    config_dir(home).join("genesis.json")
}

pub fn cometbft_config_path(home: &Path) -> PathBuf {
    config_dir(home).join("config.toml")
}

pub fn app_toml_path(home: &Path) -> PathBuf {
    config_dir(home).join("app.toml")
}

pub fn client_toml_path(home: &Path) -> PathBuf {
    config_dir(home).join("client.toml")
}

/// `--keyring-dir`, defaulting to the backend's directory under the home.
pub fn keyring_dir(home: &Path, backend: Backend, flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(|| home.join(backend.dir_name()))
}

/// The keyring backend: `--keyring-backend` (or `STOA_KEYRING_BACKEND`), else the home's
/// `config/client.toml` `keyring-backend`, else `file`.
pub fn keyring_backend(home: &Path, flag: Option<Backend>) -> Result<Backend> {
    if let Some(b) = flag {
        return Ok(b);
    }
    match crate::client_config::ClientConfig::load(home)?.keyring_backend {
        None => Ok(Backend::File),
        Some(s) => {
            Backend::parse(&s).with_context(|| format!("in {}", client_toml_path(home).display()))
        }
    }
}

/// Reads and parses `HOME/config/genesis.json`.
pub fn read_genesis(home: &Path) -> Result<serde_json::Value> {
    let path = genesis_path(home);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (run `stoad init` first?)", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// Writes `HOME/config/genesis.json` via a temporary file, so a crash never leaves half a
/// genesis behind.
pub fn write_genesis(home: &Path, genesis: &serde_json::Value) -> Result<()> {
    let path = genesis_path(home);
    let tmp = path.with_extension("json.tmp");
    let mut text = serde_json::to_string_pretty(genesis)?;
    text.push('\n');
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// The chain id: `--chain-id` if given, else the one in the home's genesis file.
pub fn chain_id(home: &Path, flag: Option<&str>) -> Result<String> {
    if let Some(id) = flag {
        return Ok(id.to_string());
    }
    let path = genesis_path(home);
    if !path.exists() {
        anyhow::bail!(
            "no --chain-id given and {} does not exist to read it from",
            path.display()
        );
    }
    let genesis = read_genesis(home)?;
    genesis
        .get("chain_id")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} has no chain_id; pass --chain-id", path.display()))
}
