//! PoRep proving: for each interactive challenge, open the data node (comm_d), the replica
//! node (tree_r_last), and the columns of the node and its 14 parents (tree_c).

use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::challenges::porep_challenge_range;
use crate::graph::Graph;
use crate::hash::Node;
use crate::prove::files::SealedSector;
use crate::prove::tree::{read_node, TreeReader};
use crate::verify::{replica_id, PoRepPartition};
use stoa_proto::storage::v1::{ColumnProof, MerklePath, PoRepChallengeProof, PoRepProof};

fn merkle_path(siblings: Vec<Node>) -> Option<MerklePath> {
    Some(MerklePath {
        siblings: siblings.into_iter().map(|s| s.to_vec()).collect(),
    })
}

fn column(layers: &[File], tree_c: &TreeReader, node: u64) -> Result<ColumnProof> {
    let labels = layers
        .iter()
        .map(|file| read_node(file, node).map(|l| l.to_vec()))
        .collect::<std::io::Result<Vec<Vec<u8>>>>()
        .with_context(|| format!("reading the labels of node {node}"))?;
    Ok(ColumnProof {
        labels,
        path: merkle_path(tree_c.path(node).context("reading tree_c")?),
    })
}

/// The PoRep proof of the sealed sector in `dir` for the interactive randomness `seed`.
pub fn prove_porep(dir: &Path, seed: &[u8; 32]) -> Result<PoRepProof> {
    let sector = SealedSector::open(dir)?;
    prove_porep_partition(dir, seed, &PoRepPartition::whole(sector.seal_proof))
}

/// The proof of one partition of the PoRep (the challenges `part` names), for a chain whose
/// policy sets the challenge count and the partition size.
pub fn prove_porep_partition(
    dir: &Path,
    seed: &[u8; 32],
    part: &PoRepPartition,
) -> Result<PoRepProof> {
    let range = part.range().with_context(|| {
        format!(
            "no partition {} of {} challenges in partitions of {}",
            part.index, part.challenges, part.per_partition
        )
    })?;
    let sector = SealedSector::open(dir)?;
    let meta = &sector.meta;
    let replica_id = replica_id(
        sector.seal_proof,
        &meta.prover_id()?,
        meta.sector_number,
        &meta.ticket()?,
        &meta.comm_d()?,
    );
    if replica_id != meta.replica_id()? {
        bail!(
            "corrupted sector metadata in {}: replica_id does not match",
            dir.display()
        );
    }
    let params = sector.params;
    let layers = (1..=params.layers)
        .map(|l| sector.layer(l))
        .collect::<Result<Vec<File>>>()?;
    let tree_d = sector.tree_d()?;
    let tree_c = sector.tree_c()?;
    let tree_r = sector.tree_r_last()?;
    let graph = Graph::new(sector.seal_proof);
    let challenges = porep_challenge_range(&replica_id, seed, range, params.nodes);
    let proofs = challenges
        .par_iter()
        .map(|&node| -> Result<PoRepChallengeProof> {
            let parent_columns = graph
                .parents(node)
                .iter()
                .map(|&p| column(&layers, &tree_c, p as u64))
                .collect::<Result<Vec<_>>>()?;
            Ok(PoRepChallengeProof {
                node,
                data_node: tree_d.leaf(node).context("reading tree_d")?.to_vec(),
                data_path: merkle_path(tree_d.path(node).context("reading tree_d")?),
                replica_node: tree_r.leaf(node).context("reading the replica")?.to_vec(),
                replica_path: merkle_path(tree_r.path(node).context("reading tree_r_last")?),
                column: Some(column(&layers, &tree_c, node)?),
                parent_columns,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(PoRepProof {
        seal_proof: sector.seal_proof.to_proto() as i32,
        comm_c: meta.comm_c()?.to_vec(),
        comm_r_last: meta.comm_r_last()?.to_vec(),
        challenges: proofs,
    })
}
