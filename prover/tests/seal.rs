//! Sealing, unsealing, PoRep and Window PoSt end to end on 2 KiB and 8 MiB sectors, and every
//! way a proof must fail: flipped bytes, wrong comm_r, another sector's proof, corrupted or
//! deleted replica regions, missing files.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;

use prost::Message;
use stoa_prover::challenges::{porep_challenges, post_challenges};
use stoa_prover::prove::files::{META_FILE, REPLICA_FILE};
use stoa_prover::prove::{
    generate_window_post, prove_porep, prove_post_sector, seal, unseal, PoStSector, SealJob,
    SectorMeta,
};
use stoa_prover::{
    proto, verify_porep, verify_porep_bytes, verify_post_sector, verify_window_post,
    verify_window_post_bytes, PoStSectorInfo, SealProof, SealVerifyInfo, VerifyError,
    POST_CHALLENGES_PER_SECTOR,
};

fn verify_info(meta: &SectorMeta, seed: [u8; 32]) -> SealVerifyInfo {
    SealVerifyInfo {
        seal_proof: meta.seal_proof().unwrap(),
        prover_id: meta.prover_id().unwrap(),
        sector_number: meta.sector_number,
        ticket: meta.ticket().unwrap(),
        seed,
        comm_d: meta.comm_d().unwrap(),
        comm_r: meta.comm_r().unwrap(),
    }
}

fn post_info(meta: &SectorMeta) -> PoStSectorInfo {
    PoStSectorInfo {
        seal_proof: meta.seal_proof().unwrap(),
        sector_number: meta.sector_number,
        comm_r: meta.comm_r().unwrap(),
    }
}

/// Seal, unseal byte for byte, prove and verify PoRep and PoSt.
fn round_trip(seal_proof: SealProof, data_len: usize) {
    let root = tempfile::tempdir().unwrap();
    let data = common::random_bytes(seal_proof.sector_bytes(), data_len);
    let (dir, output) = common::seal_data(root.path(), seal_proof, 7, &data);
    let meta = output.meta;
    assert_eq!(meta.data_len, data_len as u64);
    // comm_d is the commP of the data zero-filled to the sector.
    let mut padded_payload = data.clone();
    padded_payload.resize(seal_proof.params().max_unpadded_bytes() as usize, 0);
    let (comm_p, _) = stoa_prover::piece_commitment(&padded_payload);
    assert_eq!(meta.comm_d().unwrap(), comm_p);

    let out = root.path().join("unsealed");
    assert_eq!(unseal(&dir, &out, None).unwrap(), data_len as u64);
    assert!(fs::read(&out).unwrap() == data, "unsealed bytes differ");

    // Unsealing without the layers regenerates the labels.
    for layer in 1..=seal_proof.params().layers {
        fs::remove_file(dir.join(format!("layer-{layer}"))).unwrap();
    }
    let out2 = root.path().join("unsealed2");
    unseal(&dir, &out2, None).unwrap();
    assert!(
        fs::read(&out2).unwrap() == data,
        "unsealed (regenerated labels) bytes differ"
    );
}

#[test]
fn seal_unseal_2kib() {
    round_trip(SealProof::StackedDrg2KiBV1, 2032);
    round_trip(SealProof::StackedDrg2KiBV1, 1000);
    round_trip(SealProof::StackedDrg2KiBV1, 0);
}

#[test]
fn seal_unseal_prove_8mib() {
    let seal_proof = SealProof::StackedDrg8MiBV1;
    let root = tempfile::tempdir().unwrap();
    let data = common::random_bytes(88, 8 * 1024 * 1024 / 128 * 127 - 12345);
    let (dir, output) = common::seal_data(root.path(), seal_proof, 3, &data);
    let out = root.path().join("unsealed");
    unseal(&dir, &out, None).unwrap();
    assert!(fs::read(&out).unwrap() == data, "unsealed bytes differ");

    let seed = common::bytes32(5);
    let proof = prove_porep(&dir, &seed).unwrap();
    assert_eq!(
        proof.challenges.len(),
        seal_proof.params().porep_challenges as usize
    );
    verify_porep(&verify_info(&output.meta, seed), &proof).unwrap();

    let randomness = common::bytes32(6);
    let post = prove_post_sector(&dir, 3, &randomness).unwrap();
    verify_post_sector(&randomness, &post_info(&output.meta), &post).unwrap();
}

