//! FinalizeBlock + Commit of blocks of 5,000 bank sends from 5,000 distinct accounts, once with
//! secp256k1 and once with ed25519 signers, on an on-disk store; and, in the same run on the
//! same machine, how fast those 5,000 signatures verify alone (parallel; ed25519 batched) —
//! the limit the block can approach. Prints a summary with the ratio at the end.
//!
//! Then a block of 5,000 compute heartbeats (each device's account sends its heartbeat, signed
//! by the worker key over the answer to the current challenge), which must cost no more than
//! the block of 5,000 ed25519 bank sends.
//!
//! Run: `cargo bench -p stoa-app --bench finalize_block` (`STOA_BENCH_SCHEMES=ed25519` for the
//! ed25519 sends and the heartbeats only)

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use prost::Message;
use rayon::prelude::*;
use stoa_app::lifecycle::BlockHeader;
use stoa_app::{AppOptions, StoaApp};
use stoa_bank::PubKey;
use stoa_framework::crypto::{verify_batch as verify_all, SigJob};
use stoa_framework::{Address, Store};
use tendermint_proto::google::protobuf::Any;

// The allocator `stoad` runs with, tuned as `stoad` tunes it (at the start of `bench`).
#[global_allocator]
static ALLOCATOR: stoa_app::allocator::Allocator = stoa_app::allocator::Allocator;

const TXS: usize = 5_000;
const CHAIN_ID: &str = "stoa-bench";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scheme {
    Secp256k1,
    Ed25519,
}

enum Key {
    Secp(k256::ecdsa::SigningKey),
    Ed(ed25519_dalek::SigningKey),
}

impl Key {
    fn new(scheme: Scheme, i: u64) -> Key {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&(i + 1).to_be_bytes());
        b[31] = 7;
        match scheme {
            Scheme::Secp256k1 => {
                Key::Secp(k256::ecdsa::SigningKey::from_slice(&b).expect("scalar"))
            }
            Scheme::Ed25519 => Key::Ed(ed25519_dalek::SigningKey::from_bytes(&b)),
        }
    }

    fn pub_key(&self) -> PubKey {
        match self {
            Key::Secp(k) => PubKey::Secp256k1(
                k.verifying_key()
                    .to_encoded_point(true)
                    .as_bytes()
                    .try_into()
                    .expect("33 bytes"),
            ),
            Key::Ed(k) => PubKey::Ed25519(k.verifying_key().to_bytes()),
        }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Key::Secp(k) => {
                use k256::ecdsa::signature::Signer;
                let sig: k256::ecdsa::Signature = k.sign(msg);
                sig.normalize_s().unwrap_or(sig).to_bytes().to_vec()
            }
            Key::Ed(k) => {
                use ed25519_dalek::Signer;
                k.sign(msg).to_bytes().to_vec()
            }
        }
    }
}

struct Chain {
    app: StoaApp,
    keys: Vec<Key>,
    addrs: Vec<Address>,
    numbers: Vec<u64>,
    /// The next sequence of every account (all move together: one tx each per block).
    sequence: u64,
    /// Seconds between blocks.
    spacing: i64,
    _dir: tempfile::TempDir,
}

fn send_tx(
    key: &Key,
    from: &Address,
    to: &Address,
    number: u64,
    sequence: u64,
) -> (Vec<u8>, Vec<u8>) {
    let msg = MsgSend {
        from_address: from.to_string(),
        to_address: to.to_string(),
        amount: vec![ProtoCoin {
            denom: "ucomp".into(),
            amount: "1".into(),
        }],
    };
    let any = Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: msg.encode_to_vec(),
    };
    sign_tx(key, any, number, sequence, 100_000)
}

/// A signed tx of one message paying 0.001ustor per unit of gas: (tx bytes, sign doc).
fn sign_tx(key: &Key, msg: Any, number: u64, sequence: u64, gas_limit: u64) -> (Vec<u8>, Vec<u8>) {
    let body = TxBody {
        messages: vec![msg],
        ..Default::default()
    };
    let pk = key.pub_key().to_any();
    #[allow(deprecated)]
    let auth = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(Any {
                type_url: pk.type_url,
                value: pk.value,
            }),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: SignMode::Direct as i32,
                })),
            }),
            sequence,
        }],
        fee: Some(Fee {
            amount: vec![ProtoCoin {
                denom: "ustor".into(),
                amount: (gas_limit / 1_000).to_string(),
            }],
            gas_limit,
            ..Default::default()
        }),
        tip: None,
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth.encode_to_vec();
    let doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
        chain_id: CHAIN_ID.into(),
        account_number: number,
    }
    .encode_to_vec();
    let sig = key.sign(&doc);
    (
        TxRaw {
            body_bytes,
            auth_info_bytes,
            signatures: vec![sig],
        }
        .encode_to_vec(),
        doc,
    )
}

