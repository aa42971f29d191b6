// End to end against a real cometbft: a supplier runs two `stoad worker run` agents (CPU
// devices with 2 job slots each, their own homes and ports on 127.0.0.1); a staker backs one;
// a renter rents a 3-GPU cluster (both devices) paying ucomp and then a lease paying uusdc with
// `stoad rent`: the jobs are sealed to the devices' x25519 keys, run by the workers, their
// records land on chain and the decrypted results come back. The leases settle and every unit
// of escrow is accounted for (owner income, stakers' pool, burn, buyback pool); the buyback is
// filled and its ucomp burned. Then a worker is killed: it goes offline, its lease closes with
// a pro-rata refund, it and its staker are slashed 5%, and a 3-GPU order no longer matches.
mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stoa_cmd::agent::{protocol, seal};
use stoa_compute::ComputeParams;
use stoa_proto::compute::v1 as pb;
use stoa_proto::compute::v1::query_client::QueryClient;

const PRICE_UCOMP: u128 = 3_600_000; // per GPU-hour: 1,000 ucomp a second per GPU
const PRICE_UUSDC: u128 = 360_000; // 100 uusdc a second per GPU
const LEASE_S: u64 = 30;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// gRPC access to the compute module.
struct Q<'a> {
    net: &'a Net,
    rt: tokio::runtime::Runtime,
}

impl Q<'_> {
    fn client(&self) -> QueryClient<tonic::transport::Channel> {
        self.rt
            .block_on(QueryClient::connect(self.net.grpc_url()))
            .expect("connect gRPC")
    }
    fn device(&self, id: u64) -> pb::Device {
        let mut c = self.client();
        self.rt
            .block_on(c.device(pb::QueryDeviceRequest { device_id: id }))
            .expect("device query")
            .into_inner()
            .device
            .expect("device")
    }
    fn devices(&self) -> Vec<pb::Device> {
        let mut c = self.client();
        self.rt
            .block_on(c.devices(pb::QueryDevicesRequest::default()))
            .expect("devices query")
            .into_inner()
            .devices
    }
    fn lease(&self, id: u64) -> pb::Lease {
        let mut c = self.client();
        self.rt
            .block_on(c.lease(pb::QueryLeaseRequest { lease_id: id }))
            .expect("lease query")
            .into_inner()
            .lease
            .expect("lease")
    }
    fn jobs(&self, lease: u64) -> Vec<pb::Job> {
        let mut c = self.client();
        self.rt
            .block_on(c.jobs(pb::QueryJobsRequest {
                lease_id: lease,
                pagination: None,
            }))
            .expect("jobs query")
            .into_inner()
            .jobs
    }
    fn newest_lease_of(&self, renter: &str) -> pb::Lease {
        let mut c = self.client();
        self.rt
            .block_on(c.leases(pb::QueryLeasesRequest {
                renter: renter.into(),
                pagination: Some(
                    cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest {
                        limit: 1,
                        reverse: true,
                        ..Default::default()
                    },
                ),
            }))
            .expect("leases query")
            .into_inner()
            .leases
            .into_iter()
            .next()
            .expect("a lease")
    }
    fn orders(&self) -> Vec<pb::Order> {
        let mut c = self.client();
        self.rt
            .block_on(c.orders(pb::QueryOrdersRequest { pagination: None }))
            .expect("orders query")
            .into_inner()
            .orders
    }
    fn buyback(&self) -> pb::Buyback {
        let mut c = self.client();
        self.rt
            .block_on(c.buyback(pb::QueryBuybackRequest {}))
            .expect("buyback query")
            .into_inner()
            .buyback
            .unwrap_or_default()
    }
    fn stake_of(&self, device: u64, staker: &str) -> u128 {
        let mut c = self.client();
        self.rt
            .block_on(c.stakes(pb::QueryStakesRequest {
                device_id: device,
                staker: String::new(),
                pagination: None,
            }))
            .expect("stakes query")
            .into_inner()
            .stakes
            .iter()
            .find(|s| s.staker == staker)
            .map_or(0, |s| s.amount.parse().unwrap())
    }
}

fn amt(s: &str) -> u128 {
    if s.is_empty() {
        0
    } else {
        s.parse().unwrap()
    }
}

/// A `stoad worker run` child in its own process group, killed on drop.
struct Worker {
    child: Option<Child>,
    home: PathBuf,
    log: PathBuf,
    port: u16,
}

