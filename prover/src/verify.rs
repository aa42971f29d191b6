//! The verifiers the storage module calls: interactive PoRep and Window PoSt.
//!
//! Pure functions over proof messages and public inputs: no disk, no threads, no floats.
//! Every malformed input (wrong lengths, counts, indices, non-canonical scalars, undecodable
//! bytes) is a `VerifyError`, never a panic.

use std::collections::BTreeSet;

use prost::Message;

use crate::challenges::{porep_challenge_range, post_challenges};
use crate::encode::encode;
use crate::graph::Graph;
use crate::hash::{hash_pair, node_from_slice, sha254, Node};
use crate::label::{column_hash, label_from_parents};
use crate::merkle::{root_from_path, PathError};
use crate::params::{SealProof, DRG_DEGREE, POST_CHALLENGES_PER_SECTOR, TOTAL_DEGREE};
use stoa_proto::storage::v1::{
    ColumnProof, MerklePath, PoRepProof, PoStSectorProof, WindowPoStProof,
};

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The bytes are not a protobuf message of the expected type.
    #[error("undecodable proof: {0}")]
    Undecodable(String),
    /// A field has the wrong length, count or range.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The proof is for another seal proof type than the sector's.
    #[error("proof is for seal proof {got:?}, the sector is {want:?}")]
    SealProofMismatch {
        want: SealProof,
        got: Option<SealProof>,
    },
    /// comm_c and comm_r_last do not hash to the sector's comm_r.
    #[error("comm_c and comm_r_last do not open comm_r of sector {sector_number}")]
    CommRMismatch { sector_number: u64 },
    /// A challenge is not the one the randomness gives.
    #[error("challenge {index} is node {got}, expected {want}")]
    WrongChallenge { index: usize, want: u64, got: u64 },
    /// A Merkle path does not lead to its commitment.
    #[error("{tree} path of node {node} does not lead to the commitment")]
    BadPath { tree: &'static str, node: u64 },
    /// A recomputed label differs from the column's.
    #[error("label of node {node} in layer {layer} does not match")]
    BadLabel { node: u64, layer: u32 },
    /// The replica node is not the encoding of the data node.
    #[error("replica node {node} is not data + label")]
    BadEncoding { node: u64 },
    /// Window PoSt: a sector is missing, duplicated, unexpected or out of order.
    #[error("window PoSt sector set: {0}")]
    SectorSet(String),
}

fn malformed(what: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(what.into())
}

fn node_field(bytes: &[u8], what: &str) -> Result<Node, VerifyError> {
    node_from_slice(bytes).ok_or_else(|| malformed(format!("{what} is not 32 bytes")))
}

/// Public inputs of a PoRep proof: what the chain recorded at pre-commit plus the interactive
/// seed drawn after the delay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealVerifyInfo {
    pub seal_proof: SealProof,
    /// 32-byte prover id (the storage module derives it from the provider's address).
    pub prover_id: [u8; 32],
    pub sector_number: u64,
    /// Seal randomness (ticket) chosen at pre-commit.
    pub ticket: [u8; 32],
    /// Interactive randomness the challenges come from.
    pub seed: [u8; 32],
    pub comm_d: Node,
    pub comm_r: Node,
}

/// A sector as the Window PoSt verifier knows it from chain state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoStSectorInfo {
    pub seal_proof: SealProof,
    pub sector_number: u64,
    pub comm_r: Node,
}

/// Which expected sectors a valid Window PoSt proved and which it declared faulty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoStOutcome {
    pub proven: Vec<u64>,
    pub faulty: Vec<u64>,
}

/// `replica_id = sha254(prover_id || sector_number as u64 BE || ticket || comm_d || porep_id)`.
pub fn replica_id(
    seal_proof: SealProof,
    prover_id: &[u8; 32],
    sector_number: u64,
    ticket: &[u8; 32],
    comm_d: &Node,
) -> Node {
    sha254(&[
        prover_id,
        &sector_number.to_be_bytes(),
        ticket,
        comm_d,
        &seal_proof.porep_id(),
    ])
}

/// `comm_r = sha254(comm_c || comm_r_last)`.
pub fn comm_r_from_parts(comm_c: &Node, comm_r_last: &Node) -> Node {
    hash_pair(comm_c, comm_r_last)
}

