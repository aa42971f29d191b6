//! Server reflection: the descriptor set compiled from ../proto matches Cosmos SDK's messages
//! (cosmos-sdk-proto's encodings decode through it with no unknown field, and re-encode to the
//! same bytes), its services name the right types, and the reflection service answers over
//! the wire, listing every service of stoa-proto's list (Msg services included).

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1 as abci;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txpb;
use prost::{Message, Name};
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage, Value};
use stoa_app::grpc::FILE_DESCRIPTOR_SET;
use stoa_framework::Store;
use tendermint_proto::google::protobuf::Any;

fn pool() -> DescriptorPool {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("a valid descriptor set")
}

/// No field of `m` (or of any message inside it) is unknown to the descriptors.
fn assert_all_known(m: &DynamicMessage, path: &str) {
    let unknown: Vec<_> = m.unknown_fields().map(|f| f.number()).collect();
    assert!(
        unknown.is_empty(),
        "{path} ({}): unknown field numbers {unknown:?}",
        m.descriptor().full_name()
    );
    for (field, value) in m.fields() {
        let here = format!("{path}.{}", field.name());
        match value {
            Value::Message(inner) => assert_all_known(inner, &here),
            Value::List(items) => {
                for item in items {
                    if let Value::Message(inner) = item {
                        assert_all_known(inner, &here);
                    }
                }
            }
            _ => {}
        }
    }
}

