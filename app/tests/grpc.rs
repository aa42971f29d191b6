//! The gRPC server (tonic) on Cosmos SDK's service definitions, through Cosmos SDK's own
//! generated clients: bank and auth queries, Simulate, and the errors of what is not served.

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txpb;
use stoa_framework::Store;

#[test]
fn grpc_services_answer() {
    let alice = Key::secp(21);
    let bob = Key::ed(22).address();
    let app = new_app(Store::open_temporary().unwrap(), true);
    init(&app, &genesis_with(&[alice.address()]));
    run_block(&app, &[]);
    let (num, _) = account(&app, &alice.address()).unwrap();
    let tx = build_tx(
        &alice,
        &TxSpec::new(
            num,
            0,
            vec![msg_send(&alice.address(), &bob, &[(55, "ucomp")])],
        ),
    );
    run_block(&app, std::slice::from_ref(&tx));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Nothing listens on port 9 (discard): BroadcastTx must fail cleanly.
        tokio::spawn(stoa_app::grpc::serve_on(
            app.clone(),
            "http://127.0.0.1:9",
            listener,
        ));
        let url = format!("http://{addr}");

        let mut b = loop {
            match bank::query_client::QueryClient::connect(url.clone()).await {
                Ok(c) => break c,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        let r = b
            .balance(bank::QueryBalanceRequest {
                address: bob.to_string(),
                denom: "ucomp".into(),
            })
            .await
            .unwrap();
        assert_eq!(
            r.metadata()
                .get("x-cosmos-block-height")
                .unwrap()
                .to_str()
                .unwrap(),
            "2"
        );
        assert_eq!(r.into_inner().balance.unwrap().amount, "55");

        let all = b
            .all_balances(bank::QueryAllBalancesRequest {
                address: alice.address().to_string(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(all.balances.len(), 3);

        let supply = b
            .supply_of(bank::QuerySupplyOfRequest {
                denom: "ucomp".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            supply.amount.unwrap().amount,
            (500_000_000_000_000 + FUNDS).to_string()
        );
        assert!(!b
            .total_supply(bank::QueryTotalSupplyRequest::default())
            .await
            .unwrap()
            .into_inner()
            .supply
            .is_empty());

        // At an older height, through the metadata.
        let mut req = tonic::Request::new(bank::QueryBalanceRequest {
            address: bob.to_string(),
            denom: "ucomp".into(),
        });
        req.metadata_mut()
            .insert("x-cosmos-block-height", "1".parse().unwrap());
        assert_eq!(
            b.balance(req)
                .await
                .unwrap()
                .into_inner()
                .balance
                .unwrap()
                .amount,
            "0"
        );

        let bad = b
            .balance(bank::QueryBalanceRequest {
                address: "cosmos1xyz".into(),
                denom: "ucomp".into(),
            })
            .await;
        assert_eq!(bad.unwrap_err().code(), tonic::Code::InvalidArgument);
        // A 3 MB address comes back as an error of a few hundred bytes, not an echo.
        let huge = b
            .balance(bank::QueryBalanceRequest {
                address: "stoa1".to_string() + &"q".repeat(3_000_000),
                denom: "ucomp".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(huge.code(), tonic::Code::InvalidArgument);
        assert!(
            huge.message().len() < 1_000,
            "{} bytes",
            huge.message().len()
        );
        let unimpl = b
            .denom_owners(bank::QueryDenomOwnersRequest::default())
            .await;
        assert_eq!(unimpl.unwrap_err().code(), tonic::Code::Unimplemented);

        // A service no module of this app answers: UNIMPLEMENTED from the generic route.
        let mut template =
            stoa_proto::template::v1::query_client::QueryClient::connect(url.clone())
                .await
                .unwrap();
        let none = template
            .params(stoa_proto::template::v1::QueryParamsRequest {})
            .await
            .unwrap_err();
        assert_eq!(none.code(), tonic::Code::Unimplemented, "{none:?}");
        let mut bad_height = tonic::Request::new(bank::QueryBalanceRequest {
            address: bob.to_string(),
            denom: "ucomp".into(),
        });
        bad_height
            .metadata_mut()
            .insert("x-cosmos-block-height", "x".parse().unwrap());
        assert_eq!(
            b.balance(bad_height).await.unwrap_err().code(),
            tonic::Code::InvalidArgument
        );

        let mut a = auth::query_client::QueryClient::connect(url.clone())
            .await
            .unwrap();
        let acc = a
            .account(auth::QueryAccountRequest {
                address: alice.address().to_string(),
            })
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap();
        let base = <auth::BaseAccount as prost::Message>::decode(acc.value.as_slice()).unwrap();
        assert_eq!((base.account_number, base.sequence), (num, 1));
        assert!(base.pub_key.is_some(), "the key was stored by the first tx");
        let missing = a
            .account(auth::QueryAccountRequest {
                address: bob.to_string(),
            })
            .await;
        assert!(
            missing.is_ok(),
            "bob received coins, so bob's account exists"
        );
        let prefix = a
            .bech32_prefix(auth::Bech32PrefixRequest {})
            .await
            .unwrap()
            .into_inner();
        assert_eq!(prefix.bech32_prefix, "stoa");

        let mut t = txpb::service_client::ServiceClient::connect(url.clone())
            .await
            .unwrap();
        let next = build_tx(
            &alice,
            &TxSpec::new(
                num,
                1,
                vec![msg_send(&alice.address(), &bob, &[(5, "ucomp")])],
            ),
        );
        let sim = t
            .simulate(txpb::SimulateRequest {
                tx_bytes: next.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let gas = sim.gas_info.unwrap();
        assert!(
            gas.gas_used > 10_000 && gas.gas_wanted == 200_000,
            "{gas:?}"
        );
        assert!(sim
            .result
            .unwrap()
            .events
            .iter()
            .any(|e| e.r#type == "transfer"));
        // A simulated tx that would fail says why.
        let stale = build_tx(
            &alice,
            &TxSpec::new(
                num,
                0,
                vec![msg_send(&alice.address(), &bob, &[(5, "ucomp")])],
            ),
        );
        let err = t
            .simulate(txpb::SimulateRequest {
                tx_bytes: stale,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(
            err.message().contains("account sequence mismatch"),
            "{}",
            err.message()
        );

        let b_err = t
            .broadcast_tx(txpb::BroadcastTxRequest {
                tx_bytes: next,
                mode: txpb::BroadcastMode::Sync as i32,
            })
            .await
            .unwrap_err();
        assert_eq!(
            b_err.code(),
            tonic::Code::Unavailable,
            "{}",
            b_err.message()
        );
        let g_err = t
            .get_tx(txpb::GetTxRequest { hash: "zz".into() })
            .await
            .unwrap_err();
        assert_eq!(g_err.code(), tonic::Code::InvalidArgument);
    });
}