impl Worker {
    fn start(net: &Net, name: &str, run: u32) -> Worker {
        use std::os::unix::process::CommandExt;
        let home = net.home.join(name);
        std::fs::create_dir_all(&home).unwrap();
        let port = free_ports(1)[0];
        let log = net.home.join(format!("{name}.{run}.log"));
        let f = std::fs::File::create(&log).unwrap();
        let keyring = net.home.join("keyring-test");
        let child = Command::new(stoad_bin())
            .args(["worker", "run", "--home"])
            .arg(&home)
            .args(["--keyring-backend", "test", "--keyring-dir"])
            .arg(&keyring)
            .args(["--owner", "supplier", "--price"])
            .arg(format!("{PRICE_UCOMP}ucomp,{PRICE_UUSDC}uusdc"))
            .args([
                "--gpu-model",
                "CPU",
                "--gpu-count",
                "2",
                "--staker-share-bps",
                "2000",
            ])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--node", &net.rpc_url(), "--grpc", &net.grpc_url()])
            .args([
                "--chain-id",
                &net.chain_id,
                "--fees",
                "2000ustor",
                "--gas",
                "400000",
            ])
            .args([
                "--settle-every",
                "10",
                "--docker",
                "never",
                "--output",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .process_group(0)
            .spawn()
            .expect("spawn stoad worker run");
        Worker {
            child: Some(child),
            home,
            log,
            port,
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The device id once the agent has registered and started.
    fn wait_started(&mut self) -> u64 {
        wait_for(Duration::from_secs(60), "the worker to start", || {
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("worker exited with {st}:\n{}", self.log_text());
            }
            self.log_text()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["event"] == "started")
                .and_then(|v| v["device"].as_u64())
        })
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", c.id())])
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let text = self.log_text();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!(
                "---- {} (last 40 lines)\n{}",
                self.log.display(),
                lines[lines.len().saturating_sub(40)..].join("\n")
            );
        }
        self.kill();
    }
}

/// `stoad tx msg KEY -` with `msgs` on stdin; must land with code 0.
fn tx_msg(net: &Net, from: &str, msgs: Value) -> Value {
    use std::io::Write;
    let mut child = Command::new(stoad_bin())
        .args(["tx", "msg", from, "-", "--home", &net.home_str()])
        .args(["--node", &net.rpc_url(), "--grpc", &net.grpc_url()])
        .args([
            "--chain-id",
            &net.chain_id,
            "--fees",
            "2000ustor",
            "--gas",
            "400000",
        ])
        .args(["--output", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(msgs.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "tx msg printed no JSON: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && v["code"] == 0,
        "tx msg {msgs} failed: {v}"
    );
    v
}

/// `stoad rent ... --output json` for the renter; must succeed.
fn rent(net: &Net, job: &Path, extra: &[&str]) -> Value {
    let mut a: Vec<String> = vec![
        "rent".into(),
        "--from".into(),
        "renter".into(),
        "--job".into(),
        job.display().to_string(),
        "--seconds".into(),
        LEASE_S.to_string(),
        "--home".into(),
        net.home_str(),
        "--node".into(),
        net.rpc_url(),
        "--grpc".into(),
        net.grpc_url(),
        "--chain-id".into(),
        net.chain_id.clone(),
        "--fees".into(),
        "2000ustor".into(),
        "--gas".into(),
        "400000".into(),
        "--output".into(),
        "json".into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    net.cli(&refs).expect_json()
}

/// A minimal HTTP/1.0 POST of a JSON body to 127.0.0.1:port: (status, body).
fn http_post(port: u16, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn wait_closed(q: &Q, lease: u64, timeout: Duration) -> pb::Lease {
    wait_for(timeout, &format!("lease {lease} to close"), || {
        let l = q.lease(lease);
        (l.state == "closed").then_some(l)
    })
}

fn escrow_of(l: &pb::Lease) -> u128 {
    l.parts
        .iter()
        .map(|p| amt(&p.rate_per_s) * u128::from((l.ends_at - l.created_at) as u64))
        .sum()
}

#[test]
fn workers_run_sealed_jobs_leases_settle_and_a_dead_worker_is_slashed() {
    let t0 = Instant::now();
    let mut net = Net::init(&[
        Acct {
            name: "supplier",
            algo: "secp256k1",
            coins: "100000000ustor,2000000000ucomp",
        },
        Acct {
            name: "renter",
            algo: "secp256k1",
            coins: "100000000ustor,1000000000ucomp,100000000uusdc",
        },
        Acct {
            name: "staker",
            algo: "ed25519",
            coins: "100000000ustor,1000000000ucomp",
        },
    ]);
    // Short liveness timings; no emission tick inside the test (so every ucomp that moves
    // is a lease's), prices as the module's defaults otherwise.
    let mut p = ComputeParams {
        offline_after: 75,
        ..Default::default()
    };
    p.emission.tick_seconds = 1_000_000_000;
    let gpath = net.home.join("config/genesis.json");
    let mut g: Value = serde_json::from_str(&std::fs::read_to_string(&gpath).unwrap()).unwrap();
    g["app_state"]["compute"] = json!({ "params": serde_json::to_value(&p).unwrap() });
    std::fs::write(&gpath, serde_json::to_string_pretty(&g).unwrap()).unwrap();
    net.start_processes();
    net.wait_height(2, Duration::from_secs(60));
    let q = Q {
        net: &net,
        rt: rt(),
    };
    let (supplier, renter, staker) = (net.addr("supplier"), net.addr("renter"), net.addr("staker"));

    // ---- two workers of one supplier (started one after the other: the owner signs both
    // registrations)
    let mut w1 = Worker::start(&net, "worker1", 1);
    let d1 = w1.wait_started();
    // Restarted on its home (and another port), it is the same device, its endpoint updated.
    w1.kill();
    let mut w1 = Worker::start(&net, "worker1", 2);
    assert_eq!(w1.wait_started(), d1, "{}", w1.log_text());
    assert!(!w1.log_text().contains("registered device"));
    let mut w2 = Worker::start(&net, "worker2", 1);
    let d2 = w2.wait_started();
    assert_ne!(d1, d2);
    for (d, w) in [(d1, &w1), (d2, &w2)] {
        let dev = q.device(d);
        assert_eq!(dev.owner, supplier);
        assert_eq!(dev.endpoint, format!("http://127.0.0.1:{}", w.port));
        assert_eq!((dev.gpu_model.as_str(), dev.gpu_count), ("CPU", 2));
        assert_eq!(
            amt(&dev.self_stake),
            400_000_000,
            "the formula's stake for 2 x CPU"
        );
        assert!(w.home.join("worker/keys.json").exists());
    }
    // Both come online on their first heartbeat.
    wait_for(Duration::from_secs(30), "both devices online", || {
        (q.device(d1).status == "online" && q.device(d2).status == "online").then_some(())
    });

    // ---- a staker backs device 2 (it then ranks first and takes 2 GPUs of the cluster)
    tx_msg(
        &net,
        "staker",
        json!({"@type": "/stoa.compute.v1.MsgStake", "staker": staker, "device_id": d2.to_string(), "amount": "100000000"}),
    );
    assert_eq!(q.stake_of(d2, &staker), 100_000_000);

    let rewards_acct = stoa_framework::module_address("compute_rewards").to_string();
    let buyback_acct = stoa_framework::module_address("compute_buyback").to_string();
    let r0 = net.grpc_all_balances(&renter);
    let s0 = net.grpc_all_balances(&supplier);
    let rw0 = net.grpc_all_balances(&rewards_acct);
    let bb0 = net.grpc_balance(&buyback_acct, "uusdc");
    let supply0 = net.grpc_supply();

    // ---- a 3-GPU cluster paying ucomp: device 2 (2 GPUs) and device 1 (1 GPU)
    let job = net.home.join("job.sh");
    std::fs::write(
        &job,
        "#!/bin/sh\necho \"lease $STOA_LEASE_ID job $STOA_JOB_ID: $(( 6 * 7 ))\"\necho working >&2\n",
    )
    .unwrap();
    let out1 = rent(
        &net,
        &job,
        &[
            "--gpus",
            "3",
            "--gpu-model",
            "CPU",
            "--max-price",
            &PRICE_UCOMP.to_string(),
            "--denom",
            "ucomp",
        ],
    );
    let l1 = out1["lease_id"].as_u64().unwrap();
    let mut devs: Vec<u64> = out1["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    devs.sort();
    assert_eq!(
        devs,
        vec![d1.min(d2), d1.max(d2)],
        "a cluster of both devices: {out1}"
    );
    let jobs1 = out1["jobs"].as_array().unwrap();
    assert_eq!(jobs1.len(), 2, "{out1}");
    for j in jobs1 {
        assert_eq!(j["status"], "succeeded", "{j}");
        assert_eq!(
            j["result"].as_str().unwrap(),
            format!("lease {l1} job {}: 42\n", j["job_id"]),
            "the decrypted result"
        );
        assert!(j["log"].as_str().unwrap().starts_with("working\n"), "{j}");
    }
    // The records on chain: hashes and sizes of the sealed bytes only.
    let rec1 = q.jobs(l1);
    assert_eq!(rec1.len(), 2);
    for r in &rec1 {
        let j = jobs1.iter().find(|j| j["job_id"] == r.job_id).unwrap();
        assert_eq!(r.status, "succeeded");
        assert_eq!(r.exit_code, 0);
        assert_eq!(
            hex::encode(&r.payload_hash),
            j["payload_hash"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(&r.result_hash),
            j["result_hash"].as_str().unwrap()
        );
        assert_eq!(r.log_hash.len(), 32);
        assert!(r.payload_size > 48);
        assert_eq!(j["device_id"].as_u64(), Some(r.device_id));
    }
    // The worker keeps only sealed bytes of the job.
    let w = if rec1[0].device_id == d1 { &w1 } else { &w2 };
    let sealed = std::fs::read(
        w.home
            .join(format!("worker/jobs/{l1}-{}/payload.box", rec1[0].job_id)),
    )
    .unwrap();
    assert!(!sealed.windows(11).any(|x| x == b"STOA_JOB_ID"));

    // Only the lease's renter starts jobs, and only on a device of the lease.
    let enc = q.device(d1).enc_key;
    let other = stoa_cmd::keyring::PrivKey::from_bytes(stoa_cmd::keyring::Algo::Secp256k1, [7; 32])
        .unwrap();
    for (device, code) in [(d1, 401), (d2, 400)] {
        let spec = seal::JobSpec {
            lease_id: l1,
            job_id: 9,
            device_id: device,
            reply_key: hex::encode([1u8; 32]),
            script: protocol::b64(b"echo pwned"),
            image: String::new(),
            timeout_s: 5,
        };
        let sealed = seal::seal_job(&enc, &spec).unwrap();
        let sig = other
            .sign(&protocol::upload_sign_bytes(
                l1,
                9,
                device,
                &seal::sha256(&sealed),
            ))
            .unwrap();
        let up = protocol::JobUpload {
            lease_id: l1,
            job_id: 9,
            device_id: device,
            payload: protocol::b64(&sealed),
            signature: protocol::b64(&sig),
        };
        let (status, body) = http_post(w1.port, "/v1/jobs", &serde_json::to_string(&up).unwrap());
        assert_eq!(status, code, "{body}");
    }
    assert_eq!(q.jobs(l1).len(), 2, "no job record for a refused upload");

    // ---- a 1-GPU lease paying uusdc: the cluster left one GPU free (on the device that
    // ranked second)
    let out2 = rent(
        &net,
        &job,
        &[
            "--gpus",
            "1",
            "--gpu-model",
            "CPU",
            "--max-price",
            &PRICE_UUSDC.to_string(),
            "--denom",
            "uusdc",
        ],
    );
    let l2 = out2["lease_id"].as_u64().unwrap();
    let free_dev = q
        .lease(l1)
        .parts
        .iter()
        .find(|p| p.gpu_count == 1)
        .unwrap()
        .device_id;
    assert_eq!(out2["devices"], json!([free_dev]), "{out2}");
    assert_eq!(out2["jobs"][0]["status"], "succeeded");
    assert_eq!(q.jobs(l2).len(), 1);

    // ---- both run out and settle
    let lease1 = wait_closed(&q, l1, Duration::from_secs(LEASE_S + 30));
    let lease2 = wait_closed(&q, l2, Duration::from_secs(LEASE_S + 30));
    net.wait_height(net.height().unwrap() + 1, Duration::from_secs(10));
    let r1 = net.grpc_all_balances(&renter);
    let s1 = net.grpc_all_balances(&supplier);
    let rw1 = net.grpc_all_balances(&rewards_acct);
    let bb1 = net.grpc_balance(&buyback_acct, "uusdc");
    let supply1 = net.grpc_supply();
    let get =
        |m: &std::collections::BTreeMap<String, u128>, d: &str| m.get(d).copied().unwrap_or(0);

    // ucomp: the renter paid the escrow plus 0.25%; it went to the owner, the stakers' pool
    // and the burn, to the unit.
    let e1 = escrow_of(&lease1);
    assert_eq!(e1, 3 * 1_000 * u128::from(LEASE_S), "3 GPUs x 1,000/s");
    let fee1 = amt(&lease1.renter_fee);
    assert_eq!(fee1, e1 * 25 / 10_000);
    let paid1: u128 = lease1.parts.iter().map(|p| amt(&p.paid)).sum();
    let refunded1: u128 = lease1.parts.iter().map(|p| amt(&p.refunded)).sum();
    assert_eq!(
        paid1 + refunded1,
        e1,
        "paid + refunded = escrow: {lease1:?}"
    );
    let renter_paid = get(&r0, "ucomp") - get(&r1, "ucomp");
    assert_eq!(renter_paid, e1 + fee1 - refunded1);
    let owner_income = get(&s1, "ucomp") - get(&s0, "ucomp");
    let stakers = get(&rw1, "ucomp") - get(&rw0, "ucomp");
    let burned = get(&supply0, "ucomp") - get(&supply1, "ucomp");
    assert!(stakers > 0 && owner_income > 0 && burned > fee1);
    assert_eq!(
        owner_income + stakers + burned,
        renter_paid,
        "ucomp: owner {owner_income} + stakers {stakers} + burned {burned} = renter paid {renter_paid}"
    );
    // the supplier's fee is 0.25% of each payout (rounded down per settlement)
    let supplier_fee = burned - fee1;
    assert!(supplier_fee <= paid1 * 25 / 10_000 && supplier_fee + 10 >= paid1 * 25 / 10_000);

    // uusdc: 2.25% each side, into the buyback pool (stakers only on device 2).
    let e2 = escrow_of(&lease2);
    assert_eq!(e2, 100 * u128::from(LEASE_S));
    let fee2 = amt(&lease2.renter_fee);
    assert_eq!(fee2, e2 * 225 / 10_000);
    let renter_paid2 = get(&r0, "uusdc") - get(&r1, "uusdc");
    let owner2 = get(&s1, "uusdc") - get(&s0, "uusdc");
    let pool = bb1 - bb0;
    let stakers2 = get(&rw1, "uusdc") - get(&rw0, "uusdc");
    assert_eq!(
        stakers2 == 0,
        free_dev == d1,
        "stakers paid only on device 2"
    );
    assert_eq!(
        owner2 + stakers2 + pool,
        renter_paid2,
        "uusdc: owner + stakers + buyback pool = renter paid"
    );
    assert_eq!(
        get(&supply0, "uusdc"),
        get(&supply1, "uusdc"),
        "no uusdc burned"
    );
    assert_eq!(amt(&q.buyback().pool), bb1);

    // The staker takes its share.
    let k0 = net.grpc_balance(&staker, "ucomp");
    tx_msg(
        &net,
        "staker",
        json!({"@type": "/stoa.compute.v1.MsgClaimRewards", "staker": staker, "device_id": d2.to_string()}),
    );
    let claimed = net.grpc_balance(&staker, "ucomp") - k0;
    assert!(
        claimed <= stakers && stakers - claimed <= 1,
        "claimed {claimed} of {stakers}"
    );

    // ---- the buyback: all of the pool bought for ucomp, which is burned
    let before = net.grpc_supply();
    let ru = net.grpc_balance(&renter, "uusdc");
    let fill = tx_msg(
        &net,
        "renter",
        json!({"@type": "/stoa.compute.v1.MsgFillBuyback", "buyer": renter, "amount": bb1.to_string(), "max_ucomp": "1000000000"}),
    );
    let after = net.grpc_supply();
    let burned_bb = get(&before, "ucomp") - get(&after, "ucomp");
    assert!(burned_bb > 0, "{fill}");
    let b = q.buyback();
    assert_eq!(amt(&b.pool), 0);
    assert_eq!(amt(&b.burned_total), burned_bb);
    assert_eq!(net.grpc_balance(&buyback_acct, "uusdc"), 0);
    assert_eq!(net.grpc_balance(&renter, "uusdc") - ru, bb1);
    // at most the start price, 10 ucomp per uusdc
    assert!(burned_bb <= 10 * bb1);
    eprintln!(
        "e2e_compute: leases and buyback done after {:?}",
        t0.elapsed()
    );

    // ---- a worker dies during a lease
    let dev2 = q.device(d2);
    let (self0, co0) = (amt(&dev2.self_stake), amt(&dev2.co_stake));
    let k_stake0 = q.stake_of(d2, &staker);
    let r_before = net.grpc_balance(&renter, "ucomp");
    tx_msg(
        &net,
        "renter",
        json!({"@type": "/stoa.compute.v1.MsgBookDevice", "renter": renter, "device_id": d2.to_string(),
               "gpu_count": 1, "duration_s": "600", "denom": "ucomp", "max_price": PRICE_UCOMP.to_string()}),
    );
    let lease3 = q.newest_lease_of(&renter);
    assert_eq!(
        (lease3.state.as_str(), lease3.parts[0].device_id),
        ("active", d2)
    );
    let l3 = lease3.id;
    // Kill it late in its heartbeat minute, so it goes offline soon after.
    wait_for(
        Duration::from_secs(70),
        "device 2's heartbeat to age",
        || {
            let last = q.device(d2).health.unwrap().last_heartbeat as u64;
            (now() >= last + 40).then_some(())
        },
    );
    w2.kill();
    let lease3 = wait_closed(&q, l3, Duration::from_secs(120));
    assert_eq!(lease3.close_reason, "device_offline");
    let dev2 = q.device(d2);
    assert_eq!(dev2.status, "offline");
    assert!(
        dev2.rank_key.is_empty(),
        "an offline device is out of the matching index"
    );
    let last = dev2.health.as_ref().unwrap().last_heartbeat;
    let part = &lease3.parts[0];
    let rate = amt(&part.rate_per_s);
    let paid3 = amt(&part.paid);
    // Paid up to its last proof of life: its last heartbeat, or a settlement the worker made
    // after it (settling pays up to that block); refunded from there.
    let stream =
        <stoa_framework::stream::Stream as prost::Message>::decode(part.stream.as_slice()).unwrap();
    let paid_until = stream.settled_at().unwrap();
    assert!(
        paid_until >= last && paid_until < lease3.closed_at,
        "{paid_until} {last} {lease3:?}"
    );
    assert_eq!(
        paid3,
        rate * u128::from((paid_until - lease3.created_at).max(0) as u64)
    );
    let escrow3 = rate * 600;
    assert_eq!(amt(&part.refunded), escrow3 - paid3);
    let fee3 = amt(&lease3.renter_fee);
    assert_eq!(
        r_before - net.grpc_balance(&renter, "ucomp"),
        escrow3 + fee3 - (escrow3 - paid3),
        "the renter is refunded pro rata"
    );
    // slashed 5%, the staker with it
    assert_eq!(amt(&dev2.self_stake), self0 - self0 * 500 / 10_000);
    assert_eq!(amt(&dev2.co_stake), co0 - co0 * 500 / 10_000);
    let k_stake1 = q.stake_of(d2, &staker);
    assert!(k_stake1 < k_stake0 && k_stake1 + k_stake0 * 500 / 10_000 + 1 >= k_stake0);

    // No longer matched: 3 GPUs need device 2 again; the order stays open.
    tx_msg(
        &net,
        "renter",
        json!({"@type": "/stoa.compute.v1.MsgCreateOrder", "renter": renter, "gpu_model": "CPU",
               "gpu_count": 3, "duration_s": "60", "max_price": PRICE_UCOMP.to_string(), "denom": "ucomp"}),
    );
    let h = net.height().unwrap();
    net.wait_height(h + 3, Duration::from_secs(20));
    let order = q.orders().into_iter().max_by_key(|o| o.id).unwrap();
    assert_eq!(order.state, "open", "{order:?}");
    assert!(q
        .devices()
        .iter()
        .any(|d| d.id == d1 && d.status == "online"));
    tx_msg(
        &net,
        "renter",
        json!({"@type": "/stoa.compute.v1.MsgCancelOrder", "renter": renter, "order_id": order.id.to_string()}),
    );
    // The surviving worker still heartbeats; its log shows the jobs it ran.
    assert!(w1.log_text().contains("\"event\":\"job_finished\""));
    eprintln!("e2e_compute: done after {:?}", t0.elapsed());
}
