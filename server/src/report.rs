//! `POST /client-metrics`: the app's report of what its users experience
//! (reconnect times, heartbeat round trips), folded into `/metrics`
//! histograms. Browsers send it with `navigator.sendBeacon`, so it must be
//! cheap and answer nothing but a status; a bad report says what is wrong.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tether_protocol::ClientReport;
use tether_protocol::report::{MAX_REPORT_BYTES, MAX_REPORT_SAMPLES};

use crate::AppState;

/// The body is limited to [`MAX_REPORT_BYTES`] by the route's body limit
/// (413 past it), then must be a [`ClientReport`] within its bounds.
pub async fn client_metrics(State(state): State<AppState>, body: Bytes) -> Response {
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
