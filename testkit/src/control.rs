//! The HTTP control surface browser tests call. Every answer carries
//! `Access-Control-Allow-Origin: *` (the test page lives on another origin),
//! and CORS preflights for the POSTs are answered.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::Mutex;
use tower_http::cors::CorsLayer;

use crate::http;
use crate::supervisor::{Supervisor, SupervisorError};

pub type Shared = Arc<Mutex<Supervisor>>;

pub fn router(supervisor: Shared) -> Router {
    Router::new()
        .route("/info", get(info))
        .route("/kill", post(kill))
        .route("/start", post(start))
        .route("/restart", post(restart))
        .route("/wipe", post(wipe))
        .route("/term", post(term))
        .route("/connections", get(connections))
        .route("/metrics", get(metrics))
        .route("/stall-pongs", post(switch))
        .route("/drop-all", post(drop_all))
        .route("/abort-all", post(abort_all))
        .route("/refuse-upgrade", post(switch))
        .route("/blackhole-upgrade", post(switch))
        .route("/hold-sse", post(switch))
        .route("/burst", post(burst))
        .with_state(supervisor.clone())
        .merge(crate::proxy::router(supervisor))
        .layer(CorsLayer::permissive())
}

/// Failures reported to the test, with the reason as plain text.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, format!("{}\n", self.1)).into_response()
    }
}

impl From<SupervisorError> for Failure {
    fn from(e: SupervisorError) -> Self {
        let status = match e {
            SupervisorError::NotRunning => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Failure(status, e.to_string())
    }
}

impl From<http::HttpError> for Failure {
    fn from(e: http::HttpError) -> Self {
        Failure(StatusCode::BAD_GATEWAY, e.to_string())
    }
}

fn info_json(port: u16) -> Json<serde_json::Value> {
    Json(json!({
        "ws": format!("ws://127.0.0.1:{port}/ws"),
        "http": format!("http://127.0.0.1:{port}"),
    }))
}

async fn info(State(s): State<Shared>) -> Json<serde_json::Value> {
    info_json(s.lock().await.port())
}

async fn kill(State(s): State<Shared>) -> Result<Json<serde_json::Value>, Failure> {
    s.lock().await.kill().await?;
    Ok(Json(json!({ "killed": true })))
}

async fn start(State(s): State<Shared>) -> Result<Json<serde_json::Value>, Failure> {
    let mut sup = s.lock().await;
    sup.start().await?;
    Ok(info_json(sup.port()))
}

async fn restart(State(s): State<Shared>) -> Result<Json<serde_json::Value>, Failure> {
    let mut sup = s.lock().await;
    sup.kill().await?;
    sup.start().await?;
    Ok(info_json(sup.port()))
}

async fn wipe(State(s): State<Shared>) -> Result<Json<serde_json::Value>, Failure> {
    let mut sup = s.lock().await;
    sup.wipe().await?;
    Ok(info_json(sup.port()))
}

async fn term(State(s): State<Shared>) -> Result<Json<serde_json::Value>, Failure> {
    let exit = s.lock().await.term().await?;
    Ok(Json(json!(exit)))
}

/// Forwards a request to the server and relays its status and body.
async fn forward(s: &Shared, method: &str, path: &str) -> Result<(StatusCode, String), Failure> {
    let port = s.lock().await.port();
    let (status, body) = http::request(port, method, path).await?;
    Ok((StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY), body))
}

async fn metrics(State(s): State<Shared>) -> Result<(StatusCode, String), Failure> {
    forward(&s, "GET", "/metrics").await
}

async fn connections(State(s): State<Shared>) -> Result<String, Failure> {
    let (_, text) = forward(&s, "GET", "/metrics").await?;
    text.lines()
        .find_map(|l| l.strip_prefix("tether_connections_open "))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| Failure(StatusCode::BAD_GATEWAY, "no tether_connections_open".into()))
}

/// Rebuilds a query string from known-safe parameters only.
fn query(params: &HashMap<String, String>, key: &str) -> Result<String, Failure> {
    match params.get(key) {
        Some(v) if v.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(format!("?{key}={v}")),
        Some(_) => Err(Failure(StatusCode::BAD_REQUEST, format!("bad {key}"))),
        None => Ok(String::new()),
    }
}

/// The on/off fault switches (`/stall-pongs`, `/refuse-upgrade`,
/// `/blackhole-upgrade`, `/hold-sse`), forwarded to the server's `/test/…`
/// of the same name.
async fn switch(
    State(s): State<Shared>,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Result<(StatusCode, String), Failure> {
    let on = query(&q, "on")?;
    if on.is_empty() {
        return Err(Failure(StatusCode::BAD_REQUEST, "missing on=true|false".into()));
    }
    forward(&s, "POST", &format!("/test{}{on}", uri.path())).await
}

async fn drop_all(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<(StatusCode, String), Failure> {
    let code = query(&q, "code")?;
    forward(&s, "POST", &format!("/test/drop-all{code}")).await
}

async fn abort_all(State(s): State<Shared>) -> Result<(StatusCode, String), Failure> {
    forward(&s, "POST", "/test/abort-all").await
}

/// `POST /burst?room=R&n=N`: the server's test burst (see the server's
/// `faults/burst.rs`); answers once it has started.
async fn burst(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<(StatusCode, String), Failure> {
    let room = q.get("room").filter(|r| r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let n = q.get("n").filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let (Some(room), Some(n)) = (room, n) else {
        return Err(Failure(StatusCode::BAD_REQUEST, "need room=NAME&n=COUNT".into()));
    };
    forward(&s, "POST", &format!("/test/burst?room={room}&n={n}")).await
}
