//! Dispatch from the parsed command line to each command, and what the commands share: the
//! resolved home, output format and keyring, and address-or-key-name resolution.

pub mod genesis;
pub mod init;
pub mod intelligence;
pub mod keys;
pub mod query;
pub mod sim;
pub mod start;
pub mod tx;

use crate::cli::{Cli, Command};
use crate::home;
use crate::keyring::{Keyring, Passphrase};
use crate::output::OutputFormat;
use anyhow::{anyhow, Result};
use std::path::PathBuf;
use stoa_framework::Address;

/// What every command gets from the global flags.
pub struct Ctx {
    pub home: PathBuf,
    pub output: OutputFormat,
    pub keyring: Keyring,
}

impl Ctx {
    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// A `stoa1...` address as given, or the address of the key with that name.
    pub fn resolve_address(&self, address_or_key: &str) -> Result<Address> {
        if address_or_key.starts_with(stoa_framework::BECH32_PREFIX)
            && address_or_key[stoa_framework::BECH32_PREFIX.len()..].starts_with('1')
        {
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
}

/// Runs a command; returns the process exit code (non-zero when a tx failed on chain).
pub fn run(cli: Cli) -> Result<i32> {
    let home = home::resolve_home(cli.home.as_deref())?;
    let backend = home::keyring_backend(&home, cli.keyring_backend)?;
    let keyring = Keyring::new(
        home::keyring_dir(&home, backend, cli.keyring_dir.as_deref()),
        backend,
        Passphrase::Prompt,
    );
    let ctx = Ctx {
        home,
        output: cli.output,
        keyring,
    };
    match cli.command {
        Command::Init(args) => init::run(&ctx, args, cli.keyring_backend).map(|_| 0),
        Command::Genesis(cmd) => genesis::run(&ctx, cmd).map(|_| 0),
        Command::Keys(cmd) => keys::run(&ctx, cmd).map(|_| 0),
        Command::Start(args) => start::run(&ctx, args).map(|_| 0),
        Command::Tx(cmd) => block_on(tx::run(&ctx, cmd)),
        Command::Query(cmd) => block_on(query::run(&ctx, cmd)),
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