#[test]
fn porep_proof_verifies_and_every_flipped_byte_fails() {
    let root = tempfile::tempdir().unwrap();
    let data = common::random_bytes(1, 2032);
    let (dir, output) = common::seal_data(root.path(), SealProof::StackedDrg2KiBV1, 1, &data);
    let seed = common::bytes32(9);
    let info = verify_info(&output.meta, seed);
    let proof = prove_porep(&dir, &seed).unwrap();
    let bytes = proof.encode_to_vec();
    verify_porep_bytes(&info, &bytes).unwrap();

    // Every byte of the proof matters.
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        assert!(
            verify_porep_bytes(&info, &bad).is_err(),
            "flip of proof byte {i} accepted"
        );
    }
    // Every byte of comm_r, comm_d, the ticket, prover id and seed matters.
    for i in 0..32 {
        for field in 0..5 {
            let mut bad = info.clone();
            match field {
                0 => bad.comm_r[i] ^= 1,
                1 => bad.comm_d[i] ^= 1,
                2 => bad.ticket[i] ^= 1,
                3 => bad.prover_id[i] ^= 1,
                _ => bad.seed[i] ^= 1,
            }
            assert!(
                verify_porep(&bad, &proof).is_err(),
                "field {field} byte {i}"
            );
        }
    }
    let mut bad = info.clone();
    bad.sector_number += 1;
    assert!(verify_porep(&bad, &proof).is_err());
    bad = info.clone();
    bad.seal_proof = SealProof::StackedDrg8MiBV1;
    assert!(matches!(
        verify_porep(&bad, &proof),
        Err(VerifyError::SealProofMismatch { .. })
    ));
    // Truncations and garbage are errors, not panics.
    for len in 0..bytes.len().min(200) {
        assert!(verify_porep_bytes(&info, &bytes[..len]).is_err());
    }
    assert!(verify_porep_bytes(&info, &[0xff; 64]).is_err());
    let mut short = proof.clone();
    short.challenges.pop();
    assert!(verify_porep(&info, &short).is_err());
    let mut short = proof.clone();
    short.challenges[0].parent_columns.pop();
    assert!(verify_porep(&info, &short).is_err());
    let mut short = proof.clone();
    short.challenges[0].column.as_mut().unwrap().labels.pop();
    assert!(verify_porep(&info, &short).is_err());
    let mut short = proof;
    short.challenges[0]
        .data_path
        .as_mut()
        .unwrap()
        .siblings
        .pop();
    assert!(verify_porep(&info, &short).is_err());
}

#[test]
fn another_sectors_proofs_fail() {
    let root = tempfile::tempdir().unwrap();
    let (dir_a, out_a) = common::seal_data(
        root.path(),
        SealProof::StackedDrg2KiBV1,
        1,
        &common::random_bytes(1, 2032),
    );
    // Same data, different sector number: a different replica.
    let (dir_b, out_b) = common::seal_data(
        root.path(),
        SealProof::StackedDrg2KiBV1,
        2,
        &common::random_bytes(1, 2032),
    );
    assert_ne!(out_a.meta.comm_r, out_b.meta.comm_r);
    let seed = common::bytes32(3);
    let proof_a = prove_porep(&dir_a, &seed).unwrap();
    let proof_b = prove_porep(&dir_b, &seed).unwrap();
    verify_porep(&verify_info(&out_b.meta, seed), &proof_b).unwrap();
    assert!(verify_porep(&verify_info(&out_b.meta, seed), &proof_a).is_err());
    assert!(verify_porep(&verify_info(&out_a.meta, seed), &proof_b).is_err());

    let randomness = common::bytes32(4);
    let post_a = prove_post_sector(&dir_a, 1, &randomness).unwrap();
    let mut renumbered = post_a.clone();
    renumbered.sector_number = 2;
    assert!(verify_post_sector(&randomness, &post_info(&out_b.meta), &post_a).is_err());
    assert!(verify_post_sector(&randomness, &post_info(&out_b.meta), &renumbered).is_err());
    // Another randomness' proof fails too.
    let other = prove_post_sector(&dir_a, 1, &common::bytes32(5)).unwrap();
    assert!(verify_post_sector(&randomness, &post_info(&out_a.meta), &other).is_err());
}

/// Corrupts nodes `first..first + count` of the replica (count and first multiples of 8 so
/// that the recomputed bottom rows of tree_r_last of other leaves stay intact).
fn corrupt_replica(dir: &Path, first: u64, count: u64, zero: bool) {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(REPLICA_FILE))
        .unwrap();
    let mut region = vec![0u8; (count * 32) as usize];
    if !zero {
        file.read_exact_at(&mut region, first * 32).unwrap();
        for byte in region.iter_mut() {
            *byte ^= 0x15;
        }
    }
    file.write_all_at(&region, first * 32).unwrap();
}

