// End-to-end test harness: a single-node Stoa chain (stoad + a real `cometbft` process) on free 127.0.0.1 ports.
//
// `Net::start(&[...accounts])` inits a temp home with the `stoad` binary under test, creates and
// funds keys, writes the ports into config.toml and app.toml, starts `stoad start` and
// `cometbft start` as children (each in its own process group), and waits for height >= 2.
// Dropping the `Net` kills both groups; a watchdog shell kills them too if the test process dies
// without running `Drop`. Set STOA_E2E_KEEP=1 to keep the home directory (it is printed).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const CHAIN_ID: &str = "stoa-e2e";
/// Fees that comfortably pay for a bank send at the default gas limit.
pub const FEES: &str = "1000ustor";

/// The module account fees go to (app/src/tx: `fee_collector`), as a stoa1... address.
pub fn fee_collector() -> String {
    stoa_framework::module_address("fee_collector").to_string()
}

/// The `stoad` binary cargo built for these tests.
pub fn stoad_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stoad"))
}

/// The cometbft binary, found as `stoad init` finds it. Panics with a clear message when it is
/// not installed.
pub fn cometbft_bin() -> PathBuf {
    stoa_cmd::commands::init::find_cometbft().unwrap_or_else(|e| {
        panic!(
            "cometbft (v0.38.25) is not installed ({e:#}). Install it with \
             ./testnet/install-cometbft.sh (CI does this in .ci/run)."
        )
    })
}

static PORTS_TAKEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// `n` distinct free ports on 127.0.0.1, never handed out twice in this process.
pub fn free_ports(n: usize) -> Vec<u16> {
    let mut taken = PORTS_TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut listeners = Vec::new();
    let mut ports = Vec::new();
    while ports.len() < n {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let p = l.local_addr().unwrap().port();
        if taken.insert(p) {
            ports.push(p);
        }
        listeners.push(l);
    }
    ports
}

#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub rpc: u16,
    pub p2p: u16,
    pub abci: u16,
    pub grpc: u16,
    /// stoad's Prometheus metrics (app.toml metrics_addr).
    pub metrics: u16,
    /// The REST gateway (app.toml `rest_addr`).
    pub rest: u16,
}

/// A key to create: name, algorithm, genesis coins ("100ustor,5uusdc"; "" = no genesis account).
pub struct Acct<'a> {
    pub name: &'a str,
    pub algo: &'a str,
    pub coins: &'a str,
}

pub struct Net {
    pub home: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub ports: Ports,
    pub chain_id: String,
    /// key name -> address
    pub addrs: Vec<(String, String)>,
    cometbft: PathBuf,
    stoad: Option<Child>,
    comet: Option<Child>,
    watchdog: Option<Child>,
    /// how many times each process was started, for log file names
    starts: u32,
}

