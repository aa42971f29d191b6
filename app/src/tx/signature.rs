//! Signature checks for account keys, now `stoa_framework::crypto`'s (so market modules verify
//! vouchers and signed requests without the app): re-exported under the names the block
//! lifecycle and the benches use.

pub use stoa_framework::crypto::{
    verify as verify_one, verify_batch as verify_all, verify_ed25519, verify_secp256k1, SigJob,
    ED25519_BATCH,
};