#[test]
fn corrupted_replica_region_fails_exactly_for_challenges_landing_there() {
    let root = tempfile::tempdir().unwrap();
    let seal_proof = SealProof::StackedDrg2KiBV1;
    let nodes = seal_proof.params().nodes;
    let (dir, output) =
        common::seal_data(root.path(), seal_proof, 4, &common::random_bytes(2, 2032));
    let meta = output.meta;
    let replica_id = meta.replica_id().unwrap();
    let (first, count) = (16u64, 16u64);
    for zero in [false, true] {
        corrupt_replica(&dir, first, count, zero);
        let in_region = |c: &u64| (first..first + count).contains(c);
        let (mut post_hits, mut post_misses, mut porep_hits, mut porep_misses) = (0, 0, 0, 0);
        for round in 0..40u64 {
            let randomness = common::bytes32(100 + round);
            let hit = post_challenges(&randomness, 4, POST_CHALLENGES_PER_SECTOR, nodes)
                .iter()
                .any(in_region);
            let proof = prove_post_sector(&dir, 4, &randomness).unwrap();
            let ok = verify_post_sector(&randomness, &post_info(&meta), &proof).is_ok();
            assert_eq!(ok, !hit, "PoSt round {round}");
            if hit {
                post_hits += 1
            } else {
                post_misses += 1
            }

            let hit = porep_challenges(
                &replica_id,
                &randomness,
                seal_proof.params().porep_challenges,
                nodes,
            )
            .iter()
            .any(in_region);
            let proof = prove_porep(&dir, &randomness).unwrap();
            let ok = verify_porep(&verify_info(&meta, randomness), &proof).is_ok();
            assert_eq!(ok, !hit, "PoRep round {round}");
            if hit {
                porep_hits += 1
            } else {
                porep_misses += 1
            }
        }
        assert!(post_hits > 0 && post_misses > 0 && porep_hits > 0 && porep_misses > 0);
    }
    // A corrupted replica can no longer be unsealed silently.
    let err = unseal(&dir, &root.path().join("out"), None).unwrap_err();
    assert!(format!("{err:#}").contains("corrupted"), "{err:#}");
}

#[test]
fn every_replica_byte_is_covered_by_proofs() {
    // Flipping any byte of the replica makes the PoSt fail for every randomness whose
    // challenges include that node (and the self-checking prover reports the fault).
    let root = tempfile::tempdir().unwrap();
    let seal_proof = SealProof::StackedDrg2KiBV1;
    let nodes = seal_proof.params().nodes;
    let (dir, output) =
        common::seal_data(root.path(), seal_proof, 5, &common::random_bytes(3, 2032));
    let info = post_info(&output.meta);
    let replica = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(REPLICA_FILE))
        .unwrap();
    for byte in 0..seal_proof.sector_bytes() {
        let node = byte / 32;
        let randomness = (0..1000u64)
            .map(common::bytes32)
            .find(|r| post_challenges(r, 5, POST_CHALLENGES_PER_SECTOR, nodes).contains(&node))
            .unwrap();
        let mut b = [0u8; 1];
        replica.read_exact_at(&mut b, byte).unwrap();
        replica.write_all_at(&[b[0] ^ 0x40], byte).unwrap();
        let proof = prove_post_sector(&dir, 5, &randomness).unwrap();
        assert!(
            verify_post_sector(&randomness, &info, &proof).is_err(),
            "byte {byte}"
        );
        let result = generate_window_post(
            &[PoStSector {
                sector_number: 5,
                dir: dir.clone(),
            }],
            &randomness,
        );
        assert_eq!(result.proof.faulty_sectors, vec![5]);
        replica.write_all_at(&b, byte).unwrap();
        let proof = prove_post_sector(&dir, 5, &randomness).unwrap();
        verify_post_sector(&randomness, &info, &proof).unwrap();
    }
}

