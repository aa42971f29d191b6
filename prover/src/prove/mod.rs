//! The `prove` face: sealing, unsealing, PoRep and Window PoSt proving on local disks, the
//! benchmark. Heavy work is parallel with rayon; labeling within a layer is the one
//! sequential part, by construction.

pub mod bench;
pub mod files;
pub mod piece;
pub mod porep;
pub mod post;
pub mod seal;
pub mod tree;
pub mod unseal;

pub use files::{SealedSector, SectorMeta};
pub use porep::{prove_porep, prove_porep_partition};
pub use post::{generate_window_post, prove_post_sector, PoStFault, PoStResult, PoStSector};
pub use seal::{seal, seal_many, SealJob, SealOutput, SealTimings, Stage};
pub use unseal::unseal;
