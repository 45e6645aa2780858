//! Test-only fault injection, routed only with `--test-faults`.
//!
//! Browser tests cannot reach into the server, so these endpoints let them
//! provoke the failures a real network produces (silent peers, abrupt
//! closes) and check that the app recovers.

mod burst;
mod burst_ws;
mod echo;
pub mod transport;

use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use serde::Deserialize;

use crate::AppState;
use crate::outbox::Ending;

/// Switches that change live behaviour; all off by default.
#[derive(Debug, Default)]
pub struct Faults {
    stall_pongs: AtomicBool,
    pub transport: transport::TransportFaults,
}

impl Faults {
    pub fn pongs_stalled(&self) -> bool {
        self.stall_pongs.load(Ordering::Relaxed)
    }

    pub fn set_stall_pongs(&self, on: bool) {
        self.stall_pongs.store(on, Ordering::Relaxed);
    }
}

/// The `/test/*` routes when enabled; otherwise a 404 for the whole prefix
/// (so the SPA fallback never answers them with a page).
pub fn routes(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new()
            .route("/test", any(StatusCode::NOT_FOUND))
            .route("/test/{*rest}", any(StatusCode::NOT_FOUND));
    }
    Router::new()
        .route("/test/stall-pongs", post(stall_pongs))
        .route("/test/drop-all", post(drop_all))
        .route("/test/abort-all", post(abort_all))
        .route("/test/store-read-only", post(store_read_only))
        .route("/test/echo", get(echo::upgrade))
        .route("/test/refuse-upgrade", post(transport::refuse_upgrade))
        .route("/test/blackhole-upgrade", post(transport::blackhole_upgrade))
        .route("/test/hold-sse", post(transport::hold_sse))
        .route("/test/burst-ws", get(burst_ws::upgrade))
        .route("/test/burst", post(burst::burst))
}

/// Makes the real SQLite connection refuse writes (`PRAGMA query_only`), so
/// posts and `/healthz` meet a genuine storage error.
async fn store_read_only(
    State(state): State<AppState>,
    Query(q): Query<StallQuery>,
) -> Result<String, (StatusCode, String)> {
    let store = state.hub().store().clone();
    let on = q.on;
    match tokio::task::spawn_blocking(move || store.set_read_only(on)).await {
        Ok(Ok(())) => {
            tracing::info!(on, "test fault: store read-only");
            Ok(format!("store-read-only {on}\n"))
        }
        Ok(Err(e)) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n"))),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n"))),
    }
}

#[derive(Deserialize)]
struct StallQuery {
    on: bool,
}

async fn stall_pongs(State(state): State<AppState>, Query(q): Query<StallQuery>) -> String {
    state.faults().set_stall_pongs(q.on);
    tracing::info!(on = q.on, "test fault: stall pongs");
    format!("stall-pongs {}\n", q.on)
}

#[derive(Deserialize)]
struct DropQuery {
    code: Option<u16>,
}

/// Close codes a server may put on the wire (RFC 6455 §7.4).
fn sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

async fn drop_all(
    State(state): State<AppState>,
    Query(q): Query<DropQuery>,
) -> Result<String, (StatusCode, &'static str)> {
    let code = q.code.unwrap_or(tether_protocol::close_code::GOING_AWAY);
    if !sendable(code) {
        return Err((StatusCode::BAD_REQUEST, "code cannot be sent in a close frame\n"));
    }
    let n = state.hub().end_all(Ending::Close { code, reason: "dropped by test" });
    tracing::info!(code, n, "test fault: drop all");
    Ok(format!("closed {n}\n"))
}

async fn abort_all(State(state): State<AppState>) -> String {
    let n = state.hub().end_all(Ending::Abort);
    tracing::info!(n, "test fault: abort all");
    format!("aborted {n}\n")
}