/// Result of a CLI call.
pub struct Run {
    pub args: Vec<String>,
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(args: Vec<String>, out: Output) -> Run {
        Run {
            args,
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    pub fn ok(&self) -> bool {
        self.status.success()
    }
    /// stdout as JSON (the last JSON document on stdout, if there is other text before it)
    pub fn json(&self) -> Option<Value> {
        let s = self.stdout.trim();
        if let Ok(v) = serde_json::from_str(s) {
            return Some(v);
        }
        // tolerate a line of progress text before the JSON
        s.find('{').and_then(|i| serde_json::from_str(&s[i..]).ok())
    }
    /// Panics (with the full output) unless the command succeeded and printed JSON.
    pub fn expect_json(&self) -> Value {
        assert!(self.ok(), "command failed: {self}");
        self.json()
            .unwrap_or_else(|| panic!("command printed no JSON: {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stoad {}\n  exit: {}\n  stdout: {}\n  stderr: {}",
            self.args.join(" "),
            self.status,
            self.stdout.trim(),
            self.stderr.trim()
        )
    }
}

/// Outcome of `stoad tx ... --output json`.
#[derive(Debug, Clone)]
pub struct TxResult {
    pub exit_ok: bool,
    pub json: Value,
    pub text: String,
}

impl TxResult {
    pub fn code(&self) -> u64 {
        self.json.get("code").and_then(as_u64).unwrap_or(u64::MAX)
    }
    pub fn codespace(&self) -> String {
        self.json
            .get("codespace")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    }
    pub fn log(&self) -> String {
        let l = self
            .json
            .get("raw_log")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if l.is_empty() {
            self.text.clone()
        } else {
            l.to_string()
        }
    }
    pub fn height(&self) -> u64 {
        self.json.get("height").and_then(as_u64).unwrap_or(0)
    }
    pub fn txhash(&self) -> String {
        self.json
            .get("txhash")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    }
    pub fn gas_used(&self) -> u64 {
        self.json.get("gas_used").and_then(as_u64).unwrap_or(0)
    }
}

/// A JSON number or a decimal string as u64.
pub fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}
/// A JSON number or a decimal string as u128 (amounts).
pub fn as_u128(v: &Value) -> Option<u128> {
    v.as_u64()
        .map(u128::from)
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// First value under `key` anywhere in `v` (depth first).
pub fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(key) {
                return Some(x);
            }
            m.values().find_map(|x| find_key(x, key))
        }
        Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

/// Coins in any of the shapes a balances/supply query prints: {"balances":[..]}, {"supply":[..]},
/// {"balance":{..}}, a bare list, or one coin. Denom -> amount.
pub fn coins_of(v: &Value) -> std::collections::BTreeMap<String, u128> {
    let mut out = std::collections::BTreeMap::new();
    let list: Vec<&Value> = if let Some(a) = v.as_array() {
        a.iter().collect()
    } else if let Some(a) = ["balances", "supply", "coins"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_array()))
    {
        a.iter().collect()
    } else if let Some(c) = v.get("balance") {
        vec![c]
    } else if v.get("denom").is_some() {
        vec![v]
    } else {
        vec![]
    };
    for c in list {
        if let (Some(d), Some(a)) = (
            c.get("denom").and_then(|d| d.as_str()),
            c.get("amount").and_then(as_u128),
        ) {
            out.insert(d.to_string(), a);
        }
    }
    out
}

/// Poll `f` until it returns Some, or panic after `timeout` with `what`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(x) = f() {
            return x;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Minimal HTTP/1.0 GET against 127.0.0.1:port; returns the body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(15)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    match text.find("\r\n\r\n") {
        Some(i) => Ok(text[i + 4..].to_string()),
        None => Err(std::io::Error::other(format!("bad HTTP response: {text}"))),
    }
}

/// Percent-encode a query parameter value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn tail(path: &Path, lines: usize) -> String {
    let s = fs::read_to_string(path).unwrap_or_default();
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

impl Net {
    /// Init a fresh home, fund `accounts`, start both processes and wait for height >= 2.
    pub fn start(accounts: &[Acct]) -> Net {
        let mut net = Net::init(accounts);
        net.start_processes();
        net.wait_height(2, Duration::from_secs(60));
        net
    }

