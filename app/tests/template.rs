//! The template module end to end through the app: notes posted, paginated, deleted and
//! expired with their deposits in escrow (the invariant checked after every block), a pre-block
//! check failing a message in CheckTx and in a block, typed events in the results, and the
//! module's query service served over gRPC by the generic route with no gRPC code of its own
//! (typed tonic client, reflection). The router refuses a message type registered twice.

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use prost::{Message, Name};
use stoa_app::modules::Router;
use stoa_app::{AppOptions, StoaApp};
use stoa_bank::BankKeeper;
use stoa_framework::{
    module_address, Address, Any, Ctx, Module, MsgHandler, Registrar, StoaError, Store,
};
use stoa_proto::template::v1 as template;
use stoa_template::TemplateModule;
use tendermint_abci::Application as _;

fn app_with_template() -> StoaApp {
    let modules: Vec<Box<dyn Module>> = vec![
        Box::new(stoa_bank::BankModule::new()),
        Box::new(TemplateModule::new(BankKeeper)),
    ];
    let opts = AppOptions {
        min_gas_prices: stoa_app::config::parse_gas_prices("0.001ustor").unwrap(),
        check_invariants: true,
    };
    StoaApp::with_router(
        Store::open_temporary().unwrap(),
        Router::new(modules).unwrap(),
        opts,
    )
}

fn post(author: &Address, text: &str, lifetime: u64) -> Any {
    Any {
        type_url: template::MsgPost::type_url(),
        value: template::MsgPost {
            author: author.to_string(),
            text: text.into(),
            lifetime_seconds: lifetime,
        }
        .encode_to_vec(),
    }
}

fn delete(author: &Address, id: u64) -> Any {
    Any {
        type_url: template::MsgDelete::type_url(),
        value: template::MsgDelete {
            author: author.to_string(),
            id,
        }
        .encode_to_vec(),
    }
}

