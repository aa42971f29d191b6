//! The app behind the real ABCI socket protocol (tendermint-abci's server and blocking client,
//! as CometBFT's proxy_app talks to it): genesis, a signed send through CheckTx, FinalizeBlock
//! and Commit, Info, and a query, each over the wire.

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use prost::Message;
use stoa_framework::Store;
use tendermint_abci::{ClientBuilder, ServerBuilder};
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{
    RequestCheckTx, RequestEcho, RequestInfo, RequestInitChain, RequestQuery,
};

#[test]
fn a_block_over_the_socket() {
    let alice = Key::ed(7);
    let bob = Key::secp(8).address();
    let app = new_app(Store::open_temporary().unwrap(), true);
    let server = ServerBuilder::default().bind("127.0.0.1:0", app).unwrap();
    let addr = server.local_addr();
    std::thread::spawn(move || {
        let _ = server.listen();
    });

    // CometBFT opens one connection per purpose; so do we.
    let mut consensus = ClientBuilder::default().connect(&addr).unwrap();
    let mut mempool = ClientBuilder::default().connect(&addr).unwrap();
    let mut query = ClientBuilder::default().connect(&addr).unwrap();

    assert_eq!(
        consensus
            .echo(RequestEcho {
                message: "hi".into()
            })
            .unwrap()
            .message,
        "hi"
    );
    let info = query.info(RequestInfo::default()).unwrap();
    assert_eq!(info.last_block_height, 0);
    assert!(info.last_block_app_hash.is_empty());

    let genesis = genesis_with(&[alice.address()]);
    let init = consensus
        .init_chain(RequestInitChain {
            time: Some(Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            chain_id: CHAIN_ID.into(),
            app_state_bytes: serde_json::to_vec(&genesis).unwrap().into(),
            initial_height: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(init.app_hash.len(), 32);
    consensus.finalize_block(block_request(1, &[])).unwrap();
    consensus.commit().unwrap();

    // Account numbers: reserve and fee collector... read it instead of guessing.
    let num = {
        use cosmos_sdk_proto::cosmos::auth::v1beta1::{
            BaseAccount, QueryAccountRequest, QueryAccountResponse,
        };
        let r = query
            .query(RequestQuery {
                data: QueryAccountRequest {
                    address: alice.address().to_string(),
                }
                .encode_to_vec()
                .into(),
                path: "/cosmos.auth.v1beta1.Query/Account".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.code, 0, "{}", r.log);
        let any = QueryAccountResponse::decode(r.value.as_ref())
            .unwrap()
            .account
            .unwrap();
        BaseAccount::decode(any.value.as_slice())
            .unwrap()
            .account_number
    };
    let tx = build_tx(
        &alice,
        &TxSpec::new(
            num,
            0,
            vec![msg_send(&alice.address(), &bob, &[(777, "ustor")])],
        ),
    );
    let c = mempool
        .check_tx(RequestCheckTx {
            tx: tx.clone().into(),
            r#type: 0,
        })
        .unwrap();
    assert_eq!(c.code, 0, "{}", c.log);

    let r = consensus.finalize_block(block_request(2, &[tx])).unwrap();
    assert_eq!(r.tx_results.len(), 1);
    assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
    assert_eq!(r.app_hash.len(), 32);
    consensus.commit().unwrap();

    let info = query.info(RequestInfo::default()).unwrap();
    assert_eq!(info.last_block_height, 2);
    assert_eq!(info.last_block_app_hash, r.app_hash);

    let q = query
        .query(RequestQuery {
            data: QueryBalanceRequest {
                address: bob.to_string(),
                denom: "ustor".into(),
            }
            .encode_to_vec()
            .into(),
            path: "/cosmos.bank.v1beta1.Query/Balance".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.code, 0, "{}", q.log);
    assert_eq!(q.height, 2);
    let amount = QueryBalanceResponse::decode(q.value.as_ref())
        .unwrap()
        .balance
        .unwrap()
        .amount;
    assert_eq!(amount, "777");

    // A query for an unknown path answers with an error, not a dropped connection.
    let q = query
        .query(RequestQuery {
            path: "/nope".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((q.codespace.as_str(), q.code), ("sdk", 6));
}
