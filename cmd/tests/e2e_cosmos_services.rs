// End to end against a real cometbft: the standard Cosmos node services over gRPC
// (cosmos.base.tendermint.v1beta1.Service, cosmos.base.node.v1beta1.Service/Config, auth
// AccountInfo, tx GetTx / GetTxsEvent / GetBlockWithTxs / BroadcastTx of a duplicate) with the
// error shapes clients expect, and `--gas auto --gas-adjustment 1.0` sends that do not run out
// of gas.
mod common;

use common::*;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::base::node::v1beta1 as nodepb;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1 as tmpb;
use std::time::Duration;

#[test]
fn node_services_and_gas_auto() {
    let net = Net::start(&[
        Acct {
            name: "alice",
            algo: "secp256k1",
            coins: "1000000000ustor",
        },
        Acct {
            name: "eddie",
            algo: "ed25519",
            coins: "1000000000ustor",
        },
        Acct {
            name: "bob",
            algo: "secp256k1",
            coins: "",
        },
    ]);
    let bob = net.addr("bob");
    net.wait_height(2, Duration::from_secs(30));

    // --gas auto with no headroom: the simulation is exact, so the tx lands.
    let mut sent = Vec::new();
    for from in ["alice", "eddie"] {
        let r = net.send(
            from,
            &bob,
            "12345ustor",
            "1000ustor",
            &["--gas", "auto", "--gas-adjustment", "1.0"],
        );
        assert!(r.exit_ok && r.code() == 0, "gas auto send by {from}: {r:?}");
        let wanted = find_key(&r.json, "gas_wanted").and_then(as_u64).unwrap();
        assert!(r.gas_used() <= wanted, "{r:?}");
        sent.push((r.txhash(), r.height()));
    }
    let alice = net.addr("alice");

    grpcurl_checks(&net, &sent[0].0);

    let url = net.grpc_url();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let mut tm = tmpb::service_client::ServiceClient::connect(url.clone())
                .await
                .unwrap();
            let latest = tm
                .get_latest_block(tmpb::GetLatestBlockRequest {})
                .await
                .unwrap()
                .into_inner();
            let header = latest.sdk_block.unwrap().header.unwrap();
            assert!(header.height >= 2, "{header:?}");
            assert_eq!(header.chain_id, CHAIN_ID);
            assert!(
                header.proposer_address.starts_with("stoavalcons1"),
                "{header:?}"
            );
            assert!(latest.block_id.is_some());

            let info = tm
                .get_node_info(tmpb::GetNodeInfoRequest {})
                .await
                .unwrap()
                .into_inner();
            assert_eq!(info.default_node_info.unwrap().network, CHAIN_ID);
            assert_eq!(info.application_version.unwrap().app_name, "stoad");
            let syncing = tm.get_syncing(tmpb::GetSyncingRequest {}).await.unwrap();
            assert!(!syncing.into_inner().syncing);

            let one = tm
                .get_block_by_height(tmpb::GetBlockByHeightRequest { height: 1 })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(one.sdk_block.unwrap().header.unwrap().height, 1);
            let e = tm
                .get_block_by_height(tmpb::GetBlockByHeightRequest {
                    height: 1_000_000_000,
                })
                .await
                .unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");

            let vals = tm
                .get_latest_validator_set(tmpb::GetLatestValidatorSetRequest::default())
                .await
                .unwrap()
                .into_inner();
            assert_eq!(vals.validators.len(), 1, "{vals:?}");
            assert!(vals.validators[0].address.starts_with("stoavalcons1"));
            assert!(vals.validators[0].voting_power > 0);
            let at1 = tm
                .get_validator_set_by_height(tmpb::GetValidatorSetByHeightRequest {
                    height: 1,
                    pagination: None,
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(at1.block_height, 1);

            // ABCIQuery through the service: the app answers, with its codes.
            let q = tm
                .abci_query(tmpb::AbciQueryRequest {
                    path: "/cosmos.auth.v1beta1.Query/Account".into(),
                    data: prost::Message::encode_to_vec(&auth::QueryAccountRequest {
                        address: net_fresh(),
                    }),
                    height: 0,
                    prove: false,
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!((q.codespace.as_str(), q.code), ("sdk", 38), "{q:?}");

            // The tx service: GetTx by a lower-case hash, GetTxsEvent with the SDK's query
            // syntax, GetBlockWithTxs, and a resent tx answered with code 19.
            use cosmos_sdk_proto::cosmos::tx::v1beta1 as txpb;
            let mut tx = txpb::service_client::ServiceClient::connect(url.clone())
                .await
                .unwrap();
            let (hash, height) = sent[0].clone();
            let got = tx
                .get_tx(txpb::GetTxRequest {
                    hash: hash.to_lowercase(),
                })
                .await
                .unwrap()
                .into_inner();
            let resp = got.tx_response.unwrap();
            assert_eq!((resp.txhash.as_str(), resp.code), (hash.as_str(), 0));
            assert!(!resp.timestamp.is_empty());
            let found = tx
                .get_txs_event(txpb::GetTxsEventRequest {
                    query: format!("message.sender='{alice}'"),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(found.total, 1, "{found:?}");
            assert_eq!(found.tx_responses[0].txhash, hash);
            let e = tx
                .get_txs_event(txpb::GetTxsEventRequest::default())
                .await
                .unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
            let block = tx
                .get_block_with_txs(txpb::GetBlockWithTxsRequest {
                    height: height as i64,
                    pagination: None,
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(block.txs.len(), 1, "{block:?}");
            assert_eq!(
                block.txs[0].body.as_ref().unwrap().messages[0].type_url,
                "/cosmos.bank.v1beta1.MsgSend"
            );
            let raw = tx
                .tx_encode(txpb::TxEncodeRequest { tx: got.tx })
                .await
                .unwrap()
                .into_inner()
                .tx_bytes;
            let again = tx
                .broadcast_tx(txpb::BroadcastTxRequest {
                    tx_bytes: raw,
                    mode: txpb::BroadcastMode::Sync as i32,
                })
                .await
                .unwrap()
                .into_inner()
                .tx_response
                .unwrap();
            assert_eq!(
                (again.code, again.txhash.as_str()),
                (19, hash.as_str()),
                "{again:?}"
            );

            let mut node = nodepb::service_client::ServiceClient::connect(url.clone())
                .await
                .unwrap();
            let cfg = node
                .config(nodepb::ConfigRequest {})
                .await
                .unwrap()
                .into_inner();
            assert!(cfg.minimum_gas_price.contains("ustor"), "{cfg:?}");

            let mut a = auth::query_client::QueryClient::connect(url).await.unwrap();
            let e = a
                .account_info(auth::QueryAccountInfoRequest {
                    address: net_fresh(),
                })
                .await
                .unwrap_err();
            assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        });
}

/// grpcurl (where installed: `testnet/install-grpcurl.sh`) lists the services by reflection and
/// decodes a MsgSend inside GetTx's answer, which needs every message type in reflection.
fn grpcurl_checks(net: &Net, hash: &str) {
    let home = std::env::var("HOME").unwrap_or_default();
    let found = ["grpcurl".to_string(), format!("{home}/go/bin/grpcurl")]
        .into_iter()
        .find(|c| {
            std::process::Command::new(c)
                .arg("-version")
                .output()
                .is_ok()
        });
    let Some(grpcurl) = found else {
        eprintln!("grpcurl not installed (testnet/install-grpcurl.sh): its checks skipped");
        return;
    };
    let addr = net.grpc_url().trim_start_matches("http://").to_string();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&grpcurl)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "grpcurl {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let list = run(&["-plaintext", &addr, "list"]);
    for svc in [
        "cosmos.tx.v1beta1.Service",
        "cosmos.bank.v1beta1.Query",
        "cosmos.auth.v1beta1.Query",
    ] {
        assert!(list.contains(svc), "{list}");
    }
    let body = format!("{{\"hash\":\"{}\"}}", hash.to_lowercase());
    let tx = run(&[
        "-plaintext",
        "-d",
        &body,
        &addr,
        "cosmos.tx.v1beta1.Service/GetTx",
    ]);
    assert!(tx.contains("/cosmos.bank.v1beta1.MsgSend"), "{tx}");
    assert!(
        tx.contains("fromAddress"),
        "grpcurl decoded the MsgSend: {tx}"
    );
}

/// An address no one has used.
fn net_fresh() -> String {
    "stoa1qyqszqgpqyqszqgpqyqszqgpqyqszqgpuc0td9".into()
}