#[test]
fn notes_live_in_escrow_from_post_to_expiry_and_are_served_over_grpc() {
    let alice = Key::secp(31);
    let bob = Key::ed(32);
    let app = app_with_template();
    let paths: Vec<&str> = app.router().query_paths().collect();
    assert!(paths.contains(&"/stoa.template.v1.Query/NotesByAuthor"));
    init(
        &app,
        &sections_of(&app, genesis_with(&[alice.address(), bob.address()])),
    );
    run_block(&app, &[]);
    let (a_num, _) = account(&app, &alice.address()).unwrap();
    let (b_num, _) = account(&app, &bob.address()).unwrap();
    let escrow = module_address("template");

    // Alice posts two notes in one tx and one more; Bob asks for longer than the params allow:
    // the pre-block check refuses him in CheckTx and fails his message in the block.
    let t1 = build_tx(
        &alice,
        &TxSpec::new(
            a_num,
            0,
            vec![
                post(&alice.address(), "short", 20),
                post(&alice.address(), "long", 3_600),
            ],
        ),
    );
    let t2 = build_tx(
        &alice,
        &TxSpec::new(a_num, 1, vec![post(&alice.address(), "third", 600)]),
    );
    let t3 = build_tx(
        &bob,
        &TxSpec::new(b_num, 0, vec![post(&bob.address(), "too long", 7_200)]),
    );
    let refused = check(&app, &t3);
    assert_eq!(
        (refused.codespace.as_str(), refused.code),
        ("template", 4),
        "{}",
        refused.log
    );
    let before = balance(&app, &alice.address(), "ustor");
    let r = run_block(&app, &[t1, t2, t3]);
    assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
    assert_eq!(r.tx_results[1].code, 0, "{}", r.tx_results[1].log);
    assert_code(&r.tx_results[2], "template", 4, "message index: 0");
    assert_eq!(
        event_attr(&r.tx_results[0], "stoa.template.v1.EventNotePosted", "id"),
        vec!["\"0\"", "\"1\""],
        "typed events carry the fields as JSON"
    );
    assert_eq!(balance(&app, &escrow, "ustor"), 3_000);
    assert_eq!(
        before - balance(&app, &alice.address(), "ustor"),
        3_000 + 400
    );

    // Bob cannot delete Alice's note; Alice can, and gets her deposit back.
    let t4 = build_tx(
        &bob,
        &TxSpec::new(b_num, 1, vec![delete(&bob.address(), 1)]),
    );
    let t5 = build_tx(
        &alice,
        &TxSpec::new(a_num, 2, vec![delete(&alice.address(), 1)]),
    );
    let r = run_block(&app, &[t4, t5]);
    assert_code(&r.tx_results[0], "template", 5, "note 1");
    assert_eq!(r.tx_results[1].code, 0, "{}", r.tx_results[1].log);
    assert_eq!(balance(&app, &escrow, "ustor"), 2_000);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let served = app.clone();
    let alice_addr = alice.address().to_string();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(stoa_app::grpc::serve_on(
            served,
            "http://127.0.0.1:9",
            listener,
        ));
        let channel = loop {
            match tonic::transport::Channel::from_shared(url.clone())
                .unwrap()
                .connect()
                .await
            {
                Ok(c) => break c,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        let mut q = template::query_client::QueryClient::new(channel.clone());
        let params = q
            .params(template::QueryParamsRequest {})
            .await
            .unwrap()
            .into_inner();
        assert_eq!(params.params.unwrap().max_lifetime_seconds, 3_600);
        // Two notes left (0 and 2), a page of one at a time.
        let page = |key: Vec<u8>| PageRequest {
            key,
            limit: 1,
            ..Default::default()
        };
        let first = q
            .notes(template::QueryNotesRequest {
                pagination: Some(page(vec![])),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            first.notes.iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![0]
        );
        let next = first.pagination.unwrap().next_key;
        let second = q
            .notes(template::QueryNotesRequest {
                pagination: Some(page(next)),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            second.notes.iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![2]
        );
        assert!(second.pagination.unwrap().next_key.is_empty());
        let by_alice = q
            .notes_by_author(template::QueryNotesByAuthorRequest {
                author: alice_addr,
                pagination: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(by_alice.notes.len(), 2);
        let missing = q
            .note(template::QueryNoteRequest { id: 1 })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound, "{missing:?}");

        // Reflection lists the module's service and hands out its file.
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        let requests = vec![
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            },
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(
                    "stoa.template.v1.Query".into(),
                )),
            },
        ];
        let mut responses = ServerReflectionClient::new(channel)
            .server_reflection_info(tonic::codegen::tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();
        let Some(MessageResponse::ListServicesResponse(list)) =
            responses.message().await.unwrap().unwrap().message_response
        else {
            panic!("expected a service list")
        };
        assert!(list
            .service
            .iter()
            .any(|s| s.name == "stoa.template.v1.Query"));
        let Some(MessageResponse::FileDescriptorResponse(files)) =
            responses.message().await.unwrap().unwrap().message_response
        else {
            panic!("expected descriptors")
        };
        let names: Vec<String> = files
            .file_descriptor_proto
            .iter()
            .map(|b| {
                prost_types::FileDescriptorProto::decode(b.as_slice())
                    .unwrap()
                    .name()
                    .to_string()
            })
            .collect();
        assert!(
            names.iter().any(|n| n == "stoa/template/v1/template.proto"),
            "{names:?}"
        );
    });

    // Note 0 expires 20 s after it was posted (blocks are 5 s apart): end block returns the
    // deposit and says so.
    let mut expired = false;
    for _ in 0..6 {
        let r = run_block(&app, &[]);
        expired |= r.events.iter().any(|e| {
            e.r#type == "stoa.template.v1.EventNoteRemoved"
                && e.attributes.iter().any(|a| a.value == "\"expired\"")
        });
    }
    assert!(expired);
    assert_eq!(
        balance(&app, &escrow, "ustor"),
        1_000,
        "note 2 still holds its deposit"
    );
}

/// A module that registers the template's `MsgPost` under another name.
struct Copycat;

struct CopyPost;

impl MsgHandler for CopyPost {
    type Msg = template::MsgPost;
    const AMINO_NAME: &'static str = "stoa/test/MsgPost";
    type Checked = ();
    type Response = template::MsgPostResponse;
    fn check(&self, _: template::MsgPost) -> Result<(Vec<Address>, ()), StoaError> {
        Ok((vec![Address([1; 20])], ()))
    }
    fn execute(&self, _: &mut Ctx<'_>, _: &()) -> Result<template::MsgPostResponse, StoaError> {
        Ok(template::MsgPostResponse { id: 0 })
    }
}

impl Module for Copycat {
    fn name(&self) -> &'static str {
        "copycat"
    }
    fn default_genesis(&self) -> serde_json::Value {
        serde_json::json!({})
    }
    fn validate_genesis(&self, _: &serde_json::Value) -> Result<(), StoaError> {
        Ok(())
    }
    fn init_genesis(&self, _: &mut Ctx<'_>, _: &serde_json::Value) -> Result<(), StoaError> {
        Ok(())
    }
    fn export_genesis(&self, _: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(serde_json::json!({}))
    }
    fn register(&self, r: &mut Registrar) {
        r.msg(CopyPost);
    }
}

