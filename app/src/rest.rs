//! The REST (LCD) gateway: every gRPC method Stoa serves, over HTTP/JSON as the Cosmos SDK's
//! grpc-gateway maps it (`GET /cosmos/bank/v1beta1/balances/{address}`, `POST
//! /cosmos/tx/v1beta1/txs`, ...), answered by calling the node's own gRPC routes in process.
//!
//! Nothing here knows a service: the routes come from the descriptor pool. A method's HTTP
//! binding is its `google.api.http` annotation when the pool holds one, else the Cosmos SDK's
//! binding from [`COSMOS_HTTP_RULES`] (Stoa's proto files carry no annotations), else, for a
//! `Query` service of a `stoa.*` package, `GET|POST /stoa/<module>/<version>/<method in
//! snake_case>` (fields as query parameters or a JSON body; a request of one field also takes
//! it as the last path segment). So a service added to the proto list and to the gRPC router
//! appears here without code. Requests are transcoded with prost-reflect: path variables and
//! query parameters (dotted for nested fields, repeated by repetition) or the JSON body into
//! the request message; the answer into proto3 JSON with the proto field names, every field
//! emitted (unset messages as `null`), 64-bit integers as strings, as the SDK's gateway does.
//! Errors are `{"code": <gRPC code>, "message": ..., "details": []}` with grpc-gateway's HTTP
//! status for the code.

// tonic's Status is large; helpers pass it by value as tonic does.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use prost::Message;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor,
    MethodDescriptor, ReflectMessage, SerializeOptions, Value as PValue,
};
use serde_json::{Map, Value};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Status};

use crate::grpc::{RawCodec, HEIGHT_HEADER};

/// A request body larger than this is refused (a tx is at most 64 KiB; base64 and JSON
/// around it stay far below).
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// The header grpc-gateway uses for a gRPC metadata entry of the answer.
const GATEWAY_HEIGHT_HEADER: &str = "grpc-metadata-x-cosmos-block-height";

