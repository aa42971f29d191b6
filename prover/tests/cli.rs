//! The stoa-prover binary end to end: seal, prove, verify, post, unseal, commp with
//! `--output json`, and clear errors for missing files, wrong sizes and oversized data.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stoa-prover"))
        .args(args)
        .output()
        .unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn cli_round_trip_and_errors() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let payload = common::random_bytes(4, 1800);
    std::fs::write(&data, &payload).unwrap();
    let sector = root.path().join("sector");
    let ticket = hex::encode([3u8; 32]);
    let seed = hex::encode([4u8; 32]);

    let out = run(&["--output", "json", "commp", path(&data)]);
    assert!(out.status.success());
    let (comm, _) = stoa_prover::piece_commitment(&payload);
    assert_eq!(json(&out)["piece_cid"], stoa_prover::piece_cid(&comm));

    let out = run(&[
        "--output",
        "json",
        "seal",
        "--sector-size",
        "2KiB",
        "--data",
        path(&data),
        "--sector",
        "9",
        "--ticket",
        &ticket,
        "--out",
        path(&sector),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["sectors"][0]["sector"], 9);

    let proof = root.path().join("porep.bin");
    let out = run(&[
        "prove",
        "--sector",
        path(&sector),
        "--seed",
        &seed,
        "--out",
        path(&proof),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "--output",
        "json",
        "verify",
        "porep",
        "--sector",
        path(&sector),
        "--seed",
        &seed,
        "--proof",
        path(&proof),
    ]);
    assert_eq!(json(&out)["valid"], true);
    let other_seed = hex::encode([5u8; 32]);
    let out = run(&[
        "--output",
        "json",
        "verify",
        "porep",
        "--sector",
        path(&sector),
        "--seed",
        &other_seed,
        "--proof",
        path(&proof),
    ]);
    assert_eq!(json(&out)["valid"], false);
    assert_eq!(out.status.code(), Some(2));

    let post = root.path().join("post.bin");
    let randomness = hex::encode([6u8; 32]);
    let missing = format!("12={}", path(&root.path().join("gone")));
    let out = run(&[
        "--output",
        "json",
        "post",
        "--sectors",
        path(&sector),
        &missing,
        "--randomness",
        &randomness,
        "--out",
        path(&post),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = json(&out);
    assert_eq!(value["proven"], serde_json::json!([9]));
    assert_eq!(value["faults"][0]["sector"], 12);
    let meta = stoa_prover::prove::SectorMeta::load(&sector).unwrap();
    let spec = format!("2KiB:9:{}", meta.comm_r);
    let out = run(&[
        "--output",
        "json",
        "verify",
        "post",
        "--proof",
        path(&post),
        "--randomness",
        &randomness,
        "--sectors",
        &spec,
        "2KiB:12:00000000000000000000000000000000000000000000000000000000000000ff",
    ]);
    assert_eq!(
        json(&out)["valid"],
        true,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["faulty"], serde_json::json!([12]));

    let back = root.path().join("back");
    let out = run(&["unseal", "--sector", path(&sector), "--out", path(&back)]);
    assert!(out.status.success());
    assert!(std::fs::read(&back).unwrap() == payload);

    // Errors: missing file, wrong sector size, data larger than the sector, corrupted sector.
    let out = run(&["commp", path(&root.path().join("nope"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    let out = run(&[
        "seal",
        "--sector-size",
        "4MiB",
        "--data",
        path(&data),
        "--sector",
        "1",
        "--ticket",
        &ticket,
        "--out",
        path(&root.path().join("x")),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong sector size"));
    let big = root.path().join("big");
    std::fs::write(&big, vec![1u8; 5000]).unwrap();
    let out = run(&[
        "seal",
        "--sector-size",
        "2KiB",
        "--data",
        path(&big),
        "--sector",
        "1",
        "--ticket",
        &ticket,
        "--out",
        path(&root.path().join("y")),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than a 2KiB sector holds"));
    std::fs::write(sector.join("replica"), b"short").unwrap();
    let out = run(&[
        "--output",
        "json",
        "prove",
        "--sector",
        path(&sector),
        "--seed",
        &seed,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(json(&out)["error"]
        .as_str()
        .unwrap()
        .contains("corrupted file"));
}
