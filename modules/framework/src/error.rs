//! Errors with stable `(codespace, code)` pairs, as Cosmos SDK reports them in tx results.

use std::fmt;

/// A registered error: its codespace and code never change once released, so clients can
/// match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    pub codespace: &'static str,
    pub code: u32,
    pub description: &'static str,
}

impl ErrorCode {
    pub const fn new(codespace: &'static str, code: u32, description: &'static str) -> Self {
        Self {
            codespace,
            code,
            description,
        }
    }

    /// The error with a log saying what exactly went wrong.
    pub fn with(self, log: impl Into<String>) -> StoaError {
        StoaError {
            codespace: self.codespace,
            code: self.code,
            log: format!("{}: {}", log.into(), self.description),
        }
    }

    pub fn is(self, err: &StoaError) -> bool {
        err.codespace == self.codespace && err.code == self.code
    }
}

/// An error of a tx, a message, a query or a block hook. Never a panic: the node goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoaError {
    pub codespace: &'static str,
    pub code: u32,
    pub log: String,
}

impl fmt::Display for StoaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (codespace {}, code {})",
            self.log, self.codespace, self.code
        )
    }
}

impl std::error::Error for StoaError {}

/// The Cosmos SDK's root codespace, with its codes, so wallets show familiar errors.
pub mod sdk {
    use super::ErrorCode;
    pub const CODESPACE: &str = "sdk";
    pub const TX_DECODE: ErrorCode = ErrorCode::new(CODESPACE, 2, "tx parse error");
    pub const INVALID_SEQUENCE: ErrorCode =
        ErrorCode::new(CODESPACE, 3, "incorrect account sequence");
    pub const UNAUTHORIZED: ErrorCode = ErrorCode::new(CODESPACE, 4, "unauthorized");
    pub const INSUFFICIENT_FUNDS: ErrorCode = ErrorCode::new(CODESPACE, 5, "insufficient funds");
    pub const UNKNOWN_REQUEST: ErrorCode = ErrorCode::new(CODESPACE, 6, "unknown request");
    pub const INVALID_ADDRESS: ErrorCode = ErrorCode::new(CODESPACE, 7, "invalid address");
    pub const INVALID_PUBKEY: ErrorCode = ErrorCode::new(CODESPACE, 8, "invalid pubkey");
    pub const UNKNOWN_ADDRESS: ErrorCode = ErrorCode::new(CODESPACE, 9, "unknown address");
    pub const INVALID_COINS: ErrorCode = ErrorCode::new(CODESPACE, 10, "invalid coins");
    pub const OUT_OF_GAS: ErrorCode = ErrorCode::new(CODESPACE, 11, "out of gas");
    pub const MEMO_TOO_LARGE: ErrorCode = ErrorCode::new(CODESPACE, 12, "memo too large");
    pub const INSUFFICIENT_FEE: ErrorCode = ErrorCode::new(CODESPACE, 13, "insufficient fee");
    pub const TOO_MANY_SIGNATURES: ErrorCode =
        ErrorCode::new(CODESPACE, 14, "maximum number of signatures exceeded");
    pub const NO_SIGNATURES: ErrorCode = ErrorCode::new(CODESPACE, 15, "no signatures supplied");
    pub const JSON_MARSHAL: ErrorCode =
        ErrorCode::new(CODESPACE, 16, "failed to marshal JSON bytes");
    pub const JSON_UNMARSHAL: ErrorCode =
        ErrorCode::new(CODESPACE, 17, "failed to unmarshal JSON bytes");
    pub const INVALID_REQUEST: ErrorCode = ErrorCode::new(CODESPACE, 18, "invalid request");
    pub const TX_IN_MEMPOOL_CACHE: ErrorCode =
        ErrorCode::new(CODESPACE, 19, "tx already in mempool");
    pub const MEMPOOL_IS_FULL: ErrorCode = ErrorCode::new(CODESPACE, 20, "mempool is full");
    pub const TX_TOO_LARGE: ErrorCode = ErrorCode::new(CODESPACE, 21, "tx too large");
    pub const KEY_NOT_FOUND: ErrorCode = ErrorCode::new(CODESPACE, 22, "key not found");
    pub const WRONG_PASSWORD: ErrorCode = ErrorCode::new(CODESPACE, 23, "invalid account password");
    pub const INVALID_CHAIN_ID: ErrorCode = ErrorCode::new(CODESPACE, 28, "invalid chain-id");
    pub const INVALID_TYPE: ErrorCode = ErrorCode::new(CODESPACE, 29, "invalid type");
    pub const TX_TIMEOUT_HEIGHT: ErrorCode = ErrorCode::new(CODESPACE, 30, "tx timeout height");
    pub const UNKNOWN_EXTENSION_OPTIONS: ErrorCode =
        ErrorCode::new(CODESPACE, 31, "unknown extension options");
    pub const WRONG_SEQUENCE: ErrorCode =
        ErrorCode::new(CODESPACE, 32, "incorrect account sequence");
    pub const PACK_ANY: ErrorCode =
        ErrorCode::new(CODESPACE, 33, "failed packing protobuf message to Any");
    pub const UNPACK_ANY: ErrorCode =
        ErrorCode::new(CODESPACE, 34, "failed unpacking protobuf message from Any");
    pub const LOGIC: ErrorCode = ErrorCode::new(CODESPACE, 35, "internal logic error");
    pub const CONFLICT: ErrorCode = ErrorCode::new(CODESPACE, 36, "conflict");
    pub const NOT_SUPPORTED: ErrorCode = ErrorCode::new(CODESPACE, 37, "feature not supported");
    pub const NOT_FOUND: ErrorCode = ErrorCode::new(CODESPACE, 38, "not found");
    pub const IO: ErrorCode = ErrorCode::new(CODESPACE, 39, "Internal IO error");
    pub const INVALID_GAS_LIMIT: ErrorCode = ErrorCode::new(CODESPACE, 41, "invalid gas limit");
    pub const OVERFLOW: ErrorCode = ErrorCode::new(CODESPACE, 42, "arithmetic overflow");
}
