//! The ABCI socket server `stoad` runs for CometBFT (replacing tendermint-abci's): a unix socket
//! in the home directory, owner-only, by default (TCP by config, for a trusted host only);
//! `TCP_NODELAY` and each response written together with its flush answer, so no consensus
//! call waits on Nagle's algorithm; a frame size cap and a connection cap; and a consensus
//! call out of order on its connection closes that connection instead of stopping the node.
//!
//! The wire format is CometBFT's: each message a protobuf `Request`/`Response` behind an
//! unsigned varint length.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use prost::Message;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{request, response, Request, Response};

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbciAddr {
    /// `host:port` or `tcp://host:port`. Any local process can connect: for a trusted host.
    Tcp(String),
    /// `unix://PATH`; a relative PATH is under the home directory.
    Unix(PathBuf),
}

/// The default `abci_addr` of app.toml: a unix socket under the home directory.
pub const DEFAULT_ABCI_ADDR: &str = "unix://data/stoad.sock";

impl AbciAddr {
    /// Parses app.toml's `abci_addr`; a relative unix path is taken under `home`.
    pub fn parse(addr: &str, home: &Path) -> anyhow::Result<AbciAddr> {
        if let Some(path) = addr.strip_prefix("unix://") {
            anyhow::ensure!(!path.is_empty(), "abci_addr {addr:?}: empty socket path");
            let path = Path::new(path);
            let path = if path.is_absolute() {
                path.to_path_buf()
            } else {
                home.join(path)
            };
            return Ok(AbciAddr::Unix(path));
        }
        let hostport = addr.strip_prefix("tcp://").unwrap_or(addr);
        anyhow::ensure!(
            hostport.contains(':') && !hostport.contains("://"),
            "abci_addr {addr:?}: want unix://PATH, tcp://HOST:PORT or HOST:PORT"
        );
        Ok(AbciAddr::Tcp(hostport.to_string()))
    }

    /// The form CometBFT's `proxy_app` takes (`tcp://…` or `unix://` + absolute path).
    pub fn cometbft_form(&self) -> String {
        match self {
            AbciAddr::Tcp(a) => format!("tcp://{a}"),
            AbciAddr::Unix(p) => {
                let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                format!("unix://{}", abs.display())
            }
        }
    }
}

impl std::fmt::Display for AbciAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cometbft_form())
    }
}

/// The server's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest request frame read; a longer length header closes the connection before
    /// anything is allocated for it.
    pub max_frame: usize,
    /// Connections served at once (CometBFT opens four: consensus, mempool, query, snapshot).
    pub max_connections: usize,
}

/// CometBFT's default `block.max_bytes` (21 MiB), used when the genesis sets none.
pub const DEFAULT_MAX_BLOCK_BYTES: u64 = 22_020_096;
/// What CometBFT allows when `block.max_bytes` is -1 (unlimited): 100 MiB.
pub const MAX_BLOCK_BYTES_UNLIMITED: u64 = 104_857_600;

impl Limits {
    /// From the consensus params: a request holds at most one block's txs (FinalizeBlock,
    /// PrepareProposal: `max_bytes`) plus its commit info and evidence, which a second
    /// `max_bytes` bounds generously; InitChain holds the genesis, so the frame also fits the
    /// genesis file the node was started with.
    pub fn from_consensus(max_block_bytes: i64, genesis_len: u64) -> Limits {
        let block = match max_block_bytes {
            -1 => MAX_BLOCK_BYTES_UNLIMITED,
            n if n > 0 => n as u64,
            _ => DEFAULT_MAX_BLOCK_BYTES,
        };
        let frame = block
            .saturating_mul(2)
            .max(genesis_len)
            .saturating_add(1 << 20);
        Limits {
            max_frame: usize::try_from(frame).unwrap_or(usize::MAX),
            max_connections: 8,
        }
    }

    /// From `home/config/genesis.json` (`consensus_params.block.max_bytes`, a string or a
    /// number as CometBFT writes it); CometBFT's default when absent or unreadable.
    pub fn from_home(home: &Path) -> Limits {
        let path = home.join("config").join("genesis.json");
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let max_bytes = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|g| {
                let v = g.pointer("/consensus_params/block/max_bytes")?.clone();
                v.as_i64().or_else(|| v.as_str()?.parse().ok())
            })
            .unwrap_or(DEFAULT_MAX_BLOCK_BYTES as i64);
        Self::from_consensus(max_bytes, len)
    }
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// A bound server; [`AbciServer::listen`] serves it.
pub struct AbciServer<A> {
    listener: Listener,
    addr: AbciAddr,
    app: A,
    limits: Limits,
    gate: Arc<Mutex<Gate>>,
}