    /// Init the home and fund accounts, without starting anything.
    pub fn init(accounts: &[Acct]) -> Net {
        let cometbft = cometbft_bin();
        let tmp = tempfile::Builder::new()
            .prefix("stoa-e2e-")
            .tempdir()
            .expect("tempdir");
        let home = tmp.path().to_path_buf();
        let (tmp, home) = if std::env::var_os("STOA_E2E_KEEP").is_some() {
            eprintln!("e2e: keeping home {}", home.display());
            (None, tmp.keep())
        } else {
            (Some(tmp), home)
        };
        let p = free_ports(6);
        let ports = Ports {
            rpc: p[0],
            p2p: p[1],
            abci: p[2],
            grpc: p[3],
            metrics: p[4],
            rest: p[5],
        };
        let mut net = Net {
            home,
            _tmp: tmp,
            ports,
            chain_id: CHAIN_ID.to_string(),
            addrs: Vec::new(),
            cometbft,
            stoad: None,
            comet: None,
            watchdog: None,
            starts: 0,
        };
        let home = net.home_str();
        let rpc_laddr = format!("tcp://127.0.0.1:{}", ports.rpc);
        let p2p_laddr = format!("tcp://127.0.0.1:{}", ports.p2p);
        let abci_addr = format!("127.0.0.1:{}", ports.abci);
        let grpc_addr = format!("127.0.0.1:{}", ports.grpc);
        #[rustfmt::skip]
        let init = [
            "init", "--chain-id", CHAIN_ID, "--fast-blocks", "--moniker", "e2e", "--home", &home,
            "--rpc-laddr", &rpc_laddr, "--p2p-laddr", &p2p_laddr,
            "--abci-addr", &abci_addr, "--grpc-addr", &grpc_addr,
            // Recorded in the home's client.toml: later commands use it without the flag.
            "--keyring-backend", "test",
        ];
        net.cli(&init).expect_ok();
        net.ensure_cometbft_files();
        net.write_configs();
        for a in accounts {
            let out = net
                .cli(&[
                    "keys", "add", a.name, "--algo", a.algo, "--home", &home, "--output", "json",
                ])
                .expect_json();
            let addr = out
                .get("address")
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("keys add printed no address: {out}"))
                .to_string();
            assert!(
                addr.starts_with("stoa1"),
                "address {addr} is not a stoa1... bech32 address"
            );
            if !a.coins.is_empty() {
                net.cli(&["genesis", "add-account", &addr, a.coins, "--home", &home])
                    .expect_ok();
            }
            net.addrs.push((a.name.to_string(), addr));
        }
        net
    }

    pub fn home_str(&self) -> String {
        self.home.display().to_string()
    }

    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.rpc)
    }

    pub fn rest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.rest)
    }

    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.grpc)
    }

    /// Address of a key created by `init`.
    pub fn addr(&self, name: &str) -> String {
        self.addrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| panic!("no key {name}"))
    }

    /// If `stoad init` did not create CometBFT's files, let `cometbft init` add them; make sure
    /// the genesis carries our chain id, an app_state and the node's validator.
    fn ensure_cometbft_files(&self) {
        let cfg = self.home.join("config");
        if !cfg.join("priv_validator_key.json").exists()
            || !cfg.join("genesis.json").exists()
            || !cfg.join("config.toml").exists()
        {
            let out = Command::new(&self.cometbft)
                .args(["init", "--home", &self.home_str()])
                .output()
                .expect("run cometbft init");
            assert!(
                out.status.success(),
                "cometbft init failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let gpath = cfg.join("genesis.json");
        let mut g: Value = serde_json::from_str(&fs::read_to_string(&gpath).unwrap())
            .expect("genesis.json is JSON");
        if g.get("validators")
            .and_then(|v| v.as_array())
            .is_none_or(|v| v.is_empty())
        {
            let pv: Value = serde_json::from_str(
                &fs::read_to_string(cfg.join("priv_validator_key.json")).unwrap(),
            )
            .unwrap();
            g["validators"] = json!([{ "address": pv["address"], "pub_key": pv["pub_key"], "power": "10", "name": "node0" }]);
        }
        assert_eq!(
            g["chain_id"],
            json!(CHAIN_ID),
            "stoad init did not write the chain id into genesis.json"
        );
        assert!(
            g.get("app_state").is_some_and(|a| a.is_object()),
            "stoad init wrote no app_state object"
        );
        fs::write(&gpath, serde_json::to_string_pretty(&g).unwrap()).unwrap();
    }

    fn write_configs(&self) {
        let cfg = self.home.join("config");
        let p = self.ports;
        let path = cfg.join("config.toml");
        let mut t = fs::read_to_string(&path).expect("config.toml");
        for (sec, k, v) in [
            ("", "proxy_app", format!("\"tcp://127.0.0.1:{}\"", p.abci)),
            ("", "moniker", "\"e2e\"".to_string()),
            ("rpc", "laddr", format!("\"tcp://127.0.0.1:{}\"", p.rpc)),
            ("rpc", "grpc_laddr", "\"\"".to_string()),
            ("rpc", "pprof_laddr", "\"\"".to_string()),
            ("p2p", "laddr", format!("\"tcp://127.0.0.1:{}\"", p.p2p)),
            ("p2p", "external_address", "\"\"".to_string()),
            ("p2p", "pex", "false".to_string()),
            ("p2p", "persistent_peers", "\"\"".to_string()),
            ("p2p", "seeds", "\"\"".to_string()),
            ("consensus", "timeout_commit", "\"300ms\"".to_string()),
            ("consensus", "timeout_propose", "\"1s\"".to_string()),
            ("instrumentation", "prometheus", "false".to_string()),
        ] {
            let section = (!sec.is_empty()).then_some(sec);
            t = stoa_cmd::toml_edit::set_key(&t, section, k, &v).expect("edit config.toml");
        }
        fs::write(&path, t).unwrap();
        // app.toml: `stoad init` already wrote abci_addr, grpc_addr and rpc_addr from the flags;
        // metrics on a port of their own, so tests running side by side do not collide.
        let path = cfg.join("app.toml");
        let t = fs::read_to_string(&path).expect("app.toml");
        let metrics = format!("\"127.0.0.1:{}\"", p.metrics);
        let t = stoa_cmd::toml_edit::set_key(&t, None, "metrics_addr", &metrics)
            .expect("edit app.toml");
        // the REST gateway gets a free port too (its default 1317 would clash between tests).
        let rest = format!("\"127.0.0.1:{}\"", p.rest);
        let t = stoa_cmd::toml_edit::set_key(&t, None, "rest_addr", &rest).expect("edit app.toml");
        fs::write(&path, t).unwrap();
    }

    /// Run `stoad ARGS` to completion.
    pub fn cli(&self, args: &[&str]) -> Run {
        // `stoad init` runs `cometbft init`: put the cometbft we found first on PATH
        let dir = self
            .cometbft
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .expect("PATH");
        let out = Command::new(stoad_bin())
            .args(args)
            .env("PATH", path)
            .env("STOA_COMETBFT", &self.cometbft)
            .env_remove("STOA_KEYRING_BACKEND")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run stoad: {e}"));
        Run::from(args.iter().map(|s| s.to_string()).collect(), out)
    }

    /// `stoad query ARGS --home --node --grpc --output json`, which must succeed.
    pub fn query(&self, args: &[&str]) -> Value {
        let mut a = vec!["query"];
        a.extend_from_slice(args);
        let (home, node, grpc) = (self.home_str(), self.rpc_url(), self.grpc_url());
        a.extend_from_slice(&[
            "--home", &home, "--node", &node, "--grpc", &grpc, "--output", "json",
        ]);
        self.cli(&a).expect_json()
    }

    /// Balances of an address through the CLI (denom -> amount).
    pub fn balances(&self, addr: &str) -> std::collections::BTreeMap<String, u128> {
        coins_of(&self.query(&["bank", "balances", addr]))
    }

    pub fn balance(&self, addr: &str, denom: &str) -> u128 {
        self.balances(addr).get(denom).copied().unwrap_or(0)
    }

    pub fn supply(&self) -> std::collections::BTreeMap<String, u128> {
        coins_of(&self.query(&["bank", "supply"]))
    }

    /// (account_number, sequence) of an address; (None, 0) for an account the chain does not know.
    pub fn account(&self, addr: &str) -> (Option<u64>, u64) {
        let v = self.query(&["auth", "account", addr]);
        let num = find_key(&v, "account_number").and_then(as_u64);
        let seq = find_key(&v, "sequence").and_then(as_u64).unwrap_or(0);
        (num, seq)
    }

    /// `stoad tx bank send FROM TO AMOUNT --fees FEES EXTRA... --output json`; never panics on a
    /// rejected tx (the caller checks the code).
    pub fn send(&self, from: &str, to: &str, amount: &str, fees: &str, extra: &[&str]) -> TxResult {
        let (home, node, grpc) = (self.home_str(), self.rpc_url(), self.grpc_url());
        let mut a = vec!["tx", "bank", "send", from, to, amount, "--fees", fees];
        if !extra.contains(&"--chain-id") {
            a.extend_from_slice(&["--chain-id", &self.chain_id]);
        }
        a.extend_from_slice(extra);
        a.extend_from_slice(&[
            "--home", &home, "--node", &node, "--grpc", &grpc, "--output", "json",
        ]);
        let r = self.cli(&a);
        let text = format!("{}\n{}", r.stdout.trim(), r.stderr.trim());
        let json = r.json().unwrap_or_else(|| {
            assert!(!r.ok(), "tx succeeded but printed no JSON: {r}");
            Value::Null
        });
        TxResult {
            exit_ok: r.ok(),
            json,
            text,
        }
    }

    /// A send that must succeed (code 0, included in a block).
    pub fn send_ok(&self, from: &str, to: &str, amount: &str) -> TxResult {
        let r = self.send(from, to, amount, FEES, &[]);
        assert!(
            r.exit_ok && r.code() == 0 && r.height() > 0,
            "send {from} -> {to} {amount} failed: {r:?}"
        );
        r
    }

    // ---- CometBFT RPC -------------------------------------------------------------------

    /// GET a CometBFT RPC endpoint; returns `result` or an error (also for a JSON-RPC error).
    pub fn rpc(&self, path: &str) -> Result<Value, String> {
        let body = http_get(self.ports.rpc, path).map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if let Some(err) = v.get("error") {
            return Err(err.to_string());
        }
        v.get("result")
            .cloned()
            .ok_or_else(|| format!("no result in {body}"))
    }

    pub fn height(&self) -> Option<u64> {
        self.rpc("/status").ok().and_then(|s| {
            s["sync_info"]["latest_block_height"]
                .as_str()
                .and_then(|h| h.parse().ok())
        })
    }

    pub fn wait_height(&self, h: u64, timeout: Duration) -> u64 {
        wait_for(timeout, &format!("height {h}"), || {
            self.assert_running();
            self.height().filter(|x| *x >= h)
        })
    }

    /// Upper-case hex app_hash in the header of block `h`.
    pub fn block_app_hash(&self, h: u64) -> String {
        let b = self
            .rpc(&format!("/block?height={h}"))
            .unwrap_or_else(|e| panic!("block {h}: {e}"));
        b["block"]["header"]["app_hash"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A tx looked up by hash through CometBFT RPC /tx.
    pub fn rpc_tx(&self, hash: &str) -> Result<Value, String> {
        self.rpc(&format!("/tx?hash=0x{hash}"))
    }

    // ---- processes ----------------------------------------------------------------------

    fn log_path(&self, name: &str) -> PathBuf {
        self.home.join(format!("{name}.{}.log", self.starts))
    }

    fn spawn(&self, program: &Path, args: &[&str], log: &Path) -> Child {
        use std::os::unix::process::CommandExt;
        let f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .env("RUST_BACKTRACE", "1")
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()))
    }

    fn record_pids(&self) {
        let pids: Vec<String> = [&self.stoad, &self.comet]
            .iter()
            .filter_map(|c| c.as_ref().map(|c| c.id().to_string()))
            .collect();
        fs::write(self.home.join("pids"), pids.join(" ")).unwrap();
    }

    fn ensure_watchdog(&mut self) {
        if self.watchdog.is_some() {
            return;
        }
        // kills the children's process groups if this test process goes away without Drop
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; for p in $(cat '{pids}' 2>/dev/null); do kill -KILL -$p 2>/dev/null; done",
            parent = std::process::id(),
            pids = self.home.join("pids").display()
        );
        use std::os::unix::process::CommandExt;
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn watchdog");
        self.watchdog = Some(child);
    }

    /// Start stoad (waits for its ABCI port), then cometbft.
    pub fn start_processes(&mut self) {
        self.ensure_watchdog();
        self.starts += 1;
        self.start_stoad();
        self.start_cometbft();
    }

    pub fn start_stoad(&mut self) {
        assert!(self.stoad.is_none(), "stoad already runs");
        let log = self.log_path("stoad");
        let home = self.home_str();
        self.stoad = Some(self.spawn(&stoad_bin(), &["start", "--home", &home], &log));
        self.record_pids();
        let abci = self.ports.abci;
        wait_for(Duration::from_secs(30), "stoad's ABCI port", || {
            if let Some(st) = self
                .stoad
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "stoad exited with {st} before listening:\n{}",
                    tail(&log, 40)
                );
            }
            TcpStream::connect(("127.0.0.1", abci)).ok()
        });
    }

    pub fn start_cometbft(&mut self) {
        assert!(self.comet.is_none(), "cometbft already runs");
        let log = self.log_path("cometbft");
        let home = self.home_str();
        let prog = self.cometbft.clone();
        self.comet = Some(self.spawn(&prog, &["start", "--home", &home], &log));
        self.record_pids();
    }

    /// Panics with the logs if either process has exited.
    pub fn assert_running(&self) {
        // try_wait needs &mut; peek via /proc instead
        for (name, c) in [("stoad", &self.stoad), ("cometbft", &self.comet)] {
            if let Some(c) = c {
                let stat = fs::read_to_string(format!("/proc/{}/stat", c.id())).unwrap_or_default();
                let state = stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if stat.is_empty() || state == "Z" || state == "X" {
                    panic!("{name} exited unexpectedly\n{}", self.logs());
                }
            }
        }
    }

    /// SIGKILL stoad (its whole process group) and reap it.
    pub fn kill_stoad(&mut self) {
        if let Some(mut c) = self.stoad.take() {
            kill_group(&mut c);
        }
        self.record_pids();
    }

    /// Wait up to `timeout` for cometbft to exit by itself (it halts when the app goes away);
    /// SIGKILL it after that. Returns true if it exited by itself.
    pub fn stop_cometbft(&mut self, timeout: Duration) -> bool {
        let Some(mut c) = self.comet.take() else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        let mut exited = false;
        while Instant::now() < deadline {
            if c.try_wait().ok().flatten().is_some() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // still there: it can hang in its own shutdown when the app died inside a block
        // (consensus waits on the dead connection), so no TERM, just KILL
        kill_group(&mut c);
        self.record_pids();
        exited
    }

    /// Tails of all logs of the current start, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for name in ["stoad", "cometbft"] {
            let p = self.log_path(name);
            s.push_str(&format!(
                "---- {} (last 40 lines)\n{}\n",
                p.display(),
                tail(&p, 40)
            ));
        }
        s
    }
}