#[test]
fn window_post_over_many_sectors_with_faults() {
    let root = tempfile::tempdir().unwrap();
    let seal_proof = SealProof::StackedDrg2KiBV1;
    let mut sectors = Vec::new();
    let mut infos = Vec::new();
    for number in 10..16u64 {
        let (dir, output) = common::seal_data(
            root.path(),
            seal_proof,
            number,
            &common::random_bytes(number, 1500),
        );
        infos.push(post_info(&output.meta));
        sectors.push(PoStSector {
            sector_number: number,
            dir,
        });
    }
    let randomness = common::bytes32(77);
    let all = generate_window_post(&sectors, &randomness);
    assert!(all.faults.is_empty());
    let outcome = verify_window_post(&randomness, &infos, &all.proof).unwrap();
    assert_eq!(outcome.proven, (10..16).collect::<Vec<_>>());
    let bytes = all.proof.encode_to_vec();
    verify_window_post_bytes(&randomness, &infos, &bytes).unwrap();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x04;
        assert!(
            verify_window_post_bytes(&randomness, &infos, &bad).is_err(),
            "byte {i}"
        );
    }
    for i in 0..32 {
        let mut bad = infos.clone();
        bad[2].comm_r[i] ^= 0x80;
        assert!(verify_window_post(&randomness, &bad, &all.proof).is_err());
    }
    // Missing sectors, reordered or extra sectors are rejected.
    assert!(verify_window_post(&randomness, &infos[..5], &all.proof).is_err());
    let mut reordered = infos.clone();
    reordered.swap(0, 1);
    assert!(verify_window_post(&randomness, &reordered, &all.proof).is_err());
    let mut partial = all.proof.clone();
    partial.sectors.remove(3);
    assert!(verify_window_post(&randomness, &infos, &partial).is_err());

    // Sector 12's replica is gone, sector 13's directory is gone, sector 14's tree is cut:
    // faults, not a crash, and the others are still proven.
    fs::remove_file(sectors[2].dir.join(REPLICA_FILE)).unwrap();
    fs::remove_dir_all(&sectors[3].dir).unwrap();
    let tree = sectors[4].dir.join("tree-r-last");
    let len = fs::metadata(&tree).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&tree)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let partial = generate_window_post(&sectors, &randomness);
    assert_eq!(partial.proof.faulty_sectors, vec![12, 13, 14]);
    assert_eq!(partial.faults.len(), 3);
    assert!(
        partial.faults[0].reason.contains("replica"),
        "{}",
        partial.faults[0].reason
    );
    let outcome = verify_window_post(&randomness, &infos, &partial.proof).unwrap();
    assert_eq!(outcome.proven, vec![10, 11, 15]);
    assert_eq!(outcome.faulty, vec![12, 13, 14]);
    // A fault claimed for a sector that is not expected is rejected.
    let mut bogus = partial.proof.clone();
    bogus.faulty_sectors.push(99);
    assert!(verify_window_post(&randomness, &infos, &bogus).is_err());
}

#[test]
fn clear_errors_for_bad_inputs() {
    let root = tempfile::tempdir().unwrap();
    let job = |data: &str, out: &str| SealJob {
        seal_proof: SealProof::StackedDrg2KiBV1,
        data: root.path().join(data),
        sector_number: 1,
        prover_id: [0; 32],
        ticket: [1; 32],
        out_dir: root.path().join(out),
    };
    let err = seal(&job("missing", "s1"), None).unwrap_err();
    assert!(
        format!("{err:#}").contains("cannot open data file"),
        "{err:#}"
    );
    fs::write(root.path().join("big"), vec![7u8; 2033]).unwrap();
    let err = seal(&job("big", "s2"), None).unwrap_err();
    assert!(
        format!("{err:#}").contains("more than a 2KiB sector holds"),
        "{err:#}"
    );
    assert!(SealProof::parse_size("4MiB").is_none());
    assert_eq!(
        SealProof::parse_size("512MiB"),
        Some(SealProof::StackedDrg512MiBV1)
    );
    assert_eq!(
        SealProof::parse_size("34359738368"),
        Some(SealProof::StackedDrg32GiBV1)
    );

    fs::write(root.path().join("ok"), vec![7u8; 100]).unwrap();
    seal(&job("ok", "s3"), None).unwrap();
    let err = seal(&job("ok", "s3"), None).unwrap_err();
    assert!(
        format!("{err:#}").contains("already holds a sealed sector"),
        "{err:#}"
    );
    let dir = root.path().join("s3");
    fs::write(dir.join(META_FILE), "{not json").unwrap();
    let err = prove_porep(&dir, &[0; 32]).unwrap_err();
    assert!(
        format!("{err:#}").contains("corrupted sector metadata"),
        "{err:#}"
    );
    let err = prove_porep(&root.path().join("nowhere"), &[0; 32]).unwrap_err();
    assert!(
        format!("{err:#}").contains("cannot read sector metadata"),
        "{err:#}"
    );
}

#[test]
fn proto_enum_round_trips() {
    for p in SealProof::ALL {
        assert_eq!(SealProof::from_proto(p.to_proto() as i32), Some(p));
        assert_eq!(SealProof::from_sector_bytes(p.sector_bytes()), Some(p));
    }
    assert_eq!(
        SealProof::from_proto(proto::RegisteredSealProof::Unspecified as i32),
        None
    );
    assert_eq!(SealProof::from_proto(99), None);
}