/// The Cosmos SDK's HTTP bindings (v0.50 proto files' `google.api.http` options) of the
/// standard services, by full method name: (verb, path template, body). A method listed here
/// is served once the descriptor pool holds its service; those of the SDK's services Stoa
/// does not serve are left out.
#[rustfmt::skip]
pub const COSMOS_HTTP_RULES: &[(&str, &str, &str, &str)] = &[
    // cosmos.auth.v1beta1.Query
    ("cosmos.auth.v1beta1.Query.Accounts", "GET", "/cosmos/auth/v1beta1/accounts", ""),
    ("cosmos.auth.v1beta1.Query.Account", "GET", "/cosmos/auth/v1beta1/accounts/{address}", ""),
    ("cosmos.auth.v1beta1.Query.AccountAddressByID", "GET", "/cosmos/auth/v1beta1/address_by_id/{id}", ""),
    ("cosmos.auth.v1beta1.Query.Params", "GET", "/cosmos/auth/v1beta1/params", ""),
    ("cosmos.auth.v1beta1.Query.ModuleAccounts", "GET", "/cosmos/auth/v1beta1/module_accounts", ""),
    ("cosmos.auth.v1beta1.Query.ModuleAccountByName", "GET", "/cosmos/auth/v1beta1/module_accounts/{name}", ""),
    ("cosmos.auth.v1beta1.Query.Bech32Prefix", "GET", "/cosmos/auth/v1beta1/bech32", ""),
    // The SDK binds both to the same template; its mux tries the later one first.
    ("cosmos.auth.v1beta1.Query.AddressStringToBytes", "GET", "/cosmos/auth/v1beta1/bech32/{address_string}", ""),
    ("cosmos.auth.v1beta1.Query.AddressBytesToString", "GET", "/cosmos/auth/v1beta1/bech32/{address_bytes}", ""),
    ("cosmos.auth.v1beta1.Query.AccountInfo", "GET", "/cosmos/auth/v1beta1/account_info/{address}", ""),
    // cosmos.bank.v1beta1.Query
    ("cosmos.bank.v1beta1.Query.Balance", "GET", "/cosmos/bank/v1beta1/balances/{address}/by_denom", ""),
    ("cosmos.bank.v1beta1.Query.AllBalances", "GET", "/cosmos/bank/v1beta1/balances/{address}", ""),
    ("cosmos.bank.v1beta1.Query.SpendableBalances", "GET", "/cosmos/bank/v1beta1/spendable_balances/{address}", ""),
    ("cosmos.bank.v1beta1.Query.SpendableBalanceByDenom", "GET", "/cosmos/bank/v1beta1/spendable_balances/{address}/by_denom", ""),
    ("cosmos.bank.v1beta1.Query.TotalSupply", "GET", "/cosmos/bank/v1beta1/supply", ""),
    ("cosmos.bank.v1beta1.Query.SupplyOf", "GET", "/cosmos/bank/v1beta1/supply/by_denom", ""),
    ("cosmos.bank.v1beta1.Query.Params", "GET", "/cosmos/bank/v1beta1/params", ""),
    ("cosmos.bank.v1beta1.Query.DenomMetadata", "GET", "/cosmos/bank/v1beta1/denoms_metadata/{denom=**}", ""),
    ("cosmos.bank.v1beta1.Query.DenomMetadataByQueryString", "GET", "/cosmos/bank/v1beta1/denoms_metadata_by_query_string", ""),
    ("cosmos.bank.v1beta1.Query.DenomsMetadata", "GET", "/cosmos/bank/v1beta1/denoms_metadata", ""),
    ("cosmos.bank.v1beta1.Query.DenomOwners", "GET", "/cosmos/bank/v1beta1/denom_owners/{denom=**}", ""),
    ("cosmos.bank.v1beta1.Query.DenomOwnersByQuery", "GET", "/cosmos/bank/v1beta1/denom_owners_by_query", ""),
    ("cosmos.bank.v1beta1.Query.SendEnabled", "GET", "/cosmos/bank/v1beta1/send_enabled", ""),
    // cosmos.tx.v1beta1.Service
    ("cosmos.tx.v1beta1.Service.Simulate", "POST", "/cosmos/tx/v1beta1/simulate", "*"),
    ("cosmos.tx.v1beta1.Service.GetTx", "GET", "/cosmos/tx/v1beta1/txs/{hash}", ""),
    ("cosmos.tx.v1beta1.Service.BroadcastTx", "POST", "/cosmos/tx/v1beta1/txs", "*"),
    ("cosmos.tx.v1beta1.Service.GetTxsEvent", "GET", "/cosmos/tx/v1beta1/txs", ""),
    ("cosmos.tx.v1beta1.Service.GetBlockWithTxs", "GET", "/cosmos/tx/v1beta1/txs/block/{height}", ""),
    ("cosmos.tx.v1beta1.Service.TxDecode", "POST", "/cosmos/tx/v1beta1/decode", "*"),
    ("cosmos.tx.v1beta1.Service.TxEncode", "POST", "/cosmos/tx/v1beta1/encode", "*"),
    ("cosmos.tx.v1beta1.Service.TxEncodeAmino", "POST", "/cosmos/tx/v1beta1/encode/amino", "*"),
    ("cosmos.tx.v1beta1.Service.TxDecodeAmino", "POST", "/cosmos/tx/v1beta1/decode/amino", "*"),
    // cosmos.base.tendermint.v1beta1.Service
    ("cosmos.base.tendermint.v1beta1.Service.GetNodeInfo", "GET", "/cosmos/base/tendermint/v1beta1/node_info", ""),
    ("cosmos.base.tendermint.v1beta1.Service.GetSyncing", "GET", "/cosmos/base/tendermint/v1beta1/syncing", ""),
    ("cosmos.base.tendermint.v1beta1.Service.GetLatestBlock", "GET", "/cosmos/base/tendermint/v1beta1/blocks/latest", ""),
    ("cosmos.base.tendermint.v1beta1.Service.GetBlockByHeight", "GET", "/cosmos/base/tendermint/v1beta1/blocks/{height}", ""),
    ("cosmos.base.tendermint.v1beta1.Service.GetLatestValidatorSet", "GET", "/cosmos/base/tendermint/v1beta1/validatorsets/latest", ""),
    ("cosmos.base.tendermint.v1beta1.Service.GetValidatorSetByHeight", "GET", "/cosmos/base/tendermint/v1beta1/validatorsets/{height}", ""),
    ("cosmos.base.tendermint.v1beta1.Service.ABCIQuery", "GET", "/cosmos/base/tendermint/v1beta1/abci_query", ""),
    // cosmos.consensus.v1.Query (cosmpy's gas estimation reads block.max_gas here) and the
    // legacy params module it falls back to
    ("cosmos.consensus.v1.Query.Params", "GET", "/cosmos/consensus/v1/params", ""),
    ("cosmos.params.v1beta1.Query.Params", "GET", "/cosmos/params/v1beta1/params", ""),
    ("cosmos.params.v1beta1.Query.Subspaces", "GET", "/cosmos/params/v1beta1/subspaces", ""),
    // cosmos.base.node.v1beta1.Service
    ("cosmos.base.node.v1beta1.Service.Config", "GET", "/cosmos/base/node/v1beta1/config", ""),
    ("cosmos.base.node.v1beta1.Service.Status", "GET", "/cosmos/base/node/v1beta1/status", ""),
];

/// A route's path variables: (field, value).
type Vars = Vec<(String, String)>;

/// One segment of a path template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{field}` (one segment) or `{field=**}` (the rest of the path).
    Var {
        field: String,
        rest: bool,
    },
}

/// What of the request message the HTTP body holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum BodyRule {
    None,
    All,
    Field(String),
}

/// One HTTP binding of a gRPC method.
#[derive(Clone, Debug)]
pub struct Route {
    verb: Method,
    template: String,
    segments: Vec<Segment>,
    body: BodyRule,
    method: MethodDescriptor,
    /// `/pkg.Service/Method`
    grpc_path: String,
}

impl Route {
    fn new(
        verb: &str,
        template: &str,
        body: &str,
        method: &MethodDescriptor,
    ) -> Result<Route, String> {
        let verb = Method::from_bytes(verb.as_bytes()).map_err(|e| format!("verb {verb}: {e}"))?;
        let segments = parse_template(template)?;
        let body = match body {
            "" => BodyRule::None,
            "*" => BodyRule::All,
            f => BodyRule::Field(f.to_string()),
        };
        let service = method.parent_service();
        Ok(Route {
            verb,
            template: template.to_string(),
            segments,
            body,
            method: method.clone(),
            grpc_path: format!("/{}/{}", service.full_name(), method.name()),
        })
    }

    pub fn verb(&self) -> &Method {
        &self.verb
    }

    pub fn template(&self) -> &str {
        &self.template
    }

    /// The gRPC path it calls, `/pkg.Service/Method`.
    pub fn grpc_path(&self) -> &str {
        &self.grpc_path
    }

