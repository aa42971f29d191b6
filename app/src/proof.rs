//! Verifying the proofs `/store/<module>/key` returns: an ICS23 commitment proof of the key in
//! the Jellyfish Merkle tree whose root is the app hash (existence with a value, non-existence
//! without one).

use prost::Message;
use tendermint_proto::v0_38::crypto::ProofOps;

use crate::query::PROOF_OP_TYPE;

/// True when `proof` shows that `key` holds `value` (or, with `None`, is absent) in the state
/// whose app hash is `app_hash`.
pub fn verify_abci_proof(
    app_hash: &[u8],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &ProofOps,
) -> bool {
    let Ok(root) = <[u8; 32]>::try_from(app_hash) else {
        return false;
    };
    let Some(op) = proof.ops.iter().find(|op| op.r#type == PROOF_OP_TYPE) else {
        return false;
    };
    if op.key != key {
        return false;
    }
    let Ok(commitment) = ics23::CommitmentProof::decode(op.data.as_slice()) else {
        return false;
    };
    stoa_framework::store::verify_proof(&root, key, value, &commitment)
}
