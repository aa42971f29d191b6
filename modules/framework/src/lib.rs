//! Stoa's framework: the Merklized state store, the execution context, the `Module` trait,
//! errors with stable codes, typed events, coin math, the fixed-point types modules share,
//! account keys with signature checks (`crypto`) and the way params are stored (`params`).

pub mod address;
pub mod block_record;
pub mod coins;
pub mod crypto;
pub mod ctx;
pub mod error;
pub mod events;
pub mod fixed;
pub mod gas;
pub mod module;
pub mod params;
pub mod schedule;
pub mod state;
pub mod state_key;
pub mod store;
pub mod typed;

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

/// The result type of everything that runs inside a block.
pub type StoaResult<T> = Result<T, StoaError>;