fn header(height: u64) -> BlockHeader {
    header_every(height, 5)
}

/// Block `height` of a chain whose blocks are `spacing` seconds apart, from a whole minute
/// (so that with 60 s every block opens a heartbeat challenge).
fn header_every(height: u64, spacing: i64) -> BlockHeader {
    let mut hash = vec![0u8; 32];
    hash[..8].copy_from_slice(&height.to_be_bytes());
    BlockHeader {
        height,
        time_seconds: 1_699_999_980 + spacing * height as i64,
        time_nanos: 0,
        hash,
        proposer: vec![1; 20],
    }
}

impl Chain {
    fn new(scheme: Scheme) -> Chain {
        let keys: Vec<Key> = (0..TXS as u64)
            .into_par_iter()
            .map(|i| Key::new(scheme, i))
            .collect();
        let addrs: Vec<Address> = keys.iter().map(|k| k.pub_key().address()).collect();
        let mut genesis = stoa_app::default_app_state();
        let balances = genesis["bank"]["balances"]
            .as_array_mut()
            .expect("balances");
        for a in &addrs {
            balances.push(serde_json::json!({
                "address": a.to_string(),
                "coins": [{"denom": "ucomp", "amount": "1000000000"}, {"denom": "ustor", "amount": "1000000000"}]
            }));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 1000).expect("store");
        let app = StoaApp::new(store, AppOptions::default());
        app.apply_genesis(CHAIN_ID, 1, &genesis).expect("genesis");
        app.execute_block(&header(1), &[]).expect("block 1");
        app.commit_block().expect("commit 1");
        let numbers = addrs.iter().map(|a| account_number(&app, a)).collect();
        Chain {
            app,
            keys,
            addrs,
            numbers,
            sequence: 0,
            spacing: 5,
            _dir: dir,
        }
    }

    /// An ed25519 chain whose 5,000 accounts each registered a CPU device (worker key = the
    /// account's key) and brought it online; blocks 60 s apart, so every block has a new
    /// challenge to answer.
    fn with_devices() -> Chain {
        let mut chain = Chain::new(Scheme::Ed25519);
        chain.spacing = 60;
        let seq = chain.sequence;
        let txs: Vec<Vec<u8>> = (0..chain.keys.len())
            .into_par_iter()
            .map(|i| {
                let Key::Ed(k) = &chain.keys[i] else {
                    unreachable!("ed25519 chain")
                };
                let m = stoa_proto::compute::v1::MsgRegisterDevice {
                    owner: chain.addrs[i].to_string(),
                    worker_key: k.verifying_key().to_bytes().to_vec(),
                    enc_key: vec![9; 32],
                    gpu_model: "CPU".into(),
                    gpu_count: 1,
                    region: "eu".into(),
                    prices: vec![stoa_proto::compute::v1::Price {
                        denom: "ucomp".into(),
                        amount: "36000".into(),
                    }],
                    self_stake: "200000000".into(),
                    ..Default::default()
                };
                let any = Any {
                    type_url: "/stoa.compute.v1.MsgRegisterDevice".into(),
                    value: m.encode_to_vec(),
                };
                sign_tx(&chain.keys[i], any, chain.numbers[i], seq, 400_000).0
            })
            .collect();
        chain.sequence += 1;
        chain.run(&txs);
        for _ in 0..3 {
            let txs = chain.heartbeat_block();
            chain.run(&txs);
        }
        chain
    }

    /// The next block: every device answers the current challenge, its account sending it.
    fn heartbeat_block(&mut self) -> Vec<Vec<u8>> {
        use stoa_compute::heartbeat::{challenge_answer, heartbeat_sign_bytes};
        use stoa_proto::compute::v1::{MsgHeartbeat, QueryDeviceRequest, QueryDeviceResponse};
        let (raw, _) = stoa_app::query::grpc_query(
            self.app.store(),
            self.app.router(),
            "/stoa.compute.v1.Query/Device",
            &QueryDeviceRequest { device_id: 0 }.encode_to_vec(),
            0,
        )
        .expect("device query");
        let q = QueryDeviceResponse::decode(raw.as_slice()).expect("device");
        let seed: [u8; 32] = q.challenge_seed.as_slice().try_into().expect("seed drawn");
        let seq = self.sequence;
        self.sequence += 1;
        (0..self.keys.len())
            .into_par_iter()
            .map(|i| {
                let id = i as u64;
                let mut m = MsgHeartbeat {
                    sender: self.addrs[i].to_string(),
                    device_id: id,
                    challenge_time: q.challenge_time,
                    answer: challenge_answer(id, &seed),
                    net_mbps: 900,
                    gpu_util_bps: 5_000,
                    gpu_temp_c: 60,
                    signature: vec![],
                };
                m.signature = self.keys[i].sign(&heartbeat_sign_bytes(&m));
                let any = Any {
                    type_url: "/stoa.compute.v1.MsgHeartbeat".into(),
                    value: m.encode_to_vec(),
                };
                sign_tx(&self.keys[i], any, self.numbers[i], seq, 200_000).0
            })
            .collect()
    }