    /// The path variables if `path` (split on '/', still percent-encoded) matches.
    fn matches(&self, parts: &[&str]) -> Option<Vec<(String, String)>> {
        let mut vars = Vec::new();
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                    i += 1;
                }
                Segment::Var { field, rest: false } => {
                    let p = parts.get(i).filter(|p| !p.is_empty())?;
                    vars.push((field.clone(), percent_decode(p, false)?));
                    i += 1;
                }
                Segment::Var { field, rest: true } => {
                    if i >= parts.len() {
                        return None;
                    }
                    let joined = parts[i..].join("/");
                    vars.push((field.clone(), percent_decode(&joined, false)?));
                    i = parts.len();
                }
            }
        }
        (i == parts.len()).then_some(vars)
    }

    /// Literal segments count first: `/blocks/latest` wins over `/blocks/{height}`.
    fn specificity(&self) -> (usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let singles = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Var { rest: false, .. }))
            .count();
        (literals, singles)
    }
}

fn parse_template(template: &str) -> Result<Vec<Segment>, String> {
    let path = template
        .strip_prefix('/')
        .ok_or_else(|| format!("template {template:?} does not start with '/'"))?;
    let mut out = Vec::new();
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let (field, pattern) = inner.split_once('=').unwrap_or((inner, "*"));
            let rest = match pattern {
                "*" => false,
                "**" if i + 1 == parts.len() => true,
                _ => {
                    return Err(format!(
                        "template {template:?}: pattern {pattern:?} is not supported"
                    ))
                }
            };
            out.push(Segment::Var {
                field: field.to_string(),
                rest,
            });
        } else if part.is_empty() || part.contains(['{', '}', ':']) {
            return Err(format!(
                "template {template:?}: segment {part:?} is not supported"
            ));
        } else {
            out.push(Segment::Literal(part.to_string()));
        }
    }
    Ok(out)
}

/// `CamelCase` as grpc-gateway-style path segment `camel_case`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The `google.api.http` rule of a method, when the pool knows the extension and the method
/// carries it: its main binding and its additional bindings, as (verb, template, body).
fn annotated_rules(
    pool: &DescriptorPool,
    method: &MethodDescriptor,
) -> Vec<(String, String, String)> {
    let Some(ext) = pool.get_extension_by_name("google.api.http") else {
        return Vec::new();
    };
    let options = method.options();
    if !options.has_extension(&ext) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let PValue::Message(rule) = options.get_extension(&ext).as_ref() {
        push_http_rule(rule, &mut out);
        if let Some(PValue::List(more)) = rule.get_field_by_name("additional_bindings").as_deref() {
            for r in more {
                if let PValue::Message(r) = r {
                    push_http_rule(r, &mut out);
                }
            }
        }
    }
    out
}

fn push_http_rule(rule: &DynamicMessage, out: &mut Vec<(String, String, String)>) {
    let body = rule
        .get_field_by_name("body")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    for verb in ["get", "put", "post", "delete", "patch"] {
        let Some(field) = rule.descriptor().get_field_by_name(verb) else {
            continue;
        };
        if rule.has_field(&field) {
            if let Some(t) = rule.get_field(&field).as_str() {
                out.push((verb.to_ascii_uppercase(), t.to_string(), body.clone()));
            }
        }
    }
}

/// Every HTTP route of the methods in `pool` (see the module doc for where each comes from).
/// A binding that cannot be parsed is logged and left out.
pub fn routes_from_pool(pool: &DescriptorPool) -> Vec<Route> {
    let mut routes = Vec::new();
    let mut push = |verb: &str, template: &str, body: &str, m: &MethodDescriptor| match Route::new(
        verb, template, body, m,
    ) {
        Ok(r) => routes.push(r),
        Err(e) => tracing::warn!("REST: {} not bound: {e}", m.full_name()),
    };
    for service in pool.services() {
        for method in service.methods() {
            if method.is_client_streaming() || method.is_server_streaming() {
                continue;
            }
            let annotated = annotated_rules(pool, &method);
            if !annotated.is_empty() {
                for (verb, template, body) in &annotated {
                    push(verb, template, body, &method);
                }
                continue;
            }
            let listed: Vec<_> = COSMOS_HTTP_RULES
                .iter()
                .filter(|(name, ..)| *name == method.full_name())
                .collect();
            if !listed.is_empty() {
                for (_, verb, template, body) in listed {
                    push(verb, template, body, &method);
                }
                continue;
            }
            let package = service.package_name();
            if package.starts_with("stoa.") && service.name() == "Query" {
                let prefix = package.replace('.', "/");
                let base = format!("/{prefix}/{}", snake_case(method.name()));
                push("GET", &base, "", &method);
                push("POST", &base, "*", &method);
                let input = method.input();
                let fields: Vec<_> = input.fields().collect();
                if let [only] = fields.as_slice() {
                    if !only.is_list() && !matches!(only.kind(), Kind::Message(_)) {
                        push("GET", &format!("{base}/{{{}}}", only.name()), "", &method);
                    }
                }
            }
        }
    }
    routes
}

/// grpc-gateway's HTTP status for a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::REQUEST_TIMEOUT,
        Code::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // As grpc-gateway: deliberately not 412.
        Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        Code::Aborted => StatusCode::CONFLICT,
        Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn json_response(status: StatusCode, body: &Value, extra: HeaderMap) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().extend(extra);
    resp
}

