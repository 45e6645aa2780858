//! `POST /client-metrics`: the app's report of what its users experience
//! (reconnect times, heartbeat round trips), folded into `/metrics`
//! histograms. Browsers send it with `navigator.sendBeacon`, so it must be
//! cheap and answer nothing but a status; a bad report says what is wrong.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tether_protocol::ClientReport;
use tether_protocol::report::{MAX_REPORT_BYTES, MAX_REPORT_SAMPLES};

use crate::AppState;

/// Reports one address may send at once, then [`REPORT_RATE`] per second.
/// A tab reports once a minute and when hidden; an office behind one
/// address has many tabs, so this is generous, yet a loop is held to it.
pub const REPORT_BURST: u32 = 60;
/// See [`REPORT_BURST`].
pub const REPORT_RATE: f64 = 5.0;

/// Takes one report from the sender's budget (shared by `/client-metrics`
/// and `/csp-report`); over it, the 429 to answer, with when to retry.
pub fn refusal(state: &AppState, ext: &Extensions) -> Option<Response> {
    let ip = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let Err(wait) = state.reports().take(ip, REPORT_BURST, REPORT_RATE, Instant::now()) else { return None };
    state.metrics().reports_refused.inc();
    let ms = crate::rate::retry_ms(wait);
    let why = format!(
        "too many reports from this address ({REPORT_BURST} at once, then {REPORT_RATE}/s); retry in {ms} ms\n"
    );
    let secs = ms.div_ceil(1000).max(1).to_string();
    Some((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, secs)], why).into_response())
}

/// The body is limited to [`MAX_REPORT_BYTES`] by the route's body limit
/// (413 past it), then must be a [`ClientReport`] within its bounds.
pub async fn client_metrics(State(state): State<AppState>, ext: Extensions, body: Bytes) -> Response {
    if let Some(refused) = refusal(&state, &ext) {
        return refused;
    }
    let report: ClientReport = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not a metrics report: {e}\n")).into_response(),
    };
    if !report.is_valid() {
        let why = format!(
            "report out of bounds: at most {MAX_REPORT_SAMPLES} finite, non-negative samples of each kind, \\
             transport name at most 16 bytes\n"
        );
        return (StatusCode::BAD_REQUEST, why).into_response();
    }
    state.metrics().client_report(&report);
    StatusCode::NO_CONTENT.into_response()
}

/// The body limit for the route.
pub fn body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_REPORT_BYTES)
}