fn kill_group(c: &mut Child) {
    let pid = c.id();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    let _ = c.kill();
    let _ = c.wait();
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("e2e: home {}\n{}", self.home.display(), self.logs());
        }
        if let Some(mut c) = self.comet.take() {
            kill_group(&mut c);
        }
        if let Some(mut c) = self.stoad.take() {
            kill_group(&mut c);
        }
        let _ = fs::remove_file(self.home.join("pids"));
        if let Some(mut w) = self.watchdog.take() {
            kill_group(&mut w);
        }
    }
}

trait ExpectOk {
    fn expect_ok(self) -> Run;
}
impl ExpectOk for Run {
    fn expect_ok(self) -> Run {
        assert!(self.ok(), "command failed: {self}");
        self
    }
}

// ---- gRPC (cosmos-sdk-proto's tonic clients, as any Cosmos client would call stoad) ------------

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

impl Net {
    /// cosmos.bank.v1beta1.Query/Balance over gRPC.
    pub fn grpc_balance(&self, addr: &str, denom: &str) -> u128 {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::{
            query_client::QueryClient, QueryBalanceRequest,
        };
        block_on(async {
            let mut c = QueryClient::connect(self.grpc_url())
                .await
                .expect("connect to stoad gRPC");
            let r = c
                .balance(QueryBalanceRequest {
                    address: addr.to_string(),
                    denom: denom.to_string(),
                })
                .await
                .expect("gRPC Query/Balance")
                .into_inner();
            r.balance
                .map(|c| c.amount.parse::<u128>().expect("amount"))
                .unwrap_or(0)
        })
    }