/// Who drives consensus and where it is in a height. Shared by the connections.
#[derive(Default)]
struct Gate {
    /// The connection that made the last in-order consensus call: CometBFT's consensus
    /// connection. Released when it closes.
    owner: Option<u64>,
    /// FinalizeBlock answered, Commit not yet.
    pending: bool,
    connections: usize,
}

/// What the gate says about a request.
enum Verdict {
    Serve,
    /// Out of order from a connection that does not drive consensus: close it.
    Close(String),
    /// Out of order from the consensus connection: CometBFT broke the protocol; going on
    /// could commit a state the network does not have.
    Halt(String),
}

fn call_name(v: &request::Value) -> &'static str {
    use request::Value as V;
    match v {
        V::Echo(_) => "Echo",
        V::Flush(_) => "Flush",
        V::Info(_) => "Info",
        V::InitChain(_) => "InitChain",
        V::Query(_) => "Query",
        V::CheckTx(_) => "CheckTx",
        V::Commit(_) => "Commit",
        V::ListSnapshots(_) => "ListSnapshots",
        V::OfferSnapshot(_) => "OfferSnapshot",
        V::LoadSnapshotChunk(_) => "LoadSnapshotChunk",
        V::ApplySnapshotChunk(_) => "ApplySnapshotChunk",
        V::PrepareProposal(_) => "PrepareProposal",
        V::ProcessProposal(_) => "ProcessProposal",
        V::ExtendVote(_) => "ExtendVote",
        V::VerifyVoteExtension(_) => "VerifyVoteExtension",
        V::FinalizeBlock(_) => "FinalizeBlock",
    }
}

impl Gate {
    /// Checks a call against the consensus order (InitChain / proposals / FinalizeBlock before
    /// Commit, one consensus connection) and, when served, records it.
    fn admit(&mut self, conn: u64, v: &request::Value) -> Verdict {
        use request::Value as V;
        let needs_pending = match v {
            V::Commit(_) => true,
            V::InitChain(_)
            | V::PrepareProposal(_)
            | V::ProcessProposal(_)
            | V::FinalizeBlock(_) => false,
            // Vote extensions change no state; everything else is not a consensus call.
            _ => return Verdict::Serve,
        };
        let name = call_name(v);
        if let Some(owner) = self.owner {
            if owner != conn {
                return Verdict::Close(format!(
                    "{name} on connection {conn} while connection {owner} drives consensus"
                ));
            }
        }
        if self.pending != needs_pending {
            let why = if needs_pending {
                format!("{name} with no finalized block pending")
            } else {
                format!("{name} while a finalized block awaits Commit")
            };
            return if self.owner == Some(conn) {
                Verdict::Halt(format!("consensus connection {conn}: {why}"))
            } else {
                Verdict::Close(why)
            };
        }
        self.owner = Some(conn);
        self.pending = matches!(v, V::FinalizeBlock(_));
        Verdict::Serve
    }
}

