//! The client-facing servers of `stoad start`, on one tokio runtime apart from consensus: gRPC
//! (with gRPC-web for browsers when app.toml's `grpc_web` is on) and the REST gateway
//! (`rest_addr`), both behind the CORS policy of `cors_allowed_origins`. They only read the
//! committed state (queries run on blocking threads against a store version) and relay txs to
//! CometBFT: nothing here runs in FinalizeBlock.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::app::StoaApp;
use crate::config::AppConfig;

/// Headers a browser page may read from an answer: gRPC-web's status in the trailers-as-
/// headers of a trailers-only answer, and the height the query was answered at.
const EXPOSED_HEADERS: &[&str] = &[
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "x-cosmos-block-height",
    "grpc-metadata-x-cosmos-block-height",
];

/// The CORS layer for `origins` (see `AppConfig::cors_allowed_origins`); `None` when empty
/// (no CORS headers: browsers allow same-origin pages only).
pub fn cors_layer(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let list = origins
            .iter()
            .map(|o| HeaderValue::from_str(o).with_context(|| format!("CORS origin {o:?}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(list)
    };
    let exposed: Vec<HeaderName> = EXPOSED_HEADERS
        .iter()
        .map(|h| HeaderName::from_static(h))
        .collect();
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            // gRPC-web sends x-grpc-web, x-user-agent, grpc-timeout and content-type; REST
            // clients the height header: allow whatever a page asks for.
            .allow_headers(Any)
            .expose_headers(exposed)
            .max_age(std::time::Duration::from_secs(600)),
    ))
}

/// Binds the REST address now (a taken port fails the start); `None` when `rest_addr` is "".
pub fn bind_rest(config: &AppConfig) -> anyhow::Result<Option<std::net::TcpListener>> {
    if config.rest_addr.trim().is_empty() {
        return Ok(None);
    }
    let addr: SocketAddr = config
        .rest_addr
        .parse()
        .with_context(|| format!("rest_addr {:?}", config.rest_addr))?;
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("binding the REST gateway to {addr}"))?;
    listener.set_nonblocking(true).context("REST listener")?;
    Ok(Some(listener))
}

/// Serves gRPC (and gRPC-web when `config.grpc_web`) on `grpc`, and the REST gateway on
/// `rest`, until one of them fails.
pub async fn serve(
    app: StoaApp,
    config: &AppConfig,
    grpc: tokio::net::TcpListener,
    rest: Option<tokio::net::TcpListener>,
) -> anyhow::Result<()> {
    let routes = crate::grpc::routes(app, &config.rpc_addr)?;
    let cors = cors_layer(&config.cors_allowed_origins)?;
    let grpc_server = serve_grpc(routes.clone(), config.grpc_web, cors.clone(), grpc);
    match rest {
        None => grpc_server.await,
        Some(rest) => {
            let gateway = Arc::new(crate::rest::Gateway::new(
                &stoa_proto::descriptor_pool(),
                routes,
            ));
            tracing::info!(addr = %rest.local_addr()?, routes = gateway.routes().len(), "REST gateway serving");
            let rest_server = serve_rest(gateway, cors, rest);
            tokio::select! {
                r = grpc_server => r,
                r = rest_server => r,
            }
        }
    }
}

/// The gRPC server on `listener`: HTTP/2 gRPC, and gRPC-web over HTTP/1.1 or HTTP/2 when
/// `web` is on, with `cors` around both.
pub async fn serve_grpc(
    routes: tonic::service::Routes,
    web: bool,
    cors: Option<CorsLayer>,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let web_layer = web.then(tonic_web::GrpcWebLayer::new);
    tonic::transport::Server::builder()
        // gRPC-web from a browser comes over HTTP/1.1.
        .accept_http1(web)
        .layer(tower::util::option_layer(cors))
        .layer(tower::util::option_layer(web_layer))
        .add_routes(routes)
        .serve_with_incoming(incoming)
        .await
        .context("gRPC server")
}

/// The REST gateway on `listener`.
pub async fn serve_rest(
    gateway: Arc<crate::rest::Gateway>,
    cors: Option<CorsLayer>,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let mut router = crate::rest::http_router(gateway);
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    axum::serve(listener, router).await.context("REST gateway")
}

/// Runs [`serve`] on its own tokio runtime; returns only on error.
pub fn serve_blocking(
    app: StoaApp,
    config: AppConfig,
    grpc: std::net::TcpListener,
    rest: Option<std::net::TcpListener>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("grpc-worker")
        .enable_all()
        .build()
        .context("gRPC runtime")?;
    runtime.block_on(async move {
        let grpc = tokio::net::TcpListener::from_std(grpc).context("gRPC listener")?;
        let rest = rest
            .map(tokio::net::TcpListener::from_std)
            .transpose()
            .context("REST listener")?;
        tracing::info!(addr = %grpc.local_addr()?, web = config.grpc_web, "gRPC serving");
        serve(app, &config, grpc, rest).await
    })
}