/// The error body the SDK's gateway writes: a `google.rpc.Status` in JSON.
pub fn error_response(status: &Status) -> Response {
    let body = serde_json::json!({
        "code": status.code() as i32,
        "message": status.message(),
        "details": [],
    });
    json_response(http_status(status.code()), &body, HeaderMap::new())
}

/// The gateway: the routes, the descriptor pool and the gRPC routes it calls.
pub struct Gateway {
    routes: Vec<Route>,
    grpc: tonic::service::Routes,
}

impl Gateway {
    pub fn new(pool: &DescriptorPool, grpc: tonic::service::Routes) -> Gateway {
        let mut routes = routes_from_pool(pool);
        // Most specific first; the sort is stable, so ties keep the table's order.
        routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        Gateway { routes, grpc }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route and path variables for a request, or the error grpc-gateway answers with.
    fn find(&self, verb: &Method, path: &str) -> Result<(&Route, Vars), Status> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut other_verb = false;
        for route in &self.routes {
            if let Some(vars) = route.matches(&parts) {
                if route.verb == verb {
                    return Ok((route, vars));
                }
                other_verb = true;
            }
        }
        Err(Status::unimplemented(if other_verb {
            "Method Not Allowed"
        } else {
            "Not Implemented"
        }))
    }

    /// Answers one HTTP request.
    pub async fn handle(&self, req: axum::http::Request<Body>) -> Response {
        match self.try_handle(req).await {
            Ok(r) => r,
            Err(status) => error_response(&status),
        }
    }

    async fn try_handle(&self, req: axum::http::Request<Body>) -> Result<Response, Status> {
        let (parts, body) = req.into_parts();
        let verb = if parts.method == Method::HEAD {
            Method::GET
        } else {
            parts.method.clone()
        };
        let (route, vars) = self.find(&verb, parts.uri.path())?;
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|e| Status::invalid_argument(format!("reading the body: {e}")))?;
        let input = route.method.input();
        let request = build_request(&input, &route.body, &vars, parts.uri.query(), &body)?;

        let mut grpc_req = tonic::Request::new(request.encode_to_vec());
        if let Some(h) = requested_height(&parts.headers)? {
            grpc_req.metadata_mut().insert(HEIGHT_HEADER, h);
        }
        let mut client = tonic::client::Grpc::new(self.grpc.clone());
        client
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("gRPC routes: {e}")))?;
        let path = PathAndQuery::from_maybe_shared(route.grpc_path.clone())
            .map_err(|e| Status::internal(format!("gRPC path: {e}")))?;
        let answer = client.unary(grpc_req, path, RawCodec).await?;
        let (metadata, bytes, _) = answer.into_parts();
        let output = route.method.output();
        let msg = DynamicMessage::decode(output.clone(), bytes)
            .map_err(|e| Status::internal(format!("decoding the answer: {e}")))?;
        let json = to_json(&msg)?;
        let mut headers = HeaderMap::new();
        if let Some(h) = metadata.get(HEIGHT_HEADER).and_then(|v| v.to_str().ok()) {
            if let Ok(v) = HeaderValue::from_str(h) {
                headers.insert(GATEWAY_HEIGHT_HEADER, v.clone());
                headers.insert(HEIGHT_HEADER, v);
            }
        }
        Ok(json_response(StatusCode::OK, &json, headers))
    }
}

/// `x-cosmos-block-height` (or grpc-gateway's `Grpc-Metadata-` form) as gRPC metadata.
fn requested_height(
    headers: &HeaderMap,
) -> Result<Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>, Status> {
    let Some(v) = headers
        .get(HEIGHT_HEADER)
        .or_else(|| headers.get(GATEWAY_HEIGHT_HEADER))
    else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .ok()
        .filter(|s| s.parse::<u64>().is_ok())
        .ok_or_else(|| Status::invalid_argument(format!("bad {HEIGHT_HEADER}")))?;
    s.parse()
        .map(Some)
        .map_err(|_| Status::invalid_argument(format!("bad {HEIGHT_HEADER}")))
}

/// The request message from the path variables, the query string and the body.
fn build_request(
    input: &MessageDescriptor,
    body_rule: &BodyRule,
    vars: &[(String, String)],
    query: Option<&str>,
    body: &[u8],
) -> Result<DynamicMessage, Status> {
    let mut obj = Map::new();
    match body_rule {
        BodyRule::None => {}
        BodyRule::All => {
            if !body.iter().all(u8::is_ascii_whitespace) {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(m)) => obj = m,
                    Ok(_) => {
                        return Err(Status::invalid_argument("the body must be a JSON object"))
                    }
                    Err(e) => return Err(Status::invalid_argument(format!("body: {e}"))),
                }
            }
        }
        BodyRule::Field(f) => {
            if !body.iter().all(u8::is_ascii_whitespace) {
                let v: Value = serde_json::from_slice(body)
                    .map_err(|e| Status::invalid_argument(format!("body: {e}")))?;
                obj.insert(f.clone(), v);
            }
        }
    }
    // As grpc-gateway: with the whole message in the body there are no query parameters.
    if *body_rule != BodyRule::All {
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(k), Some(v)) = (percent_decode(k, true), percent_decode(v, true)) else {
                return Err(Status::invalid_argument(
                    "bad percent-encoding in the query",
                ));
            };
            if vars.iter().any(|(f, _)| *f == k) {
                continue;
            }
            // Unknown parameters are ignored, as grpc-gateway does.
            set_field(&mut obj, input, &k, &v, true)?;
        }
    }
    for (field, value) in vars {
        set_field(&mut obj, input, field, value, false)?;
    }
    let mut obj = Value::Object(obj);
    google_json_any_urls(&mut obj);
    let mut msg =
        DynamicMessage::deserialize_with_options(input.clone(), obj, &DeserializeOptions::new())
            .map_err(|e| Status::invalid_argument(format!("{}: {e}", input.full_name())))?;
    cosmos_msg_any_urls(&mut msg);
    Ok(msg)
}

