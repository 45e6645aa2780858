//! Cross-origin protection: a hostile page must not drive a visitor's
//! browser against this server (WebSockets are not covered by CORS).
//!
//! Applied to `/ws` and every endpoint that changes state. A request without
//! an `Origin` header does not come from a browser page and is allowed.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Refuses, with 403 before any upgrade, a request whose `Origin` is neither
/// the request's own `Host` nor one of the configured extra origins.
pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        if !allowed(origin.to_str().ok(), host, &state.settings().allowed_origins) {
            tracing::info!(origin = ?origin, host = ?host, "origin refused");
            return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
        }
    }
    next.run(req).await
}

/// Origins compare as `scheme://host[:port]`, case-insensitively, without a
/// trailing slash; the page's own origin is the one whose authority is `host`.
pub fn allowed(origin: Option<&str>, host: Option<&str>, extra: &[String]) -> bool {
    let Some(origin) = origin.map(|o| o.trim_end_matches('/')) else { return false };
    if extra.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin)) {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    web && host.is_some_and(|h| h.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn own_host_and_listed_origins_only() {
        let extra = vec!["https://chat.example.com".to_owned()];
        assert!(allowed(Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080"), &[]));
        assert!(allowed(Some("HTTPS://Chat.Example.com/"), Some("10.0.0.1"), &extra));
        assert!(!allowed(Some("http://evil.test"), Some("127.0.0.1:8080"), &extra));
        assert!(!allowed(Some("http://127.0.0.1:8081"), Some("127.0.0.1:8080"), &[]));
        assert!(!allowed(Some("null"), Some("127.0.0.1:8080"), &[]));
        assert!(!allowed(Some("file://127.0.0.1:8080"), Some("127.0.0.1:8080"), &[]));
        assert!(!allowed(None, Some("127.0.0.1:8080"), &[]), "unreadable origin header");
    }
}