    /// The next block: account i sends 1ucomp to account i+1.
    fn next_block(&mut self) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let seq = self.sequence;
        self.sequence += 1;
        let n = self.keys.len();
        (0..n)
            .into_par_iter()
            .map(|i| {
                send_tx(
                    &self.keys[i],
                    &self.addrs[i],
                    &self.addrs[(i + 1) % n],
                    self.numbers[i],
                    seq,
                )
            })
            .unzip()
    }

    /// FinalizeBlock + Commit of `txs`: (total, FinalizeBlock alone).
    fn run(&self, txs: &[Vec<u8>]) -> (Duration, Duration) {
        let height = self.app.last_commit().0 + 1;
        perf_control("enable");
        let start = Instant::now();
        let r = self
            .app
            .execute_block(&header_every(height, self.spacing), txs)
            .expect("block");
        let finalize = start.elapsed();
        self.app.commit_block().expect("commit");
        let took = start.elapsed();
        perf_control("disable");
        let failed = r.tx_results.iter().filter(|t| t.code != 0).count();
        assert_eq!(
            failed,
            0,
            "every send succeeds; first failure: {:?}",
            r.tx_results.iter().find(|t| t.code != 0).map(|t| &t.log)
        );
        (took, finalize)
    }
}

fn account_number(app: &StoaApp, addr: &Address) -> u64 {
    use cosmos_sdk_proto::cosmos::auth::v1beta1::{
        BaseAccount, QueryAccountRequest, QueryAccountResponse,
    };
    let req = QueryAccountRequest {
        address: addr.to_string(),
    }
    .encode_to_vec();
    let (raw, _) = stoa_app::query::grpc_query(
        app.store(),
        app.router(),
        "/cosmos.auth.v1beta1.Query/Account",
        &req,
        0,
    )
    .expect("account");
    let any = QueryAccountResponse::decode(raw.as_slice())
        .expect("response")
        .account
        .expect("account");
    BaseAccount::decode(any.value.as_slice())
        .expect("base account")
        .account_number
}

/// With `STOA_PERF_CTL` naming the control fifo of `perf record --control fifo:PATH -D -1`,
/// profiles cover only the timed blocks, not the signing and CheckTx around them.
fn perf_control(cmd: &str) {
    use std::io::Write;
    static CTL: Mutex<Option<std::fs::File>> = Mutex::new(None);
    let Some(path) = std::env::var_os("STOA_PERF_CTL") else {
        return;
    };
    let Ok(mut ctl) = CTL.lock() else { return };
    if ctl.is_none() {
        *ctl = std::fs::OpenOptions::new().write(true).open(path).ok();
    }
    if let Some(f) = ctl.as_mut() {
        let _ = f.write_all(format!("{cmd}\n").as_bytes());
    }
}

/// Per-iteration times of every benchmark, for the summary.
static TIMES: Mutex<Vec<(String, Duration)>> = Mutex::new(Vec::new());

fn record(name: &str, d: Duration) {
    if let Ok(mut t) = TIMES.lock() {
        t.push((name.to_string(), d));
    }
}

