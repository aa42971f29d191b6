//! `stoad sim compute-emission --at SECONDS` through the binary: month 1, month 12 and past the
//! pool's end give exactly what `stoa_compute::emission::emitted_by` gives (the function the
//! chain mints by) and the same figures the ABCI-level emission test
//! (`app/tests/compute.rs`, `emission_follows_the_schedule_to_online_devices_by_weight`) reads
//! from a chain driven through those months; `--genesis` takes the schedule of a genesis file.

mod cli_support;

use cli_support::*;
use stoa_compute::emission::{emitted_by, month_amount};
use stoa_compute::ComputeParams;

const MONTH: i64 = 2_629_800;
/// The figures the chain reaches in app/tests/compute.rs (the same literals there): ucomp
/// emitted after month 1, after month 12 (40,000,000 COMP to a unit), and the pool.
const MONTH_1: u128 = 3_524_486_199_736;
const YEAR_1: u128 = 40_000_000_000_000;
const POOL: u128 = 300_000_000_000_000;

fn sim(home: &std::path::Path, at: i64, extra: &[&str]) -> serde_json::Value {
    let at = at.to_string();
    let mut args = vec!["sim", "compute-emission", "--at", &at];
    args.extend_from_slice(extra);
    let r = stoad(home, &args);
    r.assert_ok();
    r.json()
}

#[test]
fn sim_compute_emission_matches_the_chain_schedule() {
    let home = tempfile::tempdir().unwrap();
    let s = ComputeParams::default().emission;
    for (at, month, want) in [
        (MONTH, 2, MONTH_1),
        (12 * MONTH, 13, YEAR_1),
        (200 * MONTH, 201, POOL),
    ] {
        let v = sim(home.path(), at, &[]);
        assert_eq!(v["at"], at, "{v}");
        assert_eq!(v["month"], month, "{v}");
        assert_eq!(v["emitted"], want.to_string(), "at {at}: {v}");
        assert_eq!(v["emitted"], emitted_by(&s, at).to_string(), "{v}");
    }
    assert_eq!(MONTH_1, month_amount(&s, 1));
    // Inside month 1, and before the start.
    let v = sim(home.path(), MONTH / 2, &[]);
    assert_eq!(
        (v["month"].as_u64(), v["emitted"].as_str()),
        (Some(1), Some((MONTH_1 / 2).to_string().as_str()))
    );
    let v = sim(home.path(), -5, &[]);
    assert_eq!(v["emitted"], "0");
    // A bad argument is refused.
    stoad(home.path(), &["sim", "compute-emission", "--at", "soon"]).assert_err("invalid value");
}

#[test]
fn sim_compute_emission_reads_a_genesis_schedule() {
    let home = tempfile::tempdir().unwrap();
    let mut p = ComputeParams::default();
    p.emission.total = 1_000_000_000_000; // a small pool: clamped during month 1
    let path = home.path().join("genesis.json");
    let g = serde_json::json!({ "app_state": { "compute": { "params": p } } });
    std::fs::write(&path, g.to_string()).unwrap();
    let file = path.display().to_string();
    let v = sim(home.path(), MONTH, &["--genesis", &file]);
    assert_eq!(v["emitted"], "1000000000000", "{v}");
    let half = sim(home.path(), MONTH / 10, &["--genesis", &file]);
    assert_eq!(
        half["emitted"],
        emitted_by(&p.emission, MONTH / 10).to_string()
    );
    std::fs::write(&path, "{}").unwrap();
    stoad(
        home.path(),
        &["sim", "compute-emission", "--at", "1", "--genesis", &file],
    )
    .assert_err("no app_state.compute");
}
