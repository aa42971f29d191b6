// End to end against a real cometbft: SIGKILL stoad between blocks, restart it and cometbft; the chain resumes, no tx lost or applied twice, old app hashes unchanged.
mod common;

use common::*;
use std::time::Duration;

const FEE: u128 = 1000; // FEES = "1000ustor"
const ALICE0: u128 = 50_000_000;
const BOB0: u128 = 0;

struct Sent {
    hash: String,
    height: u64,
}

/// When in the block cycle stoad dies.
#[derive(Clone, Copy, Debug)]
enum CrashAt {
    /// The app has committed block h+1 (its ABCI Info says so) and CometBFT waits out
    /// timeout_commit (300ms) before the next proposal: between blocks.
    BetweenBlocks,
    /// CometBFT has just stored block h+1 (RPC height moved) and is still executing it:
    /// the app may not have committed it; CometBFT replays it on restart.
    BlockStored,
    /// Some time after block h+1 was stored: somewhere in the next cycle.
    After(Duration),
}

fn app_height(net: &Net) -> Option<u64> {
    let info = net.rpc("/abci_info").ok()?;
    info["response"]["last_block_height"].as_str()?.parse().ok()
}

/// Kill stoad at `at`; let cometbft halt; start both again; check the handshake put the app
/// back where the chain is. Returns a height reached after the restart.
fn crash_and_restart(net: &mut Net, app_hashes: &mut Vec<String>, at: CrashAt) -> u64 {
    // the headers CometBFT committed so far (block h+1's header holds the app hash of h),
    // read while it still runs: it stops itself soon after stoad dies
    let h = net.height().unwrap();
    for i in app_hashes.len() as u64 + 1..=h {
        app_hashes.push(net.block_app_hash(i));
    }
    let now = match at {
        CrashAt::BetweenBlocks => {
            let a = wait_for(Duration::from_secs(20), "the app to commit a block", || {
                app_height(net).filter(|a| *a > h)
            });
            // CometBFT saves its state right after Commit returns
            std::thread::sleep(Duration::from_millis(60));
            a
        }
        CrashAt::BlockStored => net.wait_height(h + 1, Duration::from_secs(20)),
        CrashAt::After(d) => {
            let x = net.wait_height(h + 1, Duration::from_secs(20));
            std::thread::sleep(d);
            x
        }
    };
    net.kill_stoad();
    // CometBFT 0.38 stops itself when its ABCI connections break; give it time, then make sure
    let halted = net.stop_cometbft(Duration::from_secs(5));
    eprintln!("e2e: killed stoad ({at:?}) at height {now}; cometbft halted by itself: {halted}");
    net.start_processes();
    let resumed = net.wait_height(now + 2, Duration::from_secs(60));
    // the app's Info matches the chain: its last height's app hash is in the next header
    let info = net.rpc("/abci_info").expect("abci_info");
    let app_h: u64 = info["response"]["last_block_height"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("last_block_height");
    assert!(
        app_h > now,
        "the app is at height {app_h} after the restart, not past the {now} of the crash"
    );
    let app_hash_b64 = info["response"]["last_block_app_hash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    net.wait_height(app_h + 1, Duration::from_secs(20));
    let next_header_hash = net.block_app_hash(app_h + 1);
    assert_eq!(
        b64_to_hex(&app_hash_b64),
        next_header_hash,
        "abci_info app hash at {app_h} = header {} app_hash",
        app_h + 1
    );
    resumed
}

fn b64_to_hex(s: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64 app hash");
    hex::encode_upper(bytes)
}

#[test]
fn sigkill_stoad_between_blocks_and_resume() {
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
    let mut sent: Vec<(Sent, u128)> = Vec::new();
    let mut app_hashes: Vec<String> = Vec::new();

    let send = |net: &Net, sent: &mut Vec<(Sent, u128)>, amount: u128| {
        let r = net.send_ok("alice", &bob, &format!("{amount}ustor"));
        sent.push((
            Sent {
                hash: r.txhash(),
                height: r.height(),
            },
            amount,
        ));
    };
    let supply0 = net.supply_without_block_rewards();
    let fees0 = net.balance(&fee_collector(), "ustor");
    let check_totals = |net: &Net, sent: &Vec<(Sent, u128)>| {
        let total: u128 = sent.iter().map(|(_, a)| a).sum();
        let n = sent.len() as u128;
        assert_eq!(
            net.balance(&alice, "ustor"),
            ALICE0 - total - n * FEE,
            "alice = genesis - amounts - fees"
        );
        assert_eq!(
            net.balance(&bob, "ustor"),
            BOB0 + total,
            "bob = sum of amounts"
        );
        assert_eq!(
            net.account(&alice).1,
            sent.len() as u64,
            "alice's sequence = txs sent"
        );
        assert_eq!(
            net.balance(&fee_collector(), "ustor"),
            fees0 + n * FEE,
            "fee collector = one fee per tx"
        );
        for (s, _) in sent {
            let q = net.query(&["tx", &s.hash]);
            assert_eq!(
                find_key(&q, "height").and_then(as_u64),
                Some(s.height),
                "tx {} kept its height: {q}",
                s.hash
            );
            assert_eq!(
                find_key(&q, "code").and_then(as_u64).unwrap_or(0),
                0,
                "tx {} kept code 0",
                s.hash
            );
        }
    };

    for amount in [1_000, 2_000, 3_000] {
        send(&net, &mut sent, amount);
    }

    // crash 1: right after a tx got into a block
    let resumed = crash_and_restart(&mut net, &mut app_hashes, CrashAt::BetweenBlocks);
    assert!(app_hashes.len() >= 3, "recorded headers before the crash");
    for (i, want) in app_hashes.iter().enumerate() {
        let h = i as u64 + 1;
        assert_eq!(
            &net.block_app_hash(h),
            want,
            "app_hash in header {h} changed across the restart"
        );
    }
    check_totals(&net, &sent);

    // the chain goes on: more txs, each applied once
    for amount in [4_000, 5_000] {
        send(&net, &mut sent, amount);
    }
    check_totals(&net, &sent);
    assert!(net.height().unwrap() > resumed);

    // crash 2: again, now with a longer history
    crash_and_restart(&mut net, &mut app_hashes, CrashAt::BetweenBlocks);
    for (i, want) in app_hashes.iter().enumerate() {
        let h = i as u64 + 1;
        assert_eq!(
            &net.block_app_hash(h),
            want,
            "app_hash in header {h} changed across the second restart"
        );
    }
    send(&net, &mut sent, 6_000);
    check_totals(&net, &sent);

    // crashes 3 and 4: while CometBFT executes a block, and later in a cycle; CometBFT
    // replays what the app had not committed
    for at in [
        CrashAt::BlockStored,
        CrashAt::After(Duration::from_millis(330)),
    ] {
        crash_and_restart(&mut net, &mut app_hashes, at);
        for (i, want) in app_hashes.iter().enumerate() {
            let h = i as u64 + 1;
            assert_eq!(
                &net.block_app_hash(h),
                want,
                "app_hash in header {h} changed (crash {at:?})"
            );
        }
        send(&net, &mut sent, 7_000);
        check_totals(&net, &sent);
    }

    // nothing was created or lost across the crashes
    assert_eq!(
        net.supply_without_block_rewards(),
        supply0,
        "supply unchanged (but block rewards)"
    );
}