/// The inverse of [`google_any_urls`]: every `Any` in `msg` (nested ones too) back to the
/// `/pkg.Msg` URL the chain expects.
fn cosmos_msg_any_urls(msg: &mut DynamicMessage) {
    if msg.descriptor().full_name() == "google.protobuf.Any" {
        let url = msg
            .get_field_by_name("type_url")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let Some(name) = url.strip_prefix("type.googleapis.com/") else {
            return;
        };
        let pool = msg.descriptor().parent_pool().clone();
        if let Some(inner_desc) = pool.get_message_by_name(name) {
            let value = msg
                .get_field_by_name("value")
                .and_then(|v| v.as_bytes().cloned())
                .unwrap_or_default();
            if let Ok(mut inner) = DynamicMessage::decode(inner_desc, value) {
                cosmos_msg_any_urls(&mut inner);
                msg.set_field_by_name("value", PValue::Bytes(inner.encode_to_vec().into()));
            }
        }
        msg.set_field_by_name("type_url", PValue::String(format!("/{name}")));
        return;
    }
    for (_, value) in msg.fields_mut() {
        match value {
            PValue::Message(m) => cosmos_msg_any_urls(m),
            PValue::List(items) => {
                for item in items {
                    if let PValue::Message(m) = item {
                        cosmos_msg_any_urls(m);
                    }
                }
            }
            PValue::Map(entries) => {
                for v in entries.values_mut() {
                    if let PValue::Message(m) = v {
                        cosmos_msg_any_urls(m);
                    }
                }
            }
            _ => {}
        }
    }
}

fn find_field(desc: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    desc.get_field_by_name(name)
        .or_else(|| desc.get_field_by_json_name(name))
}

/// Sets `dotted` (`pagination.limit`) in the JSON object of `desc` from its text form; a
/// repeated field gets one more element. `lenient`: an unknown name is ignored.
fn set_field(
    obj: &mut Map<String, Value>,
    desc: &MessageDescriptor,
    dotted: &str,
    raw: &str,
    lenient: bool,
) -> Result<(), Status> {
    let mut names = dotted.split('.').peekable();
    let mut desc = desc.clone();
    let mut obj = obj;
    while let Some(name) = names.next() {
        let Some(field) = find_field(&desc, name) else {
            if lenient {
                return Ok(());
            }
            return Err(Status::invalid_argument(format!(
                "{} has no field {name:?}",
                desc.full_name()
            )));
        };
        let key = field.name().to_string();
        if names.peek().is_some() {
            let Kind::Message(inner) = field.kind() else {
                return Err(Status::invalid_argument(format!(
                    "{dotted}: {key} is not a message"
                )));
            };
            if field.is_list() || field.is_map() {
                return Err(Status::invalid_argument(format!(
                    "{dotted}: repeated messages cannot be set from a query"
                )));
            }
            let entry = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            obj = entry.as_object_mut().expect("just made an object");
            desc = inner;
            continue;
        }
        if field.is_map() {
            return Err(Status::invalid_argument(format!(
                "{dotted}: map fields cannot be set from a query"
            )));
        }
        let value = scalar_json(&field, raw)
            .map_err(|e| Status::invalid_argument(format!("{dotted}: {e}")))?;
        if field.is_list() {
            let entry = obj.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            match entry {
                Value::Array(a) => a.push(value),
                other => *other = Value::Array(vec![value]),
            }
        } else {
            obj.insert(key, value);
        }
    }
    Ok(())
}

/// The JSON value proto3 JSON parsing takes for one field given as text: numbers, bytes and
/// well-known types as strings (proto3 JSON accepts them so), booleans as booleans.
fn scalar_json(field: &FieldDescriptor, raw: &str) -> Result<Value, String> {
    Ok(match field.kind() {
        Kind::Bool => match raw {
            "true" | "True" | "1" => Value::Bool(true),
            "false" | "False" | "0" | "" => Value::Bool(false),
            _ => return Err(format!("{raw:?} is not a boolean")),
        },
        Kind::Enum(_) => match raw.parse::<i32>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(raw.to_string()),
        },
        Kind::Message(m) => {
            let wkt = m.full_name().starts_with("google.protobuf.");
            if !wkt {
                return Err(format!("{} cannot be set from text", m.full_name()));
            }
            Value::String(raw.to_string())
        }
        _ => Value::String(raw.to_string()),
    })
}

/// proto3 JSON as the SDK's gateway writes it (gogoproto's jsonpb with `OrigName` and
/// `EmitDefaults`): proto field names, every field, unset messages `null`.
pub fn to_json(msg: &DynamicMessage) -> Result<Value, Status> {
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(true);
    let mut msg = msg.clone();
    google_any_urls(&mut msg);
    let mut v = msg
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| Status::internal(format!("encoding the answer as JSON: {e}")))?;
    fill_nulls(&msg.descriptor(), &mut v);
    cosmos_any_urls(&mut v);
    Ok(v)
}

