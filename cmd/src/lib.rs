//! stoa-cmd: the `stoad` binary's commands as a library, so integration tests can reach the
//! key derivation and tx building directly as well as through the binary.

pub mod agent;
pub mod amino;
pub mod app_glue;
pub mod cli;
pub mod client;
pub mod client_config;
pub mod commands;
pub mod hd;
pub mod home;
pub mod keyring;
pub mod multisig;
pub mod output;
pub mod toml_edit;
pub mod tx;
pub mod txjson;

/// Exit code for a command that ran but whose result is a failure (a tx with a non-zero code).
pub const EXIT_FAILED: i32 = 1;
