//! The template module's errors (codespace `template`): stable codes clients can match on.

use stoa_framework::ErrorCode;

pub const CODESPACE: &str = "template";
pub const EMPTY_TEXT: ErrorCode = ErrorCode::new(CODESPACE, 2, "a note needs text");
pub const TEXT_TOO_LONG: ErrorCode = ErrorCode::new(CODESPACE, 3, "note text too long");
pub const BAD_LIFETIME: ErrorCode = ErrorCode::new(CODESPACE, 4, "invalid note lifetime");
pub const NOT_AUTHOR: ErrorCode = ErrorCode::new(CODESPACE, 5, "only the author may do this");
pub const ESCROW_INVARIANT: ErrorCode = ErrorCode::new(
    CODESPACE,
    6,
    "escrow does not equal the sum of the notes' deposits",
);
