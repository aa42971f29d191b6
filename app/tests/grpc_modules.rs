//! A module's query service reaches gRPC with no gRPC code of its own: a test module that
//! answers `stoa.template.v1.Query` paths, plugged into a `Router` beside the bank, is served by
//! the app's gRPC server (the generic route), called through the typed tonic client generated
//! from its proto, and listed by reflection.

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use prost::Message;
use stoa_app::modules::Router;
use stoa_app::{AppOptions, StoaApp};
use stoa_framework::{sdk, Any, CheckedMsg, Ctx, Module, StoaError, Store};
use stoa_proto::template::v1 as template;

const PARAMS_KEY: &[u8] = b"template/params";
const PARAMS_PATH: &str = "/stoa.template.v1.Query/Params";
const NOTE_PATH: &str = "/stoa.template.v1.Query/Note";

/// The smallest module with a query service: params stored at genesis, and notes that never
/// exist. It declares two of the four `stoa.template.v1.Query` methods.
struct QueryOnlyTemplate;

impl Module for QueryOnlyTemplate {
    fn name(&self) -> &'static str {
        "template"
    }

    fn default_genesis(&self) -> serde_json::Value {
        serde_json::json!({ "max_lifetime_seconds": 3600 })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), StoaError> {
        genesis["max_lifetime_seconds"]
            .as_u64()
            .map(|_| ())
            .ok_or_else(|| sdk::JSON_UNMARSHAL.with("max_lifetime_seconds"))
    }

    fn init_genesis(
        &self,
        ctx: &mut Ctx<'_>,
        genesis: &serde_json::Value,
    ) -> Result<(), StoaError> {
        let params = template::Params {
            deposit_amount: "10".into(),
            deposit_denom: "ustor".into(),
            max_lifetime_seconds: genesis["max_lifetime_seconds"].as_u64().unwrap_or(0),
        };
        ctx.set(PARAMS_KEY.to_vec(), params.encode_to_vec())
    }

    fn export_genesis(&self, _ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(self.default_genesis())
    }

    fn msg_type_urls(&self) -> &'static [&'static str] {
        &[]
    }

    fn check_msg(&self, msg: &Any) -> Result<CheckedMsg, StoaError> {
        Err(sdk::UNKNOWN_REQUEST.with(format!("no message {}", msg.type_url)))
    }

    fn handle(&self, _: &mut Ctx<'_>, msg: &Any, _: &CheckedMsg) -> Result<Vec<u8>, StoaError> {
        Err(sdk::UNKNOWN_REQUEST.with(format!("no message {}", msg.type_url)))
    }

    fn query_paths(&self) -> &'static [&'static str] {
        &[PARAMS_PATH, NOTE_PATH]
    }

    fn query(&self, ctx: &mut Ctx<'_>, path: &str, request: &[u8]) -> Result<Vec<u8>, StoaError> {
        match path {
            PARAMS_PATH => {
                template::QueryParamsRequest::decode(request)
                    .map_err(|e| sdk::TX_DECODE.with(e.to_string()))?;
                let bytes = ctx
                    .get(PARAMS_KEY)?
                    .ok_or_else(|| sdk::NOT_FOUND.with("params"))?;
                let params = template::Params::decode(bytes.as_slice())
                    .map_err(|e| sdk::IO.with(e.to_string()))?;
                Ok(template::QueryParamsResponse {
                    params: Some(params),
                }
                .encode_to_vec())
            }
            NOTE_PATH => {
                let req = template::QueryNoteRequest::decode(request)
                    .map_err(|e| sdk::TX_DECODE.with(e.to_string()))?;
                Err(sdk::NOT_FOUND.with(format!("note {}", req.id)))
            }
            _ => Err(sdk::UNKNOWN_REQUEST.with(path.to_string())),
        }
    }
}

fn app_with_template() -> StoaApp {
    let modules: Vec<Box<dyn Module>> = vec![
        Box::new(stoa_bank::BankModule::new()),
        Box::new(QueryOnlyTemplate),
    ];
    let opts = AppOptions {
        min_gas_prices: stoa_app::config::parse_gas_prices("0.001ustor").unwrap(),
        check_invariants: true,
    };
    StoaApp::with_router(Store::open_temporary().unwrap(), Router::new(modules), opts)
}

#[test]
fn a_module_query_service_is_served_over_grpc_with_no_grpc_code() {
    let alice = Key::secp(31);
    let app = app_with_template();
    let paths: Vec<&str> = app.router().query_paths().collect();
    assert!(paths.contains(&PARAMS_PATH) && paths.contains(&NOTE_PATH));
    init(&app, &genesis_with(&[alice.address()]));
    run_block(&app, &[]);

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

        // The typed client generated from template.proto.
        let mut q = template::query_client::QueryClient::new(channel.clone());
        let r = q.params(template::QueryParamsRequest {}).await.unwrap();
        assert_eq!(
            r.metadata().get("x-cosmos-block-height").unwrap(),
            "1",
            "the answered height comes back"
        );
        let params = r.into_inner().params.unwrap();
        assert_eq!(
            (params.deposit_denom.as_str(), params.max_lifetime_seconds),
            ("ustor", 3600)
        );
        // The module's errors keep their gRPC codes.
        let missing = q
            .note(template::QueryNoteRequest { id: 5 })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound, "{missing:?}");
        assert!(
            missing.message().contains("note 5"),
            "{}",
            missing.message()
        );
        // A method of the service the module does not declare.
        let undeclared = q
            .notes(template::QueryNotesRequest::default())
            .await
            .unwrap_err();
        assert_eq!(undeclared.code(), tonic::Code::Unimplemented);
        // A height the chain has not reached.
        let mut future = tonic::Request::new(template::QueryParamsRequest {});
        future
            .metadata_mut()
            .insert("x-cosmos-block-height", "9".parse().unwrap());
        assert_eq!(
            q.params(future).await.unwrap_err().code(),
            tonic::Code::InvalidArgument
        );

        // The bank, beside it on the same server.
        let mut b = bank::query_client::QueryClient::new(channel.clone());
        let balance = b
            .balance(bank::QueryBalanceRequest {
                address: alice.address().to_string(),
                denom: "ustor".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(balance.balance.unwrap().amount, FUNDS.to_string());

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
}
