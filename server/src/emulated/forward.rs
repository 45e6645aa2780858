//! Any instance serves any emulated session: a request for a session another
//! instance holds is passed on to it, so a plain round-robin load balancer
//! works (no sticky sessions). The token says which instance holds it
//! (`<instance id>.<random>`, bus/peers.rs); the owner's address comes from
//! Redis. When the owner is known gone (not registered, refusing
//! connections) the answer is `404 unknown_session`, which clients treat as
//! "start a new session and resume from the cursor"; when it may be alive
//! but cannot be reached (Redis cannot say, slow, unreachable) it is `503
//! unavailable`, which they retry with the same session.
//!
//! A forwarded request carries [`FORWARDED`] and is then served where it
//! lands or answered 404, never forwarded again, so no registry mix-up can
//! make a loop. The header needs no secret: all it can do is stop a request
//! from being forwarded, which a client could only use against itself.
//! Admission is counted once, where a session starts; forwarded streams,
//! polls and POSTs count on the owner like any of its own.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::{EmuError, SessionQuery};
use crate::AppState;
use crate::bus::peers::is_id;

/// Marks a request one instance passed to another.
pub const FORWARDED: HeaderName = HeaderName::from_static("x-tether-forwarded");

/// A dead owner's host may drop packets rather than refuse: give up soon.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// An owner that has not begun its answer this long after it was due (at
/// once for a stream, a POST or a DELETE; after its hold for a poll) is
/// stuck: the client is better off starting a new session.
const ANSWER_GRACE: Duration = Duration::from_secs(10);

/// Idle connections to other instances are dropped well before the owner's
/// header-read timeout closes them, so a request is never written into a
/// connection the other end is just closing.
const POOL_IDLE: Duration = Duration::from_secs(1);

/// Headers that describe one hop, not the request (RFC 9110 §7.6.1), with
/// the legacy ones still sent; those the `Connection` header names go too.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for h in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(h);
    }
}

fn client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE).pool_timer(TokioTimer::new()).build(http)
    })
}

/// The instance id in front of a session token, if it has one of the
/// form instance ids take (anything else is not looked up anywhere).
pub fn owner_of(token: &str) -> Option<&str> {
    token.split_once('.').map(|(id, _)| id).filter(|id| is_id(id))
}

/// Why a request could not be passed on.
enum Failure {
    /// Nothing listens at the owner's address: it is gone.
    Refused(String),
    /// Anything else (slow, unreachable host, broken mid-answer): it may be alive.
    Other(String),
}

/// Serves the request here, or passes it to the instance holding its session.
pub async fn forward(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Preflights carry no session to find; the local CORS layer answers them.
    if req.method() == Method::OPTIONS || req.headers().contains_key(&FORWARDED) {
        return next.run(req).await;
    }
    let Some(peers) = state.peers() else { return next.run(req).await };
    let Ok(Query(q)) = Query::<SessionQuery>::try_from_uri(req.uri()) else { return next.run(req).await };
    let Some(owner) = q.session.as_deref().and_then(owner_of) else { return next.run(req).await };
    if owner == peers.id() {
        return next.run(req).await;
    }
    let base = match peers.address_of(owner).await {
        Ok(Some(base)) => base,
        Ok(None) => {
            tracing::debug!(owner, "emulated session of an unknown instance");
            return EmuError::UnknownSession.into_response();
        }
        Err(e) => {
            tracing::warn!(owner, error = %e, "cannot find the instance holding an emulated session");
            return unavailable();
        }
    };
    let hold = match req.uri().path().ends_with("/poll") {
        true => Duration::from_millis(state.settings().limits.emulated.poll_hold_ms) + ANSWER_GRACE,
        false => ANSWER_GRACE,
    };
    state.metrics().emulated_forward_attempts.inc();
    match proxy(&base, req, hold).await {
        Ok(resp) => {
            state.metrics().emulated_forwarded.inc();
            resp
        }
        Err(Failure::Refused(why)) => {
            tracing::info!(owner, %base, %why, "the instance holding an emulated session is gone");
            peers.forget(owner);
            EmuError::UnknownSession.into_response()
        }
        Err(Failure::Other(why)) => {
            tracing::info!(owner, %base, %why, "cannot reach the instance holding an emulated session");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    EmuError::Unavailable("the server holding this session cannot be reached just now; retry".into()).into_response()
}

/// Sends `req` to `base` (its path and query kept) and streams the answer back.
async fn proxy(base: &str, req: Request, hold: Duration) -> Result<Response, Failure> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{base}{path}").parse::<Uri>().map_err(|e| Failure::Other(e.to_string()))?;
    strip_hop_by_hop(&mut parts.headers);
    // Host and Origin stay as the client sent them: the owner checks them too.
    parts.headers.insert(FORWARDED, HeaderValue::from_static("1"));
    let answer = tokio::time::timeout(hold, client().request(Request::from_parts(parts, body)))
        .await
        .map_err(|_| Failure::Other("no answer in time".to_owned()))?
        .map_err(|e| match refused(&e) {
            true => Failure::Refused(e.to_string()),
            false => Failure::Other(format!("{e}: {:?}", std::error::Error::source(&e))),
        })?;
    let mut resp = answer.map(Body::new);
    strip_hop_by_hop(resp.headers_mut());
    Ok(resp)
}

/// Whether the connection was refused (somewhere down the error's causes).
fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused) {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_what_precedes_the_first_dot() {
        assert_eq!(owner_of("abcdEF-_.xyz"), Some("abcdEF-_"));
        assert_eq!(owner_of("plainToken22characters"), None);
    }

    #[test]
    fn only_an_instance_id_is_taken_for_an_owner() {
        assert_eq!(owner_of("abcdEF-_9.xyz"), None, "too long");
        assert_eq!(owner_of("abc.xyz"), None, "too short");
        assert_eq!(owner_of(&format!("{}.xyz", "a".repeat(4096))), None);
        assert_eq!(owner_of("abcd EF_.xyz"), None);
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_not_passed_on() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "close, x-hop"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("x-hop", "1"),
            ("origin", "http://a"),
        ] {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["origin"]);
    }
}
