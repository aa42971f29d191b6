// End to end against a real cometbft: the standard Cosmos node services over gRPC
// (cosmos.base.tendermint.v1beta1.Service, cosmos.base.node.v1beta1.Service/Config, auth
// AccountInfo) with the error shapes clients expect, and `--gas auto --gas-adjustment 1.0`
// sends that do not run out of gas.
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
    }

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

/// An address no one has used.
fn net_fresh() -> String {
    "stoa1qyqszqgpqyqszqgpqyqszqgpqyqszqgpuc0td9".into()
}