/// prost-reflect resolves an `Any` only by a `type.googleapis.com/` URL; Cosmos writes
/// `/pkg.Msg`. Every `Any` in `msg`, nested ones (inside an `Any`'s payload) included, gets
/// the Google form while it is encoded; [`cosmos_any_urls`] turns the JSON back.
fn google_any_urls(msg: &mut DynamicMessage) {
    if msg.descriptor().full_name() == "google.protobuf.Any" {
        let url = msg
            .get_field_by_name("type_url")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let Some(name) = url.strip_prefix('/') else {
            return;
        };
        let pool = msg.descriptor().parent_pool().clone();
        let Some(inner_desc) = pool.get_message_by_name(name) else {
            return;
        };
        let value = msg
            .get_field_by_name("value")
            .and_then(|v| v.as_bytes().cloned())
            .unwrap_or_default();
        if let Ok(mut inner) = DynamicMessage::decode(inner_desc, value) {
            google_any_urls(&mut inner);
            msg.set_field_by_name("value", PValue::Bytes(inner.encode_to_vec().into()));
        }
        msg.set_field_by_name(
            "type_url",
            PValue::String(format!("type.googleapis.com/{name}")),
        );
        return;
    }
    for (_, value) in msg.fields_mut() {
        match value {
            PValue::Message(m) => google_any_urls(m),
            PValue::List(items) => {
                for item in items {
                    if let PValue::Message(m) = item {
                        google_any_urls(m);
                    }
                }
            }
            PValue::Map(entries) => {
                for v in entries.values_mut() {
                    if let PValue::Message(m) = v {
                        google_any_urls(m);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `"@type": "type.googleapis.com/X"` as Cosmos writes it, `"/X"`, anywhere in `v`.
fn cosmos_any_urls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(t)) = m.get_mut("@type") {
                if let Some(rest) = t.strip_prefix("type.googleapis.com/") {
                    *t = format!("/{rest}");
                }
            }
            m.values_mut().for_each(cosmos_any_urls);
        }
        Value::Array(a) => a.iter_mut().for_each(cosmos_any_urls),
        _ => {}
    }
}

/// The inverse of [`cosmos_any_urls`] for request bodies: `"/X"` as `type.googleapis.com/X`.
fn google_json_any_urls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(t)) = m.get_mut("@type") {
                if t.starts_with('/') {
                    *t = format!("type.googleapis.com{t}");
                }
            }
            m.values_mut().for_each(google_json_any_urls);
        }
        Value::Array(a) => a.iter_mut().for_each(google_json_any_urls),
        _ => {}
    }
}

/// Unset singular message fields (outside oneofs) and empty bytes as `null`, recursively,
/// into the message an `Any` holds too (gogoproto leaves a nil message or slice `null`).
fn fill_nulls(desc: &MessageDescriptor, v: &mut Value) {
    let Value::Object(obj) = v else {
        return;
    };
    if desc.full_name() == "google.protobuf.Any" {
        let inner = obj
            .get("@type")
            .and_then(Value::as_str)
            .and_then(|t| t.rsplit('/').next())
            .and_then(|name| desc.parent_pool().get_message_by_name(name));
        if let Some(inner) = inner {
            if !inner.full_name().starts_with("google.protobuf.") {
                fill_nulls(&inner, v);
            }
        }
        return;
    }
    if desc.full_name().starts_with("google.protobuf.") {
        return;
    }
    for field in desc.fields() {
        if field.containing_oneof().is_some() || field.is_map() {
            continue;
        }
        let name = field.name();
        match field.kind() {
            Kind::Bytes if !field.is_list() && obj.get(name).is_none_or(|b| b == "") => {
                obj.insert(name.to_string(), Value::Null);
            }
            Kind::Message(inner) => match obj.get_mut(name) {
                None if !field.is_list() => {
                    obj.insert(name.to_string(), Value::Null);
                }
                Some(Value::Array(items)) => {
                    for item in items {
                        fill_nulls(&inner, item);
                    }
                }
                Some(child) => fill_nulls(&inner, child),
                None => {}
            },
            _ => {}
        }
    }
}

