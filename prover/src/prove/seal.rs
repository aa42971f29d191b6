//! Sealing: tree_d over the Fr32-padded data (comm_d), replica_id, the stacked layers of
//! labels, then tree_c over the columns and the encoded replica with tree_r_last (comm_r).
//!
//! Memory: labeling a layer needs random access to that layer's earlier labels (DRG parents)
//! and to the whole previous layer (expander parents), so exactly those two layers are mapped
//! (memory-mapped files); when a layer is complete the one before it is unmapped, which keeps
//! the resident set near twice the sector size. Trees and encoding stream through
//! the files with positioned I/O in 1 MiB chunks.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use memmap2::MmapMut;
use rayon::prelude::*;

use crate::commp::piece_cid;
use crate::encode::encode;
use crate::graph::Graph;
use crate::hash::Node;
use crate::label::{column_hash, LabelInput};
use crate::params::{SealProof, DRG_DEGREE, NODE_SIZE, TOTAL_DEGREE};
use crate::prove::files::{
    layer_file, SealedSector, SectorMeta, META_FILE, META_FORMAT, REPLICA_FILE, TREE_C_FILE,
    TREE_D_FILE, TREE_R_LAST_FILE,
};
use crate::prove::tree::{build_tree, read_nodes, read_padded_leaves, TreeLayout, CHUNK_LEAVES};
use crate::verify::{comm_r_from_parts, replica_id};

/// Phases reported to a progress callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Building tree_d over the data (nodes done of nodes).
    TreeD,
    /// Labeling layer N (nodes done of nodes).
    Layer(u32),
    /// Building tree_c and tree_r_last (chunks done of chunks, both trees).
    Trees,
}

/// Progress callback: stage, done, total.
pub type Progress<'a> = &'a (dyn Fn(Stage, u64, u64) + Sync);

/// One sector to seal.
#[derive(Clone, Debug)]
pub struct SealJob {
    pub seal_proof: SealProof,
    /// Unpadded data; at most `max_unpadded_bytes` of the sector size; the rest is zeros.
    pub data: PathBuf,
    pub sector_number: u64,
    pub prover_id: [u8; 32],
    pub ticket: [u8; 32],
    /// Sector directory to create (must not hold a sealed sector already).
    pub out_dir: PathBuf,
}

/// Wall time of each phase.
#[derive(Clone, Copy, Debug, Default)]
pub struct SealTimings {
    pub tree_d: Duration,
    pub labeling: Duration,
    /// CPU seconds of the labeling thread (labeling runs on the calling thread), which a busy
    /// machine inflates far less than wall time.
    pub labeling_cpu_secs: f64,
    pub trees: Duration,
    pub total: Duration,
}

#[derive(Clone, Debug)]
pub struct SealOutput {
    pub meta: SectorMeta,
    pub timings: SealTimings,
}

fn create_sized(path: &Path, bytes: u64) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.set_len(bytes)
        .with_context(|| format!("cannot size {}", path.display()))?;
    Ok(file)
}

/// Parents of nodes `start..start + out.len()`; expander parents only when `with_expander`.
fn fill_parents(graph: &Graph, start: u64, out: &mut [[u32; TOTAL_DEGREE]], with_expander: bool) {
    for (offset, parents) in out.iter_mut().enumerate() {
        let node = start + offset as u64;
        if with_expander {
            *parents = graph.parents(node);
        } else {
            parents[..DRG_DEGREE].copy_from_slice(&graph.drg_parents(node));
        }
    }
}

/// How many nodes ahead the parents' labels are prefetched: far enough to hide a DRAM miss
/// behind the hashing of the nodes in between (~1 us each), near enough to stay in L1/L2.
const PREFETCH_AHEAD: usize = 4;

