//! Piece commitments against Filecoin's public values: zero-piece commitments, commP of
//! zero files through the file path, piece CIDs, comm_d from pieces, Fr32 round trips.

mod common;

use stoa_prover::commp::{
    compute_comm_d, padded_piece_size, parse_piece_cid, piece_cid, piece_commitment,
    unpadded_piece_size, zero_piece_commitment, PieceInfo,
};
use stoa_prover::fr32;
use stoa_prover::prove::piece::commp_of_file;
use stoa_prover::SealProof;

/// Filecoin's published zero-piece commitments (padded size, commitment), e.g. the table in
/// go-commp-utils' zerocomm and in every Filecoin implementation.
const ZERO_COMMS: &[(u64, &str)] = &[
    (
        64,
        "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb0b",
    ),
    (
        128,
        "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333",
    ),
    (
        256,
        "642a607ef886b004bf2c1978463ae1d4693ac0f410eb2d1b7a47fe205e5e750f",
    ),
    (
        2 << 10,
        "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833",
    ),
    (
        8 << 20,
        "65f29e5d98d246c38b388cfc06db1f6b021303c5a289000bdce832a9c3ec421c",
    ),
    (
        512 << 20,
        "39560e7b13a93b07a243fd2720ffa7cb3e1d2e505ab3629e79f46313512cda06",
    ),
    (
        32 << 30,
        "077e5fde35c50a9303a55009e3498a4ebedff39c42b710b730d8ec7ac7afa63e",
    ),
];

#[test]
fn zero_piece_commitments_match_filecoin() {
    for &(size, want) in ZERO_COMMS {
        let comm = zero_piece_commitment(size).unwrap();
        assert_eq!(hex::encode(comm), want, "zero piece of {size} bytes");
    }
    assert_eq!(zero_piece_commitment(100), None);
}

#[test]
fn commp_of_zero_payloads_matches_filecoin() {
    // A zero payload of the largest unpadded size of a piece commits like the zero piece.
    for &(size, want) in ZERO_COMMS
        .iter()
        .filter(|(s, _)| (128..=(8 << 20)).contains(s))
    {
        let payload = vec![0u8; (size / 128 * 127) as usize];
        let (comm, padded) = piece_commitment(&payload);
        assert_eq!(padded, size);
        assert_eq!(hex::encode(comm), want, "in-memory commP of {size}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zeros");
        std::fs::write(&path, &payload).unwrap();
        let (comm, padded, len) = commp_of_file(&path).unwrap();
        assert_eq!((padded, len), (size, payload.len() as u64));
        assert_eq!(hex::encode(comm), want, "file commP of {size}");
    }
}

#[test]
fn piece_sizes_follow_filecoin() {
    assert_eq!(unpadded_piece_size(0), 127);
    assert_eq!(unpadded_piece_size(1), 127);
    assert_eq!(unpadded_piece_size(127), 127);
    assert_eq!(unpadded_piece_size(128), 254);
    assert_eq!(unpadded_piece_size(1000), 1016);
    assert_eq!(padded_piece_size(1000), 1024);
}

#[test]
fn file_and_memory_commp_agree_on_random_data() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, len) in [
        (1u64, 1usize),
        (2, 500),
        (3, 4064),
        (4, 100_000),
        (5, 2_000_000),
    ] {
        let data = common::random_bytes(seed, len);
        let path = dir.path().join(format!("r{seed}"));
        std::fs::write(&path, &data).unwrap();
        let (file_comm, file_padded, _) = commp_of_file(&path).unwrap();
        let (mem_comm, mem_padded) = piece_commitment(&data);
        assert_eq!(
            (file_comm, file_padded),
            (mem_comm, mem_padded),
            "len {len}"
        );
    }
}

#[test]
fn piece_cid_is_filecoins_form() {
    let comm = zero_piece_commitment(32 << 30).unwrap();
    let text = piece_cid(&comm);
    assert!(text.starts_with("baga6ea4sea"), "{text}");
    // Cross-check with the cid crate: CIDv1, codec 0xf101, multihash 0x1012.
    let parsed = cid::Cid::try_from(text.as_str()).unwrap();
    assert_eq!(parsed.version(), cid::Version::V1);
    assert_eq!(parsed.codec(), 0xf101);
    assert_eq!(parsed.hash().code(), 0x1012);
    assert_eq!(parsed.hash().digest(), &comm);
    assert_eq!(parsed.to_string(), text);
    assert_eq!(parse_piece_cid(&text).unwrap(), comm);
    assert!(
        parse_piece_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").is_err()
    );
    assert!(parse_piece_cid("not a cid").is_err());
    assert!(parse_piece_cid("b").is_err());
}