    /// cosmos.bank.v1beta1.Query/AllBalances over gRPC (denom -> amount).
    pub fn grpc_all_balances(&self, addr: &str) -> std::collections::BTreeMap<String, u128> {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::{
            query_client::QueryClient, QueryAllBalancesRequest,
        };
        block_on(async {
            let mut c = QueryClient::connect(self.grpc_url())
                .await
                .expect("connect to stoad gRPC");
            let r = c
                .all_balances(QueryAllBalancesRequest {
                    address: addr.to_string(),
                    pagination: None,
                    resolve_denom: false,
                })
                .await
                .expect("gRPC Query/AllBalances")
                .into_inner();
            r.balances
                .into_iter()
                .map(|c| (c.denom, c.amount.parse::<u128>().expect("amount")))
                .collect()
        })
    }

    /// cosmos.bank.v1beta1.Query/TotalSupply over gRPC (denom -> amount).
    /// The total supply less what the markets have minted as block rewards and still hold in
    /// their reward accounts (storage mints ustor every block, intelligence umind, compute
    /// ucomp every hour; nothing else creates or destroys coins in these tests), all read over
    /// gRPC at one height.
    pub fn supply_without_block_rewards(&self) -> std::collections::BTreeMap<String, u128> {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::{
            query_client::QueryClient, QueryBalanceRequest, QueryTotalSupplyRequest,
        };
        // Where each market's minted rewards sit until someone earns them, and the accounts
        // they move on to (vesting and burn queues, the root subnet's stake and locks): in
        // tests without market activity these hold nothing but block rewards.
        const REWARD_ACCOUNTS: [(&str, &str); 7] = [
            ("storage_reward", "ustor"),
            ("storage_burn", "ustor"),
            ("storage_pledge", "ustor"),
            ("intelligence", "umind"),
            ("intelligence_stake", "umind"),
            ("intelligence_lock", "umind"),
            ("compute_rewards", "ucomp"),
        ];
        block_on(async {
            let mut c = QueryClient::connect(self.grpc_url())
                .await
                .expect("connect to stoad gRPC");
            let r = c
                .total_supply(QueryTotalSupplyRequest { pagination: None })
                .await
                .expect("gRPC Query/TotalSupply");
            let height = r
                .metadata()
                .get("x-cosmos-block-height")
                .cloned()
                .expect("answered height");
            let mut supply: std::collections::BTreeMap<String, u128> = r
                .into_inner()
                .supply
                .into_iter()
                .map(|c| (c.denom, c.amount.parse().expect("amount")))
                .collect();
            for (account, denom) in REWARD_ACCOUNTS {
                let mut req = tonic::Request::new(QueryBalanceRequest {
                    address: stoa_framework::module_address(account).to_string(),
                    denom: denom.into(),
                });
                req.metadata_mut()
                    .insert("x-cosmos-block-height", height.clone());
                let held: u128 = c
                    .balance(req)
                    .await
                    .expect("gRPC Query/Balance")
                    .into_inner()
                    .balance
                    .map(|b| b.amount.parse().expect("amount"))
                    .unwrap_or(0);
                if let Some(total) = supply.get_mut(denom) {
                    *total -= held;
                }
            }
            supply.retain(|_, v| *v > 0);
            supply
        })
    }

