// End to end against a real cometbft: send tokens with the CLI; see the balances change via the CLI, gRPC and abci_query with a verified proof.
mod common;

use common::*;
use std::time::Duration;

const FEE: u128 = 1000; // FEES = "1000ustor"

#[test]
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
    let minted_free0 = net.supply_without_block_rewards();
    let fees0 = net.balance(&fee_collector(), "ustor");
    // The two answer at their own heights: compare the denoms no block mints.
    let without_ustor = |mut s: std::collections::BTreeMap<String, u128>| {
        s.remove("ustor");
        s.remove("umind");
        s
    };
    assert_eq!(
        without_ustor(net.grpc_supply()),
        without_ustor(supply0.clone()),
        "gRPC TotalSupply = CLI supply"
    );

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

    // supply: sends move coins and fees go to the fee collector: nothing is created or lost
    // but the storage market's block rewards, which sit in its reward account
    assert_eq!(
        net.supply_without_block_rewards(),
        minted_free0,
        "supply unchanged by sends and fees"
    );
    assert_eq!(
        net.balance(&fee_collector(), "ustor"),
        fees0 + 3 * FEE,
        "the fee collector got exactly the three fees"
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
    proof::check_balance_proof(&net, &bob, "ustor", Some(20_000 + 12_345 - 345 - FEE));
    proof::check_balance_proof(&net, &carol, "uusdc", Some(777));
    proof::check_balance_proof(&net, &bob, "uusdc", None);

    // the chain keeps going
    let h = net.height().unwrap();
    net.wait_height(h + 2, Duration::from_secs(20));
}

mod proof {
    use super::*;
    use base64::Engine;
    use tendermint_proto::v0_38::crypto::{ProofOp, ProofOps};

    fn b64(v: &serde_json::Value) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or(""))
            .expect("base64 in abci_query response")
    }

    /// The bank's store key of a balance: `bank/bal/` + raw 20-byte address + denom
    /// (modules/bank/src/state_key.rs).
    pub fn balance_key(addr: &str, denom: &str) -> Vec<u8> {
        let id: cosmrs::AccountId = addr.parse().expect("bech32 address");
        [b"bank/bal/".as_slice(), &id.to_bytes(), denom.as_bytes()].concat()
    }

    /// abci_query `/store/bank/key` through CometBFT RPC with prove=true; verify the proof with
    /// stoa_app::proof::verify_abci_proof against the app_hash CometBFT committed for that
    /// height (in the header of the next block). `want` None: prove the balance is absent.
    pub fn check_balance_proof(net: &Net, addr: &str, denom: &str, want: Option<u128>) {
        let key = balance_key(addr, denom);
        let path = format!(
            "/abci_query?path={}&data=0x{}&prove=true",
            urlencode("\"/store/bank/key\""),
            hex::encode(&key)
        );
        let res = net.rpc(&path).expect("abci_query");
        let resp = &res["response"];
        assert_eq!(
            resp["code"].as_u64().unwrap_or(0),
            0,
            "abci_query failed: {resp}"
        );
        let height: u64 = resp["height"]
            .as_str()
            .and_then(|h| h.parse().ok())
            .expect("response height");
        let value = b64(&resp["value"]);
        match want {
            Some(amount) => assert_eq!(
                value,
                amount.to_be_bytes().to_vec(),
                "proved value = u128 BE {amount}"
            ),
            None => assert!(value.is_empty(), "absent balance has an empty value"),
        }
        let ops: Vec<ProofOp> = resp["proofOps"]["ops"]
            .as_array()
            .unwrap_or_else(|| panic!("no proofOps in {resp}"))
            .iter()
            .map(|op| ProofOp {
                r#type: op["type"].as_str().unwrap_or("").to_string(),
                key: b64(&op["key"]),
                data: b64(&op["data"]),
            })
            .collect();
        let proof = ProofOps { ops };
        // the app hash of version `height` is in block height+1's header
        net.wait_height(height + 1, Duration::from_secs(20));
        let app_hash = hex::decode(net.block_app_hash(height + 1)).expect("hex app hash");
        let v = want.map(|a| a.to_be_bytes().to_vec());
        assert!(
            stoa_app::proof::verify_abci_proof(&app_hash, &key, v.as_deref(), &proof),
            "proof of {addr}/{denom} at height {height} does not verify against header {} app_hash",
            height + 1
        );
        // and it must not verify a different value, or against another block's app hash
        let wrong = 1u128.to_be_bytes().to_vec();
        assert!(
            !stoa_app::proof::verify_abci_proof(&app_hash, &key, Some(&wrong), &proof),
            "proof also verifies a wrong value"
        );
        let other = hex::decode(net.block_app_hash(1)).expect("hex app hash");
        if other != app_hash {
            assert!(
                !stoa_app::proof::verify_abci_proof(&other, &key, v.as_deref(), &proof),
                "proof verifies against an unrelated app hash"
            );
        }
    }
}
