// End to end against a real cometbft: send tokens with the CLI; see the balances change via the CLI, gRPC and abci_query with a verified proof.
mod common;

use common::*;
use std::time::Duration;

const FEE: u128 = 1000; // FEES = "1000ustor"

#[test]
#[ignore = "waiting for the stoad CLI and the ABCI app to land"]
fn send_and_see_balances_everywhere() {
    let net = Net::start(&[
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "1000000000ustor,5000000uusdc",
        },
        Acct {
            name: "bob",
            algo: "ed25519",
            coins: "20000ustor",
        },
        Acct {
            name: "carol",
            algo: "secp256k1",
            coins: "",
        },
    ]);
    let (alice, bob, carol) = (net.addr("alice"), net.addr("bob"), net.addr("carol"));

    // genesis balances, the same through the CLI and gRPC
    let a0 = net.balances(&alice);
    let b0 = net.balances(&bob);
    assert_eq!(
        a0.get("ustor"),
        Some(&1_000_000_000),
        "alice's genesis ustor: {a0:?}"
    );
    assert_eq!(
        a0.get("uusdc"),
        Some(&5_000_000),
        "alice's genesis uusdc: {a0:?}"
    );
    assert_eq!(
        b0.get("ustor"),
        Some(&20_000),
        "bob's genesis ustor: {b0:?}"
    );
    assert_eq!(
        net.grpc_all_balances(&alice),
        a0,
        "gRPC AllBalances = CLI balances (alice, genesis)"
    );
    assert!(
        net.balances(&carol).is_empty(),
        "carol has no genesis account"
    );
    let supply0 = net.supply();
    assert_eq!(net.grpc_supply(), supply0, "gRPC TotalSupply = CLI supply");

    // alice (secp256k1) -> bob
    let r = net.send_ok("alice", &bob, "12345ustor");
    assert!(r.gas_used() > 0, "gas_used reported: {r:?}");
    assert_eq!(r.txhash().len(), 64, "txhash is 32 bytes hex: {r:?}");
    let h1 = r.height();

    let a1 = net.balances(&alice);
    let b1 = net.balances(&bob);
    assert_eq!(
        a1["ustor"],
        1_000_000_000 - 12_345 - FEE,
        "alice pays amount + fee"
    );
    assert_eq!(a1["uusdc"], 5_000_000);
    assert_eq!(b1["ustor"], 20_000 + 12_345, "bob receives the amount");

    // the same through gRPC
    assert_eq!(net.grpc_balance(&alice, "ustor"), a1["ustor"]);
    assert_eq!(net.grpc_balance(&bob, "ustor"), b1["ustor"]);
    assert_eq!(net.grpc_balance(&bob, "uusdc"), 0);
    assert_eq!(net.grpc_all_balances(&bob), b1);
    let acc = net.grpc_account(&alice);
    assert_eq!(acc.address, alice);
    assert_eq!(acc.sequence, 1, "alice signed one tx");
    assert!(
        acc.pub_key.is_some(),
        "alice's pubkey is stored after her first tx"
    );
    assert_eq!(net.account(&alice).1, 1, "CLI auth account sequence");

    // the tx can be looked up: the CLI and CometBFT RPC agree on height and code
    let q = net.query(&["tx", &r.txhash()]);
    assert_eq!(
        find_key(&q, "height").and_then(as_u64),
        Some(h1),
        "query tx height: {q}"
    );
    assert_eq!(
        find_key(&q, "code").and_then(as_u64).unwrap_or(0),
        0,
        "query tx code: {q}"
    );
    let t = net.rpc_tx(&r.txhash()).expect("CometBFT /tx");
    assert_eq!(
        t["height"].as_str().and_then(|h| h.parse::<u64>().ok()),
        Some(h1)
    );
    assert_eq!(t["tx_result"]["code"].as_u64().unwrap_or(0), 0);

    // bob (ed25519) -> alice, and alice -> carol (a new account) in another denom
    net.send_ok("bob", &alice, "345ustor");
    net.send_ok("alice", &carol, "777uusdc");
    assert_eq!(net.balance(&bob, "ustor"), 20_000 + 12_345 - 345 - FEE);
    assert_eq!(
        net.balance(&alice, "ustor"),
        1_000_000_000 - 12_345 - FEE + 345 - FEE
    );
    assert_eq!(net.balance(&alice, "uusdc"), 5_000_000 - 777);
    assert_eq!(net.balance(&carol, "uusdc"), 777);
    assert_eq!(net.grpc_balance(&carol, "uusdc"), 777);
    assert_eq!(net.grpc_account(&bob).sequence, 1);

    // supply: sends move coins, fees go to the fee collector (or are burnt): nothing is created
    let supply1 = net.supply();
    assert_eq!(
        supply1.get("uusdc"),
        supply0.get("uusdc"),
        "uusdc supply unchanged"
    );
    let s0 = supply0["ustor"];
    let s1 = supply1["ustor"];
    assert!(
        s1 == s0 || s1 == s0 - 3 * FEE,
        "ustor supply {s0} -> {s1}: only fees may leave it"
    );

    // abci_query with a proof, verified by the CLI...
    let proved = net.query(&["bank", "balances", &bob, "--denom", "ustor", "--prove"]);
    let coins = coins_of(&proved);
    assert_eq!(
        coins.get("ustor").copied(),
        Some(20_000 + 12_345 - 345 - FEE),
        "proved balance: {proved}"
    );
    // ...and checked here against the app_hash of a CometBFT header
    proof::check_balance_proof(&net, &bob, "ustor", 20_000 + 12_345 - 345 - FEE);

    // the chain keeps going
    let h = net.height().unwrap();
    net.wait_height(h + 2, Duration::from_secs(20));
}

mod proof {
    use super::*;

    /// abci_query through CometBFT RPC with prove=true; verify the returned proof with
    /// stoa_app::proof::verify_abci_proof against the app_hash CometBFT committed for that height.
    pub fn check_balance_proof(net: &Net, addr: &str, denom: &str, want: u128) {
        let _ = (net, addr, denom, want);
        // filled in once the app's store paths land (see report)
    }
}
