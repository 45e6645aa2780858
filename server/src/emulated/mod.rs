//! The emulated connection: WebSocket semantics over plain HTTP for networks
//! that break WebSockets (SSE or long-poll down, POST up). The wire protocol
//! is in ws/README.md ("Emulated connection"); the chat runs unchanged over
//! it, through the same [`crate::session::Session`] and
//! [`crate::outbox::Outbox`] as a WebSocket.
//!
//! Every endpoint checks the Origin (JSON 403) and answers CORS for allowed
//! origins only, so a cross-origin static host can use it and nobody else.

mod downlog;
mod error;
pub mod forward;
mod limits;
mod poll;
mod send;
mod sessions;
mod shared;
mod sse;

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tether_protocol::close_code;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use error::EmuError;
pub use limits::EmulatedLimits;
pub use send::MAX_SEND_BODY;
pub use sessions::Registry;

use crate::AppState;
use crate::origin;

/// The endpoints under the WebSocket's path (`/ws/session`, …), so a proxy
/// that forwards `/ws` forwards the fallback too.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/ws/session", post(sessions::create).delete(sessions::delete))
        .route("/ws/sse", get(sse::sse))
        .route("/ws/poll", get(poll::poll))
        .route("/ws/send", post(send::send))
        // The Origin check is outermost: a refused origin gets 403 even on a preflight.
        .route_layer(cors(state.settings().allowed_origins.clone()))
        // Inside the Origin check, outside CORS: a forwarded answer carries the owner's CORS headers.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), forward::forward))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), check_origin))
}

fn host(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok())
}

/// The same rule as `/ws` (origin.rs), answered in the endpoints' JSON.
async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(o) = req.headers().get(header::ORIGIN)
        && !origin::allowed(o.to_str().ok(), host(req.headers()), &state.settings().allowed_origins)
    {
        tracing::info!(origin = ?o, "emulated session: origin refused");
        return EmuError::OriginNotAllowed.into_response();
    }
    next.run(req).await
}

/// `Access-Control-Allow-Origin: <that origin>` for allowed origins only:
/// no wildcard, no credentials.
fn cors(extra: Vec<String>) -> CorsLayer {
    let allow = AllowOrigin::predicate(move |o: &HeaderValue, parts: &Parts| {
        origin::allowed(o.to_str().ok(), host(&parts.headers), &extra)
    });
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static("last-event-id")])
        .max_age(Duration::from_secs(600))
}

/// Query parameters, parsed by hand so a bad one gets the JSON error.
#[derive(Deserialize)]
pub struct SessionQuery {
    session: Option<String>,
    after: Option<String>,
    seq: Option<String>,
}

impl SessionQuery {
    fn session(&self) -> Result<&str, EmuError> {
        self.session.as_deref().ok_or_else(|| EmuError::bad("the session parameter is missing"))
    }

    /// `after` (default 0: nothing processed yet).
    fn after(&self) -> Result<u64, EmuError> {
        match &self.after {
            None => Ok(0),
            Some(a) => number(Some(a), "after"),
        }
    }

    fn seq(&self) -> Result<u64, EmuError> {
        match number(self.seq.as_deref(), "seq")? {
            0 => Err(EmuError::bad("seq counts from 1")),
            n => Ok(n),
        }
    }
}

fn number(v: Option<&str>, what: &str) -> Result<u64, EmuError> {
    v.and_then(|v| v.trim().parse().ok()).ok_or_else(|| EmuError::bad(format!("{what} must be a frame number")))
}

/// A reader asked for frames no longer kept: the session cannot go on
/// without a hole, so it ends (1013) and the client starts a new one (the
/// chat's resume cursor then covers the gap).
fn gap_close(shared: &shared::Shared) -> (u16, &'static str) {
    let reason = "frames no longer kept; reconnect";
    shared.closer.close(close_code::TRY_AGAIN_LATER, reason);
    shared.close_delivered();
    (close_code::TRY_AGAIN_LATER, reason)
}
