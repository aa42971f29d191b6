//! The compute module's errors (codespace `compute`): stable codes clients can match on.

use stoa_framework::ErrorCode;

pub const CODESPACE: &str = "compute";
pub const BAD_DEVICE: ErrorCode = ErrorCode::new(CODESPACE, 2, "invalid device description");
pub const STAKE_TOO_LOW: ErrorCode =
    ErrorCode::new(CODESPACE, 3, "stake below the per-device formula");
pub const NOT_OWNER: ErrorCode = ErrorCode::new(CODESPACE, 4, "only the device owner may do this");
pub const BAD_SIGNATURE: ErrorCode = ErrorCode::new(
    CODESPACE,
    5,
    "heartbeat not signed by the device's worker key",
);
pub const LATE_CHALLENGE: ErrorCode =
    ErrorCode::new(CODESPACE, 6, "challenge answer too late or not current");
pub const WRONG_ANSWER: ErrorCode = ErrorCode::new(CODESPACE, 7, "wrong challenge answer");
pub const BAD_ORDER: ErrorCode = ErrorCode::new(CODESPACE, 8, "invalid order");
pub const PRICE_TOO_LOW: ErrorCode =
    ErrorCode::new(CODESPACE, 9, "price below what any device asks");
pub const DEVICE_UNAVAILABLE: ErrorCode = ErrorCode::new(
    CODESPACE,
    10,
    "device offline, spoofed, retired or without free GPUs",
);
pub const UNSTAKE_LOCKED: ErrorCode =
    ErrorCode::new(CODESPACE, 11, "unstake beyond what is free during a lease");
pub const NOT_ON_LEASE: ErrorCode = ErrorCode::new(CODESPACE, 12, "device is not on the lease");
pub const ACTIVE_LEASE: ErrorCode = ErrorCode::new(CODESPACE, 13, "device has an active lease");
pub const BAD_DENOM: ErrorCode = ErrorCode::new(CODESPACE, 14, "denom not accepted");
pub const NOT_ATTESTOR: ErrorCode = ErrorCode::new(CODESPACE, 15, "not an attestor");
pub const LEASE_CLOSED: ErrorCode = ErrorCode::new(CODESPACE, 16, "lease is closed");
pub const BUYBACK: ErrorCode = ErrorCode::new(CODESPACE, 17, "buyback fill refused");
pub const BAD_JOB: ErrorCode = ErrorCode::new(CODESPACE, 18, "invalid job report");
pub const NOT_RENTER: ErrorCode = ErrorCode::new(CODESPACE, 19, "only the renter may do this");
pub const BAD_AMOUNT: ErrorCode = ErrorCode::new(CODESPACE, 20, "invalid amount");
pub const HEARTBEAT_TOO_SOON: ErrorCode =
    ErrorCode::new(CODESPACE, 21, "challenge already answered");
pub const INVARIANT: ErrorCode = ErrorCode::new(CODESPACE, 22, "compute invariant broken");