fn check_path(
    leaf: &Node,
    index: u64,
    path: Option<&MerklePath>,
    depth: u32,
    root: &Node,
    tree: &'static str,
) -> Result<(), VerifyError> {
    let siblings = path.map_or(&[][..], |p| p.siblings.as_slice());
    match root_from_path(leaf, index, siblings, depth) {
        Ok(found) if &found == root => Ok(()),
        Ok(_) => Err(VerifyError::BadPath { tree, node: index }),
        Err(PathError::WrongLength { expected, got }) => Err(malformed(format!(
            "{tree} path of node {index} has {got} siblings, expected {expected}"
        ))),
        Err(PathError::BadSibling) => Err(malformed(format!(
            "{tree} path of node {index} has a sibling that is not 32 bytes"
        ))),
        Err(PathError::IndexOutOfRange) => Err(malformed(format!("node {index} out of range"))),
    }
}

/// A column's labels, checked against comm_c at `node`.
fn checked_column(
    column: Option<&ColumnProof>,
    node: u64,
    layers: u32,
    depth: u32,
    comm_c: &Node,
) -> Result<Vec<Node>, VerifyError> {
    let column = column.ok_or_else(|| malformed(format!("missing column of node {node}")))?;
    if column.labels.len() != layers as usize {
        return Err(malformed(format!(
            "column of node {node} has {} labels, expected {layers}",
            column.labels.len()
        )));
    }
    let labels = column
        .labels
        .iter()
        .map(|l| node_field(l, "label"))
        .collect::<Result<Vec<Node>, _>>()?;
    check_path(
        &column_hash(&labels),
        node,
        column.path.as_ref(),
        depth,
        comm_c,
        "tree_c",
    )?;
    Ok(labels)
}

/// Which of a PoRep's challenges one proof covers: `challenges` in all, cut into partitions
/// of `per_partition` (the last may be shorter); this proof is partition `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoRepPartition {
    pub challenges: u32,
    pub per_partition: u32,
    pub index: u32,
}

impl PoRepPartition {
    /// The whole proof in one partition, with the seal proof's default challenge count.
    pub fn whole(seal_proof: SealProof) -> Self {
        let n = seal_proof.params().porep_challenges;
        PoRepPartition {
            challenges: n,
            per_partition: n,
            index: 0,
        }
    }

    /// How many partitions the challenges make.
    pub fn count(challenges: u32, per_partition: u32) -> u32 {
        if per_partition == 0 {
            return 0;
        }
        challenges.div_ceil(per_partition)
    }

    /// The challenge indices of this partition, or None if it is out of range.
    pub fn range(&self) -> Option<std::ops::Range<u32>> {
        if self.per_partition == 0 || self.index >= Self::count(self.challenges, self.per_partition)
        {
            return None;
        }
        let start = self.index.checked_mul(self.per_partition)?;
        let end = start
            .saturating_add(self.per_partition)
            .min(self.challenges);
        Some(start..end)
    }
}

/// Verifies an interactive PoRep proof against the sector's public inputs (every challenge of
/// the seal proof's default count, in one proof).
pub fn verify_porep(info: &SealVerifyInfo, proof: &PoRepProof) -> Result<(), VerifyError> {
    verify_porep_partition(info, &PoRepPartition::whole(info.seal_proof), proof)
}

