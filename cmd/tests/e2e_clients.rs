// End to end against a real cometbft: the REST gateway and gRPC-web as an HTTP client sees them,
// and third-party Cosmos clients (curl, cosmjs, cosmpy, a page in headless Chromium) run by
// testnet/clients/run.sh against the node.
mod common;

use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The client checks that need the chain-side part of issue 10 (Simulate with empty
/// signatures, Amino JSON signing, the NotFound shapes, cosmos.base.tendermint) may fail while
/// this is true. REMOVE (set false) WHEN THE CHAIN-SIDE BRANCH (s17-cchain) IS MERGED.
const XFAIL_CHAIN_SIDE: bool = true;

/// What one HTTP/1.1 request got back: status, headers (lower-case names), body.
struct HttpAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// One request on its own connection (`Connection: close`), the body read to the end.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpAnswer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP header end: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpAnswer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&b[..end]);
        let size =
            usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[end + 2 + size + 2..];
    }
}

/// A protobuf string field (wire type 2) with a one-byte length.
fn pb_string(field: u8, s: &str) -> Vec<u8> {
    assert!(s.len() < 128);
    let mut v = vec![(field << 3) | 2, s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

fn fund_accounts() -> Vec<Acct<'static>> {
    vec![
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "1000000000000ustor",
        },
        // Nothing ever touches it: its balance is what the checks expect.
        Acct {
            name: "fixed",
            algo: "secp256k1",
            coins: "777ustor",
        },
    ]
}