impl<A: Application> AbciServer<A> {
    /// Binds `addr`. A unix socket's directory is created; a stale socket file there is
    /// replaced (never any other kind of file), and the socket is made owner-only (0600).
    pub fn bind(addr: &AbciAddr, app: A, limits: Limits) -> anyhow::Result<AbciServer<A>> {
        let (listener, addr) = match addr {
            AbciAddr::Tcp(a) => {
                let l = TcpListener::bind(a.as_str())
                    .with_context(|| format!("binding the ABCI server to {a}"))?;
                let local = l.local_addr()?.to_string();
                (Listener::Tcp(l), AbciAddr::Tcp(local))
            }
            AbciAddr::Unix(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    anyhow::ensure!(
                        meta.file_type().is_socket(),
                        "{} exists and is not a socket",
                        path.display()
                    );
                    std::fs::remove_file(path)
                        .with_context(|| format!("removing the stale {}", path.display()))?;
                }
                let l = UnixListener::bind(path)
                    .with_context(|| format!("binding the ABCI socket {}", path.display()))?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("chmod 0600 {}", path.display()))?;
                (Listener::Unix(l), AbciAddr::Unix(path.clone()))
            }
        };
        Ok(AbciServer {
            listener,
            addr,
            app,
            limits,
            gate: Arc::new(Mutex::new(Gate::default())),
        })
    }

    /// The address bound (a TCP port of 0 resolved).
    pub fn local_addr(&self) -> &AbciAddr {
        &self.addr
    }

    /// Accepts and serves connections, one thread each, up to the connection cap; blocks.
    pub fn listen(self) -> anyhow::Result<()> {
        tracing::info!(abci = %self.addr, "ABCI server listening");
        let next_id = AtomicU64::new(1);
        loop {
            let (read, write, peer): (Box<dyn Read + Send>, Box<dyn Write + Send>, String) =
                match &self.listener {
                    Listener::Tcp(l) => {
                        let (s, peer) = match l.accept() {
                            Ok(x) => x,
                            Err(e) => {
                                tracing::warn!("ABCI accept: {e}");
                                continue;
                            }
                        };
                        // No Nagle: a response must not wait for the ACK of the one before.
                        if let Err(e) = s.set_nodelay(true) {
                            tracing::warn!("ABCI TCP_NODELAY: {e}");
                        }
                        let w = s.try_clone()?;
                        (Box::new(s), Box::new(w), peer.to_string())
                    }
                    Listener::Unix(l) => {
                        let (s, _) = match l.accept() {
                            Ok(x) => x,
                            Err(e) => {
                                tracing::warn!("ABCI accept: {e}");
                                continue;
                            }
                        };
                        let w: UnixStream = s.try_clone()?;
                        (Box::new(s), Box::new(w), "unix".to_string())
                    }
                };
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            {
                let mut g = lock(&self.gate);
                if g.connections >= self.limits.max_connections {
                    tracing::error!(
                        conn = id,
                        %peer,
                        max = self.limits.max_connections,
                        "ABCI connection refused: too many connections"
                    );
                    continue;
                }
                g.connections += 1;
            }
            tracing::info!(conn = id, %peer, "ABCI connection");
            let app = self.app.clone();
            let gate = self.gate.clone();
            let limits = self.limits;
            std::thread::Builder::new()
                .name(format!("abci-{id}"))
                .spawn(move || {
                    match serve_connection(id, read, write, &app, &gate, limits) {
                        Ok(()) => tracing::info!(conn = id, "ABCI connection closed"),
                        Err(e) => tracing::error!(conn = id, "ABCI connection closed: {e:#}"),
                    }
                    let mut g = lock(&gate);
                    g.connections -= 1;
                    if g.owner == Some(id) {
                        // CometBFT reconnects after its own restart and replays from its
                        // last commit; a new consensus connection starts fresh.
                        g.owner = None;
                        g.pending = false;
                    }
                })?;
        }
    }
}

fn lock(m: &Mutex<Gate>) -> std::sync::MutexGuard<'_, Gate> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An unsigned varint from `r`; `None` at a clean end of stream before its first byte.
fn read_varint(r: &mut impl BufRead) -> anyhow::Result<Option<u64>> {
    let mut value = 0u64;
    for i in 0..10 {
        let mut b = [0u8; 1];
        match r.read(&mut b) {
            Ok(0) if i == 0 => return Ok(None),
            Ok(0) => anyhow::bail!("stream ended inside a length header"),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
        value |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(Some(value));
        }
    }
    anyhow::bail!("length header longer than 10 bytes")
}

/// Serves one connection until it closes, breaks the protocol, or calls out of order.
fn serve_connection<A: Application>(
    id: u64,
    read: Box<dyn Read + Send>,
    write: Box<dyn Write + Send>,
    app: &A,
    gate: &Mutex<Gate>,
    limits: Limits,
) -> anyhow::Result<()> {
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let mut writer = BufWriter::with_capacity(64 * 1024, write);
    let mut out = Vec::new();
    loop {
        // Responses go out when the client asks (Flush) or when nothing more is waiting to
        // be read: a response and its flush answer leave in one write.
        if reader.buffer().is_empty() {
            writer.flush()?;
        }
        let Some(len) = read_varint(&mut reader)? else {
            return Ok(());
        };
        if len > limits.max_frame as u64 {
            anyhow::bail!(
                "a {len}-byte request is over the {}-byte frame cap",
                limits.max_frame
            );
        }
        // Grows as bytes arrive: a length header alone reserves nothing.
        let mut frame = Vec::new();
        (&mut reader).take(len).read_to_end(&mut frame)?;
        anyhow::ensure!(frame.len() as u64 == len, "stream ended inside a request");
        let request = Request::decode(frame.as_slice()).context("undecodable request")?;
        drop(frame);
        let Some(value) = request.value else {
            anyhow::bail!("a request with no call");
        };
        let is_flush = matches!(value, request::Value::Flush(_));
        match lock(gate).admit(id, &value) {
            Verdict::Serve => {}
            Verdict::Close(why) => anyhow::bail!("out-of-order call: {why}"),
            Verdict::Halt(why) => crate::abci::halt(&format!("ABCI protocol violation: {why}")),
        }
        let response = Response {
            value: Some(dispatch(app, value)),
        };
        out.clear();
        response.encode_length_delimited(&mut out)?;
        writer.write_all(&out)?;
        if is_flush {
            writer.flush()?;
        }
    }
}

