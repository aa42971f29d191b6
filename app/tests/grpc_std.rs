//! The standard Cosmos services over real gRPC, with the error shapes clients expect:
//! `cosmos.auth.v1beta1.Query/{Params, AccountInfo, Account}` (a fresh address is `NotFound`,
//! which cosmjs's `getAccount` reads as null), `cosmos.bank.v1beta1.Query/{DenomMetadata,
//! DenomsMetadata, SpendableBalances, SendEnabled}`, `cosmos.tx.v1beta1.Service/{TxDecode,
//! TxEncode}` (bad bytes are `InvalidArgument`), and the Cosmos SDK's codes for txs CometBFT's
//! mempool refuses.

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txpb;
use prost::Message;
use stoa_framework::Store;

#[test]
fn auth_and_tx_codec_services_answer_with_the_sdk_shapes() {
    let alice = Key::secp(51);
    let bob = Key::ed(52).address();
    let app = new_app(Store::open_temporary().unwrap(), true);
    init(&app, &genesis_with(&[alice.address()]));
    run_block(&app, &[]);
    let (num, _) = account(&app, &alice.address()).unwrap();
    let tx = build_tx(
        &alice,
        &TxSpec::new(
            num,
            0,
            vec![msg_send(&alice.address(), &bob, &[(5, "ucomp")])],
        ),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(stoa_app::grpc::serve_on(
            app.clone(),
            "http://127.0.0.1:9",
            listener,
        ));
        let url = format!("http://{addr}");
        let mut a = loop {
            match auth::query_client::QueryClient::connect(url.clone()).await {
                Ok(c) => break c,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };

        // Params: the tx params under the SDK's names.
        let p = a
            .params(auth::QueryParamsRequest {})
            .await
            .unwrap()
            .into_inner()
            .params
            .unwrap();
        assert_eq!(
            (
                p.max_memo_characters,
                p.tx_sig_limit,
                p.tx_size_cost_per_byte
            ),
            (256, 7, 10)
        );
        assert_eq!(
            (p.sig_verify_cost_secp256k1, p.sig_verify_cost_ed25519),
            (1000, 590)
        );

        // AccountInfo of a funded account; NotFound for a fresh one (Account too).
        let info = a
            .account_info(auth::QueryAccountInfoRequest {
                address: alice.address().to_string(),
            })
            .await
            .unwrap()
            .into_inner()
            .info
            .unwrap();
        assert_eq!(
            (info.address, info.account_number),
            (alice.address().to_string(), num)
        );
        let fresh = Key::secp(53).address().to_string();
        let e = a
            .account_info(auth::QueryAccountInfoRequest {
                address: fresh.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        let e = a
            .account(auth::QueryAccountRequest { address: fresh })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        let e = a
            .account(auth::QueryAccountRequest {
                address: "not-an-address".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");

        // Bank: denom metadata from the bank's genesis, spendable balances, send enabled.
        use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
        let mut b = bank::query_client::QueryClient::connect(url.clone())
            .await
            .unwrap();
        let m = b
            .denom_metadata(bank::QueryDenomMetadataRequest {
                denom: "ustor".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .metadata
            .unwrap();
        assert_eq!((m.base.as_str(), m.display.as_str()), ("ustor", "stor"));
        assert_eq!(m.denom_units[1].exponent, 6);
        let all = b
            .denoms_metadata(bank::QueryDenomsMetadataRequest::default())
            .await
            .unwrap()
            .into_inner()
            .metadatas;
        let bases: Vec<&str> = all.iter().map(|m| m.base.as_str()).collect();
        for d in ["ustor", "ucomp", "umind", "uusdc"] {
            assert!(bases.contains(&d), "{bases:?}");
        }
        let e = b
            .denom_metadata(bank::QueryDenomMetadataRequest {
                denom: "unope".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        let spendable = b
            .spendable_balances(bank::QuerySpendableBalancesRequest {
                address: alice.address().to_string(),
                pagination: None,
            })
            .await
            .unwrap()
            .into_inner()
            .balances;
        assert_eq!(spendable.len(), 3, "{spendable:?}");
        let se = b
            .send_enabled(bank::QuerySendEnabledRequest {
                denoms: vec!["ustor".into(), "unope".into()],
                pagination: None,
            })
            .await
            .unwrap()
            .into_inner()
            .send_enabled;
        assert_eq!(
            se.iter().map(|s| s.enabled).collect::<Vec<_>>(),
            vec![true, false]
        );

        // TxDecode and TxEncode round-trip a tx; garbage is InvalidArgument.
        let mut t = txpb::service_client::ServiceClient::connect(url.clone())
            .await
            .unwrap();
        let decoded = t
            .tx_decode(txpb::TxDecodeRequest {
                tx_bytes: tx.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .tx
            .unwrap();
        let body = decoded.body.clone().unwrap();
        assert_eq!(body.messages[0].type_url, "/cosmos.bank.v1beta1.MsgSend");
        assert_eq!(decoded.signatures.len(), 1);
        let encoded = t
            .tx_encode(txpb::TxEncodeRequest { tx: Some(decoded) })
            .await
            .unwrap()
            .into_inner()
            .tx_bytes;
        assert_eq!(encoded, tx);
        let e = t
            .tx_decode(txpb::TxDecodeRequest {
                tx_bytes: b"\xff\xff not a tx".to_vec(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        let e = t
            .tx_encode(txpb::TxEncodeRequest { tx: None })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        // The decoded tx is the one the chain decodes.
        assert_eq!(
            txpb::TxRaw::decode(encoded.as_slice())
                .unwrap()
                .signatures
                .len(),
            1
        );
    });
}

#[test]
fn mempool_refusals_get_the_sdk_codes() {
    use stoa_app::grpc::comet_refusal;
    assert_eq!(
        comet_refusal("Internal error: tx already exists in cache (code -32603)"),
        Some((19, "tx already in mempool"))
    );
    assert_eq!(
        comet_refusal("mempool is full: number of txs 5000"),
        Some((20, "mempool is full"))
    );
    assert_eq!(
        comet_refusal("Tx too large. Max size is 1048576"),
        Some((21, "tx too large"))
    );
    assert_eq!(comet_refusal("connection refused"), None);
}
