//! The node's Prometheus metrics (app.toml `metrics_addr`, `GET /metrics`): height, txs and
//! failures per message type, FinalizeBlock and Commit durations, store checkpoints, CheckTx
//! counts (new and recheck) and the store's size on disk. Node-local observation only: nothing
//! here feeds back into consensus.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::modules::Router;

/// Buckets for block-phase durations (seconds): 1 ms to 5 s.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Every metric the app records, registered in one registry.
pub struct Metrics {
    registry: Registry,
    height: IntGauge,
    txs: IntCounterVec,
    finalize_seconds: Histogram,
    commit_seconds: HistogramVec,
    block_txs: Histogram,
    check_tx: IntCounterVec,
    store_bytes: IntGauge,
    /// The state store's directory, measured at each scrape.
    store_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The label of a message type: its type URL if the router knows it, else `unknown` (a
/// peer's junk must not grow the label set without bound), `undecodable` for a tx that does
/// not parse.
fn msg_label<'a>(router: &Router, url: &'a str) -> &'a str {
    if router.for_msg(url).is_ok() {
        url
    } else {
        "unknown"
    }
}

/// The fields of a `TxRaw` and `TxBody` needed to name a tx's message types, nothing else
/// (prost skips the rest without copying it).
mod light {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TxRaw {
        #[prost(bytes = "vec", tag = "1")]
        pub body_bytes: Vec<u8>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TxBody {
        #[prost(message, repeated, tag = "1")]
        pub messages: Vec<AnyUrl>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AnyUrl {
        #[prost(string, tag = "1")]
        pub type_url: String,
    }
}

/// The type URLs of a raw tx's messages, or `None` if it does not parse.
pub fn msg_type_urls(raw: &[u8]) -> Option<Vec<String>> {
    use prost::Message as _;
    let tx = light::TxRaw::decode(raw).ok()?;
    let body = light::TxBody::decode(tx.body_bytes.as_slice()).ok()?;
    Some(body.messages.into_iter().map(|m| m.type_url).collect())
}

impl Metrics {
    /// The metrics of a node whose state store lives in `store_dir` (none in tests).
    pub fn new(store_dir: Option<PathBuf>) -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some("stoa".into()), None)?;
        let height = IntGauge::new("height", "The last committed block height.")?;
        let txs = IntCounterVec::new(
            Opts::new(
                "txs_total",
                "Messages of committed txs by type and outcome (a failed tx counts each of its messages as failed; msg_type \"undecodable\" for a tx that does not parse).",
            ),
            &["msg_type", "result"],
        )?;
        let finalize_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "finalize_block_seconds",
                "Time FinalizeBlock takes (execution and the new app hash).",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
        )?;
        let commit_seconds = HistogramVec::new(
            HistogramOpts::new(
                "commit_seconds",
                "Time Commit takes (the store's batch and fsync), by whether the version was a store checkpoint.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["checkpoint"],
        )?;
        let block_txs = Histogram::with_opts(
            HistogramOpts::new("block_txs", "Txs per finalized block.").buckets(vec![
                0.0, 1.0, 10.0, 100.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
            ]),
        )?;
        let check_tx = IntCounterVec::new(
            Opts::new(
                "check_tx_total",
                "Mempool CheckTx calls by type (new or recheck) and result (ok or failed).",
            ),
            &["type", "result"],
        )?;
        let store_bytes = IntGauge::new(
            "store_size_bytes",
            "Bytes the state store's files take on disk (measured at each scrape).",
        )?;
        registry.register(Box::new(height.clone()))?;
        registry.register(Box::new(txs.clone()))?;
        registry.register(Box::new(finalize_seconds.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(block_txs.clone()))?;
        registry.register(Box::new(check_tx.clone()))?;
        registry.register(Box::new(store_bytes.clone()))?;
        Ok(Metrics {
            registry,
            height,
            txs,
            finalize_seconds,
            commit_seconds,
            block_txs,
            check_tx,
            store_bytes,
            store_dir,
        })
    }

    /// A finalized block: its duration, and each tx's message types with its result code.
    pub fn observe_block<T: AsRef<[u8]>>(
        &self,
        router: &Router,
        txs: &[T],
        codes: impl Iterator<Item = u32>,
        elapsed: Duration,
    ) {
        self.finalize_seconds.observe(elapsed.as_secs_f64());
        self.block_txs.observe(txs.len() as f64);
        for (raw, code) in txs.iter().zip(codes) {
            let result = if code == 0 { "ok" } else { "failed" };
            match msg_type_urls(raw.as_ref()) {
                Some(urls) => {
                    for url in &urls {
                        self.txs
                            .with_label_values(&[msg_label(router, url), result])
                            .inc();
                    }
                }
                None => self.txs.with_label_values(&["undecodable", result]).inc(),
            }
        }
    }

    /// A commit: its duration, whether the store checkpointed, the new height.
    pub fn observe_commit(&self, height: u64, checkpoint: bool, elapsed: Duration) {
        self.commit_seconds
            .with_label_values(&[if checkpoint { "true" } else { "false" }])
            .observe(elapsed.as_secs_f64());
        self.height.set(i64::try_from(height).unwrap_or(i64::MAX));
    }

    /// A CheckTx call.
    pub fn observe_check_tx(&self, recheck: bool, ok: bool) {
        self.check_tx
            .with_label_values(&[
                if recheck { "recheck" } else { "new" },
                if ok { "ok" } else { "failed" },
            ])
            .inc();
    }

    /// The text exposition of every metric (the store size measured now).
    pub fn render(&self) -> String {
        if let Some(dir) = &self.store_dir {
            self.store_bytes
                .set(i64::try_from(dir_size(dir)).unwrap_or(i64::MAX));
        }
        let mut buf = Vec::new();
        // Encoding into a Vec fails only on a malformed metric, which the registry refuses.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// The bytes of every file under `dir` (0 if it cannot be read).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Binds the metrics listener (`HOST:PORT`).
pub fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).with_context(|| format!("binding metrics_addr {addr}"))
}

/// Serves `GET /metrics` (anything else is a 404) on its own thread, one short connection at
/// a time: a scraper every few seconds needs no more, and a slow client is cut by timeouts.
pub fn serve(listener: TcpListener, metrics: std::sync::Arc<Metrics>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Err(e) = answer(stream, &metrics) {
                    tracing::debug!("metrics request: {e}");
                }
            }
        })?;
    Ok(())
}

fn answer(stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers (up to the blank line), bounded.
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, body) = if method == "GET" && (path == "/metrics" || path == "/") {
        ("200 OK", metrics.render())
    } else {
        ("404 Not Found", "not found: GET /metrics\n".to_string())
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_renders() {
        let m = Metrics::new(None).unwrap();
        let router = Router::standard();
        let junk: Vec<Vec<u8>> = vec![vec![0xff, 0xff, 0xff]];
        m.observe_block(&router, &junk, [5u32].into_iter(), Duration::from_millis(3));
        m.observe_commit(7, true, Duration::from_millis(2));
        m.observe_check_tx(true, false);
        let text = m.render();
        assert!(text.contains("stoa_height 7"), "{text}");
        assert!(
            text.contains("stoa_txs_total{msg_type=\"undecodable\",result=\"failed\"} 1"),
            "{text}"
        );
        assert!(text.contains("stoa_commit_seconds_count{checkpoint=\"true\"} 1"));
        assert!(text.contains("stoa_check_tx_total{result=\"failed\",type=\"recheck\"} 1"));
        assert!(text.contains("stoa_finalize_block_seconds_count 1"));
    }
}
