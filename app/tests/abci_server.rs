//! `stoad`'s ABCI server (issue 13 points 3 and 5): a stranger's out-of-order call, a frame
//! with a huge length header, a request with no call and a connection over the cap each close
//! only their own connection, without raising memory; the unix socket is owner-only; and a
//! consensus call's round trip is about a millisecond, over TCP and over the unix socket (it
//! was ~40 ms when a response and its flush answer left as two writes under Nagle).

mod common;
use common::*;
use prost::Message;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};
use stoa_app::abci_server::{AbciAddr, AbciServer, Limits};
use stoa_framework::Store;
use tendermint_abci::ClientBuilder;
use tendermint_proto::v0_38::abci::{
    request, response, Request, RequestCommit, RequestEcho, RequestFlush, RequestInfo,
    RequestProcessProposal, Response,
};

const LIMITS: Limits = Limits {
    max_frame: 4 << 20,
    max_connections: 8,
};

fn app() -> stoa_app::StoaApp {
    let app = new_app(Store::open_temporary().unwrap(), false);
    init(&app, &genesis_with(&[Key::secp(1).address()]));
    app
}

fn serve(addr: AbciAddr, limits: Limits) -> AbciAddr {
    let server = AbciServer::bind(&addr, app(), limits).unwrap();
    let local = server.local_addr().clone();
    std::thread::spawn(move || server.listen());
    local
}

trait Conn: Read + Write {}
impl<T: Read + Write> Conn for T {}

fn connect(addr: &AbciAddr) -> Box<dyn Conn> {
    let c: Box<dyn Conn> = match addr {
        AbciAddr::Tcp(a) => {
            let s = TcpStream::connect(a).unwrap();
            s.set_nodelay(true).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            Box::new(s)
        }
        AbciAddr::Unix(p) => {
            let s = UnixStream::connect(p).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            Box::new(s)
        }
    };
    c
}

fn frame(call: request::Value) -> Vec<u8> {
    Request { value: Some(call) }.encode_length_delimited_to_vec()
}

fn flush() -> Vec<u8> {
    frame(request::Value::Flush(RequestFlush {}))
}

/// One response, or `None` when the server closed the connection.
fn read_response(c: &mut dyn Conn) -> Option<Response> {
    let mut len = 0u64;
    for i in 0..10 {
        let mut b = [0u8; 1];
        if c.read(&mut b).ok()? == 0 {
            return None;
        }
        len |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            break;
        }
    }
    let mut buf = vec![0u8; len as usize];
    c.read_exact(&mut buf).ok()?;
    Some(Response::decode(buf.as_slice()).unwrap())
}

fn closed(c: &mut dyn Conn) -> bool {
    let mut b = [0u8; 1];
    matches!(c.read(&mut b), Ok(0) | Err(_))
}

