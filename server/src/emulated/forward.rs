//! Any instance serves any emulated session: a request for a session another
//! instance holds is passed on to it, so a plain round-robin load balancer
//! works (no sticky sessions). The token says which instance holds it
//! (`<instance id>.<random>`, bus/peers.rs); the owner's address comes from
//! Redis. When the owner is gone or unknown the answer is `404
//! unknown_session`, which clients already treat as "start a new session
//! and resume from the cursor".
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
use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::{EmuError, SessionQuery};
use crate::AppState;

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

/// Headers that describe one hop, not the request (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 5] =
    [header::CONNECTION, header::TRANSFER_ENCODING, header::TE, header::TRAILER, header::UPGRADE];

fn client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE).pool_timer(TokioTimer::new()).build(http)
    })
}

/// The instance id in front of a session token, if it has one.
pub fn owner_of(token: &str) -> Option<&str> {
    token.split_once('.').map(|(id, _)| id)
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
    let Some(base) = peers.address_of(owner).await else {
        tracing::debug!(owner, "emulated session of an unknown instance");
        return EmuError::UnknownSession.into_response();
    };
    let hold = match req.uri().path().ends_with("/poll") {
        true => Duration::from_millis(state.settings().limits.emulated.poll_hold_ms) + ANSWER_GRACE,
        false => ANSWER_GRACE,
    };
    match proxy(&base, req, hold).await {
        Ok(resp) => {
            state.metrics().emulated_forwarded.inc();
            resp
        }
        Err(why) => {
            tracing::info!(owner, %base, %why, "cannot reach the instance holding an emulated session");
            EmuError::UnknownSession.into_response()
        }
    }
}

/// Sends `req` to `base` (its path and query kept) and streams the answer back.
async fn proxy(base: &str, req: Request, hold: Duration) -> Result<Response, String> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{}{path}", base.trim_end_matches('/')).parse::<Uri>().map_err(|e| e.to_string())?;
    for h in &HOP_BY_HOP {
        parts.headers.remove(h);
    }
    // Host and Origin stay as the client sent them: the owner checks them too.
    parts.headers.insert(FORWARDED, HeaderValue::from_static("1"));
    let answer = tokio::time::timeout(hold, client().request(Request::from_parts(parts, body)))
        .await
        .map_err(|_| "no answer in time".to_owned())?
        .map_err(|e| e.to_string())?;
    let mut resp = answer.map(Body::new);
    for h in &HOP_BY_HOP {
        resp.headers_mut().remove(h);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_what_precedes_the_first_dot() {
        assert_eq!(owner_of("abcdEF-_.xyz"), Some("abcdEF-_"));
        assert_eq!(owner_of("plainToken22characters"), None);
    }
}
