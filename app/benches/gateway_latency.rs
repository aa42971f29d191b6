//! Latency of one balance query under load, in one run, three ways: plain gRPC (one HTTP/2
//! channel, as the CLI and cosmpy use it), the REST gateway (HTTP/1.1 keep-alive connections,
//! JSON) and gRPC-web (HTTP/1.1 keep-alive connections, binary frames). The node's client
//! servers run in process exactly as `stoad start` runs them (`serve::serve`: its own runtime,
//! the same layers) over an on-disk store after genesis and one block; the load comes from
//! another runtime in the same process. Each protocol gets CONCURRENCY workers doing
//! PER_WORKER queries each (bounded in count and in time); prints p50/p99/max and the ratios
//! to gRPC.
//!
//! Run: `cargo bench -p stoa-app --bench gateway_latency`

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_client::QueryClient, QueryBalanceRequest};
use prost::Message;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

// The allocator `stoad` runs with.
#[global_allocator]
static ALLOCATOR: stoa_app::allocator::Allocator = stoa_app::allocator::Allocator;

const CONCURRENCY: usize = 200;
const PER_WORKER: usize = 25;
/// Each protocol's run stops here even if queries remain.
const TIME_LIMIT: Duration = Duration::from_secs(120);

/// One HTTP/1.1 keep-alive connection; answers with Content-Length or chunked bodies.
struct Http1 {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Http1 {
    async fn connect(addr: SocketAddr) -> Http1 {
        let s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).unwrap();
        Http1 {
            stream: BufReader::new(s),
            host: addr.to_string(),
        }
    }

    /// (status, body)
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n{headers}\r\n",
            self.host,
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(body).await.unwrap();
        let mut status = 0;
        let mut length = None;
        let mut chunked = false;
        let mut line = String::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if status == 0 {
                status = l
                    .split_whitespace()
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                continue;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await.unwrap();
                let size =
                    usize::from_str_radix(line.trim().split(';').next().unwrap(), 16).unwrap();
                if size == 0 {
                    // trailers, then the empty line
                    loop {
                        line.clear();
                        self.stream.read_line(&mut line).await.unwrap();
                        if line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = out.len();
                out.resize(start + size + 2, 0);
                self.stream.read_exact(&mut out[start..]).await.unwrap();
                out.truncate(start + size);
            }
        } else {
            out.resize(length.unwrap_or(0), 0);
            self.stream.read_exact(&mut out).await.unwrap();
        }
        (status, out)
    }
}

#[derive(Clone, Copy)]
enum Proto {
    Grpc,
    Rest,
    GrpcWeb,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Grpc => "gRPC",
            Proto::Rest => "REST",
            Proto::GrpcWeb => "gRPC-web",
        }
    }
}

struct Figures {
    n: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    wall: Duration,
}