#[test]
fn a_message_type_registered_by_two_modules_is_refused_at_start() {
    let modules: Vec<Box<dyn Module>> = vec![
        Box::new(stoa_bank::BankModule::new()),
        Box::new(TemplateModule::new(BankKeeper)),
        Box::new(Copycat),
    ];
    let err = Router::new(modules)
        .err()
        .expect("a duplicate must be refused");
    assert!(
        err.log
            .contains("/stoa.template.v1.MsgPost is registered by template and by copycat"),
        "{}",
        err.log
    );
}

/// A module that answers the time and height its context sees, as a query and as a pre-block
/// check (which CheckTx runs too), to show what contexts outside a block see.
struct Clock;

struct ClockCheck;

impl MsgHandler for ClockCheck {
    // Any message type with a proto descriptor will do; this one names an address.
    type Msg = template::QueryNotesByAuthorRequest;
    const AMINO_NAME: &'static str = "stoa/test/QueryNotesByAuthorRequest";
    type Checked = Address;
    type Response = template::QueryNotesByAuthorResponse;
    fn check(
        &self,
        m: template::QueryNotesByAuthorRequest,
    ) -> Result<(Vec<Address>, Address), StoaError> {
        let a = Address::parse(&m.author)?;
        Ok((vec![a], a))
    }
    fn has_precheck(&self) -> bool {
        true
    }
    fn precheck(&self, pre: &stoa_framework::PreState<'_>, _: &Address) -> Result<(), StoaError> {
        Err(stoa_framework::sdk::INVALID_REQUEST.with(format!(
            "checked at time {} height {}",
            pre.block.time_seconds, pre.block.height
        )))
    }
    fn execute(
        &self,
        _: &mut Ctx<'_>,
        _: &Address,
    ) -> Result<template::QueryNotesByAuthorResponse, StoaError> {
        Ok(template::QueryNotesByAuthorResponse::default())
    }
}

impl Module for Clock {
    fn name(&self) -> &'static str {
        "clock"
    }
    fn default_genesis(&self) -> serde_json::Value {
        serde_json::json!({})
    }
    fn validate_genesis(&self, _: &serde_json::Value) -> Result<(), StoaError> {
        Ok(())
    }
    fn init_genesis(&self, _: &mut Ctx<'_>, _: &serde_json::Value) -> Result<(), StoaError> {
        Ok(())
    }
    fn export_genesis(&self, _: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(serde_json::json!({}))
    }
    fn register(&self, r: &mut Registrar) {
        r.msg(ClockCheck)
            .query("/stoa.test.Clock/Now", |ctx: &mut Ctx<'_>, _: ()| {
                Ok(prost_types::Timestamp {
                    seconds: ctx.block_time(),
                    nanos: ctx.height() as i32,
                })
            });
    }
}