/// Verifies one partition of an interactive PoRep proof: the challenges of `part` only.
pub fn verify_porep_partition(
    info: &SealVerifyInfo,
    part: &PoRepPartition,
    proof: &PoRepProof,
) -> Result<(), VerifyError> {
    let range = part.range().ok_or_else(|| {
        malformed(format!(
            "partition {} of {} challenges in partitions of {}",
            part.index, part.challenges, part.per_partition
        ))
    })?;
    let got = SealProof::from_proto(proof.seal_proof);
    if got != Some(info.seal_proof) {
        return Err(VerifyError::SealProofMismatch {
            want: info.seal_proof,
            got,
        });
    }
    let params = info.seal_proof.params();
    let depth = params.tree_depth();
    let comm_c = node_field(&proof.comm_c, "comm_c")?;
    let comm_r_last = node_field(&proof.comm_r_last, "comm_r_last")?;
    if comm_r_from_parts(&comm_c, &comm_r_last) != info.comm_r {
        return Err(VerifyError::CommRMismatch {
            sector_number: info.sector_number,
        });
    }
    let replica_id = replica_id(
        info.seal_proof,
        &info.prover_id,
        info.sector_number,
        &info.ticket,
        &info.comm_d,
    );
    let challenges = porep_challenge_range(&replica_id, &info.seed, range, params.nodes);
    if proof.challenges.len() != challenges.len() {
        return Err(malformed(format!(
            "{} challenge proofs, expected {}",
            proof.challenges.len(),
            challenges.len()
        )));
    }
    let graph = Graph::new(info.seal_proof);
    for (index, (&node, cp)) in challenges.iter().zip(&proof.challenges).enumerate() {
        if cp.node != node {
            return Err(VerifyError::WrongChallenge {
                index,
                want: node,
                got: cp.node,
            });
        }
        // Data: a canonical Fr32 node (top two bits clear) committed in comm_d.
        let data = node_field(&cp.data_node, "data node")?;
        if data[31] & 0xc0 != 0 {
            return Err(malformed(format!("data node {node} is not Fr32-padded")));
        }
        check_path(
            &data,
            node,
            cp.data_path.as_ref(),
            depth,
            &info.comm_d,
            "comm_d",
        )?;
        let replica = node_field(&cp.replica_node, "replica node")?;
        check_path(
            &replica,
            node,
            cp.replica_path.as_ref(),
            depth,
            &comm_r_last,
            "tree_r_last",
        )?;

        let own = checked_column(cp.column.as_ref(), node, params.layers, depth, &comm_c)?;
        let parents = graph.parents(node);
        if cp.parent_columns.len() != TOTAL_DEGREE {
            return Err(malformed(format!(
                "{} parent columns for node {node}, expected {TOTAL_DEGREE}",
                cp.parent_columns.len()
            )));
        }
        let parent_labels = parents
            .iter()
            .zip(&cp.parent_columns)
            .map(|(&p, col)| checked_column(Some(col), p as u64, params.layers, depth, &comm_c))
            .collect::<Result<Vec<Vec<Node>>, _>>()?;

        // Recompute the challenged node's label in every layer from its parents' columns.
        let mut inputs: Vec<Node> = Vec::with_capacity(TOTAL_DEGREE);
        for layer in 1..=params.layers {
            let l = layer as usize;
            inputs.clear();
            inputs.extend(parent_labels[..DRG_DEGREE].iter().map(|c| c[l - 1]));
            if layer > 1 {
                inputs.extend(parent_labels[DRG_DEGREE..].iter().map(|c| c[l - 2]));
            }
            let label = label_from_parents(&replica_id, layer, node, &inputs)
                .ok_or_else(|| malformed("parent count"))?;
            if label != own[l - 1] {
                return Err(VerifyError::BadLabel { node, layer });
            }
        }
        let last = own
            .last()
            .ok_or_else(|| malformed("column without labels"))?;
        match encode(&data, last) {
            Some(expected) if expected == replica => {}
            _ => return Err(VerifyError::BadEncoding { node }),
        }
    }
    Ok(())
}

/// `verify_porep` of protobuf bytes.
pub fn verify_porep_bytes(info: &SealVerifyInfo, proof: &[u8]) -> Result<(), VerifyError> {
    let proof = PoRepProof::decode(proof).map_err(|e| VerifyError::Undecodable(e.to_string()))?;
    verify_porep(info, &proof)
}

/// `verify_porep_partition` of protobuf bytes.
pub fn verify_porep_partition_bytes(
    info: &SealVerifyInfo,
    part: &PoRepPartition,
    proof: &[u8],
) -> Result<(), VerifyError> {
    let proof = PoRepProof::decode(proof).map_err(|e| VerifyError::Undecodable(e.to_string()))?;
    verify_porep_partition(info, part, &proof)
}