async fn run(proto: Proto, grpc: SocketAddr, rest: SocketAddr, addr: String) -> Figures {
    let deadline = Instant::now() + TIME_LIMIT;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect()
        .await
        .expect("gRPC channel");
    let request = QueryBalanceRequest {
        address: addr.clone(),
        denom: "ustor".into(),
    };
    let mut frame = vec![0u8];
    frame.extend((request.encoded_len() as u32).to_be_bytes());
    frame.extend(request.encode_to_vec());
    let rest_path = format!("/cosmos/bank/v1beta1/balances/{addr}/by_denom?denom=ustor");
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (channel, request, frame, rest_path) = (
            channel.clone(),
            request.clone(),
            frame.clone(),
            rest_path.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(PER_WORKER);
            let mut client = QueryClient::new(channel);
            let mut conn = match proto {
                Proto::Grpc => None,
                Proto::Rest => Some(Http1::connect(rest).await),
                Proto::GrpcWeb => Some(Http1::connect(grpc).await),
            };
            for _ in 0..PER_WORKER {
                if Instant::now() > deadline {
                    break;
                }
                let t = Instant::now();
                match proto {
                    Proto::Grpc => {
                        let r = client.balance(request.clone()).await.expect("gRPC balance");
                        assert!(r.into_inner().balance.is_some());
                    }
                    Proto::Rest => {
                        let (status, body) = conn
                            .as_mut()
                            .unwrap()
                            .request("GET", &rest_path, "", b"")
                            .await;
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                        assert!(body.starts_with(b"{\"balance\""));
                    }
                    Proto::GrpcWeb => {
                        let (status, body) = conn
                            .as_mut()
                            .unwrap()
                            .request(
                                "POST",
                                "/cosmos.bank.v1beta1.Query/Balance",
                                "content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n",
                                &frame,
                            )
                            .await;
                        assert_eq!(status, 200);
                        assert_eq!(body.first(), Some(&0u8), "a data frame");
                    }
                }
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let wall = started.elapsed();
    all.sort();
    let at = |q: usize| all[(all.len() * q / 100).min(all.len() - 1)];
    Figures {
        n: all.len(),
        p50: at(50),
        p99: at(99),
        max: *all.last().unwrap(),
        wall,
    }
}

fn main() {
    stoa_app::allocator::keep_freed_memory();
    let dir = tempfile::tempdir().unwrap();
    let store = stoa_framework::Store::open(dir.path(), 100).unwrap();
    let app = common::new_app(store, false);
    let key = common::Key::secp(1);
    let addr = key.address();
    common::init(&app, &common::genesis_with(&[addr]));
    common::run_block(&app, &[]);

    let grpc_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let rest_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    grpc_l.set_nonblocking(true).unwrap();
    rest_l.set_nonblocking(true).unwrap();
    let (grpc, rest) = (grpc_l.local_addr().unwrap(), rest_l.local_addr().unwrap());
    let config = stoa_app::AppConfig::default();
    let server_app = app.clone();
    // The node's servers on their own runtime, as `stoad start` (serve::serve_blocking).
    std::thread::spawn(move || {
        stoa_app::serve::serve_blocking(server_app, config, grpc_l, Some(rest_l))
    });

    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    load.block_on(async {
        // Warm up every path (connections, caches, the allocator).
        for p in [Proto::Grpc, Proto::Rest, Proto::GrpcWeb] {
            for _ in 0..50 {
                if TcpStream::connect(grpc).await.is_ok() && TcpStream::connect(rest).await.is_ok()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = run_small(p, grpc, rest, addr.to_string()).await;
        }
        let mut results = Vec::new();
        for p in [Proto::Grpc, Proto::Rest, Proto::GrpcWeb] {
            let f = run(p, grpc, rest, addr.to_string()).await;
            results.push((p, f));
        }
        let base = &results[0].1;
        println!(
            "balance query, {CONCURRENCY} concurrent clients x {PER_WORKER} queries each, one run:"
        );
        println!(
            "{:<9} {:>6} {:>10} {:>10} {:>10} {:>9} {:>12}",
            "protocol", "n", "p50", "p99", "max", "qps", "p50/p99 vs gRPC"
        );
        for (p, f) in &results {
            println!(
                "{:<9} {:>6} {:>10.2?} {:>10.2?} {:>10.2?} {:>9.0} {:>6.2}x/{:.2}x",
                p.name(),
                f.n,
                f.p50,
                f.p99,
                f.max,
                f.n as f64 / f.wall.as_secs_f64(),
                f.p50.as_secs_f64() / base.p50.as_secs_f64(),
                f.p99.as_secs_f64() / base.p99.as_secs_f64(),
            );
        }
    });
}

/// A short warm-up pass of one protocol.
async fn run_small(proto: Proto, grpc: SocketAddr, rest: SocketAddr, addr: String) {
    let mut conn = match proto {
        Proto::Grpc => None,
        Proto::Rest => Some(Http1::connect(rest).await),
        Proto::GrpcWeb => Some(Http1::connect(grpc).await),
    };
    for _ in 0..20 {
        match proto {
            Proto::Grpc => {
                let mut c = QueryClient::connect(format!("http://{grpc}"))
                    .await
                    .unwrap();
                let _ = c
                    .balance(QueryBalanceRequest {
                        address: addr.clone(),
                        denom: "ustor".into(),
                    })
                    .await;
            }
            Proto::Rest => {
                let path = format!("/cosmos/bank/v1beta1/balances/{addr}/by_denom?denom=ustor");
                conn.as_mut().unwrap().request("GET", &path, "", b"").await;
            }
            Proto::GrpcWeb => {
                let request = QueryBalanceRequest {
                    address: addr.clone(),
                    denom: "ustor".into(),
                };
                let mut frame = vec![0u8];
                frame.extend((request.encoded_len() as u32).to_be_bytes());
                frame.extend(request.encode_to_vec());
                conn.as_mut()
                    .unwrap()
                    .request(
                        "POST",
                        "/cosmos.bank.v1beta1.Query/Balance",
                        "content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n",
                        &frame,
                    )
                    .await;
            }
        }
    }
}
