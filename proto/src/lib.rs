//! Protobuf types of Stoa's own packages, one Rust module per proto package:
//! `stoa.<pkg>.v1` is `stoa_proto::<pkg>::v1`.

/// `stoa.storage.v1`: proof messages shared by the prover and the storage module.
pub mod storage {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/stoa.storage.v1.rs"));
    }
}
