//! The hash, graph, label and challenge primitives: SHA-256 against the sha2 crate, parents in
//! range, the expander a permutation, labels as specified, encoding round trips.

use sha2::{Digest, Sha256};
use stoa_prover::challenges::{porep_challenges, post_challenges};
use stoa_prover::encode::{decode, encode};
use stoa_prover::graph::Graph;
use stoa_prover::hash::{hash_pair, sha256, trunc254};
use stoa_prover::label::{label_from_parents, LABEL_INPUT_LEN};
use stoa_prover::params::{DRG_DEGREE, EXP_DEGREE};
use stoa_prover::SealProof;

#[test]
fn sha256_matches_the_sha2_crate() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    for len in 0..data.len() {
        let want: [u8; 32] = Sha256::digest(&data[..len]).into();
        assert_eq!(sha256(&data[..len]), want, "len {len}");
    }
    let a = [1u8; 32];
    let b = [2u8; 32];
    let want: [u8; 32] = Sha256::new()
        .chain_update(a)
        .chain_update(b)
        .finalize()
        .into();
    assert_eq!(hash_pair(&a, &b), trunc254(want));
}

#[test]
fn drg_parents_are_earlier_and_expander_is_a_permutation() {
    for seal_proof in [SealProof::StackedDrg2KiBV1, SealProof::StackedDrg8MiBV1] {
        let graph = Graph::new(seal_proof);
        let nodes = graph.nodes();
        let mut in_degree = vec![0u32; nodes as usize];
        let step = if nodes > 10_000 { 97 } else { 1 };
        for node in (0..nodes).step_by(step) {
            let drg = graph.drg_parents(node);
            assert_eq!(drg.len(), DRG_DEGREE);
            for &p in &drg {
                assert!(node == 0 || (p as u64) < node, "node {node} parent {p}");
            }
            if node > 0 {
                assert_eq!(drg[DRG_DEGREE - 1] as u64, node - 1);
            }
            for p in graph.expander_parents(node) {
                assert!((p as u64) < nodes);
                in_degree[p as usize] += 1;
            }
        }
        if step == 1 {
            // Chung's construction from a permutation: every node is an expander parent of
            // exactly EXP_DEGREE slots.
            assert!(
                in_degree.iter().all(|&d| d == EXP_DEGREE as u32),
                "{in_degree:?}"
            );
        }
        // Deterministic, and different per seal proof.
        assert_eq!(
            Graph::new(seal_proof).parents(nodes - 1),
            graph.parents(nodes - 1)
        );
    }
    let a = Graph::new(SealProof::StackedDrg2KiBV1).expander_parents(5);
    let b = Graph::new(SealProof::StackedDrg8MiBV1).expander_parents(5);
    assert_ne!(a, b);
}

#[test]
fn drg_parents_reach_far_back() {
    // Bucket sampling gives parents at every distance scale, not only neighbours.
    let graph = Graph::new(SealProof::StackedDrg8MiBV1);
    let node = graph.nodes() - 1;
    let mut far = 0;
    for v in node - 1000..node {
        if graph.drg_parents(v).iter().any(|&p| (v - p as u64) > v / 4) {
            far += 1;
        }
    }
    assert!(far > 50, "{far}");
}

#[test]
fn label_layout_is_as_specified() {
    let replica_id = [9u8; 32];
    let parents: Vec<[u8; 32]> = (0..14u8).map(|i| [i; 32]).collect();
    let mut input = Vec::new();
    input.extend_from_slice(&replica_id);
    input.extend_from_slice(&2u32.to_be_bytes());
    input.extend_from_slice(&77u64.to_be_bytes());
    input.extend_from_slice(&[0u8; 20]);
    for k in 0..37 {
        input.extend_from_slice(&parents[k % 14]);
    }
    assert_eq!(input.len(), LABEL_INPUT_LEN);
    let want = trunc254(Sha256::digest(&input).into());
    assert_eq!(
        label_from_parents(&replica_id, 2, 77, &parents).unwrap(),
        want
    );
    // Six DRG parents repeat six times plus one.
    let mut input6 = input[..64].to_vec();
    input6[32..36].copy_from_slice(&1u32.to_be_bytes());
    for k in 0..37 {
        input6.extend_from_slice(&parents[k % 6]);
    }
    let want6 = trunc254(Sha256::digest(&input6).into());
    assert_eq!(
        label_from_parents(&replica_id, 1, 77, &parents[..6]).unwrap(),
        want6
    );
    assert!(label_from_parents(&replica_id, 1, 77, &parents[..5]).is_none());
    assert_eq!(
        label_from_parents(&replica_id, 1, 77, &parents[..6]).unwrap()[31] & 0xc0,
        0
    );
}

#[test]
fn challenges_are_in_range_and_deterministic() {
    let r = [3u8; 32];
    let c = porep_challenges(&r, &[4u8; 32], 180, 64);
    assert!(c.iter().all(|&x| (1..64).contains(&x)));
    assert_eq!(c, porep_challenges(&r, &[4u8; 32], 180, 64));
    let p = post_challenges(&r, 12, 10, 64);
    assert_eq!(p.len(), 10);
    assert!(p.iter().all(|&x| x < 64));
    assert_ne!(p, post_challenges(&r, 13, 10, 64));
}

#[test]
fn encoding_round_trips_and_rejects_non_scalars() {
    let data = trunc254([0xab; 32]);
    let label = trunc254([0xcd; 32]);
    let replica = encode(&data, &label).unwrap();
    assert_eq!(decode(&replica, &label).unwrap(), data);
    assert!(encode(&[0xff; 32], &label).is_none());
    assert!(decode(&[0xff; 32], &label).is_none());
}

#[test]
fn limb_encoding_equals_bls12_381_scalar_arithmetic() {
    use bls12_381::Scalar;
    let mut seed = [7u8; 32];
    for i in 0..2000u32 {
        seed = sha256(&[&seed[..], &i.to_le_bytes()].concat());
        let mut a = seed;
        let mut b = sha256(&seed);
        // Mix full-range canonical scalars (reduce through bls12_381) and 254-bit values.
        if i % 2 == 0 {
            a = Scalar::from_bytes_wide(&[seed, b].concat().try_into().unwrap()).to_bytes();
            b = Scalar::from_bytes_wide(&[b, seed].concat().try_into().unwrap()).to_bytes();
        } else {
            a = trunc254(a);
            b = trunc254(b);
        }
        let (sa, sb) = (
            Scalar::from_bytes(&a).unwrap(),
            Scalar::from_bytes(&b).unwrap(),
        );
        assert_eq!(encode(&a, &b).unwrap(), (sa + sb).to_bytes());
        assert_eq!(decode(&a, &b).unwrap(), (sa - sb).to_bytes());
    }
    // r itself and r - 1.
    let r_minus_1 = (Scalar::zero() - Scalar::one()).to_bytes();
    assert_eq!(
        encode(&r_minus_1, &Scalar::one().to_bytes()).unwrap(),
        [0u8; 32]
    );
    let mut r = r_minus_1;
    r[0] += 1;
    assert!(encode(&r, &[0u8; 32]).is_none());
    assert!(decode(&[0u8; 32], &r).is_none());
}
