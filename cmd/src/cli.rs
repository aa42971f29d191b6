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

    /// Output format: human-readable tables or one JSON document on stdout. Default:
    /// HOME/config/client.toml's output, else text.
    #[arg(long, short = 'o', global = true, value_enum)]
    pub output: Option<OutputFormat>,

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
    /// Read or write HOME/config/client.toml: `stoad config` lists it, `stoad config KEY`
    /// prints one value, `stoad config KEY VALUE` sets it (an empty VALUE unsets it).
    Config(crate::commands::config::ConfigArgs),
    /// The node's status: chain id, moniker, latest block, catching up (CometBFT RPC).
    Status(crate::commands::chain::StatusArgs),
    /// Print a shell completion script: `stoad completion bash > /etc/bash_completion.d/stoad`.
    Completion(crate::commands::chain::CompletionArgs),
    /// The compute supplier's worker agent (`stoad worker run`).
    #[command(subcommand)]
    Worker(crate::commands::worker::WorkerCmd),
    /// Rent compute: order GPUs, send them an encrypted job, fetch and decrypt its result.
    Rent(Box<crate::commands::rent::RentArgs>),
    /// Storage market client tools (sign deal proposals).
    Client(crate::commands::storage::ClientCmd),
    /// Offline simulations and forecasts through the modules' own code (no node needed).
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
    /// Set the storage market's params to a profile: public (default), devnet or test.
    StorageProfile { name: String },
    /// Add a genesis validator (app_state.validators, which InitChain hands CometBFT).
    AddValidator(crate::commands::genesis::AddValidatorArgs),
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
        /// Store an offline multisig key (a LegacyAminoPubKey) made of these keyring keys
        /// (names, comma separated), instead of creating a key.
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["recover", "mnemonic"], requires = "multisig_threshold")]
        multisig: Vec<String>,
        /// How many of the --multisig keys must sign.
        #[arg(long, requires = "multisig")]
        multisig_threshold: Option<u32>,
        /// Keep the --multisig keys in the order given (default: sorted by address, as the
        /// Cosmos SDK does; the order changes the address).
        #[arg(long, requires = "multisig")]
        nosort: bool,
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

/// Where the node is; shared by `tx`, `query` and `status`. Empty flags are filled from
/// HOME/config/client.toml before a command runs (`commands::Ctx::resolve_node`), so commands
/// always see the URLs and chain id they must use.
#[derive(Args, Debug, Clone, Default)]
pub struct NodeArgs {
    /// CometBFT RPC URL; default: HOME/config/client.toml's node.
    #[arg(
        long,
        global = true,
        env = "STOA_NODE",
        default_value = "",
        hide_default_value = true
    )]
    pub node: String,
    /// stoad gRPC URL; default: HOME/config/client.toml's grpc.
    #[arg(
        long,
        global = true,
        env = "STOA_GRPC",
        default_value = "",
        hide_default_value = true
    )]
    pub grpc: String,
    /// Chain id to sign for; default: HOME/config/client.toml's chain-id, else the chain_id of
    /// HOME/config/genesis.json.
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
    #[command(flatten)]
    Offline(crate::commands::offline::OfflineTx),
    /// Any messages as proto3 JSON with "@type" (a file or - for stdin), in one tx.
    Msg(crate::commands::tx_msg::TxMsgArgs),
    /// Storage market transactions.
    #[command(subcommand)]
    Storage(crate::commands::storage::StorageTx),
    /// Compute market transactions (devices, stake, heartbeats, orders, leases, buyback, jobs).
    #[command(subcommand)]
    Compute(crate::commands::compute::ComputeTx),
    /// Intelligence market transactions (subnets, registration, weights, stake).
    #[command(subcommand)]
    Intelligence(crate::commands::intelligence::IntelligenceTx),
}

#[derive(Subcommand, Debug)]
pub enum BankTx {
    /// Send coins: stoad tx bank send FROM TO_ADDR 100ustor
    Send {
        /// The sender: a key name, or a stoa1... address (of a keyring key, or any address
        /// with --generate-only).
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
    /// Print the unsigned tx as JSON (the Cosmos SDK's format) instead of signing it; sign it
    /// later with `stoad tx sign`. FROM may then be any address.
    #[arg(long)]
    pub generate_only: bool,
    /// Simulate the tx and print the gas it would use; sign and broadcast nothing.
    #[arg(long, conflicts_with = "generate_only")]
    pub dry_run: bool,
    /// Do not ask for confirmation (without it, when stdin is a terminal, the tx is shown and
    /// must be confirmed).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How to sign: direct (protobuf SignDoc) or amino-json (StdSignDoc, as a Ledger signs).
    #[arg(long, value_enum, default_value_t = crate::tx::SignModeArg::Direct)]
    pub sign_mode: crate::tx::SignModeArg,
    /// sync: wait for CheckTx (then for the block, unless --no-wait); async: return the hash
    /// at once. Default: HOME/config/client.toml's broadcast-mode, else sync.
    #[arg(long, value_enum)]
    pub broadcast_mode: Option<BroadcastMode>,
}

/// How a tx is handed to the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BroadcastMode {
    /// CometBFT broadcast_tx_sync: the CheckTx result, then (unless --no-wait) the block's.
    Sync,
    /// CometBFT broadcast_tx_async: only the hash; the tx may still be refused.
    Async,
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
    /// The storage market.
    #[command(subcommand)]
    Storage(crate::commands::storage::StorageQuery),
    /// The compute market: devices (ranked as matching ranks), orders, leases, jobs, stakes,
    /// buyback, emission, params.
    #[command(subcommand)]
    Compute(crate::commands::compute::ComputeQuery),
    /// The intelligence market: subnets, metagraph, stake, issuance.
    #[command(subcommand)]
    Intelligence(crate::commands::intelligence::IntelligenceQuery),
    /// A transaction by hash (CometBFT RPC).
    Tx {
        /// The tx hash (hex).
        hash: String,
    },
    #[command(flatten)]
    Chain(crate::commands::chain::ChainQuery),
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
