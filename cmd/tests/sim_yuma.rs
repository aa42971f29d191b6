//! `stoad sim yuma-epoch` through the built binary: subtensor's own epoch test sequences
//! (fixtures in `fixtures/yuma/`, each a starting input and steps that set weights, move the
//! block and assert what subtensor asserts, the bonds and permits of each output fed into the
//! next input), the same bytes as the module's `yuma::epoch`, and malformed input refused with
//! exit code 2 and a message on stderr, never a panic.

use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn stoad() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stoad"))
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `stoad sim yuma-epoch` with `stdin`.
fn sim(stdin: &[u8]) -> Out {
    let mut child = Command::new(stoad())
        .args(["sim", "yuma-epoch"])
        // No home is needed: point it somewhere empty so no user config is read.
        .env("HOME", std::env::temp_dir())
        .env_remove("STOA_HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run stoad");
    {
        let mut i = child.stdin.take().expect("stdin");
        // A child that exits early closes the pipe: that is its answer, not a test failure.
        let _ = i.write_all(stdin);
    }
    let o = child.wait_with_output().expect("wait for stoad");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn fixture(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/yuma")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("fixture JSON")
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

/// Bond `(i, j)` of an output (0 when the row has no entry for j).
fn bond(out: &Value, i: usize, j: u64) -> u64 {
    out["bonds"][i]
        .as_array()
        .expect("bonds row")
        .iter()
        .find(|p| u(&p[0]) == j)
        .map(|p| u(&p[1]))
        .unwrap_or(0)
}

/// Plays a fixture through the CLI; returns how many values it compared.
fn play(name: &str) -> usize {
    let f = fixture(name);
    let tol = f["tolerance"].as_f64().unwrap_or(0.0);
    let mut input = f["input"].clone();
    let mut checked = 0;
    for (k, step) in f["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name} step {k}");
        input["block"] = step["block"].clone();
        for w in step["set_weights"].as_array().into_iter().flatten() {
            let uid = u(&w["uid"]) as usize;
            input["weights"][uid] = w["row"].clone();
            input["last_update"][uid] = w["last_update"].clone();
        }
        let bytes = serde_json::to_vec(&input).unwrap();
        let r = sim(&bytes);
        assert_eq!(r.code, 0, "{at}: exit {}: {}", r.code, r.stderr);
        assert_eq!(r.stdout.lines().count(), 1, "{at}: one JSON line");
        let out: Value = serde_json::from_str(&r.stdout).expect("output is JSON");

        // The CLI prints exactly the module's epoch.
        let typed: stoa_intelligence::yuma::EpochInput =
            serde_json::from_value(input.clone()).unwrap();
        let direct = stoa_intelligence::yuma::epoch(&typed).unwrap();
        assert_eq!(
            r.stdout.trim_end(),
            serde_json::to_string(&direct).unwrap(),
            "{at}"
        );

        let e = &step["expect"];
        if let Some(p) = e.get("validator_permit") {
            assert_eq!(&out["validator_permit"], p, "{at}: permits");
            checked += 1;
        }
        for field in ["dividends", "emission", "incentive", "consensus"] {
            for pair in e[field].as_array().into_iter().flatten() {
                let uid = u(&pair[0]) as usize;
                assert_eq!(out[field][uid], pair[1], "{at}: {field}[{uid}]");
                checked += 1;
            }
        }
        for row in e["bonds"].as_array().into_iter().flatten() {
            let i = u(&row[0]) as usize;
            assert_eq!(out["bonds"][i], row[1], "{at}: bonds row {i}");
            checked += 1;
        }
        for c in e["bond_cells"].as_array().into_iter().flatten() {
            let (i, j) = (u(&c[0]) as usize, u(&c[1]));
            assert_eq!(bond(&out, i, j), u(&c[2]), "{at}: bond ({i}, {j})");
            checked += 1;
        }
        let close = |got: u64, want: f64| (got as f64 / 65535.0 - want).abs() <= tol;
        for pair in e["dividends_approx"].as_array().into_iter().flatten() {
            let uid = u(&pair[0]) as usize;
            let (got, want) = (u(&out["dividends"][uid]), pair[1].as_f64().unwrap());
            assert!(close(got, want), "{at}: dividends[{uid}] {got} want {want}");
            checked += 1;
        }
        for c in e["bond_cells_approx"].as_array().into_iter().flatten() {
            let (i, j) = (u(&c[0]) as usize, u(&c[1]));
            let (got, want) = (bond(&out, i, j), c[2].as_f64().unwrap());
            assert!(close(got, want), "{at}: bond ({i}, {j}) {got} want {want}");
            checked += 1;
        }
        // The next epoch starts from this one's bonds and permits, as subtensor stores them.
        input["bonds"] = out["bonds"].clone();
        input["validator_permit"] = out["validator_permit"].clone();
    }
    checked
}

#[test]
fn subtensor_test_active_stake_through_the_cli() {
    assert_eq!(
        play("active_stake.json"),
        1 + 2 + 4 + 2 + 2 + 4 + 2 + 2 + 2 + 2
    );
}

#[test]
fn subtensor_test_bonds_through_the_cli() {
    assert_eq!(play("bonds.json"), 1 + 4 * 7);
}

#[test]
fn subtensor_yuma3_kappa_moves_first_through_the_cli() {
    assert_eq!(play("yuma3_kappa_moves_first.json"), 1 + 6 * (5 + 6));
}

#[test]
fn subtensor_yuma3_liquid_alpha_disabled_through_the_cli() {
    assert_eq!(play("yuma3_liquid_alpha_disabled.json"), 1 + 6 * 5);
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let input = serde_json::to_vec(&fixture("bonds.json")["input"]).unwrap();
    let a = sim(&input);
    let b = sim(&input);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn malformed_input_exits_2_with_a_message_and_no_panic() {
    let good = fixture("active_stake.json")["input"].clone();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty stdin", vec![], "empty"),
        ("not JSON", b"hello".to_vec(), "malformed"),
        ("truncated", b"{\"n\": 4, ".to_vec(), "malformed"),
        ("an array", b"[1, 2]".to_vec(), "malformed"),
        (
            "two objects",
            [&with(&|_| {})[..], b" {}"].concat(),
            "trailing",
        ),
        (
            "stake length",
            with(&|v| v["stake"] = json!([1, 1, 1])),
            "stake has 3 entries",
        ),
        (
            "weights length",
            with(&|v| v["weights"] = json!([[], []])),
            "weights has 2",
        ),
        (
            "permit length",
            with(&|v| v["validator_permit"] = json!([true])),
            "validator_permit",
        ),
        (
            "uid out of range",
            with(&|v| v["weights"][0] = json!([[4, 1]])),
            "names uid 4",
        ),
        (
            "uid twice",
            with(&|v| v["bonds"][1] = json!([[2, 1], [2, 5]])),
            "twice",
        ),
        (
            "kappa above u16",
            with(&|v| v["kappa"] = json!(65536)),
            "field `kappa`",
        ),
        (
            "negative stake",
            with(&|v| v["stake"][0] = json!(-1)),
            "field `stake`",
        ),
        (
            "weight above u16",
            with(&|v| v["weights"][0] = json!([[1, 70000]])),
            "field `weights`",
        ),
        (
            "fractional block",
            with(&|v| v["block"] = json!(1.5)),
            "field `block`",
        ),
        ("n above u16", with(&|v| v["n"] = json!(70000)), "field `n`"),
        (
            "missing field",
            with(&|v| {
                v.as_object_mut().unwrap().remove("emission");
            }),
            "emission",
        ),
        (
            "unknown field",
            with(&|v| v["alpha"] = json!(1)),
            "unknown field",
        ),
        (
            "bma above 1e6",
            with(&|v| v["bonds_moving_average"] = json!(1_000_001)),
            "bonds_moving_average",
        ),
        (
            "a pair of three",
            with(&|v| v["weights"][0] = json!([[1, 2, 3]])),
            "field `weights`",
        ),
        ("not UTF-8", vec![0xff, 0xfe, b'{'], "malformed"),
    ];
    for (what, stdin, says) in cases {
        let r = sim(&stdin);
        assert_eq!(r.code, 2, "{what}: exit {} stderr {}", r.code, r.stderr);
        assert!(
            r.stdout.is_empty(),
            "{what}: nothing on stdout: {}",
            r.stdout
        );
        assert!(
            r.stderr.starts_with("Error: ") && r.stderr.contains(says),
            "{what}: stderr {:?} should say {says:?}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    }
}
