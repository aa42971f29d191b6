//! SIGN_MODE_LEGACY_AMINO_JSON sign bytes for the CLI: the Cosmos SDK's `StdSignDoc`
//! (sorted, compact JSON of account number, chain id, fee, memo, messages in their Amino form,
//! sequence, timeout height). The message-by-message Amino form is the chain's to define (each
//! message declares its Amino name); the CLI uses the chain's builder so both sides sign and
//! verify the very same bytes.

use crate::tx::SignerData;
use anyhow::Result;
use cosmos_sdk_proto::cosmos::tx::v1beta1::Tx;

/// The Amino JSON sign bytes of `tx` for `signer`.
pub fn sign_bytes(tx: &Tx, signer: &SignerData) -> Result<Vec<u8>> {
    crate::app_glue::amino_sign_bytes(tx, &signer.chain_id, signer.account_number, signer.sequence)
}
