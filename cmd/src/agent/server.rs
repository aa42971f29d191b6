//! The worker's HTTP endpoint (HTTP/1.1 on hyper): the API of `protocol.rs`. Uploads are
//! bounded in size; sealed results are served to anyone (only the renter can open them).

use super::protocol::{ApiError, JobUpload};
use super::state::job_dir;
use super::worker::Agent;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

fn json_response<T: serde::Serialize>(code: u16, v: &T) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn error(code: u16, msg: impl Into<String>) -> Response<Full<Bytes>> {
    json_response(code, &ApiError { error: msg.into() })
}

async fn handle(agent: Arc<Agent>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path: Vec<String> = req
        .uri()
        .path()
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match (req.method().clone(), p.as_slice()) {
        (Method::GET, ["v1", "status"]) => json_response(
            200,
            &serde_json::json!({
                "device_id": agent.device_id,
                "worker_address": agent.worker_address(),
                "enc_key": hex::encode(super::seal::public_bytes(&agent.keys.enc)),
                "docker": agent.docker,
                "version": env!("CARGO_PKG_VERSION"),
            }),
        ),
        (Method::POST, ["v1", "jobs"]) => {
            // Base64 and JSON around the payload: a third more than its limit.
            let limit = agent.max_payload / 3 * 4 + 4096;
            let body = match Limited::new(req.into_body(), limit).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return error(413, format!("reading the upload: {e}")),
            };
            let up: JobUpload = match serde_json::from_slice(&body) {
                Ok(u) => u,
                Err(e) => return error(400, format!("not a job upload: {e}")),
            };
            match agent.accept(up).await {
                Ok(status) => json_response(202, &status),
                Err(r) => {
                    agent.log(
                        "job_refused",
                        serde_json::json!({ "code": r.0, "error": r.1 }),
                    );
                    error(r.0, r.1)
                }
            }
        }
        (Method::GET, ["v1", "jobs", lease, job, rest @ ..]) => {
            let (Ok(lease), Ok(job)) = (lease.parse::<u64>(), job.parse::<u64>()) else {
                return error(400, "lease and job ids are numbers");
            };
            let Some(status) = agent.job_status(lease, job) else {
                return error(404, format!("no job {lease}/{job} here"));
            };
            let file = match rest {
                [] => return json_response(200, &status),
                ["result"] => "result.box",
                ["log"] => "log.box",
                _ => return error(404, "no such path"),
            };
            match std::fs::read(job_dir(&agent.home, lease, job).join(file)) {
                Ok(bytes) => {
                    let mut r = Response::new(Full::new(Bytes::from(bytes)));
                    r.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/octet-stream"),
                    );
                    r
                }
                Err(_) => error(
                    404,
                    format!("job {lease}/{job} has no {file} yet ({})", status.status),
                ),
            }
        }
        _ => error(404, "no such path"),
    }
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(listener: TcpListener, agent: Arc<Agent>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                agent.log(
                    "accept_failed",
                    serde_json::json!({ "error": e.to_string() }),
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let agent = agent.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let agent = agent.clone();
                async move { Ok::<_, Infallible>(handle(agent, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
