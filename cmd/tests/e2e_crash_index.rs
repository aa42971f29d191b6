// End to end against a real cometbft (issue 13 point 2): SIGKILL stoad right after CometBFT stores a block holding a tx, again and again; afterwards every tx the chain executed is found by hash through CometBFT RPC /tx, `stoad query tx`, gRPC GetTx and the CLI's wait, and no tx that did not execute is.
mod common;

use common::*;
use std::time::{Duration, Instant};

/// Polls the RPC height every 2 ms (the shared `wait_height` polls every 100 ms), so the kill
/// lands within a few ms of the block being stored.
fn wait_height_fast(net: &Net, above: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(h) = net.height().filter(|h| *h > above) {
            return h;
        }
        assert!(Instant::now() < deadline, "height never passed {above}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn grpc_get_tx(net: &Net, hash: &str) -> Result<i64, String> {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{service_client::ServiceClient, GetTxRequest};
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut c = ServiceClient::connect(net.grpc_url())
                .await
                .map_err(|e| e.to_string())?;
            let r = c
                .get_tx(GetTxRequest { hash: hash.into() })
                .await
                .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
            Ok(r.into_inner().tx_response.map(|t| t.height).unwrap_or(0))
        })
}

fn cli_wait(net: &Net, hash: &str) -> Result<u64, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let rpc = tendermint_rpc::HttpClient::new(net.rpc_url().as_str())
                .map_err(|e| e.to_string())?;
            stoa_cmd::commands::tx::wait_for_tx(&rpc, &net.rpc_url(), hash, Duration::from_secs(3))
                .await
                .map(|r| r.height.value())
                .map_err(|e| format!("{e:#}"))
        })
}

#[test]
fn every_executed_tx_is_found_by_hash_after_sigkills() {
    let mut net = Net::start(&[
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "50000000ustor",
        },
        Acct {
            name: "bob",
            algo: "ed25519",
            coins: "",
        },
    ]);
    let (alice, bob) = (net.addr("alice"), net.addr("bob"));
    // (hash, the sequence it was signed with)
    let mut sent: Vec<(String, u64)> = Vec::new();
    // Kill offsets after the block is stored: inside FinalizeBlock, around Commit, and in the
    // window where the app has committed and CometBFT's async indexer has not run yet.
    let offsets_ms = [0u64, 3, 6, 9, 12, 15, 20, 30];
    for ms in offsets_ms {
        let (_, seq) = net.account(&alice);
        let h0 = net.height().unwrap();
        // A memo per round: a tx lost with the mempool is re-signed with the same sequence in
        // the next round, and without it the two would be the same bytes and the same hash.
        let memo = format!("round {ms}");
        let r = net.send(
            "alice",
            &bob,
            "1000ustor",
            FEES,
            &["--no-wait", "--memo", &memo],
        );
        assert!(r.exit_ok && r.code() == 0, "broadcast failed: {r:?}");
        sent.push((r.txhash(), seq));
        let stored = wait_height_fast(&net, h0, Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(ms));
        net.kill_stoad();
        let halted = net.stop_cometbft(Duration::from_secs(5));
        eprintln!("e2e: killed stoad {ms} ms after block {stored} was stored; cometbft halted by itself: {halted}");
        net.start_processes();
        net.wait_height(stored + 2, Duration::from_secs(60));
    }

    // Which txs executed: alice's sequence counts them; a sequence signed twice means the
    // first tx was lost (a mempool does not survive a restart) before the second was signed.
    let (_, final_seq) = net.account(&alice);
    assert!(final_seq > 0, "no tx executed at all");
    let mut executed = Vec::new();
    let mut lost = Vec::new();
    for (i, (hash, seq)) in sent.iter().enumerate() {
        let resigned = sent[i + 1..].iter().any(|(_, s)| s == seq);
        if *seq < final_seq && !resigned {
            executed.push(hash.clone());
        } else {
            lost.push(hash.clone());
        }
    }
    assert_eq!(executed.len() as u64, final_seq);
    eprintln!(
        "e2e: {} txs executed, {} lost with the mempool",
        executed.len(),
        lost.len()
    );
    for hash in &executed {
        let rpc = net
            .rpc_tx(hash)
            .unwrap_or_else(|e| panic!("CometBFT /tx {hash}: {e}"));
        let height: u64 = rpc["height"].as_str().unwrap().parse().unwrap();
        let q = net.query(&["tx", hash]);
        assert_eq!(
            find_key(&q, "height").and_then(as_u64),
            Some(height),
            "stoad query tx {hash}: {q}"
        );
        assert_eq!(
            grpc_get_tx(&net, hash),
            Ok(height as i64),
            "gRPC GetTx {hash}"
        );
        assert_eq!(
            cli_wait(&net, hash),
            Ok(height),
            "the CLI's wait for {hash}"
        );
    }
    for hash in &lost {
        assert!(
            net.rpc_tx(hash).is_err(),
            "tx {hash} found but never executed"
        );
    }
    // Each restart re-indexed the last blocks before serving (stoad start's crash recovery).
    let logs: String = std::fs::read_dir(net.home_str())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("stoad."))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    let reindexed = logs.matches("re-indexed the last blocks").count();
    assert!(
        reindexed >= offsets_ms.len(),
        "{reindexed} re-indexes logged for {} restarts",
        offsets_ms.len()
    );
    assert!(!logs.contains("reindex-event failed"), "a re-index failed");
    // Funds moved exactly once per executed tx.
    assert_eq!(net.balance(&bob, "ustor"), 1000 * final_seq as u128);
}
