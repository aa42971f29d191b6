//! stoa-prover: Stacked DRG proof of replication and Window proof of spacetime over SHA-256.
//!
//! Two faces. The `verify` face (always compiled; all the chain links with
//! `default-features = false, features = ["verify"]`) holds the parameters, piece commitments,
//! the graph, labels, challenges and the verifiers: pure functions over bytes, no rayon, no
//! disk, no floats, and a malformed proof is an `Err`, never a panic. The `prove` face (default
//! feature) adds sealing, unsealing and proving on local disks, parallel with rayon.

pub mod challenges;
pub mod commp;
pub mod encode;
pub mod fr32;
pub mod graph;
pub mod hash;
pub mod label;
pub mod merkle;
pub mod params;
pub mod verify;

#[cfg(feature = "prove")]
pub mod prove;

pub use commp::{
    compute_comm_d, parse_piece_cid, piece_cid, piece_commitment, zero_piece_commitment, PieceInfo,
};
pub use hash::Node;
pub use params::{SealProof, SectorParams, POST_CHALLENGES_PER_SECTOR};
pub use stoa_proto::storage::v1 as proto;
pub use verify::{
    comm_r_from_parts, replica_id, verify_porep, verify_porep_bytes, verify_porep_partition,
    verify_porep_partition_bytes, verify_post_sector, verify_window_post, verify_window_post_bytes,
    PoRepPartition, PoStOutcome, PoStSectorInfo, SealVerifyInfo, VerifyError,
};