#[test]
fn comm_d_from_pieces_equals_tree_over_the_sector() {
    // Pieces of 512 and 256 bytes (padded) in a 2 KiB sector: the second lands at 512.
    let a = common::random_bytes(10, 508);
    let b = common::random_bytes(11, 254);
    let (ca, sa) = piece_commitment(&a);
    let (cb, sb) = piece_commitment(&b);
    let comm_d = compute_comm_d(
        SealProof::StackedDrg2KiBV1,
        &[
            PieceInfo {
                comm_p: ca,
                padded_size: sa,
            },
            PieceInfo {
                comm_p: cb,
                padded_size: sb,
            },
        ],
    )
    .unwrap();
    let mut sector = vec![0u8; 2048];
    sector[..512].copy_from_slice(&fr32::pad(&a));
    sector[512..768].copy_from_slice(&fr32::pad(&b));
    let leaves: Vec<[u8; 32]> = sector.chunks(32).map(|c| c.try_into().unwrap()).collect();
    assert_eq!(comm_d, stoa_prover::merkle::root(&leaves).unwrap());

    // Out of order sizes: 256 then 512 leaves a 256-byte gap.
    let comm_d2 = compute_comm_d(
        SealProof::StackedDrg2KiBV1,
        &[
            PieceInfo {
                comm_p: cb,
                padded_size: sb,
            },
            PieceInfo {
                comm_p: ca,
                padded_size: sa,
            },
        ],
    )
    .unwrap();
    let mut sector = vec![0u8; 2048];
    sector[..256].copy_from_slice(&fr32::pad(&b));
    sector[512..1024].copy_from_slice(&fr32::pad(&a));
    let leaves: Vec<[u8; 32]> = sector.chunks(32).map(|c| c.try_into().unwrap()).collect();
    assert_eq!(comm_d2, stoa_prover::merkle::root(&leaves).unwrap());

    // Empty sector and errors.
    assert_eq!(
        compute_comm_d(SealProof::StackedDrg2KiBV1, &[]).unwrap(),
        zero_piece_commitment(2048).unwrap()
    );
    let big = PieceInfo {
        comm_p: ca,
        padded_size: 4096,
    };
    assert!(compute_comm_d(SealProof::StackedDrg2KiBV1, &[big]).is_err());
    let odd = PieceInfo {
        comm_p: ca,
        padded_size: 300,
    };
    assert!(compute_comm_d(SealProof::StackedDrg2KiBV1, &[odd]).is_err());
    let full = PieceInfo {
        comm_p: ca,
        padded_size: 1024,
    };
    assert!(compute_comm_d(SealProof::StackedDrg2KiBV1, &[full, full, full]).is_err());
}

#[test]
fn fr32_round_trips_and_clears_top_bits() {
    for len in [0usize, 1, 126, 127, 128, 254, 1000, 4064] {
        let data = common::random_bytes(len as u64, len);
        let padded = fr32::pad(&data);
        assert_eq!(padded.len(), len.div_ceil(127) * 128);
        for node in padded.chunks(32) {
            assert_eq!(node[31] & 0xc0, 0);
        }
        let back = fr32::unpad(&padded);
        assert_eq!(&back[..len], &data[..]);
    }
    // Ones everywhere: each node carries 254 one bits.
    let padded = fr32::pad(&[0xff; 127]);
    for node in padded.chunks(32) {
        assert_eq!(&node[..31], &[0xff; 31]);
        assert_eq!(node[31], 0x3f);
    }
}

/// Vectors written by prover/reference (Filecoin's own generate_piece_commitment).
#[test]
fn commp_matches_filecoin_reference_vectors() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/filecoin_commp.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("no reference vectors at {}; skipping", path.display());
        return;
    };
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = vectors.as_array().unwrap();
    assert!(!list.is_empty());
    for v in list {
        let size = v["size_bytes"].as_u64().unwrap() as usize;
        let data = reference_data(v["seed"].as_u64(), size);
        let (comm, _) = piece_commitment(&data);
        assert_eq!(hex::encode(comm), v["comm_p_hex"].as_str().unwrap(), "{v}");
        assert_eq!(piece_cid(&comm), v["piece_cid"].as_str().unwrap(), "{v}");
        // The `commp FILE` path (streamed, parallel) gives the same CID.
        if size <= 1 << 20 {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("piece");
            std::fs::write(&file, &data).unwrap();
            let (file_comm, _, _) = commp_of_file(&file).unwrap();
            assert_eq!(
                piece_cid(&file_comm),
                v["piece_cid"].as_str().unwrap(),
                "{v}"
            );
        }
    }
}

/// The reference helper's deterministic data: a null seed is all zeros, otherwise blocks of
/// SHA-256(seed LE u64 || counter LE u64), which is what `common::random_bytes` produces.
fn reference_data(seed: Option<u64>, size: usize) -> Vec<u8> {
    match seed {
        None => vec![0u8; size],
        Some(seed) => common::random_bytes(seed, size),
    }
}
