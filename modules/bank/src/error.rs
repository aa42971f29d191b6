//! The bank's errors (codespace `bank`), with Cosmos SDK `x/bank`'s codes where it has one.
//! Insufficient funds and bad addresses use the root `sdk` codes, as Cosmos SDK does.

use stoa_framework::ErrorCode;

pub const CODESPACE: &str = "bank";
pub const NO_INPUTS: ErrorCode = ErrorCode::new(CODESPACE, 2, "no inputs to send transaction");
pub const SEND_DISABLED: ErrorCode = ErrorCode::new(CODESPACE, 5, "send transactions are disabled");
pub const UNKNOWN_DENOM: ErrorCode = ErrorCode::new(CODESPACE, 6, "unknown denom");
pub const DUPLICATE_ENTRY: ErrorCode = ErrorCode::new(CODESPACE, 8, "duplicate entry");
pub const SUPPLY_CAP_EXCEEDED: ErrorCode =
    ErrorCode::new(CODESPACE, 10, "max supply of denom exceeded");
pub const NO_MINT_PERMISSION: ErrorCode =
    ErrorCode::new(CODESPACE, 11, "module account may not mint");
pub const NO_BURN_PERMISSION: ErrorCode =
    ErrorCode::new(CODESPACE, 12, "module account may not burn");
pub const UNKNOWN_MODULE_ACCOUNT: ErrorCode =
    ErrorCode::new(CODESPACE, 13, "unknown module account");
pub const BLOCKED_RECIPIENT: ErrorCode = ErrorCode::new(
    CODESPACE,
    14,
    "module accounts receive funds only from modules",
);
pub const SUPPLY_INVARIANT: ErrorCode = ErrorCode::new(
    CODESPACE,
    15,
    "total supply does not equal the sum of balances",
);
