//! The `stoad` command line (clap derive): global flags, every subcommand and its flags.

use crate::keyring::{Algo, Backend};
use crate::output::OutputFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "stoad",
    version,
    about = "Stoa node and client: init a home, run the ABCI app, manage keys, send txs, query state",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    /// Home directory shared with CometBFT (config/, data/, keyring/); default ~/.stoa.
    #[arg(long, global = true, env = "STOA_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Output format: human-readable tables or one JSON document on stdout.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Keyring backend: `file` seals keys with a passphrase, `test` keeps them in the clear
    /// (devnets, CI). Default: HOME/config/client.toml's keyring-backend, else file.
    #[arg(long, global = true, env = "STOA_KEYRING_BACKEND", value_enum)]
    pub keyring_backend: Option<Backend>,

    /// Directory of the keyring; default HOME/keyring-file or HOME/keyring-test.
    #[arg(long, global = true, env = "STOA_KEYRING_DIR", value_name = "DIR")]
    pub keyring_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Initialise a home: CometBFT config and genesis (via `cometbft init`), the genesis
    /// chain id and app_state, config/app.toml and config/client.toml (the keyring backend
    /// the home's commands use). Safe to run again.
    Init(InitArgs),
    /// Edit and check the genesis file.
    #[command(subcommand)]
    Genesis(GenesisCmd),
    /// Manage the keyring (`--keyring-backend file`: secrets sealed with the keyring's
    /// passphrase; `test`: in the clear, for devnets and tests).
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Run the ABCI application and the gRPC query server (CometBFT connects to it).
    Start(StartArgs),
    /// Build, sign and broadcast a transaction, then wait for it to be included.
    Tx(TxCmd),
    /// Query chain state over gRPC (or CometBFT RPC for txs and proofs).
    Query(QueryCmd),
    /// Offline simulations through the modules' own code (JSON on stdin, JSON on stdout).
    #[command(subcommand)]
    Sim(crate::commands::sim::SimCmd),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The node's moniker (written to CometBFT's config.toml).
    #[arg(long)]
    pub moniker: Option<String>,
    /// Chain id to write into genesis.json (required unless the genesis already has one).
    #[arg(long, env = "STOA_CHAIN_ID")]
    pub chain_id: Option<String>,
    /// Replace an existing app_state with the default one.
    #[arg(long)]
    pub overwrite: bool,
    /// Short block times for tests and devnets (timeout_commit = 500ms, shorter propose and vote timeouts).
    #[arg(long)]
    pub fast_blocks: bool,
    /// CometBFT RPC listen address, e.g. tcp://127.0.0.1:26657.
    #[arg(long, value_name = "ADDR")]
    pub rpc_laddr: Option<String>,
    /// CometBFT P2P listen address, e.g. tcp://127.0.0.1:26656.
    #[arg(long, value_name = "ADDR")]
    pub p2p_laddr: Option<String>,
    /// ABCI address of stoad (app.toml abci_addr; CometBFT's proxy_app follows it), e.g. 127.0.0.1:26658.
    #[arg(long, value_name = "HOST:PORT")]
    pub abci_addr: Option<String>,
    /// gRPC listen address of stoad (app.toml grpc_addr), e.g. 127.0.0.1:9090.
    #[arg(long, value_name = "HOST:PORT")]
    pub grpc_addr: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum GenesisCmd {
    /// Give an account coins at genesis. Coins of denoms the reserve module account holds move
    /// from the reserve (supply unchanged); other denoms are new genesis supply.
    AddAccount {
        /// A stoa1... address or the name of a key in the keyring.
        address_or_key: String,
        /// Coins, e.g. 1000000ustor,500uusdc.
        coins: String,
    },
    /// Check that the genesis app_state parses and its supplies add up.
    Validate,
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Create a key (a new 24-word mnemonic, or --recover an existing one) and print its address and mnemonic.
    Add {
        name: String,
        #[arg(long, value_enum, default_value_t = Algo::Secp256k1)]
        algo: Algo,
        /// Derive from an existing mnemonic: --mnemonic "...", or one line on stdin.
        #[arg(long)]
        recover: bool,
        /// The mnemonic to recover from (implies --recover).
        #[arg(long)]
        mnemonic: Option<String>,
    },
    /// List the keys in the keyring.
    List,
    /// Show one key.
    Show {
        name: String,
        /// Print only the address.
        #[arg(long, short = 'a')]
        address: bool,
    },
    /// Delete a key (no confirmation: there is no prompt).
    Delete { name: String },
    /// Import a key from a mnemonic or a hex private key.
    Import {
        name: String,
        #[arg(long, conflicts_with = "private_key")]
        mnemonic: Option<String>,
        /// 32-byte private key in hex.
        #[arg(long)]
        private_key: Option<String>,
        #[arg(long, value_enum, default_value_t = Algo::Secp256k1)]
        algo: Algo,
    },
    /// Print a key's mnemonic and private key (hex). Anyone who sees them controls the account.
    Export { name: String },
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Override app.toml's abci_addr.
    #[arg(long, value_name = "HOST:PORT")]
    pub abci_addr: Option<String>,
    /// Override app.toml's grpc_addr.
    #[arg(long, value_name = "HOST:PORT")]
    pub grpc_addr: Option<String>,
}

