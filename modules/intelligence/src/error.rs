//! The intelligence module's errors (codespace `intelligence`): stable codes clients can match on.

use stoa_framework::ErrorCode;

pub const CODESPACE: &str = "intelligence";
pub const SUBNET_NOT_FOUND: ErrorCode = ErrorCode::new(CODESPACE, 2, "subnet not found");
pub const NOT_OWNER: ErrorCode = ErrorCode::new(CODESPACE, 3, "not the owner");
pub const BAD_HYPERPARAMS: ErrorCode = ErrorCode::new(CODESPACE, 4, "hyperparameter out of bounds");
pub const TOO_MANY_SUBNETS: ErrorCode = ErrorCode::new(CODESPACE, 5, "no free subnet slot");
pub const HOTKEY_OTHER_COLDKEY: ErrorCode =
    ErrorCode::new(CODESPACE, 6, "hotkey is bound to another coldkey");
pub const ALREADY_REGISTERED: ErrorCode =
    ErrorCode::new(CODESPACE, 7, "hotkey already registered on this subnet");
pub const INSUFFICIENT_BALANCE: ErrorCode = ErrorCode::new(CODESPACE, 8, "balance too low");
pub const SUBNET_FULL: ErrorCode =
    ErrorCode::new(CODESPACE, 9, "subnet full and every neuron immune");
pub const NOT_REGISTERED: ErrorCode = ErrorCode::new(CODESPACE, 10, "hotkey has no uid here");
pub const RATE_LIMITED: ErrorCode = ErrorCode::new(CODESPACE, 11, "rate limited");
pub const LENGTH_MISMATCH: ErrorCode =
    ErrorCode::new(CODESPACE, 12, "uids and values differ in length");
pub const UID_OUT_OF_RANGE: ErrorCode = ErrorCode::new(CODESPACE, 13, "uid out of range");
pub const DUPLICATE_UID: ErrorCode = ErrorCode::new(CODESPACE, 14, "uid given twice");
pub const VALUE_OUT_OF_RANGE: ErrorCode = ErrorCode::new(CODESPACE, 15, "value out of range");
pub const VERSION_KEY_LOW: ErrorCode = ErrorCode::new(CODESPACE, 16, "weights version key too low");
pub const COMMIT_REVEAL_ON: ErrorCode = ErrorCode::new(
    CODESPACE,
    17,
    "subnet uses commit-reveal: commit, then reveal",
);
pub const COMMIT_REVEAL_OFF: ErrorCode =
    ErrorCode::new(CODESPACE, 18, "subnet does not use commit-reveal");
pub const NO_COMMIT: ErrorCode = ErrorCode::new(CODESPACE, 19, "no weight commit to reveal");
pub const REVEAL_WINDOW: ErrorCode = ErrorCode::new(
    CODESPACE,
    20,
    "reveal outside its window (the epoch after the commit)",
);
pub const REVEAL_MISMATCH: ErrorCode =
    ErrorCode::new(CODESPACE, 21, "reveal does not match its commit");
pub const INSUFFICIENT_STAKE: ErrorCode = ErrorCode::new(CODESPACE, 22, "not enough stake");
pub const TAKE_TOO_HIGH: ErrorCode = ErrorCode::new(CODESPACE, 23, "take above the maximum");
pub const ZERO_AMOUNT: ErrorCode = ErrorCode::new(CODESPACE, 24, "amount must be positive");
pub const INVARIANT: ErrorCode = ErrorCode::new(CODESPACE, 25, "invariant broken");
pub const ROOT_SUBNET: ErrorCode = ErrorCode::new(CODESPACE, 26, "not allowed on the root subnet");