/// Verifies one sector's Window PoSt proof: comm_c and comm_r_last open the sector's comm_r,
/// and the 10 leaves the randomness picks have paths to comm_r_last.
pub fn verify_post_sector(
    randomness: &[u8; 32],
    sector: &PoStSectorInfo,
    proof: &PoStSectorProof,
) -> Result<(), VerifyError> {
    if proof.sector_number != sector.sector_number {
        return Err(malformed(format!(
            "proof is for sector {}, expected {}",
            proof.sector_number, sector.sector_number
        )));
    }
    let params = sector.seal_proof.params();
    let comm_c = node_field(&proof.comm_c, "comm_c")?;
    let comm_r_last = node_field(&proof.comm_r_last, "comm_r_last")?;
    if comm_r_from_parts(&comm_c, &comm_r_last) != sector.comm_r {
        return Err(VerifyError::CommRMismatch {
            sector_number: sector.sector_number,
        });
    }
    let leaves = post_challenges(
        randomness,
        sector.sector_number,
        POST_CHALLENGES_PER_SECTOR,
        params.nodes,
    );
    if proof.leaves.len() != leaves.len() {
        return Err(malformed(format!(
            "sector {} has {} leaf proofs, expected {}",
            sector.sector_number,
            proof.leaves.len(),
            leaves.len()
        )));
    }
    for (&index, leaf_proof) in leaves.iter().zip(&proof.leaves) {
        let leaf = node_field(&leaf_proof.leaf, "PoSt leaf")?;
        check_path(
            &leaf,
            index,
            leaf_proof.path.as_ref(),
            params.tree_depth(),
            &comm_r_last,
            "tree_r_last",
        )?;
    }
    Ok(())
}

/// Verifies a Window PoSt over the `expected` sectors (in the order the chain lists them):
/// each expected sector must be either proven (in `proof.sectors`, in the same relative order)
/// or listed in `proof.faulty_sectors`, exactly once; nothing else may appear. Any invalid
/// sector proof rejects the whole PoSt.
pub fn verify_window_post(
    randomness: &[u8; 32],
    expected: &[PoStSectorInfo],
    proof: &WindowPoStProof,
) -> Result<PoStOutcome, VerifyError> {
    let mut faulty = BTreeSet::new();
    for &number in &proof.faulty_sectors {
        if !faulty.insert(number) {
            return Err(VerifyError::SectorSet(format!(
                "sector {number} declared faulty twice"
            )));
        }
    }
    let mut seen = BTreeSet::new();
    for sector in expected {
        if !seen.insert(sector.sector_number) {
            return Err(VerifyError::SectorSet(format!(
                "sector {} expected twice",
                sector.sector_number
            )));
        }
    }
    if let Some(extra) = faulty.iter().find(|n| !seen.contains(n)) {
        return Err(VerifyError::SectorSet(format!(
            "sector {extra} declared faulty but not expected"
        )));
    }
    let mut outcome = PoStOutcome::default();
    let mut proofs = proof.sectors.iter();
    for sector in expected {
        if faulty.contains(&sector.sector_number) {
            outcome.faulty.push(sector.sector_number);
            continue;
        }
        let sector_proof = proofs.next().ok_or_else(|| {
            VerifyError::SectorSet(format!("no proof for sector {}", sector.sector_number))
        })?;
        if sector_proof.sector_number != sector.sector_number {
            return Err(VerifyError::SectorSet(format!(
                "proof for sector {} where sector {} was expected",
                sector_proof.sector_number, sector.sector_number
            )));
        }
        verify_post_sector(randomness, sector, sector_proof)?;
        outcome.proven.push(sector.sector_number);
    }
    if let Some(extra) = proofs.next() {
        return Err(VerifyError::SectorSet(format!(
            "unexpected proof for sector {}",
            extra.sector_number
        )));
    }
    Ok(outcome)
}

/// `verify_window_post` of protobuf bytes.
pub fn verify_window_post_bytes(
    randomness: &[u8; 32],
    expected: &[PoStSectorInfo],
    proof: &[u8],
) -> Result<PoStOutcome, VerifyError> {
    let proof =
        WindowPoStProof::decode(proof).map_err(|e| VerifyError::Undecodable(e.to_string()))?;
    verify_window_post(randomness, expected, &proof)
}