/// Asks the CPU to start loading the 32-byte label at `index` of `labels` into cache.
#[inline(always)]
fn prefetch_label(labels: &[u8], index: u32) {
    #[cfg(target_arch = "x86_64")]
    if let Some(label) = labels.get(index as usize * NODE_SIZE..) {
        // SAFETY: a prefetch is only a hint: it never faults and changes no memory, and the
        // pointer is inside `labels` anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                label.as_ptr() as *const i8
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (labels, index);
}

/// Labels nodes `start..start + parents.len()` of the current layer.
fn label_batch(
    input: &mut LabelInput,
    start: u64,
    parents: &[[u32; TOTAL_DEGREE]],
    current: &mut [u8],
    previous: Option<&[u8]>,
) {
    for (offset, node_parents) in parents.iter().enumerate() {
        // Parents are random in the previous layer (expander) and often far back in this one
        // (DRG): a node's labels would wait on DRAM without this.
        if let Some(ahead) = parents.get(offset + PREFETCH_AHEAD) {
            for &parent in &ahead[..DRG_DEGREE - 1] {
                prefetch_label(current, parent);
            }
            if let Some(previous) = previous {
                for &parent in &ahead[DRG_DEGREE..] {
                    prefetch_label(previous, parent);
                }
            }
        }
        let node = start + offset as u64;
        input.set_node(node);
        let label = if node == 0 {
            input.finish_without_parents()
        } else {
            for (slot, &parent) in node_parents[..DRG_DEGREE].iter().enumerate() {
                let at = parent as usize * NODE_SIZE;
                input
                    .parent_slot(slot)
                    .copy_from_slice(&current[at..at + NODE_SIZE]);
            }
            match previous {
                Some(previous) => {
                    for (slot, &parent) in node_parents[DRG_DEGREE..].iter().enumerate() {
                        let at = parent as usize * NODE_SIZE;
                        input
                            .parent_slot(DRG_DEGREE + slot)
                            .copy_from_slice(&previous[at..at + NODE_SIZE]);
                    }
                    input.finish(TOTAL_DEGREE)
                }
                None => input.finish(DRG_DEGREE),
            }
        };
        let at = node as usize * NODE_SIZE;
        current[at..at + NODE_SIZE].copy_from_slice(&label);
    }
}

/// Nodes labelled per batch; the next batch's parents are computed meanwhile.
const LABEL_BATCH: u64 = 1 << 12;

/// Labels one layer in `current`, sequentially (each label depends on earlier ones). The
/// parents of the next batch are computed in a rayon task while this batch is hashed, so on an
/// idle core parent derivation costs the labeling thread nothing.
pub fn label_layer(
    graph: &Graph,
    replica_id: &Node,
    layer: u32,
    current: &mut [u8],
    previous: Option<&[u8]>,
    progress: Option<Progress>,
) {
    let nodes = graph.nodes();
    let batch = LABEL_BATCH.min(nodes);
    let with_expander = previous.is_some();
    let mut this_batch = vec![[0u32; TOTAL_DEGREE]; batch as usize];
    let mut next_batch = vec![[0u32; TOTAL_DEGREE]; batch as usize];
    fill_parents(graph, 0, &mut this_batch, with_expander);
    let mut input = LabelInput::new(replica_id, layer);
    let mut start = 0;
    while start < nodes {
        let next = start + batch;
        rayon::join(
            || label_batch(&mut input, start, &this_batch, current, previous),
            || {
                if next < nodes {
                    fill_parents(graph, next, &mut next_batch, with_expander);
                }
            },
        );
        std::mem::swap(&mut this_batch, &mut next_batch);
        start = next;
        if let Some(report) = progress {
            if start % (batch * 16) == 0 || start == nodes {
                report(Stage::Layer(layer), start, nodes);
            }
        }
    }
}

/// Generates every layer's labels into `dir/layer-N`.
pub fn generate_layers(
    dir: &Path,
    seal_proof: SealProof,
    replica_id: &Node,
    progress: Option<Progress>,
) -> Result<()> {
    let params = seal_proof.params();
    let graph = Graph::new(seal_proof);
    let mut previous: Option<MmapMut> = None;
    for layer in 1..=params.layers {
        let path = dir.join(layer_file(layer));
        let file = create_sized(&path, params.sector_bytes)?;
        // SAFETY: the file was just created by us and is private to this sealing run; nothing
        // else truncates or writes it while mapped.
        let mut current = unsafe { MmapMut::map_mut(&file) }
            .with_context(|| format!("cannot map {}", path.display()))?;
        label_layer(
            &graph,
            replica_id,
            layer,
            &mut current,
            previous.as_deref(),
            progress,
        );
        // Unmapping the previous layer drops its pages from our resident set (they stay in
        // the page cache until written back), so at most two layers are resident.
        previous = Some(current);
    }
    drop(previous);
    Ok(())
}

/// Seals one sector. The directory is created; it must not already hold a sealed sector.
pub fn seal(job: &SealJob, progress: Option<Progress>) -> Result<SealOutput> {
    let started = Instant::now();
    let params = job.seal_proof.params();
    let data = File::open(&job.data)
        .with_context(|| format!("cannot open data file {}", job.data.display()))?;
    let data_len = data
        .metadata()
        .with_context(|| format!("cannot stat {}", job.data.display()))?
        .len();
    if data_len > params.max_unpadded_bytes() {
        bail!(
            "data file {} has {data_len} bytes, more than a {} sector holds ({} bytes)",
            job.data.display(),
            job.seal_proof.size_name(),
            params.max_unpadded_bytes()
        );
    }
    let dir = &job.out_dir;
    if dir.join(META_FILE).exists() {
        bail!("{} already holds a sealed sector", dir.display());
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    // tree_d: leaves are the Fr32-padded data, zero past its end.
    let tree_d_layout = TreeLayout {
        leaves: params.nodes,
        first_stored: 0,
    };
    let tree_d_file = create_sized(&dir.join(TREE_D_FILE), tree_d_layout.file_bytes())?;
    let done = AtomicU64::new(0);
    let comm_d = build_tree(tree_d_layout, Some(&tree_d_file), |chunk, leaves| {
        read_padded_leaves(&data, chunk, leaves)?;
        if let Some(report) = progress {
            let so_far = done.fetch_add(leaves.len() as u64, Ordering::Relaxed);
            report(Stage::TreeD, so_far + leaves.len() as u64, params.nodes);
        }
        Ok(())
    })
    .context("building tree_d")?;
    let tree_d_time = started.elapsed();

    let replica_id = replica_id(
        job.seal_proof,
        &job.prover_id,
        job.sector_number,
        &job.ticket,
        &comm_d,
    );
    let labeling_started = Instant::now();
    let labeling_cpu_started = crate::prove::bench::thread_cpu_secs();
    generate_layers(dir, job.seal_proof, &replica_id, progress)?;
    let labeling_time = labeling_started.elapsed();
    let labeling_cpu_secs = crate::prove::bench::thread_cpu_secs() - labeling_cpu_started;

    let trees_started = Instant::now();
    let sector = SealedSector {
        dir: dir.clone(),
        meta: SectorMeta {
            format: META_FORMAT,
            sector_size: job.seal_proof.size_name().to_string(),
            sector_bytes: params.sector_bytes,
            sector_number: job.sector_number,
            prover_id: hex::encode(job.prover_id),
            ticket: hex::encode(job.ticket),
            data_len,
            comm_d: hex::encode(comm_d),
            unsealed_cid: piece_cid(&comm_d),
            replica_id: hex::encode(replica_id),
            comm_c: String::new(),
            comm_r_last: String::new(),
            comm_r: String::new(),
        },
        seal_proof: job.seal_proof,
        params,
    };
    let layers = (1..=params.layers)
        .map(|l| sector.layer(l))
        .collect::<Result<Vec<File>>>()?;
    let chunks_total = 2 * params.nodes.div_ceil(CHUNK_LEAVES);
    let chunks_done = AtomicU64::new(0);
    let tick = || {
        if let Some(report) = progress {
            let so_far = chunks_done.fetch_add(1, Ordering::Relaxed) + 1;
            report(Stage::Trees, so_far, chunks_total);
        }
    };
    let tree_c_file = create_sized(&dir.join(TREE_C_FILE), sector.tree_c_layout().file_bytes())?;
    let replica_file = create_sized(&dir.join(REPLICA_FILE), params.sector_bytes)?;
    let tree_r_file = create_sized(
        &dir.join(TREE_R_LAST_FILE),
        sector.tree_r_layout().file_bytes(),
    )?;
    let last_layer = layers.last().context("no layers")?;
    let (comm_c, comm_r_last) = rayon::join(
        || {
            build_tree(
                sector.tree_c_layout(),
                Some(&tree_c_file),
                |chunk, leaves| {
                    let first = chunk * leaves.len() as u64;
                    let mut columns = vec![vec![[0u8; 32]; leaves.len()]; layers.len()];
                    for (file, labels) in layers.iter().zip(columns.iter_mut()) {
                        read_nodes(file, first, labels)?;
                    }
                    let mut column = vec![[0u8; 32]; layers.len()];
                    for (i, leaf) in leaves.iter_mut().enumerate() {
                        for (slot, labels) in column.iter_mut().zip(&columns) {
                            *slot = labels[i];
                        }
                        *leaf = column_hash(&column);
                    }
                    tick();
                    Ok(())
                },
            )
        },
        || {
            build_tree(
                sector.tree_r_layout(),
                Some(&tree_r_file),
                |chunk, leaves| {
                    let first = chunk * leaves.len() as u64;
                    let mut labels = vec![[0u8; 32]; leaves.len()];
                    read_nodes(last_layer, first, &mut labels)?;
                    read_nodes(&tree_d_file, first, leaves)?;
                    for (leaf, label) in leaves.iter_mut().zip(&labels) {
                        *leaf = encode(leaf, label).ok_or_else(|| {
                            io::Error::other("data or label is not a field element")
                        })?;
                    }
                    replica_file.write_all_at(leaves.as_flattened(), first * NODE_SIZE as u64)?;
                    tick();
                    Ok(())
                },
            )
        },
    );
    let comm_c = comm_c.context("building tree_c")?;
    let comm_r_last = comm_r_last.context("building tree_r_last and the replica")?;
    let comm_r = comm_r_from_parts(&comm_c, &comm_r_last);
    let trees_time = trees_started.elapsed();

    let mut meta = sector.meta;
    meta.comm_c = hex::encode(comm_c);
    meta.comm_r_last = hex::encode(comm_r_last);
    meta.comm_r = hex::encode(comm_r);
    meta.save(dir)?;
    Ok(SealOutput {
        meta,
        timings: SealTimings {
            tree_d: tree_d_time,
            labeling: labeling_time,
            labeling_cpu_secs,
            trees: trees_time,
            total: started.elapsed(),
        },
    })
}

/// Seals several sectors at once, one rayon task per sector (each sector's labeling runs on
/// its own core; trees share the pool). Results are in the order of `jobs`.
pub fn seal_many(jobs: &[SealJob], progress: Option<Progress>) -> Vec<Result<SealOutput>> {
    jobs.par_iter().map(|job| seal(job, progress)).collect()
}