fn echo_works(addr: &AbciAddr) {
    let mut c = connect(addr);
    c.write_all(
        &[
            frame(request::Value::Echo(RequestEcho {
                message: "alive".into(),
            })),
            flush(),
        ]
        .concat(),
    )
    .unwrap();
    match read_response(c.as_mut()).and_then(|r| r.value) {
        Some(response::Value::Echo(e)) => assert_eq!(e.message, "alive"),
        other => panic!("no echo: {other:?}"),
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn strangers_do_not_stop_the_node(addr: AbciAddr) {
    let rss_before = rss_kib();
    // A Commit with no block pending, from a connection that does not drive consensus.
    let mut c = connect(&addr);
    c.write_all(&[frame(request::Value::Commit(RequestCommit {})), flush()].concat())
        .unwrap();
    assert!(
        closed(c.as_mut()),
        "the out-of-order Commit's connection stays open"
    );
    echo_works(&addr);

    // A 256 MiB length header, then a few bytes: refused before anything is allocated.
    let mut c = connect(&addr);
    let mut header = Vec::new();
    prost::encoding::encode_varint(256 << 20, &mut header);
    c.write_all(&header).unwrap();
    let _ = c.write_all(&[0u8; 1024]);
    assert!(
        closed(c.as_mut()),
        "the oversized frame's connection stays open"
    );
    // Just under the cap, but the bytes never come: only what arrived is held, then freed.
    let mut c = connect(&addr);
    let mut header = Vec::new();
    prost::encoding::encode_varint((LIMITS.max_frame - 1) as u64, &mut header);
    c.write_all(&header).unwrap();
    c.write_all(&vec![0u8; 64 * 1024]).unwrap();
    drop(c);
    // A request with no call, and garbage.
    let mut c = connect(&addr);
    c.write_all(
        &[
            Request { value: None }.encode_length_delimited_to_vec(),
            flush(),
        ]
        .concat(),
    )
    .unwrap();
    assert!(closed(c.as_mut()));
    let mut c = connect(&addr);
    c.write_all(&[3, 0xff, 0xff, 0xff]).unwrap();
    assert!(closed(c.as_mut()));

    // The node's consensus connection works; a stranger's consensus call is closed meanwhile.
    let mut consensus = connect(&addr);
    consensus
        .write_all(
            &[
                frame(request::Value::FinalizeBlock(block_request(1, &[]))),
                flush(),
            ]
            .concat(),
        )
        .unwrap();
    assert!(matches!(
        read_response(consensus.as_mut()).and_then(|r| r.value),
        Some(response::Value::FinalizeBlock(_))
    ));
    read_response(consensus.as_mut()).unwrap();
    let mut stranger = connect(&addr);
    stranger
        .write_all(&[frame(request::Value::Commit(RequestCommit {})), flush()].concat())
        .unwrap();
    assert!(closed(stranger.as_mut()));
    consensus
        .write_all(&[frame(request::Value::Commit(RequestCommit {})), flush()].concat())
        .unwrap();
    assert!(matches!(
        read_response(consensus.as_mut()).and_then(|r| r.value),
        Some(response::Value::Commit(_))
    ));
    echo_works(&addr);

    // Memory: none of it stayed (the allocator may keep a little; 256 MiB would show).
    let grown = rss_kib().saturating_sub(rss_before);
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
}

#[test]
fn strangers_over_tcp_do_not_stop_the_node() {
    strangers_do_not_stop_the_node(serve(AbciAddr::Tcp("127.0.0.1:0".into()), LIMITS));
}

#[test]
fn strangers_over_the_unix_socket_do_not_stop_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let addr = serve(AbciAddr::Unix(dir.path().join("data/stoad.sock")), LIMITS);
    strangers_do_not_stop_the_node(addr);
}

#[test]
fn connections_over_the_cap_are_closed() {
    let addr = serve(
        AbciAddr::Tcp("127.0.0.1:0".into()),
        Limits {
            max_connections: 4,
            ..LIMITS
        },
    );
    let held: Vec<_> = (0..4).map(|_| connect(&addr)).collect();
    // Let the server count them before the fifth arrives.
    std::thread::sleep(Duration::from_millis(100));
    let mut fifth = connect(&addr);
    let _ =
        fifth.write_all(&[frame(request::Value::Echo(RequestEcho::default())), flush()].concat());
    assert!(closed(fifth.as_mut()));
    drop(held);
    std::thread::sleep(Duration::from_millis(100));
    echo_works(&addr);
}

#[test]
fn the_unix_socket_is_owner_only_and_replaces_a_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/stoad.sock");
    let first = AbciServer::bind(&AbciAddr::Unix(path.clone()), app(), LIMITS).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    drop(first);
    // The file a stopped node left is replaced; a regular file in its place is not deleted.
    let addr = serve(AbciAddr::Unix(path.clone()), LIMITS);
    echo_works(&addr);
    let file = dir.path().join("not-a-socket");
    std::fs::write(&file, b"keep").unwrap();
    assert!(AbciServer::bind(&AbciAddr::Unix(file.clone()), app(), LIMITS).is_err());
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
    // Another user cannot connect (only checkable when the tests run as root).
    other_user_is_refused(&path);
}

