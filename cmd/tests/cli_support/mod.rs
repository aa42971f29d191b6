//! Helpers for the CLI tests: run the compiled `stoad` against a temporary home and parse its
//! JSON output.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The mnemonic of BIP39's first test vector; its Cosmos (coin type 118) address is the
/// well-known cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4.
pub const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.ok,
            "stoad failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_err(&self, needle: &str) -> &Self {
        assert!(
            !self.ok,
            "stoad unexpectedly succeeded\nstdout:\n{}",
            self.stdout
        );
        assert!(
            self.stderr.contains(needle),
            "stderr does not mention {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

fn finish(out: Output) -> Run {
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn command(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stoad"));
    c.arg("--home").arg(home);
    // Keep the caller's environment from leaking defaults into the tests; keys go to the
    // test keyring unless a test sets STOA_KEYRING_BACKEND=file itself.
    c.env_remove("STOA_HOME")
        .env_remove("STOA_CHAIN_ID")
        .env_remove("STOA_KEYRING_DIR")
        .env("STOA_KEYRING_BACKEND", "test");
    c.stdin(Stdio::null());
    c
}

/// Runs `stoad --home HOME ARGS...` with no stdin.
pub fn stoad(home: &Path, args: &[&str]) -> Run {
    finish(command(home).args(args).output().expect("run stoad"))
}

/// Runs `stoad --home HOME ARGS...` with `input` on stdin.
pub fn stoad_stdin(home: &Path, args: &[&str], input: &str) -> Run {
    run_with_stdin(command(home).args(args), input)
}

/// Runs `command` with `input` on stdin.
pub fn run_with_stdin(command: &mut Command, input: &str) -> Run {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stoad");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    finish(child.wait_with_output().expect("wait stoad"))
}

/// `stoad ... --output json` parsed.
#[track_caller]
pub fn stoad_json(home: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let r = stoad(home, &all);
    r.assert_ok();
    r.json()
}

/// Whether a cometbft binary can be found the way `stoad init` looks for it.
pub fn cometbft_available() -> bool {
    stoa_cmd::commands::init::find_cometbft().is_ok()
}

/// A home with a genesis.json written by hand (no cometbft needed): chain id and an empty
/// app_state that `stoad init` fills.
pub fn fake_home(dir: &Path, chain_id: &str) {
    std::fs::create_dir_all(dir.join("config")).unwrap();
    let genesis = serde_json::json!({
        "genesis_time": "2024-01-01T00:00:00Z",
        "chain_id": "test-chain-xyz",
        "initial_height": "1",
        "app_hash": "",
    });
    std::fs::write(dir.join("config/genesis.json"), genesis.to_string()).unwrap();
    std::fs::write(
        dir.join("config/config.toml"),
        "proxy_app = \"tcp://127.0.0.1:26658\"\nmoniker = \"x\"\n\n[rpc]\nladdr = \"tcp://127.0.0.1:26657\"\n\n[consensus]\ntimeout_commit = \"1s\"\n",
    )
    .unwrap();
    stoad(dir, &["init", "--chain-id", chain_id]).assert_ok();
}