fn check<M: Message + Name>(msg: &M) {
    let pool = pool();
    let name = M::full_name();
    let desc = pool
        .get_message_by_name(&name)
        .unwrap_or_else(|| panic!("{name} missing from the descriptors"));
    let bytes = msg.encode_to_vec();
    let dynamic =
        DynamicMessage::decode(desc, bytes.as_slice()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_all_known(&dynamic, &name);
    assert_eq!(
        dynamic.encode_to_vec(),
        bytes,
        "{name} re-encodes to the same bytes"
    );
}

fn coin() -> Coin {
    Coin {
        denom: "ustor".into(),
        amount: "12".into(),
    }
}

fn any() -> Any {
    Any {
        type_url: "/cosmos.crypto.ed25519.PubKey".into(),
        value: vec![10, 1, 7],
    }
}

#[allow(deprecated)]
fn full_tx() -> txpb::Tx {
    use cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::CompactBitArray;
    use txpb::mode_info::{Multi, Single, Sum};
    let single = txpb::ModeInfo {
        sum: Some(Sum::Single(Single { mode: 1 })),
    };
    txpb::Tx {
        body: Some(txpb::TxBody {
            messages: vec![any()],
            memo: "m".into(),
            timeout_height: 9,
            extension_options: vec![any()],
            non_critical_extension_options: vec![any()],
        }),
        auth_info: Some(txpb::AuthInfo {
            signer_infos: vec![
                txpb::SignerInfo {
                    public_key: Some(any()),
                    mode_info: Some(single.clone()),
                    sequence: 3,
                },
                txpb::SignerInfo {
                    public_key: None,
                    mode_info: Some(txpb::ModeInfo {
                        sum: Some(Sum::Multi(Multi {
                            bitarray: Some(CompactBitArray {
                                extra_bits_stored: 2,
                                elems: vec![1],
                            }),
                            mode_infos: vec![single],
                        })),
                    }),
                    sequence: 4,
                },
            ],
            fee: Some(txpb::Fee {
                amount: vec![coin()],
                gas_limit: 5,
                payer: "p".into(),
                granter: "g".into(),
            }),
            tip: Some(txpb::Tip {
                amount: vec![coin()],
                tipper: "t".into(),
            }),
        }),
        signatures: vec![vec![1, 2]],
    }
}

fn event() -> tendermint_proto::v0_38::abci::Event {
    tendermint_proto::v0_38::abci::Event {
        r#type: "transfer".into(),
        attributes: vec![tendermint_proto::v0_38::abci::EventAttribute {
            key: "k".into(),
            value: "v".into(),
            index: true,
        }],
    }
}

#[test]
#[allow(deprecated)]
fn descriptors_match_cosmos_sdk_messages() {
    let page = Some(PageRequest {
        key: vec![1],
        offset: 2,
        limit: 3,
        count_total: true,
        reverse: true,
    });
    let page_resp = Some(PageResponse {
        next_key: vec![1],
        total: 2,
    });
    check(&bank::QueryBalanceRequest {
        address: "a".into(),
        denom: "d".into(),
    });
    check(&bank::QueryBalanceResponse {
        balance: Some(coin()),
    });
    check(&bank::QueryAllBalancesRequest {
        address: "a".into(),
        pagination: page.clone(),
        resolve_denom: true,
    });
    check(&bank::QueryAllBalancesResponse {
        balances: vec![coin()],
        pagination: page_resp.clone(),
    });
    check(&bank::QueryTotalSupplyRequest { pagination: page });
    check(&bank::QueryTotalSupplyResponse {
        supply: vec![coin()],
        pagination: page_resp,
    });
    check(&bank::QuerySupplyOfRequest { denom: "d".into() });
    check(&bank::QuerySupplyOfResponse {
        amount: Some(coin()),
    });
    check(&bank::QueryParamsResponse {
        params: Some(bank::Params {
            send_enabled: vec![bank::SendEnabled {
                denom: "d".into(),
                enabled: true,
            }],
            default_send_enabled: true,
        }),
    });
    check(&auth::QueryAccountRequest {
        address: "a".into(),
    });
    check(&auth::QueryAccountResponse {
        account: Some(any()),
    });
    check(&auth::BaseAccount {
        address: "a".into(),
        pub_key: Some(any()),
        account_number: 1,
        sequence: 2,
    });
    check(&auth::Bech32PrefixResponse {
        bech32_prefix: "stoa".into(),
    });
    check(&cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey { key: vec![2; 33] });
    check(&cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey { key: vec![3; 32] });
    check(&full_tx());
    check(&txpb::TxRaw {
        body_bytes: vec![1],
        auth_info_bytes: vec![2],
        signatures: vec![vec![3]],
    });
    check(&txpb::SignDoc {
        body_bytes: vec![1],
        auth_info_bytes: vec![2],
        chain_id: "c".into(),
        account_number: 4,
    });
    check(&txpb::SimulateRequest {
        tx: Some(full_tx()),
        tx_bytes: vec![1],
    });
    check(&txpb::SimulateResponse {
        gas_info: Some(abci::GasInfo {
            gas_wanted: 1,
            gas_used: 2,
        }),
        result: Some(abci::Result {
            data: vec![1],
            log: "l".into(),
            events: vec![event()],
            msg_responses: vec![any()],
        }),
    });
    check(&txpb::BroadcastTxRequest {
        tx_bytes: vec![1],
        mode: 2,
    });
    let tx_response = abci::TxResponse {
        height: 1,
        txhash: "h".into(),
        codespace: "sdk".into(),
        code: 4,
        data: "d".into(),
        raw_log: "r".into(),
        logs: vec![abci::AbciMessageLog {
            msg_index: 1,
            log: "l".into(),
            events: vec![abci::StringEvent {
                r#type: "t".into(),
                attributes: vec![abci::Attribute {
                    key: "k".into(),
                    value: "v".into(),
                }],
            }],
        }],
        info: "i".into(),
        gas_wanted: 5,
        gas_used: 6,
        tx: Some(any()),
        timestamp: "2024".into(),
        events: vec![event()],
    };
    check(&txpb::BroadcastTxResponse {
        tx_response: Some(tx_response.clone()),
    });
    check(&txpb::GetTxRequest { hash: "h".into() });
    check(&txpb::GetTxResponse {
        tx: Some(full_tx()),
        tx_response: Some(tx_response),
    });
}

#[test]
fn services_name_the_right_types() {
    let pool = pool();
    let expect: &[(&str, &str, String, String)] = &[
        (
            "cosmos.bank.v1beta1.Query",
            "Balance",
            bank::QueryBalanceRequest::full_name(),
            bank::QueryBalanceResponse::full_name(),
        ),
        (
            "cosmos.bank.v1beta1.Query",
            "AllBalances",
            bank::QueryAllBalancesRequest::full_name(),
            bank::QueryAllBalancesResponse::full_name(),
        ),
        (
            "cosmos.bank.v1beta1.Query",
            "SupplyOf",
            bank::QuerySupplyOfRequest::full_name(),
            bank::QuerySupplyOfResponse::full_name(),
        ),
        (
            "cosmos.bank.v1beta1.Query",
            "TotalSupply",
            bank::QueryTotalSupplyRequest::full_name(),
            bank::QueryTotalSupplyResponse::full_name(),
        ),
        (
            "cosmos.auth.v1beta1.Query",
            "Account",
            auth::QueryAccountRequest::full_name(),
            auth::QueryAccountResponse::full_name(),
        ),
        (
            "cosmos.tx.v1beta1.Service",
            "Simulate",
            txpb::SimulateRequest::full_name(),
            txpb::SimulateResponse::full_name(),
        ),
        (
            "cosmos.tx.v1beta1.Service",
            "GetTx",
            txpb::GetTxRequest::full_name(),
            txpb::GetTxResponse::full_name(),
        ),
        (
            "cosmos.tx.v1beta1.Service",
            "BroadcastTx",
            txpb::BroadcastTxRequest::full_name(),
            txpb::BroadcastTxResponse::full_name(),
        ),
    ];
    for (service, method, input, output) in expect {
        let s = pool
            .get_service_by_name(service)
            .unwrap_or_else(|| panic!("{service} missing"));
        let m = s
            .methods()
            .find(|m| m.name() == *method)
            .unwrap_or_else(|| panic!("{service}/{method} missing"));
        assert_eq!(m.input().full_name(), input);
        assert_eq!(m.output().full_name(), output);
    }
    let mode = pool
        .get_enum_by_name("cosmos.tx.v1beta1.BroadcastMode")
        .unwrap();
    assert_eq!(
        mode.get_value_by_name("BROADCAST_MODE_SYNC")
            .unwrap()
            .number(),
        txpb::BroadcastMode::Sync as i32
    );
    let sign = pool
        .get_enum_by_name("cosmos.tx.signing.v1beta1.SignMode")
        .unwrap();
    assert_eq!(
        sign.get_value_by_name("SIGN_MODE_DIRECT").unwrap().number(),
        1
    );
}

/// A path a module routes but reflection does not describe is a service grpcurl cannot call:
/// the module's proto file is missing from stoa-proto's list.
#[test]
fn every_routed_query_path_is_described() {
    let pool = pool();
    let router = stoa_app::modules::Router::standard();
    let paths: Vec<&str> = router.query_paths().collect();
    assert!(paths.contains(&"/cosmos.bank.v1beta1.Query/Balance"));
    for path in paths {
        let (service, method) = path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .unwrap_or_else(|| panic!("{path} is not /pkg.Service/Method"));
        let s = pool
            .get_service_by_name(service)
            .unwrap_or_else(|| panic!("{service} of {path} missing from the descriptors"));
        assert!(
            s.methods().any(|m| m.name() == method),
            "{path}: no method {method}"
        );
    }
}

#[test]
fn reflection_answers_over_grpc() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let app = new_app(Store::open_temporary().unwrap(), false);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(stoa_app::grpc::serve_on(
            app,
            "http://127.0.0.1:9",
            listener,
        ));
        let mut client = loop {
            match tonic::transport::Channel::from_shared(url.clone())
                .unwrap()
                .connect()
                .await
            {
                Ok(c) => break ServerReflectionClient::new(c),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        let requests = vec![
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            },
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(
                    "cosmos.tx.v1beta1.Service".into(),
                )),
            },
        ];
        let mut responses = client
            .server_reflection_info(tonic::codegen::tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();
        let first = responses
            .message()
            .await
            .unwrap()
            .unwrap()
            .message_response
            .unwrap();
        let MessageResponse::ListServicesResponse(list) = first else {
            panic!("expected a service list")
        };
        let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
        for s in [
            "cosmos.bank.v1beta1.Query",
            "cosmos.bank.v1beta1.Msg",
            "cosmos.auth.v1beta1.Query",
            "cosmos.tx.v1beta1.Service",
            "stoa.template.v1.Query",
            "stoa.template.v1.Msg",
        ] {
            assert!(names.contains(&s), "{s} listed in {names:?}");
        }
        let second = responses
            .message()
            .await
            .unwrap()
            .unwrap()
            .message_response
            .unwrap();
        let MessageResponse::FileDescriptorResponse(files) = second else {
            panic!("expected descriptors")
        };
        let fds: Vec<prost_types::FileDescriptorProto> = files
            .file_descriptor_proto
            .iter()
            .map(|b| prost_types::FileDescriptorProto::decode(b.as_slice()).unwrap())
            .collect();
        assert!(fds
            .iter()
            .any(|f| f.name() == "cosmos/tx/v1beta1/service.proto"));
    });
}