/// Connects as `nobody` by running this test binary's [`connect_as_helper`] under `setpriv`,
/// when running as root and the tool exists (root itself ignores the socket's mode).
fn other_user_is_refused(path: &std::path::Path) {
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output();
    if !is_root || setpriv.map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("skipping the other-user check (needs root and setpriv)");
        return;
    }
    // Let `nobody` reach the directory, so only the socket's own mode decides.
    for dir in path.ancestors().skip(1).take(2) {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "--exact",
            "connect_as_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("STOA_TEST_CONNECT", path)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&status.stdout);
    if out.contains("CANNOT-RUN") || !out.contains("CONNECT:") {
        eprintln!("skipping the other-user check: the helper did not run ({out})");
        return;
    }
    assert!(out.contains("CONNECT:denied"), "another user: {out}");
}

/// Not a test on its own: run by [`other_user_is_refused`] as another user.
#[test]
fn connect_as_helper() {
    let Some(path) = std::env::var_os("STOA_TEST_CONNECT") else {
        return;
    };
    match UnixStream::connect(path) {
        Ok(_) => println!("CONNECT:connected"),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            println!("CONNECT:denied")
        }
        Err(e) => println!("CONNECT:other {e}"),
    }
}

/// The median and worst round trip of `n` ProcessProposal + Flush pairs (one consensus call as
/// CometBFT makes it), sent as one write or as two.
fn round_trips(addr: &AbciAddr, n: usize, split: bool) -> (Duration, Duration) {
    let mut c = connect(addr);
    let call = frame(request::Value::ProcessProposal(RequestProcessProposal {
        height: 1,
        ..Default::default()
    }));
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        if split {
            c.write_all(&call).unwrap();
            c.write_all(&flush()).unwrap();
        } else {
            c.write_all(&[call.clone(), flush()].concat()).unwrap();
        }
        assert!(matches!(
            read_response(c.as_mut()).and_then(|r| r.value),
            Some(response::Value::ProcessProposal(_))
        ));
        assert!(matches!(
            read_response(c.as_mut()).and_then(|r| r.value),
            Some(response::Value::Flush(_))
        ));
        times.push(start.elapsed());
    }
    times.sort();
    (times[n / 2], times[n - 1])
}

fn consensus_calls_are_fast(addr: AbciAddr) {
    for split in [false, true] {
        let (median, worst) = round_trips(&addr, 200, split);
        // Nagle against a delayed ACK costs ~40 ms a call; an idle loopback call is ~0.1 ms.
        assert!(
            median < Duration::from_millis(5),
            "median round trip {median:?} (split writes: {split})"
        );
        assert!(
            worst < Duration::from_millis(30),
            "worst round trip {worst:?} (split writes: {split})"
        );
    }
}

#[test]
fn consensus_round_trips_over_tcp_take_no_nagle_delay() {
    consensus_calls_are_fast(serve(AbciAddr::Tcp("127.0.0.1:0".into()), LIMITS));
}

#[test]
fn consensus_round_trips_over_the_unix_socket_are_fast() {
    let dir = tempfile::tempdir().unwrap();
    consensus_calls_are_fast(serve(AbciAddr::Unix(dir.path().join("s.sock")), LIMITS));
}

/// tendermint-abci's own client (CometBFT's protocol, as `app/tests/socket.rs` uses it) works
/// against this server.
#[test]
fn tendermint_abci_client_speaks_to_it() {
    let addr = serve(AbciAddr::Tcp("127.0.0.1:0".into()), LIMITS);
    let AbciAddr::Tcp(a) = &addr else {
        unreachable!()
    };
    let mut client = ClientBuilder::default().connect(a.as_str()).unwrap();
    let info = client.info(RequestInfo::default()).unwrap();
    assert_eq!(info.data, "stoa");
    client.flush().unwrap();
}