/// Percent-decoding; `form`: '+' is a space (query strings, as Go's url.ParseQuery).
fn percent_decode(s: &str, form: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if form => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The axum app of the gateway (CORS is added by the caller).
pub fn http_router(gateway: Arc<Gateway>) -> axum::Router {
    axum::Router::new().fallback(move |req: axum::http::Request<Body>| {
        let gateway = gateway.clone();
        async move { gateway.handle(req).await }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> DescriptorPool {
        stoa_proto::descriptor_pool()
    }

    fn gateway_routes() -> Vec<Route> {
        let mut r = routes_from_pool(&pool());
        r.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        r
    }

    fn find<'a>(
        routes: &'a [Route],
        verb: Method,
        path: &str,
    ) -> Option<(&'a Route, Vec<(String, String)>)> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        routes.iter().find_map(|r| {
            (r.verb == verb)
                .then(|| r.matches(&parts))
                .flatten()
                .map(|v| (r, v))
        })
    }

    #[test]
    fn cosmos_and_stoa_routes() {
        let routes = gateway_routes();
        let (r, vars) = find(
            &routes,
            Method::GET,
            "/cosmos/bank/v1beta1/balances/stoa1xyz",
        )
        .unwrap();
        assert_eq!(r.grpc_path(), "/cosmos.bank.v1beta1.Query/AllBalances");
        assert_eq!(vars, vec![("address".to_string(), "stoa1xyz".to_string())]);
        let (r, _) = find(
            &routes,
            Method::GET,
            "/cosmos/bank/v1beta1/balances/stoa1xyz/by_denom",
        )
        .unwrap();
        assert_eq!(r.grpc_path(), "/cosmos.bank.v1beta1.Query/Balance");
        let (r, _) = find(&routes, Method::POST, "/cosmos/tx/v1beta1/txs").unwrap();
        assert_eq!(r.grpc_path(), "/cosmos.tx.v1beta1.Service/BroadcastTx");
        let (r, vars) = find(&routes, Method::GET, "/cosmos/tx/v1beta1/txs/ABCD").unwrap();
        assert_eq!(r.grpc_path(), "/cosmos.tx.v1beta1.Service/GetTx");
        assert_eq!(vars[0].1, "ABCD");
        let (r, _) = find(
            &routes,
            Method::GET,
            "/cosmos/auth/v1beta1/accounts/stoa1abc",
        )
        .unwrap();
        assert_eq!(r.grpc_path(), "/cosmos.auth.v1beta1.Query/Account");
        // Stoa's own: derived from the Query service.
        let (r, _) = find(&routes, Method::GET, "/stoa/storage/v1/providers").unwrap();
        assert_eq!(r.grpc_path(), "/stoa.storage.v1.Query/Providers");
        let (r, _) = find(&routes, Method::POST, "/stoa/compute/v1/params").unwrap();
        assert_eq!(r.grpc_path(), "/stoa.compute.v1.Query/Params");
        // No Msg service over REST.
        assert!(routes.iter().all(|r| !r.grpc_path().contains(".Msg/")));
        assert!(find(&routes, Method::GET, "/cosmos/bank/v1beta1/nope").is_none());
    }

    #[test]
    fn rest_variables_and_literal_precedence() {
        let p = pool();
        let m = p.services().next().unwrap().methods().next().unwrap();
        let mut routes = vec![
            Route::new("GET", "/x/blocks/{height}", "", &m).unwrap(),
            Route::new("GET", "/x/blocks/latest", "", &m).unwrap(),
            Route::new("GET", "/x/denoms/{denom=**}", "", &m).unwrap(),
        ];
        routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        let (r, v) = find(&routes, Method::GET, "/x/blocks/latest").unwrap();
        assert_eq!(r.template(), "/x/blocks/latest");
        assert!(v.is_empty());
        let (r, v) = find(&routes, Method::GET, "/x/blocks/7").unwrap();
        assert_eq!(r.template(), "/x/blocks/{height}");
        assert_eq!(v[0].1, "7");
        let (_, v) = find(&routes, Method::GET, "/x/denoms/ibc/AB%2FC").unwrap();
        assert_eq!(v[0].1, "ibc/AB/C");
        assert!(find(&routes, Method::GET, "/x/blocks").is_none());
        assert!(find(&routes, Method::GET, "/x/blocks/").is_none());
        assert!(Route::new("GET", "/x/{a=foo/*}", "", &m).is_err());
        assert!(Route::new("GET", "x", "", &m).is_err());
    }

    #[test]
    fn query_parameters_and_body_transcode() {
        let p = pool();
        let input = p
            .get_message_by_name("cosmos.bank.v1beta1.QueryAllBalancesRequest")
            .unwrap();
        let vars = vec![("address".to_string(), "stoa1q".to_string())];
        let msg = build_request(
            &input,
            &BodyRule::None,
            &vars,
            Some("pagination.limit=5&pagination.count_total=true&pagination.key=AAE%3D&unknown=1&address=ignored&resolve_denom=true"),
            b"",
        )
        .unwrap();
        let json = to_json(&msg).unwrap();
        assert_eq!(json["address"], "stoa1q");
        assert_eq!(json["pagination"]["limit"], "5");
        assert_eq!(json["pagination"]["count_total"], true);
        assert_eq!(json["pagination"]["key"], "AAE=");
        assert_eq!(json["resolve_denom"], true);
        let bad = build_request(
            &input,
            &BodyRule::None,
            &vars,
            Some("pagination.limit=x"),
            b"",
        );
        assert_eq!(bad.unwrap_err().code(), Code::InvalidArgument);

        let sim = p
            .get_message_by_name("cosmos.tx.v1beta1.BroadcastTxRequest")
            .unwrap();
        let msg = build_request(
            &sim,
            &BodyRule::All,
            &[],
            Some("mode=1"),
            br#"{"tx_bytes":"AQID","mode":"BROADCAST_MODE_SYNC"}"#,
        )
        .unwrap();
        let json = to_json(&msg).unwrap();
        assert_eq!(json["tx_bytes"], "AQID");
        assert_eq!(json["mode"], "BROADCAST_MODE_SYNC");
        let err = build_request(&sim, &BodyRule::All, &[], None, b"[1]").unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let err = build_request(&sim, &BodyRule::All, &[], None, br#"{"nope":1}"#).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
    }

    #[test]
    fn json_emits_every_field_like_the_sdk_gateway() {
        let p = pool();
        let desc = p
            .get_message_by_name("cosmos.bank.v1beta1.QueryAllBalancesResponse")
            .unwrap();
        let resp = cosmos_sdk_proto::cosmos::bank::v1beta1::QueryAllBalancesResponse {
            balances: vec![cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
                denom: "ustor".into(),
                amount: "18446744073709551617".into(),
            }],
            pagination: None,
        };
        let msg = DynamicMessage::decode(desc, resp.encode_to_vec().as_slice()).unwrap();
        let json = to_json(&msg).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"balances": [{"denom": "ustor", "amount": "18446744073709551617"}], "pagination": null})
        );
        let desc = p
            .get_message_by_name("cosmos.base.query.v1beta1.PageResponse")
            .unwrap();
        let json = to_json(&DynamicMessage::new(desc)).unwrap();
        assert_eq!(json, serde_json::json!({"next_key": null, "total": "0"}));
    }

    #[test]
    fn any_uses_cosmos_type_urls_both_ways() {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
        use cosmos_sdk_proto::cosmos::tx::v1beta1::{Tx, TxBody};
        let p = pool();
        let send = MsgSend {
            from_address: "stoa1a".into(),
            to_address: "stoa1b".into(),
            amount: vec![],
        };
        let tx = Tx {
            body: Some(TxBody {
                messages: vec![tendermint_proto::google::protobuf::Any {
                    type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
                    value: send.encode_to_vec(),
                }],
                ..Default::default()
            }),
            auth_info: None,
            signatures: vec![],
        };
        // The Tx itself inside an Any, as GetTxResponse.tx_response.tx holds it.
        let resp = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse {
            tx: Some(tendermint_proto::google::protobuf::Any {
                type_url: "/cosmos.tx.v1beta1.Tx".into(),
                value: tx.encode_to_vec(),
            }),
            ..Default::default()
        };
        let desc = p
            .get_message_by_name("cosmos.base.abci.v1beta1.TxResponse")
            .unwrap();
        let msg = DynamicMessage::decode(desc.clone(), resp.encode_to_vec().as_slice()).unwrap();
        let json = to_json(&msg).unwrap();
        assert_eq!(json["tx"]["@type"], "/cosmos.tx.v1beta1.Tx", "{json}");
        let m = &json["tx"]["body"]["messages"][0];
        assert_eq!(m["@type"], "/cosmos.bank.v1beta1.MsgSend", "{json}");
        assert_eq!(m["to_address"], "stoa1b");
        assert_eq!(json["tx"]["auth_info"], Value::Null);
        // And back: the JSON decodes to the same bytes.
        let back = build_request(
            &desc,
            &BodyRule::All,
            &[],
            None,
            json.to_string().as_bytes(),
        )
        .unwrap();
        let again = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse::decode(
            back.encode_to_vec().as_slice(),
        )
        .unwrap();
        assert_eq!(again.tx, resp.tx);
    }

    /// A proto file that carries `google.api.http` options is served by them, additional
    /// bindings included, instead of the table or the derived `/stoa/...` routes.
    #[test]
    fn routes_from_google_api_http_annotations() {
        let dir = tempfile::tempdir().unwrap();
        let api = dir.path().join("google/api");
        std::fs::create_dir_all(&api).unwrap();
        std::fs::write(
            api.join("http.proto"),
            r#"syntax = "proto3"; package google.api;
            message HttpRule {
              string selector = 1;
              oneof pattern { string get = 2; string put = 3; string post = 4; string delete = 5;
                              string patch = 6; CustomHttpPattern custom = 8; }
              string body = 7; string response_body = 12; repeated HttpRule additional_bindings = 11;
            }
            message CustomHttpPattern { string kind = 1; string path = 2; }"#,
        )
        .unwrap();
        std::fs::write(
            api.join("annotations.proto"),
            r#"syntax = "proto3"; package google.api;
            import "google/api/http.proto"; import "google/protobuf/descriptor.proto";
            extend google.protobuf.MethodOptions { HttpRule http = 72295728; }"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("demo.proto"),
            r#"syntax = "proto3"; package stoa.demo.v1; import "google/api/annotations.proto";
            message Req { string id = 1; } message Resp { string id = 1; }
            service Query {
              rpc Thing(Req) returns (Resp) {
                option (google.api.http) = { get: "/demo/v1/things/{id}"
                  additional_bindings { post: "/demo/v1/things" body: "*" } };
              }
              rpc Other(Req) returns (Resp);
            }"#,
        )
        .unwrap();
        // Encoded by protox itself: prost_types' FileDescriptorSet drops extension options.
        let mut compiler = protox::Compiler::new([dir.path()]).unwrap();
        compiler.include_imports(true);
        compiler.open_file("demo.proto").unwrap();
        let pool =
            DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice()).unwrap();
        let routes = routes_from_pool(&pool);
        let thing: Vec<_> = routes
            .iter()
            .filter(|r| r.grpc_path() == "/stoa.demo.v1.Query/Thing")
            .map(|r| (r.verb().as_str(), r.template(), r.body.clone()))
            .collect();
        assert_eq!(
            thing,
            vec![
                ("GET", "/demo/v1/things/{id}", BodyRule::None),
                ("POST", "/demo/v1/things", BodyRule::All),
            ]
        );
        // No annotation: the derived Stoa routes.
        assert!(routes
            .iter()
            .any(|r| r.grpc_path() == "/stoa.demo.v1.Query/Other"
                && r.template() == "/stoa/demo/v1/other"));
    }

    #[test]
    fn status_mapping_is_grpc_gateways() {
        assert_eq!(http_status(Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(http_status(Code::InvalidArgument), StatusCode::BAD_REQUEST);
        assert_eq!(
            http_status(Code::FailedPrecondition),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            http_status(Code::Unimplemented),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(
            http_status(Code::Unavailable),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(http_status(Code::Cancelled), StatusCode::REQUEST_TIMEOUT);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb+c", true).unwrap(), "a/b c");
        assert_eq!(percent_decode("a+c", false).unwrap(), "a+c");
        assert!(percent_decode("%zz", false).is_none());
        assert!(percent_decode("%f", false).is_none());
        assert_eq!(snake_case("SealRandomness"), "seal_randomness");
    }
}
