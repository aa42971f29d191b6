//! Dispatch from the parsed command line to each command, and what the commands share: the
//! resolved home, output format and keyring, and address-or-key-name resolution.

pub mod chain;
pub mod compute;
pub mod config;
pub mod genesis;
pub mod init;
pub mod intelligence;
pub mod keys;
pub mod offline;
pub mod query;
pub mod rent;
pub mod sim;
pub mod start;
pub mod storage;
pub mod tx;
pub mod tx_msg;
pub mod worker;

use crate::cli::{Cli, Command, NodeArgs};
use crate::client_config::{self, ClientConfig};
use crate::home;
use crate::keyring::{Keyring, Passphrase};
use crate::output::OutputFormat;
use anyhow::{anyhow, Result};
use std::path::PathBuf;
use stoa_framework::Address;

pub use tx::Signer;

/// What every command gets from the global flags and the home's client.toml.
pub struct Ctx {
    pub home: PathBuf,
    pub output: OutputFormat,
    pub keyring: Keyring,
    /// HOME/config/client.toml as read at start.
    pub client: ClientConfig,
}

impl Ctx {
    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// A `stoa1...` address as given, or the address of the key with that name.
    pub fn resolve_address(&self, address_or_key: &str) -> Result<Address> {
        if is_address(address_or_key) {
            return Address::parse(address_or_key)
                .map_err(|e| anyhow!("invalid address {address_or_key:?}: {}", e.log));
        }
        if self.keyring.exists(address_or_key).unwrap_or(false) {
            return self.keyring.get(address_or_key)?.address();
        }
        Err(anyhow!(
            "{address_or_key:?} is neither a stoa1... address nor a key in {}",
            self.keyring.dir().display()
        ))
    }

    /// FROM of a tx: a key name, or an address, which is the keyring key that has it or, when
    /// none has, a bare address (enough for `--generate-only`). Nothing is unlocked here.
    pub fn signer(&self, from: &str) -> Result<Signer> {
        if is_address(from) {
            let address =
                Address::parse(from).map_err(|e| anyhow!("invalid address {from:?}: {}", e.log))?;
            return Ok(match self.keyring.find_by_address(&address)? {
                Some(info) => Signer::Keyring(info),
                None => Signer::Address(address),
            });
        }
        Ok(Signer::Keyring(self.keyring.get(from)?))
    }

    /// Fills what `--node`, `--grpc` and `--chain-id` (and their variables) left empty from
    /// client.toml; a URL given nowhere falls back to the local default with a warning.
    pub fn resolve_node(&self, node: &mut NodeArgs) {
        let path = home::client_toml_path(&self.home);
        for (value, configured, default, key) in [
            (
                &mut node.node,
                &self.client.node,
                client_config::DEFAULT_NODE,
                "node",
            ),
            (
                &mut node.grpc,
                &self.client.grpc,
                client_config::DEFAULT_GRPC,
                "grpc",
            ),
        ] {
            if !value.is_empty() {
                continue;
            }
            *value = match configured {
                Some(c) => c.clone(),
                None => {
                    eprintln!(
                        "warning: no --{key} and no {key} in {}: using {default} (`stoad config {key} URL` sets it)",
                        path.display()
                    );
                    default.to_string()
                }
            };
        }
        if node.chain_id.is_none() {
            node.chain_id = self.client.chain_id.clone();
        }
    }
}

/// Whether `s` is written as a Stoa address (rather than a key name).
pub fn is_address(s: &str) -> bool {
    s.starts_with(stoa_framework::BECH32_PREFIX)
        && s[stoa_framework::BECH32_PREFIX.len()..].starts_with('1')
}

/// The output format: `--output`, else client.toml's `output`, else text. Errors in
/// client.toml fall back to text here; the command itself reports them.
pub fn output_format(cli: &Cli) -> OutputFormat {
    if let Some(o) = cli.output {
        return o;
    }
    let Ok(home) = home::resolve_home(cli.home.as_deref()) else {
        return OutputFormat::Text;
    };
    match ClientConfig::load(&home).ok().and_then(|c| c.output) {
        Some(o) if o == "json" => OutputFormat::Json,
        _ => OutputFormat::Text,
    }
}

/// Runs a command; returns the process exit code (non-zero when a tx failed on chain).
pub fn run(cli: Cli) -> Result<i32> {
    let output = output_format(&cli);
    let home = home::resolve_home(cli.home.as_deref())?;
    let client = ClientConfig::load(&home)?;
    let backend = home::keyring_backend(&home, cli.keyring_backend)?;
    let keyring = Keyring::new(
        home::keyring_dir(&home, backend, cli.keyring_dir.as_deref()),
        backend,
        Passphrase::Prompt,
    );
    let ctx = Ctx {
        home,
        output,
        keyring,
        client,
    };
    match cli.command {
        Command::Init(args) => init::run(&ctx, args, cli.keyring_backend).map(|_| 0),
        Command::Genesis(cmd) => genesis::run(&ctx, cmd).map(|_| 0),
        Command::Keys(cmd) => keys::run(&ctx, cmd).map(|_| 0),
        Command::Start(args) => start::run(&ctx, args).map(|_| 0),
        Command::Tx(mut cmd) => {
            ctx.resolve_node(&mut cmd.node);
            block_on(tx::run(&ctx, cmd))
        }
        Command::Query(mut cmd) => {
            ctx.resolve_node(&mut cmd.node);
            block_on(query::run(&ctx, cmd))
        }
        Command::Config(args) => config::run(&ctx, args).map(|_| 0),
        Command::Status(mut args) => {
            ctx.resolve_node(&mut args.node);
            block_on(chain::status(&ctx, args))
        }
        Command::Completion(args) => chain::completion(args).map(|_| 0),
        Command::Worker(mut cmd) => {
            let crate::commands::worker::WorkerCmd::Run(args) = &mut cmd;
            ctx.resolve_node(&mut args.node);
            block_on(worker::run(&ctx, cmd))
        }
        Command::Rent(mut args) => {
            ctx.resolve_node(&mut args.node);
            block_on(rent::run(&ctx, *args))
        }
        Command::Client(mut cmd) => {
            ctx.resolve_node(&mut cmd.node);
            block_on(storage::run_client(&ctx, cmd))
        }
        Command::Sim(cmd) => sim::run(&ctx, cmd),
    }
}

/// Network commands run on a small tokio runtime made here, not in main: `stoad start` hands
/// control to the app, which runs its own runtime.
fn block_on<F: std::future::Future<Output = Result<i32>>>(f: F) -> Result<i32> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(f)
}