#[test]
fn rest_gateway_and_grpc_web_answer_like_the_sdk() {
    let net = Net::start(&fund_accounts());
    let (alice, fixed) = (net.addr("alice"), net.addr("fixed"));
    let rest = net.ports.rest;

    // Bank balances, proto field names, amounts as strings, pagination emitted.
    let a = http(
        rest,
        "GET",
        &format!("/cosmos/bank/v1beta1/balances/{fixed}"),
        &[],
        b"",
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.header("content-type"), Some("application/json"));
    let j = a.json();
    assert_eq!(
        j["balances"],
        serde_json::json!([{"denom": "ustor", "amount": "777"}])
    );
    assert!(j["pagination"].is_object(), "{j}");
    let h: u64 = a
        .header("grpc-metadata-x-cosmos-block-height")
        .and_then(|h| h.parse().ok())
        .expect("the height the query was answered at");
    assert!(h >= 1);

    // One denom, as query parameter; an account with its Any type.
    let j = http(
        rest,
        "GET",
        &format!("/cosmos/bank/v1beta1/balances/{fixed}/by_denom?denom=ustor"),
        &[],
        b"",
    )
    .json();
    assert_eq!(j["balance"]["amount"], "777");
    let j = http(
        rest,
        "GET",
        &format!("/cosmos/auth/v1beta1/accounts/{alice}"),
        &[],
        b"",
    )
    .json();
    assert_eq!(
        j["account"]["@type"], "/cosmos.auth.v1beta1.BaseAccount",
        "{j}"
    );
    assert_eq!(j["account"]["address"], alice.as_str());
    assert!(j["account"]["account_number"].is_string(), "{j}");

    // Errors: google.rpc.Status in JSON with grpc-gateway's HTTP status.
    let a = http(
        rest,
        "GET",
        "/cosmos/bank/v1beta1/balances/notanaddress",
        &[],
        b"",
    );
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
    let j = a.json();
    assert_eq!(j["code"], 3);
    assert_eq!(j["details"], serde_json::json!([]));
    assert!(j["message"].as_str().is_some_and(|m| !m.is_empty()));
    let a = http(rest, "GET", "/cosmos/nothing/v1/here", &[], b"");
    assert_eq!(a.status, 501);
    assert_eq!(
        a.json(),
        serde_json::json!({"code": 12, "message": "Not Implemented", "details": []})
    );
    let a = http(rest, "POST", "/cosmos/bank/v1beta1/supply", &[], b"");
    assert_eq!(a.status, 501);
    assert_eq!(a.json()["message"], "Method Not Allowed");

    // A past height through the header, as the SDK's gateway forwards it.
    let a = http(
        rest,
        "GET",
        &format!("/cosmos/bank/v1beta1/balances/{fixed}"),
        &[("x-cosmos-block-height", "1")],
        b"",
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.header("grpc-metadata-x-cosmos-block-height"), Some("1"));

    // Stoa's own module queries under /stoa/...
    let a = http(rest, "GET", "/stoa/compute/v1/params", &[], b"");
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert!(
        a.json()["params_json"].is_string(),
        "{}",
        String::from_utf8_lossy(&a.body)
    );

    // Broadcast over REST: a tx the CLI signs offline is not at hand here, so an undecodable
    // one: CheckTx's code comes back in a TxResponse, as the SDK answers.
    let a = http(
        rest,
        "POST",
        "/cosmos/tx/v1beta1/txs",
        &[("content-type", "application/json")],
        br#"{"tx_bytes":"AAEC","mode":"BROADCAST_MODE_SYNC"}"#,
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let j = a.json();
    assert_ne!(j["tx_response"]["code"], 0, "{j}");
    assert_eq!(
        j["tx_response"]["txhash"].as_str().map(str::len),
        Some(64),
        "{j}"
    );

    // GetTx of a committed send.
    let sent = net.send_ok("alice", &net.addr("alice"), "1ustor");
    let j = http(
        rest,
        "GET",
        &format!("/cosmos/tx/v1beta1/txs/{}", sent.txhash()),
        &[],
        b"",
    )
    .json();
    assert_eq!(j["tx_response"]["txhash"], sent.txhash().as_str(), "{j}");
    assert_eq!(
        j["tx"]["body"]["messages"][0]["@type"], "/cosmos.bank.v1beta1.MsgSend",
        "{j}"
    );

    // CORS: a preflight from any origin (app.toml's default ["*"]).
    let a = http(
        rest,
        "OPTIONS",
        "/cosmos/bank/v1beta1/supply",
        &[
            ("Origin", "http://dapp.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
        b"",
    );
    assert_eq!(
        a.header("access-control-allow-origin"),
        Some("*"),
        "{:?}",
        a.headers
    );

    // gRPC-web on the gRPC port, over HTTP/1.1 as a browser sends it.
    let mut msg = pb_string(1, &fixed);
    msg.extend(pb_string(2, "ustor"));
    let mut frame = vec![0u8];
    frame.extend((msg.len() as u32).to_be_bytes());
    frame.extend(&msg);
    let a = http(
        net.ports.grpc,
        "POST",
        "/cosmos.bank.v1beta1.Query/Balance",
        &[
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
            ("Origin", "http://dapp.example"),
        ],
        &frame,
    );
    assert_eq!(a.status, 200, "{:?} {:?}", a.headers, a.body);
    assert_eq!(
        a.header("access-control-allow-origin"),
        Some("*"),
        "{:?}",
        a.headers
    );
    assert_eq!(a.body[0], 0, "a data frame first: {:?}", a.body);
    let len = u32::from_be_bytes(a.body[1..5].try_into().unwrap()) as usize;
    let data = &a.body[5..5 + len];
    // QueryBalanceResponse{balance: Coin{denom: "ustor", amount: "777"}}
    let coin = [pb_string(1, "ustor"), pb_string(2, "777")].concat();
    let mut want = vec![0x0a, coin.len() as u8];
    want.extend(coin);
    assert_eq!(data, want.as_slice());
    let trailers = String::from_utf8_lossy(&a.body[5 + len + 5..]).to_ascii_lowercase();
    assert_eq!(a.body[5 + len], 0x80, "a trailer frame last");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
}

/// A new key in the node's test keyring: (address, mnemonic).
fn new_key(net: &Net, name: &str) -> (String, String) {
    let home = net.home_str();
    let j = net
        .cli(&[
            "keys",
            "add",
            name,
            "--algo",
            "secp256k1",
            "--home",
            &home,
            "--output",
            "json",
        ])
        .expect_json();
    let s = |k: &str| {
        j[k].as_str()
            .unwrap_or_else(|| panic!("keys add: no {k} in {j}"))
            .to_string()
    };
    (s("address"), s("mnemonic"))
}

/// `target/` of this build (the test binary is target/<profile>/deps/e2e_clients-...).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors()
        .nth(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

#[test]
fn third_party_clients_against_a_node() {
    if std::env::var_os("STOA_SKIP_CLIENTS").is_some() {
        eprintln!("skipped: STOA_SKIP_CLIENTS is set (cosmjs, cosmpy, curl and Chromium not run)");
        return;
    }
    let net = Net::start(&fund_accounts());
    let (cjs, cjs_mnemonic) = new_key(&net, "cjs");
    let (py, py_mnemonic) = new_key(&net, "py");
    let (recipient, _) = new_key(&net, "recipient");
    let (fresh, _) = new_key(&net, "fresh");
    net.send_ok("alice", &cjs, "100000000ustor");
    let sent = net.send_ok("alice", &py, "100000000ustor");

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testnet/clients/run.sh");
    let mut cmd = Command::new("timeout");
    cmd.arg("1200").arg("bash").arg(&script);
    cmd.env("STOA_RPC", net.rpc_url())
        .env("STOA_GRPC", net.grpc_url())
        .env("STOA_REST", net.rest_url())
        .env("STOA_CHAIN_ID", &net.chain_id)
        .env("STOA_CJS_MNEMONIC", cjs_mnemonic)
        .env("STOA_PY_MNEMONIC", py_mnemonic)
        .env("STOA_RECIPIENT", &recipient)
        .env("STOA_FIXED_ADDR", net.addr("fixed"))
        .env("STOA_FIXED_BALANCE", "777 ustor")
        .env("STOA_TX_HASH", sent.txhash())
        .env("STOA_FRESH_ADDR", &fresh)
        .env("STOA_CLIENTS_DIR", target_dir().join("clients"));
    if XFAIL_CHAIN_SIDE {
        cmd.env("STOA_CLIENTS_XFAIL_CHAIN_SIDE", "1");
    }
    let out = cmd.output().expect("run testnet/clients/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Shown with --nocapture, and on failure.
    println!("{stdout}\n{stderr}");
    assert!(
        out.status.success(),
        "third-party clients failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("clients: "), "{stdout}");
}
