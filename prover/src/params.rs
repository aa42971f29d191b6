//! Sector sizes and their parameters (the params table), and the registered proof ids.
//!
//! | seal proof | sector  | nodes  | layers | PoRep challenges | PoSt challenges |
//! |------------|---------|--------|--------|------------------|-----------------|
//! | 2 KiB      | 2 KiB   | 2^6    | 2      | 4                | 10              |
//! | 8 MiB      | 8 MiB   | 2^18   | 2      | 8                | 10              |
//! | 512 MiB    | 512 MiB | 2^24   | 2      | 16               | 10              |
//! | 32 GiB     | 32 GiB  | 2^30   | 11     | 180              | 10              |
//!
//! Layers follow Filecoin (2 for the small sizes, 11 for 32 GiB). Filecoin proves the small
//! sizes with 2 challenges because its sizes below 32 GiB are test-only; Stoa's small sizes are
//! real on a devnet, so they get a few more while keeping proofs small enough for a tx.

use stoa_proto::storage::v1::RegisteredSealProof;

/// Bytes per node: one BLS12-381 scalar's worth (254 useful bits, Fr32).
pub const NODE_SIZE: usize = 32;
/// DRG parents per node (bucket sampling; the last one is always `node - 1`).
pub const DRG_DEGREE: usize = 6;
/// Expander parents per node, in the previous layer, from layer 2 on.
pub const EXP_DEGREE: usize = 8;
/// All parents of a node in layers >= 2.
pub const TOTAL_DEGREE: usize = DRG_DEGREE + EXP_DEGREE;
/// Parent labels hashed per label: the parents repeated to 37, as in Filecoin.
pub const LABEL_PARENTS: usize = 37;
/// Window PoSt leaves challenged per sector.
pub const POST_CHALLENGES_PER_SECTOR: usize = 10;

/// A registered seal proof: sector size plus construction version (`..._V1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealProof {
    StackedDrg2KiBV1,
    StackedDrg8MiBV1,
    StackedDrg512MiBV1,
    StackedDrg32GiBV1,
}

/// The parameters of one sector size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectorParams {
    /// Sector size in (padded) bytes.
    pub sector_bytes: u64,
    /// Number of 32-byte nodes: `sector_bytes / 32`, a power of two.
    pub nodes: u64,
    /// Stacked layers; the last one encodes the data.
    pub layers: u32,
    /// Interactive PoRep challenges.
    pub porep_challenges: u32,
    /// Bottom rows of tree_r_last not stored on disk (recomputed from the replica when
    /// proving), which keeps the tree file at 1/8 of the sector.
    pub tree_r_discarded_rows: u32,
}

impl SectorParams {
    /// Depth of the binary trees over the sector (log2 of the node count).
    pub fn tree_depth(&self) -> u32 {
        self.nodes.trailing_zeros()
    }

    /// Largest unpadded payload a sector holds (Fr32: 127 of every 128 bytes).
    pub fn max_unpadded_bytes(&self) -> u64 {
        self.sector_bytes / 128 * 127
    }
}

impl SealProof {
    /// Every supported seal proof, smallest first.
    pub const ALL: [SealProof; 4] = [
        SealProof::StackedDrg2KiBV1,
        SealProof::StackedDrg8MiBV1,
        SealProof::StackedDrg512MiBV1,
        SealProof::StackedDrg32GiBV1,
    ];

    pub fn params(self) -> SectorParams {
        let (sector_bytes, layers, porep_challenges) = match self {
            SealProof::StackedDrg2KiBV1 => (2u64 << 10, 2, 4),
            SealProof::StackedDrg8MiBV1 => (8u64 << 20, 2, 8),
            SealProof::StackedDrg512MiBV1 => (512u64 << 20, 2, 16),
            SealProof::StackedDrg32GiBV1 => (32u64 << 30, 11, 180),
        };
        SectorParams {
            sector_bytes,
            nodes: sector_bytes / NODE_SIZE as u64,
            layers,
            porep_challenges,
            tree_r_discarded_rows: 3,
        }
    }

    pub fn sector_bytes(self) -> u64 {
        self.params().sector_bytes
    }

    /// The seal proof for a sector size in bytes, if it is a supported one.
    pub fn from_sector_bytes(bytes: u64) -> Option<SealProof> {
        SealProof::ALL
            .into_iter()
            .find(|p| p.sector_bytes() == bytes)
    }

    /// The protobuf enum value (consensus format).
    pub fn to_proto(self) -> RegisteredSealProof {
        match self {
            SealProof::StackedDrg2KiBV1 => RegisteredSealProof::StackedDrg2kibV1,
            SealProof::StackedDrg8MiBV1 => RegisteredSealProof::StackedDrg8mibV1,
            SealProof::StackedDrg512MiBV1 => RegisteredSealProof::StackedDrg512mibV1,
            SealProof::StackedDrg32GiBV1 => RegisteredSealProof::StackedDrg32gibV1,
        }
    }

    /// From the protobuf enum's wire value; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<SealProof> {
        match RegisteredSealProof::try_from(value).ok()? {
            RegisteredSealProof::Unspecified => None,
            RegisteredSealProof::StackedDrg2kibV1 => Some(SealProof::StackedDrg2KiBV1),
            RegisteredSealProof::StackedDrg8mibV1 => Some(SealProof::StackedDrg8MiBV1),
            RegisteredSealProof::StackedDrg512mibV1 => Some(SealProof::StackedDrg512MiBV1),
            RegisteredSealProof::StackedDrg32gibV1 => Some(SealProof::StackedDrg32GiBV1),
        }
    }

    /// `porep_id`: the proof's wire id as a little-endian u64 followed by zeros, the same shape
    /// Filecoin uses, so that graphs and replica ids differ between seal proofs.
    pub fn porep_id(self) -> [u8; 32] {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&(self.to_proto() as i32 as u64).to_le_bytes());
        id
    }

    /// Parse "2KiB", "8MiB", "512MiB", "32GiB" (case-insensitive) or a byte count.
    pub fn parse_size(text: &str) -> Option<SealProof> {
        let lower = text.trim().to_ascii_lowercase();
        let bytes = match lower.as_str() {
            "2kib" | "2k" => 2u64 << 10,
            "8mib" | "8m" => 8u64 << 20,
            "512mib" | "512m" => 512u64 << 20,
            "32gib" | "32g" => 32u64 << 30,
            other => other.parse::<u64>().ok()?,
        };
        SealProof::from_sector_bytes(bytes)
    }

    /// Human name of the sector size ("8MiB").
    pub fn size_name(self) -> &'static str {
        match self {
            SealProof::StackedDrg2KiBV1 => "2KiB",
            SealProof::StackedDrg8MiBV1 => "8MiB",
            SealProof::StackedDrg512MiBV1 => "512MiB",
            SealProof::StackedDrg32GiBV1 => "32GiB",
        }
    }
}