fn bench(c: &mut Criterion) {
    stoa_app::allocator::keep_freed_memory();
    let mut group = c.benchmark_group("chain");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(TXS as u64));
    // STOA_BENCH_SCHEMES=ed25519 runs only the ed25519 sends (and the heartbeats).
    let only = std::env::var("STOA_BENCH_SCHEMES").unwrap_or_default();
    for scheme in [Scheme::Secp256k1, Scheme::Ed25519] {
        let name = format!("{scheme:?}").to_lowercase();
        if !only.is_empty() && !only.split(',').any(|s| s == name) {
            continue;
        }
        let mut chain = Chain::new(scheme);

        // The limit: the same block's 5,000 signatures, verified alone, as the block does.
        let (_, docs) = chain.next_block();
        chain.sequence -= 1;
        let pks: Vec<PubKey> = chain.keys.iter().map(Key::pub_key).collect();
        let sigs: Vec<Vec<u8>> = chain
            .keys
            .par_iter()
            .zip(&docs)
            .map(|(k, d)| k.sign(d))
            .collect();
        group.bench_function(BenchmarkId::new("verify_signatures", &name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let jobs: Vec<SigJob> = pks
                        .iter()
                        .zip(&docs)
                        .zip(&sigs)
                        .map(|((p, m), s)| SigJob {
                            pub_key: p,
                            msg: m,
                            sig: s,
                        })
                        .collect();
                    let start = Instant::now();
                    let ok = verify_all(&jobs);
                    let took = start.elapsed();
                    assert!(ok.iter().all(|v| *v));
                    record(&format!("verify/{name}"), took);
                    total += took;
                }
                total
            })
        });

        group.bench_function(BenchmarkId::new("finalize_block_commit", &name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (txs, _) = chain.next_block();
                    let (took, finalize) = chain.run(&txs);
                    record(&format!("block/{name}"), took);
                    record(&format!("finalize/{name}"), finalize);
                    total += took;
                }
                total
            })
        });

        // As on a live node: every tx went through CheckTx first (not timed), whose verified
        // signatures the block does not verify again.
        group.bench_function(
            BenchmarkId::new("finalize_block_commit_after_checktx", &name),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (txs, _) = chain.next_block();
                        for tx in &txs {
                            assert_eq!(chain.app.check_tx_bytes(tx, false).code, 0);
                        }
                        let (took, _) = chain.run(&txs);
                        record(&format!("checked/{name}"), took);
                        total += took;
                    }
                    total
                })
            },
        );
    }

    // A block of 5,000 heartbeats (ed25519 tx signers; the worker key signs the heartbeat
    // too), to compare with the block of 5,000 ed25519 bank sends above.
    let mut chain = Chain::with_devices();
    group.bench_function(
        BenchmarkId::new("finalize_block_commit", "heartbeats_ed25519"),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let txs = chain.heartbeat_block();
                    let (took, finalize) = chain.run(&txs);
                    record("block/heartbeat", took);
                    record("finalize/heartbeat", finalize);
                    total += took;
                }
                total
            })
        },
    );
    group.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn summary(_c: &mut Criterion) {
    let times = TIMES.lock().map(|t| t.clone()).unwrap_or_default();
    let of = |name: &str| {
        median(
            times
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, d)| *d)
                .collect(),
        )
    };
    println!(
        "\n== FinalizeBlock + Commit, blocks of {TXS} bank sends, {} threads ==",
        rayon::current_num_threads()
    );
    for scheme in ["secp256k1", "ed25519"] {
        let block = of(&format!("block/{scheme}"));
        let verify = of(&format!("verify/{scheme}"));
        let finalize = of(&format!("finalize/{scheme}"));
        let checked = of(&format!("checked/{scheme}"));
        if block.is_zero() || verify.is_zero() {
            continue;
        }
        let tps = TXS as f64 / block.as_secs_f64();
        let sps = TXS as f64 / verify.as_secs_f64();
        println!(
            "{scheme:>9}: FinalizeBlock + Commit {:>7.1} ms = {tps:>6.0} tx/s (FinalizeBlock {:>6.1} ms, Commit {:>6.1} ms) | signatures alone {:>6.1} ms = {sps:>6.0} sig/s | {:.0}% of the signature limit",
            block.as_secs_f64() * 1e3,
            finalize.as_secs_f64() * 1e3,
            block.saturating_sub(finalize).as_secs_f64() * 1e3,
            verify.as_secs_f64() * 1e3,
            100.0 * tps / sps
        );
        if !checked.is_zero() {
            println!(
                "{scheme:>9}: after CheckTx (signatures cached): FinalizeBlock + Commit {:>7.1} ms = {:>6.0} tx/s",
                checked.as_secs_f64() * 1e3,
                TXS as f64 / checked.as_secs_f64()
            );
        }
    }
    let beats = of("block/heartbeat");
    let sends = of("block/ed25519");
    if !beats.is_zero() && !sends.is_zero() {
        println!(
            "heartbeat: FinalizeBlock + Commit {:>7.1} ms (FinalizeBlock {:>6.1} ms) for {TXS} heartbeats = {:.2}x the block of {TXS} ed25519 bank sends",
            beats.as_secs_f64() * 1e3,
            of("finalize/heartbeat").as_secs_f64() * 1e3,
            beats.as_secs_f64() / sends.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench, summary);
criterion_main!(benches);
