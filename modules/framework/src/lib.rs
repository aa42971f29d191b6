//! Stoa's framework: the Merklized state store, the execution context, typed state (`typed`),
//! the `Module` trait with one handler per message, errors with stable codes, typed events,
//! coin math, fixed-point types and functions (`fixed`, `math`), account keys with signature
//! checks (`crypto`), params (`params`), the clock and randomness (`block_record`,
//! `schedule`), validator set changes (`validators`), and shared economics: payment streams, reward pools, vesting.

pub mod address;
pub mod be_bytes;
pub mod block_record;
pub mod coins;
pub mod crypto;
pub mod ctx;
pub mod error;
pub mod events;
pub mod fixed;
pub mod gas;
pub mod math;
pub mod module;
pub mod params;
pub mod rewards;
pub mod schedule;
pub mod state;
pub mod state_key;
pub mod store;
pub mod stream;
pub mod typed;
pub mod validators;
pub mod vesting;

pub use address::{module_address, Address, BECH32_PREFIX};
pub use coins::{validate_denom, Coin, Coins};
pub use ctx::{BlockInfo, Ctx, ExecMode};
pub use error::{sdk, ErrorCode, StoaError};
pub use events::{Event, EventAttribute};
pub use gas::{GasConfig, GasMeter};
pub use module::{
    Any, CheckedMsg, ErasedMsgHandler, Module, ModuleAccountSpec, MsgHandler, PreState, QueryFn,
    Registrar,
};
pub use params::Params;
pub use state::{Order, State};
pub use store::{CommitInfo, Store, StoreError};
pub use validators::{ValidatorKey, ValidatorUpdate};

/// The result type of everything that runs inside a block.
pub type StoaResult<T> = Result<T, StoaError>;
