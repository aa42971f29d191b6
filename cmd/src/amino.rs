//! SIGN_MODE_LEGACY_AMINO_JSON sign bytes for the CLI: the Cosmos SDK's `StdSignDoc`
//! (sorted, compact JSON of account number, chain id, fee, memo, messages in their Amino form,
//! sequence, timeout height). The message-by-message Amino form is the chain's to define (each
//! message declares its Amino name); the CLI uses the chain's builder so both sides sign and
//! verify the very same bytes.

use crate::tx::SignerData;
use anyhow::{bail, Result};
use cosmos_sdk_proto::cosmos::tx::v1beta1::Tx;

/// The Amino JSON sign bytes of `tx` for `signer`.
pub fn sign_bytes(_tx: &Tx, _signer: &SignerData) -> Result<Vec<u8>> {
    bail!(
        "--sign-mode amino-json is not available in this build: the chain's Amino sign-doc \
         builder has not landed yet (use --sign-mode direct)"
    )
}
