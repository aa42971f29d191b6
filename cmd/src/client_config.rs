//! `HOME/config/client.toml`: the defaults of the home's client commands, as Cosmos SDK's file
//! of that name (`node`, `grpc`, `chain-id`, `keyring-backend`, `output`, `broadcast-mode`).
//! Flags and `STOA_*` variables override it; `stoad config` reads and writes it; `stoad init`
//! writes it with the home's own ports and chain id.

use crate::home;
use crate::toml_edit::{quote, set_key};
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;

/// The keys client.toml holds, in the order `stoad config` lists them, with what each means.
pub const KEYS: &[(&str, &str)] = &[
    (
        "chain-id",
        "chain id to sign for (checked against the node's)",
    ),
    ("node", "CometBFT RPC URL (txs, blocks, status)"),
    (
        "grpc",
        "stoad gRPC URL (queries, account numbers, simulation)",
    ),
    ("keyring-backend", "file or test"),
    ("output", "text or json"),
    ("broadcast-mode", "sync or async"),
];

/// Used when neither a flag, a variable nor client.toml names the node (with a warning).
pub const DEFAULT_NODE: &str = "http://127.0.0.1:26657";
pub const DEFAULT_GRPC: &str = "http://127.0.0.1:9090";

/// The values of client.toml; a key the file does not set is None.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientConfig {
    pub chain_id: Option<String>,
    pub node: Option<String>,
    pub grpc: Option<String>,
    pub keyring_backend: Option<String>,
    pub output: Option<String>,
    pub broadcast_mode: Option<String>,
}

impl ClientConfig {
    /// Reads `HOME/config/client.toml`; a missing file is an empty config.
    pub fn load(home: &Path) -> Result<Self> {
        let path = home::client_toml_path(home);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let doc: toml::Table = toml::from_str(text).context("not valid TOML")?;
        let mut c = ClientConfig::default();
        for (k, v) in &doc {
            let s = match v {
                toml::Value::String(s) => s.clone(),
                other => bail!("{k} = {other} is not a string"),
            };
            // An empty string is the same as an absent key (Cosmos SDK writes `chain-id = ""`).
            let s = (!s.is_empty()).then_some(s);
            match k.as_str() {
                "chain-id" => c.chain_id = s,
                "node" => c.node = s,
                "grpc" => c.grpc = s,
                "keyring-backend" => c.keyring_backend = s,
                "output" => c.output = s,
                "broadcast-mode" => c.broadcast_mode = s,
                // Keys of other tools (or later versions) are kept and ignored.
                _ => {}
            }
        }
        Ok(c)
    }

    /// The value of `key` (one of [`KEYS`]).
    pub fn get(&self, key: &str) -> Result<Option<&str>> {
        Ok(match key {
            "chain-id" => self.chain_id.as_deref(),
            "node" => self.node.as_deref(),
            "grpc" => self.grpc.as_deref(),
            "keyring-backend" => self.keyring_backend.as_deref(),
            "output" => self.output.as_deref(),
            "broadcast-mode" => self.broadcast_mode.as_deref(),
            other => bail!("unknown client.toml key {other:?} (keys: {})", key_names()),
        })
    }
}

fn key_names() -> String {
    KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

/// Checks `value` for `key`, so a typo in `stoad config` fails there and not at the next
/// command. Returns the value as it is stored.
pub fn validate(key: &str, value: &str) -> Result<String> {
    let v = value.trim();
    match key {
        "chain-id" => {
            if v.chars().any(|c| c.is_whitespace() || c.is_control()) || v.len() > 50 {
                bail!("invalid chain id {v:?}: at most 50 characters, no spaces");
            }
        }
        "node" | "grpc" => {
            if !(v.is_empty() || v.starts_with("http://") || v.starts_with("https://")) {
                // CometBFT's and Cosmos SDK's tcp:// form means http here.
                if let Some(rest) = v.strip_prefix("tcp://") {
                    return Ok(format!("http://{rest}"));
                }
                bail!("{key} must be an http:// or https:// URL, not {v:?}");
            }
        }
        "keyring-backend" => {
            if !v.is_empty() {
                crate::keyring::Backend::parse(v)?;
            }
        }
        "output" => {
            if !v.is_empty() && v != "text" && v != "json" {
                bail!("output must be text or json, not {v:?}");
            }
        }
        "broadcast-mode" => {
            if !v.is_empty() && v != "sync" && v != "async" {
                bail!("broadcast-mode must be sync or async, not {v:?}");
            }
        }
        other => bail!("unknown client.toml key {other:?} (keys: {})", key_names()),
    }
    Ok(v.to_string())
}

/// Sets `key = value` in `HOME/config/client.toml` (created when missing), keeping every other
/// line and comment.
pub fn set(home: &Path, key: &str, value: &str) -> Result<()> {
    let value = validate(key, value)?;
    let path = home::client_toml_path(home);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HEADER.to_string(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let text = set_key(&text, None, key, &quote(&value))?;
    // Refuse to leave a file the next command cannot read.
    ClientConfig::parse(&text).map_err(|e| anyhow!("the edit would break client.toml: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))
}

/// The comment at the top of a client.toml stoad creates.
pub const HEADER: &str = "\
# Defaults of stoad's client commands on this home (flags and STOA_* variables win).
# `stoad config` lists them; `stoad config KEY VALUE` sets one.
# chain-id: the chain to sign for; node: CometBFT RPC URL; grpc: stoad gRPC URL;
# keyring-backend: file (keys sealed with a passphrase) or test (in the clear);
# output: text or json; broadcast-mode: sync or async.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_then_load_round_trips_and_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        set(dir.path(), "node", "tcp://127.0.0.1:1234").unwrap();
        set(dir.path(), "chain-id", "stoa-x").unwrap();
        set(dir.path(), "output", "json").unwrap();
        let c = ClientConfig::load(dir.path()).unwrap();
        assert_eq!(c.node.as_deref(), Some("http://127.0.0.1:1234"));
        assert_eq!(c.chain_id.as_deref(), Some("stoa-x"));
        assert_eq!(c.output.as_deref(), Some("json"));
        assert_eq!(c.grpc, None);
        let text = std::fs::read_to_string(home::client_toml_path(dir.path())).unwrap();
        assert!(text.starts_with("# Defaults"), "{text}");
        set(dir.path(), "chain-id", "").unwrap();
        assert_eq!(ClientConfig::load(dir.path()).unwrap().chain_id, None);
    }

    #[test]
    fn bad_values_and_keys_are_refused() {
        assert!(validate("output", "yaml").is_err());
        assert!(validate("broadcast-mode", "block").is_err());
        assert!(validate("keyring-backend", "os").is_err());
        assert!(validate("node", "localhost:26657").is_err());
        assert!(validate("chain-id", "a b").is_err());
        assert!(validate("gas", "1").is_err());
        assert!(ClientConfig::parse("node = 5").is_err());
    }
}