fn clock_app(store: Store, with_template: bool) -> StoaApp {
    let mut modules: Vec<Box<dyn Module>> =
        vec![Box::new(stoa_bank::BankModule::new()), Box::new(Clock)];
    if with_template {
        modules.push(Box::new(TemplateModule::new(BankKeeper)));
    }
    let opts = AppOptions {
        min_gas_prices: stoa_app::config::parse_gas_prices("0.001ustor").unwrap(),
        check_invariants: true,
    };
    StoaApp::with_router(store, Router::new(modules).unwrap(), opts)
}

fn now(app: &StoaApp, height: i64) -> (i64, i32) {
    let r = app.query(tendermint_proto::v0_38::abci::RequestQuery {
        data: Default::default(),
        path: "/stoa.test.Clock/Now".into(),
        height,
        prove: false,
    });
    assert_eq!(r.code, 0, "{}", r.log);
    let t = prost_types::Timestamp::decode(r.value.as_ref()).unwrap();
    (t.seconds, t.nanos)
}

#[test]
fn queries_and_check_tx_see_the_last_block_time_and_a_new_module_gets_its_accounts() {
    let alice = Key::secp(41);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 100).unwrap();
    let app = clock_app(store.clone(), false);
    init(&app, &sections_of(&app, genesis_with(&[alice.address()])));
    run_block(&app, &[]); // height 1 at genesis + 5 s
    run_block(&app, &[]); // height 2 at genesis + 10 s
    assert_eq!(
        now(&app, 0),
        (1_700_000_010, 2),
        "the last block's time and height"
    );
    assert_eq!(
        now(&app, 1),
        (1_700_000_005, 1),
        "an older height's own time"
    );
    let (num, _) = account(&app, &alice.address()).unwrap();
    let msg = Any {
        type_url: template::QueryNotesByAuthorRequest::type_url(),
        value: template::QueryNotesByAuthorRequest {
            author: alice.address().to_string(),
            pagination: None,
        }
        .encode_to_vec(),
    };
    let tx = build_tx(&alice, &TxSpec::new(num, 0, vec![msg]));
    let r = check(&app, &tx);
    assert!(
        r.log.contains("checked at time 1700000010 height 3"),
        "{}",
        r.log
    );

    // The template module joins the chain after genesis (an upgrade): its escrow account is
    // registered when the chain first runs it, and its notes work.
    drop(app);
    let app = clock_app(store, true);
    assert!(account(&app, &module_address("template")).is_none());
    run_block(&app, &[]);
    assert!(account(&app, &module_address("template")).is_some());
    let tx = build_tx(
        &alice,
        &TxSpec::new(num, 0, vec![post(&alice.address(), "late", 60)]),
    );
    let r = run_block(&app, &[tx]);
    assert_eq!(r.tx_results[0].code, 0, "{}", r.tx_results[0].log);
    assert_eq!(balance(&app, &module_address("template"), "ustor"), 1_000);
}

/// A module's messages get the strict decoding rules from their proto descriptor: an unknown
/// field inside a `MsgPost` is refused before the handler sees it, the original lands.
#[test]
fn a_module_message_with_an_unknown_field_is_refused() {
    let alice = Key::secp(51);
    let app = app_with_template();
    init(&app, &sections_of(&app, genesis_with(&[alice.address()])));
    run_block(&app, &[]);
    let (num, _) = account(&app, &alice.address()).unwrap();
    let mut padded = post(&alice.address(), "hello", 60);
    padded.value.extend_from_slice(&[0xa0, 0x06, 0x01]); // field 100, varint 1
    let bad = build_tx(&alice, &TxSpec::new(num, 0, vec![padded]));
    let r = check(&app, &bad);
    assert_eq!((r.codespace.as_str(), r.code), ("sdk", 2), "{}", r.log);
    assert!(
        r.log
            .contains("stoa.template.v1.MsgPost: unknown field 100"),
        "{}",
        r.log
    );
    let good = build_tx(
        &alice,
        &TxSpec::new(num, 0, vec![post(&alice.address(), "hello", 60)]),
    );
    let r = run_block(&app, &[bad, good]);
    assert_eq!(r.tx_results[0].code, 2);
    assert_eq!(r.tx_results[1].code, 0, "{}", r.tx_results[1].log);
}
