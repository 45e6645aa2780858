//! nginx in front of the server, configured the way broken deployments
//! are, for the fallback tests (native and, through testctl's
//! `POST /nginx/start?mode=…`, browser ones).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Json;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use crate::control::Shared;
use crate::nginx::Nginx;

/// How the proxy is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyMode {
    /// Plain `proxy_pass`: HTTP/1.0 upstream, no `Upgrade`/`Connection`
    /// headers forwarded (WebSockets cannot pass), default buffering on
    /// (streamed responses pass only if they say `X-Accel-Buffering: no`).
    NoUpgrade,
    /// As `NoUpgrade`, and it also ignores `X-Accel-Buffering`: a streamed
    /// response is held back until it ends (SSE cannot pass; long-poll can).
    Buffered,
}

/// The `server { }` block for [`Nginx::start`], proxying to 127.0.0.1:`upstream`.
pub fn config(mode: ProxyMode, upstream: u16) -> String {
    let ignore = match mode {
        ProxyMode::NoUpgrade => "",
        ProxyMode::Buffered => "proxy_ignore_headers X-Accel-Buffering;",
    };
    format!(
        "server {{\n  listen 127.0.0.1:{{port}};\n  location / {{\n    \
         proxy_pass http://127.0.0.1:{upstream};\n    proxy_set_header Host $http_host;\n    {ignore}\n  }}\n}}\n"
    )
}

#[derive(Deserialize)]
struct StartQuery {
    mode: ProxyMode,
}

type Proxy = Arc<Mutex<Option<Nginx>>>;

/// `POST /nginx/start?mode=no-upgrade|buffered` → `{"http": base URL,
/// "ws": its /ws URL}` (replacing any running proxy); `POST /nginx/stop`.
pub fn router(supervisor: Shared) -> Router {
    let proxy: Proxy = Arc::default();
    Router::new().route("/nginx/start", post(start)).route("/nginx/stop", post(stop)).with_state((supervisor, proxy))
}

async fn start(
    State((sup, proxy)): State<(Shared, Proxy)>,
    Query(q): Query<StartQuery>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let upstream = sup.lock().await.port();
    let mut running = proxy.lock().await;
    running.take();
    let conf = config(q.mode, upstream);
    let nginx = tokio::task::spawn_blocking(move || Nginx::start(&conf))
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")))?
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")))?;
    let http = nginx.base_url();
    let ws = format!("ws://127.0.0.1:{}/ws", nginx.port());
    *running = Some(nginx);
    Ok(Json(json!({ "http": http, "ws": ws })))
}

async fn stop(State((_, proxy)): State<(Shared, Proxy)>) -> Json<serde_json::Value> {
    let stopped = proxy.lock().await.take().is_some();
    Json(json!({ "stopped": stopped }))
}
