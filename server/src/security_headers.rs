//! Security headers on the app's files, and the endpoint browsers report
//! Content-Security-Policy violations to.
//!
//! A layer of its own around whatever serves the files (static_files.rs), so
//! how the files are served (precompressed or not) and which headers protect
//! them change independently. The policy is one fixed string because the app
//! has no inline script (boot.js replaces Trunk's inline loader): operators
//! of a static host copy it as is, adding their chat server to `connect-src`
//! (README, "Deploying").

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use tower::Service;

use crate::AppState;

/// The policy the app runs under when this server serves it: its own
/// origin only (`'self'` covers `ws:`/`wss:` to the same host), WebAssembly
/// compilation (`'wasm-unsafe-eval'`, never `'unsafe-eval'`), no inline
/// script or style, no framing, violations reported to [`REPORT_PATH`].
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'; report-uri /csp-report";

/// Where browsers POST violation reports (`report-uri`).
pub const REPORT_PATH: &str = "/csp-report";

/// Reports are small JSON objects; anything bigger is refused (413).
pub const MAX_REPORT_BYTES: usize = 16 * 1024;

/// The longest field of a report that goes into the log.
const LOGGED_CHARS: usize = 200;

/// `files` with the security headers on every response.
pub fn wrap<S>(files: S) -> Router
where
    S: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    Router::new().fallback_service(files).layer(axum::middleware::map_response(add_headers))
}

async fn add_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // For browsers older than CSP's frame-ancestors.
    h.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    res
}

/// `POST /csp-report`: counts the violation in `/metrics`
/// (`tether_csp_violations_total`) and logs what was blocked, so operators
/// see a policy that breaks the app (or an injection attempt).
pub async fn report(State(state): State<AppState>, ext: axum::http::Extensions, body: Bytes) -> Response {
    if let Some(refused) = crate::report::refusal(&state, &ext) {
        return refused;
    }
    let Ok(report) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a CSP violation report (JSON)\n").into_response();
    };
    let r = report.get("csp-report").unwrap_or(&report);
    let field = |name: &str| -> String {
        r.get(name).and_then(|v| v.as_str()).unwrap_or("?").chars().take(LOGGED_CHARS).collect()
    };
    state.metrics().csp_violations.inc();
    tracing::warn!(
        directive = %field("violated-directive"),
        blocked = %field("blocked-uri"),
        page = %field("document-uri"),
        "content security policy violation reported"
    );
    StatusCode::NO_CONTENT.into_response()
}

/// The body limit for the report route.
pub fn body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_REPORT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::CONTENT_SECURITY_POLICY as CSP;

    #[test]
    fn the_policy_allows_wasm_but_no_eval_or_inline_code() {
        assert!(CSP.contains("script-src 'self' 'wasm-unsafe-eval';"));
        for forbidden in ["'unsafe-eval'", "'unsafe-inline'", "*", "data:"] {
            assert!(!CSP.contains(&format!(" {forbidden}")), "{forbidden} in {CSP}");
        }
        assert!(CSP.contains("frame-ancestors 'none'"));
    }
}
