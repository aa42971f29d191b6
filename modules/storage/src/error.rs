//! The storage module's errors (codespace `storage`): stable codes clients can match on.

use stoa_framework::ErrorCode;

pub const CODESPACE: &str = "storage";
pub const BAD_PARAMS: ErrorCode = ErrorCode::new(CODESPACE, 2, "invalid storage params");
pub const NOT_WORKER: ErrorCode =
    ErrorCode::new(CODESPACE, 3, "sender is not the provider's worker");
pub const UNKNOWN_PROVIDER: ErrorCode = ErrorCode::new(CODESPACE, 4, "unknown provider");
pub const PROVIDER_EXISTS: ErrorCode = ErrorCode::new(CODESPACE, 5, "provider already registered");
pub const SEAL_PROOF_NOT_ALLOWED: ErrorCode =
    ErrorCode::new(CODESPACE, 6, "seal proof not allowed");
pub const BAD_ASK: ErrorCode = ErrorCode::new(CODESPACE, 7, "invalid ask");
pub const BAD_AMOUNT: ErrorCode = ErrorCode::new(CODESPACE, 8, "invalid amount");
pub const INSUFFICIENT_ESCROW: ErrorCode =
    ErrorCode::new(CODESPACE, 9, "insufficient unlocked escrow");
pub const BAD_SIGNATURE: ErrorCode = ErrorCode::new(
    CODESPACE,
    10,
    "deal proposal signature does not verify for its client",
);
pub const BAD_PROPOSAL: ErrorCode = ErrorCode::new(CODESPACE, 11, "invalid deal proposal");
pub const START_PASSED: ErrorCode =
    ErrorCode::new(CODESPACE, 12, "deal start is not in the future");
pub const BAD_DURATION: ErrorCode = ErrorCode::new(
    CODESPACE,
    13,
    "deal ends before it starts or its duration is out of bounds",
);
pub const BAD_PIECE: ErrorCode = ErrorCode::new(CODESPACE, 14, "invalid piece size or CID");
pub const PIECE_TOO_LARGE: ErrorCode =
    ErrorCode::new(CODESPACE, 15, "pieces do not fit the sector");
pub const LOW_COLLATERAL: ErrorCode =
    ErrorCode::new(CODESPACE, 16, "provider collateral below the minimum");
pub const DUPLICATE_DEAL: ErrorCode =
    ErrorCode::new(CODESPACE, 17, "deal proposal already published");
pub const UNKNOWN_DEAL: ErrorCode = ErrorCode::new(CODESPACE, 18, "unknown deal");
pub const DEAL_NOT_USABLE: ErrorCode =
    ErrorCode::new(CODESPACE, 19, "deal cannot go in this sector");
pub const SECTOR_NUMBER_USED: ErrorCode =
    ErrorCode::new(CODESPACE, 20, "sector number already used");
pub const STALE_RANDOMNESS: ErrorCode = ErrorCode::new(
    CODESPACE,
    21,
    "seal randomness too old, in the future or unknown",
);
pub const COMM_D_MISMATCH: ErrorCode =
    ErrorCode::new(CODESPACE, 22, "comm_d does not match the deals' pieces");
pub const BAD_EXPIRATION: ErrorCode = ErrorCode::new(CODESPACE, 23, "invalid sector expiration");
pub const UNKNOWN_PRECOMMIT: ErrorCode =
    ErrorCode::new(CODESPACE, 24, "no such pre-committed sector");
pub const PROVE_TOO_EARLY: ErrorCode = ErrorCode::new(
    CODESPACE,
    25,
    "prove-commit before the interactive seed is drawn",
);
pub const INVALID_PROOF: ErrorCode = ErrorCode::new(CODESPACE, 26, "proof does not verify");
pub const POST_OUTSIDE_WINDOW: ErrorCode =
    ErrorCode::new(CODESPACE, 27, "Window PoSt outside its deadline's window");
pub const UNKNOWN_SECTOR: ErrorCode = ErrorCode::new(CODESPACE, 28, "unknown sector");
pub const BAD_COMMITMENT: ErrorCode = ErrorCode::new(CODESPACE, 29, "a commitment is not 32 bytes");
pub const INVARIANT: ErrorCode = ErrorCode::new(CODESPACE, 30, "storage invariant broken");
pub const TOO_MANY: ErrorCode = ErrorCode::new(CODESPACE, 31, "too many items in one message");
pub const FAULT_CUTOFF: ErrorCode = ErrorCode::new(
    CODESPACE,
    32,
    "past the fault declaration cutoff of the sector's deadline",
);
pub const PROVE_TOO_LATE: ErrorCode = ErrorCode::new(
    CODESPACE,
    33,
    "prove-commit after max_prove_commit_duration",
);
pub const PARTITION_PROVEN: ErrorCode = ErrorCode::new(
    CODESPACE,
    34,
    "this partition of the sector's PoRep is already proven",
);
pub const NOT_FAULTY: ErrorCode =
    ErrorCode::new(CODESPACE, 35, "sector is not faulty: nothing to recover");