/// One call to the app (tendermint-abci's dispatcher is private to it).
fn dispatch<A: Application>(app: &A, call: request::Value) -> response::Value {
    use request::Value as Q;
    use response::Value as R;
    match call {
        Q::Echo(r) => R::Echo(app.echo(r)),
        Q::Flush(_) => R::Flush(app.flush()),
        Q::Info(r) => R::Info(app.info(r)),
        Q::InitChain(r) => R::InitChain(app.init_chain(r)),
        Q::Query(r) => R::Query(app.query(r)),
        Q::CheckTx(r) => R::CheckTx(app.check_tx(r)),
        Q::Commit(_) => R::Commit(app.commit()),
        Q::ListSnapshots(_) => R::ListSnapshots(app.list_snapshots()),
        Q::OfferSnapshot(r) => R::OfferSnapshot(app.offer_snapshot(r)),
        Q::LoadSnapshotChunk(r) => R::LoadSnapshotChunk(app.load_snapshot_chunk(r)),
        Q::ApplySnapshotChunk(r) => R::ApplySnapshotChunk(app.apply_snapshot_chunk(r)),
        Q::PrepareProposal(r) => R::PrepareProposal(app.prepare_proposal(r)),
        Q::ProcessProposal(r) => R::ProcessProposal(app.process_proposal(r)),
        Q::ExtendVote(r) => R::ExtendVote(app.extend_vote(r)),
        Q::VerifyVoteExtension(r) => R::VerifyVoteExtension(app.verify_vote_extension(r)),
        Q::FinalizeBlock(r) => R::FinalizeBlock(app.finalize_block(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tendermint_proto::v0_38::abci::{RequestCommit, RequestEcho, RequestFinalizeBlock};

    #[test]
    fn addresses_parse() {
        let home = Path::new("/h");
        assert_eq!(
            AbciAddr::parse(DEFAULT_ABCI_ADDR, home).unwrap(),
            AbciAddr::Unix("/h/data/stoad.sock".into())
        );
        assert_eq!(
            AbciAddr::parse("unix:///s.sock", home).unwrap(),
            AbciAddr::Unix("/s.sock".into())
        );
        assert_eq!(
            AbciAddr::parse("127.0.0.1:1", home).unwrap(),
            AbciAddr::Tcp("127.0.0.1:1".into())
        );
        assert_eq!(
            AbciAddr::parse("tcp://127.0.0.1:1", home).unwrap(),
            AbciAddr::Tcp("127.0.0.1:1".into())
        );
        assert_eq!(
            AbciAddr::parse("tcp://127.0.0.1:1", home)
                .unwrap()
                .cometbft_form(),
            "tcp://127.0.0.1:1"
        );
        assert_eq!(
            AbciAddr::Unix("/h/data/stoad.sock".into()).cometbft_form(),
            "unix:///h/data/stoad.sock"
        );
        for bad in ["", "unix://", "nonsense", "http://x:1"] {
            assert!(AbciAddr::parse(bad, home).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_follow_the_block_size() {
        let l = Limits::from_consensus(1_000_000, 10);
        assert_eq!(l.max_frame, 2_000_000 + (1 << 20));
        assert_eq!(
            Limits::from_consensus(0, 0).max_frame as u64,
            2 * DEFAULT_MAX_BLOCK_BYTES + (1 << 20)
        );
        assert_eq!(
            Limits::from_consensus(100, 50_000_000).max_frame,
            50_000_000 + (1 << 20)
        );
    }

    #[test]
    fn the_gate_closes_strangers_and_halts_on_a_broken_consensus_order() {
        let commit = request::Value::Commit(RequestCommit {});
        let finalize = request::Value::FinalizeBlock(RequestFinalizeBlock::default());
        let echo = request::Value::Echo(RequestEcho::default());
        let mut g = Gate::default();
        // A stranger's Commit with nothing pending: closed, the node goes on.
        assert!(matches!(g.admit(9, &commit), Verdict::Close(_)));
        assert_eq!(g.owner, None);
        // CometBFT's consensus connection.
        assert!(matches!(g.admit(1, &finalize), Verdict::Serve));
        assert!(matches!(g.admit(2, &commit), Verdict::Close(_)));
        assert!(matches!(g.admit(2, &echo), Verdict::Serve));
        assert!(matches!(g.admit(1, &finalize), Verdict::Halt(_)));
        assert!(matches!(g.admit(1, &commit), Verdict::Serve));
        assert!(matches!(g.admit(1, &commit), Verdict::Halt(_)));
    }
}