    pub fn grpc_supply(&self) -> std::collections::BTreeMap<String, u128> {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::{
            query_client::QueryClient, QueryTotalSupplyRequest,
        };
        block_on(async {
            let mut c = QueryClient::connect(self.grpc_url())
                .await
                .expect("connect to stoad gRPC");
            let r = c
                .total_supply(QueryTotalSupplyRequest { pagination: None })
                .await
                .expect("gRPC Query/TotalSupply")
                .into_inner();
            r.supply
                .into_iter()
                .map(|c| (c.denom, c.amount.parse::<u128>().expect("amount")))
                .collect()
        })
    }

    /// cosmos.auth.v1beta1.Query/Account over gRPC, decoded as a BaseAccount.
    pub fn grpc_account(&self, addr: &str) -> cosmos_sdk_proto::cosmos::auth::v1beta1::BaseAccount {
        use cosmos_sdk_proto::cosmos::auth::v1beta1::{
            query_client::QueryClient, BaseAccount, QueryAccountRequest,
        };
        use prost::Message;
        block_on(async {
            let mut c = QueryClient::connect(self.grpc_url())
                .await
                .expect("connect to stoad gRPC");
            let r = c
                .account(QueryAccountRequest {
                    address: addr.to_string(),
                })
                .await
                .expect("gRPC Query/Account")
                .into_inner();
            let any = r.account.expect("account in response");
            assert_eq!(
                any.type_url, "/cosmos.auth.v1beta1.BaseAccount",
                "account type"
            );
            BaseAccount::decode(any.value.as_slice()).expect("decode BaseAccount")
        })
    }
}
