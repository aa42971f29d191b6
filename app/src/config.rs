//! The node's own configuration, `config/app.toml` in the home directory (see docs/DEVELOPING.md):
//! listen addresses, the CometBFT RPC address, node-local minimum gas prices, state retention.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use stoa_framework::fixed::Dec;
use stoa_framework::validate_denom;

/// CometBFT's own Prometheus endpoint defaults to :26660 too: a node that turns both on sets
/// one of them elsewhere (the localnet puts CometBFT's on 26661).
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:26660";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Where CometBFT's `proxy_app` connects (ABCI socket protocol): `unix://PATH` (relative
    /// to the home directory; the default `unix://data/stoad.sock`, mode 0600), or
    /// `HOST:PORT` / `tcp://HOST:PORT`, which any local process can reach: for a trusted host.
    pub abci_addr: String,
    /// The gRPC query and tx service.
    pub grpc_addr: String,
    /// CometBFT's RPC, used by gRPC `BroadcastTx` and `GetTx`.
    pub rpc_addr: String,
    /// Node-local minimum gas prices, applied in CheckTx only: `0.001ustor,0.0001uusdc`.
    pub minimum_gas_prices: String,
    /// State versions kept (0 = all).
    pub retention: u64,
    /// Run every module's invariants after every block (slow; for devnets and tests).
    pub check_invariants: bool,
    /// Prometheus metrics (`GET /metrics`) listen address; empty turns them off.
    pub metrics_addr: String,
    /// The REST (LCD) gateway, Cosmos SDK's routes over HTTP/JSON (`rest.rs`); "" = off.
    pub rest_addr: String,
    /// gRPC-web (for browsers) on the gRPC port, beside plain gRPC.
    pub grpc_web: bool,
    /// The origins whose pages may call REST and gRPC-web from a browser (CORS): `["*"]` any,
    /// `[]` none (same origin only), or a list such as `["https://app.example"]`.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            abci_addr: crate::abci_server::DEFAULT_ABCI_ADDR.into(),
            grpc_addr: "127.0.0.1:9090".into(),
            rpc_addr: "http://127.0.0.1:26657".into(),
            minimum_gas_prices: "0.001ustor,0.001ucomp,0.0001uusdc,0.001umind".into(),
            retention: 1000,
            check_invariants: false,
            metrics_addr: DEFAULT_METRICS_ADDR.into(),
            rest_addr: "127.0.0.1:1317".into(),
            grpc_web: true,
            // The node answers public chain data and relays signed txs: any page may ask it,
            // as the Cosmos SDK's gRPC-web does; an operator narrows it with a list.
            cors_allowed_origins: vec!["*".into()],
        }
    }
}

impl AppConfig {
    pub fn path(home: &Path) -> PathBuf {
        home.join("config").join("app.toml")
    }

    /// Reads `home/config/app.toml`; missing keys take their defaults.
    pub fn load(home: &Path) -> anyhow::Result<AppConfig> {
        let path = Self::path(home);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let config: AppConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        parse_gas_prices(&config.minimum_gas_prices)
            .map_err(|e| anyhow::anyhow!("{}: minimum_gas_prices: {e}", path.display()))?;
        for origin in &config.cors_allowed_origins {
            check_origin(origin)
                .map_err(|e| anyhow::anyhow!("{}: cors_allowed_origins: {e}", path.display()))?;
        }
        Ok(config)
    }

    /// Writes `home/config/app.toml`, creating `home/config` if needed.
    pub fn write(&self, home: &Path) -> anyhow::Result<()> {
        let path = Self::path(home);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = toml::to_string(self)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// The parsed node-local minimum gas prices.
    pub fn min_gas_prices(&self) -> anyhow::Result<Vec<(String, Dec)>> {
        parse_gas_prices(&self.minimum_gas_prices)
            .map_err(|e| anyhow::anyhow!("minimum_gas_prices: {e}"))
    }
}

/// An entry of `cors_allowed_origins`: `*`, or an origin `scheme://host[:port]` (no path).
pub fn check_origin(origin: &str) -> Result<(), String> {
    if origin == "*" {
        return Ok(());
    }
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| format!("{origin:?}: an origin is \"*\" or http(s)://host[:port]"))?;
    if rest.is_empty() || rest.contains(['/', ' ', '*']) || !origin.is_ascii() {
        return Err(format!(
            "{origin:?}: an origin is \"*\" or http(s)://host[:port]"
        ));
    }
    Ok(())
}

/// Parses Cosmos SDK's DecCoins notation `0.001ustor,0.0001uusdc` (an empty string is none).
pub fn parse_gas_prices(s: &str) -> Result<Vec<(String, Dec)>, String> {
    let mut out: Vec<(String, Dec)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(|| format!("{part:?}: no denom"))?;
        let (num, denom) = part.split_at(split);
        let price: Dec = num.parse().map_err(|e| format!("{part:?}: {e}"))?;
        validate_denom(denom).map_err(|e| e.log)?;
        if out.iter().any(|(d, _)| d == denom) {
            return Err(format!("duplicate denom {denom}"));
        }
        out.push((denom.to_string(), price));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_prices() {
        let dir = tempfile::tempdir().unwrap();
        let c = AppConfig::default();
        c.write(dir.path()).unwrap();
        assert_eq!(AppConfig::load(dir.path()).unwrap(), c);
        let p = c.min_gas_prices().unwrap();
        assert_eq!(p[0].0, "ustor");
        assert_eq!(p[0].1.to_string(), "0.001");
        assert!(parse_gas_prices("1.x").is_err());
        assert!(parse_gas_prices("").unwrap().is_empty());
    }

    #[test]
    fn gateway_keys() {
        let c = AppConfig::default();
        assert_eq!(c.rest_addr, "127.0.0.1:1317");
        assert!(c.grpc_web);
        // An app.toml written before the gateway existed still loads, with the defaults.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::write(AppConfig::path(dir.path()), "grpc_addr = \"127.0.0.1:9\"\n").unwrap();
        assert_eq!(
            AppConfig::load(dir.path()).unwrap().rest_addr,
            "127.0.0.1:1317"
        );
        std::fs::write(
            AppConfig::path(dir.path()),
            "cors_allowed_origins = [\"https://a.example\", \"http://127.0.0.1:8080\"]\n",
        )
        .unwrap();
        assert_eq!(
            AppConfig::load(dir.path())
                .unwrap()
                .cors_allowed_origins
                .len(),
            2
        );
        for bad in [
            "a.example",
            "https://a.example/path",
            "https://*.example",
            "",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
            let text = format!("cors_allowed_origins = [{bad:?}]\n");
            std::fs::write(AppConfig::path(dir.path()), text).unwrap();
            assert!(AppConfig::load(dir.path()).is_err(), "{bad}");
        }
    }
}