/// Where the node is; shared by `tx` and `query`.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// CometBFT RPC URL.
    #[arg(
        long,
        global = true,
        env = "STOA_NODE",
        default_value = "http://127.0.0.1:26657"
    )]
    pub node: String,
    /// stoad gRPC URL.
    #[arg(
        long,
        global = true,
        env = "STOA_GRPC",
        default_value = "http://127.0.0.1:9090"
    )]
    pub grpc: String,
    /// Chain id to sign for; default: the chain_id of HOME/config/genesis.json.
    #[arg(long, global = true, env = "STOA_CHAIN_ID")]
    pub chain_id: Option<String>,
}

#[derive(Args, Debug)]
pub struct TxCmd {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(subcommand)]
    pub command: TxSub,
}

#[derive(Subcommand, Debug)]
pub enum TxSub {
    /// Bank transactions.
    #[command(subcommand)]
    Bank(BankTx),
    /// Intelligence market transactions (subnets, registration, weights, stake).
    #[command(subcommand)]
    Intelligence(crate::commands::intelligence::IntelligenceTx),
}

#[derive(Subcommand, Debug)]
pub enum BankTx {
    /// Send coins: stoad tx bank send FROM_KEY TO_ADDR 100ustor
    Send {
        /// Name of the sending key in the keyring.
        from: String,
        /// Recipient: a stoa1... address or a key name.
        to: String,
        /// Coins, e.g. 100ustor or 100ustor,5ucomp.
        amount: String,
        #[command(flatten)]
        tx: TxFlags,
    },
}

/// Flags every transaction takes.
#[derive(Args, Debug, Clone)]
pub struct TxFlags {
    /// Fee to pay, e.g. 500ustor (default: none, or computed from --gas-prices).
    #[arg(long)]
    pub fees: Option<String>,
    /// Gas limit, or "auto" to simulate and multiply by --gas-adjustment.
    #[arg(long, default_value = "200000")]
    pub gas: String,
    /// Factor applied to the simulated gas with --gas auto.
    #[arg(long, default_value_t = 1.3)]
    pub gas_adjustment: f64,
    /// Gas prices, e.g. 0.001ustor: fee = ceil(gas x price). Exclusive with --fees.
    #[arg(long, conflicts_with = "fees")]
    pub gas_prices: Option<String>,
    /// A note stored with the tx (at most the chain's max_memo_characters).
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Block height after which the tx is no longer valid (0 = none).
    #[arg(long, default_value_t = 0)]
    pub timeout_height: u64,
    /// Use this sequence instead of the account's current one.
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Use this account number instead of the chain's.
    #[arg(long)]
    pub account_number: Option<u64>,
    /// Return after CheckTx accepted the tx instead of waiting for inclusion.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for inclusion.
    #[arg(long, default_value_t = 30)]
    pub wait_timeout: u64,
    /// Flip a byte of the signature before broadcasting (tests of the bad-signature path).
    #[arg(long, hide = true)]
    pub unsafe_corrupt_signature: bool,
}

#[derive(Args, Debug)]
pub struct QueryCmd {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(subcommand)]
    pub command: QuerySub,
}

#[derive(Subcommand, Debug)]
pub enum QuerySub {
    /// Balances and supply.
    #[command(subcommand)]
    Bank(BankQuery),
    /// Accounts.
    #[command(subcommand)]
    Auth(AuthQuery),
    /// The intelligence market: subnets, metagraph, stake, issuance.
    #[command(subcommand)]
    Intelligence(crate::commands::intelligence::IntelligenceQuery),
    /// A transaction by hash (CometBFT RPC).
    Tx {
        /// The tx hash (hex).
        hash: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum BankQuery {
    /// Balances of an address (or key name).
    Balances {
        address_or_key: String,
        /// Only this denom.
        #[arg(long)]
        denom: Option<String>,
        /// Read through CometBFT abci_query with a Merkle proof and verify it against the
        /// app hash in the next block's header (needs --denom).
        #[arg(long, requires = "denom")]
        prove: bool,
    },
    /// Total supply.
    Supply {
        #[arg(long)]
        denom: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuthQuery {
    /// An account's number, sequence and public key.
    Account { address_or_key: String },
}
