//! Stoa's ABCI application: the tx pipeline (decode, ante, messages), the block lifecycle, the
//! query router behind ABCI Query and gRPC, and the node that serves both to CometBFT.

pub mod abci;
pub mod abci_server;
pub mod allocator;
pub mod app;
pub mod config;
pub mod cosmos_services;
pub mod grpc;
pub mod lifecycle;
pub mod metrics;
pub mod modules;
pub mod node;
pub mod preverify;
pub mod proof;
pub mod query;
pub mod rest;
pub mod serve;
pub mod tx;

pub use app::{AppOptions, StoaApp};
pub use config::AppConfig;

/// The genesis `app_state` of a new chain: every module's default section, in module order,
/// plus the app's own "tx" section (see docs/DEVELOPING.md).
pub fn default_app_state() -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    obj.insert("tx".into(), tx::params::default_genesis());
    for m in modules::modules() {
        obj.insert(m.name().into(), m.default_genesis());
    }
    serde_json::Value::Object(obj)
}
