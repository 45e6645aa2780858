//! Starting, running and forgetting emulated sessions.
//!
//! Each session runs the same [`Session`] over the same [`Outbox`] as a
//! WebSocket, and its lifecycle task mirrors ws.rs's loops: admission ticket,
//! hub registration, hello timeout, shutdown → 1001, slow consumer → 1013,
//! every ending through the outbox's [`crate::outbox::Closer`], then
//! `leave_all`. Instead of writing to a socket it moves frames from the
//! outbox into the session's downstream log, where streams and polls read them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::ws::Message;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{Extensions, StatusCode};
use base64::Engine;
use rand::RngCore;
use tether_protocol::close_code;
use tokio::time::{Duration, Instant};

use super::downlog::End;
use super::shared::Shared;
use super::{EmuError, SessionQuery};
use crate::AppState;
use crate::admission::{Refused, Ticket};
use crate::outbox::{Ending, Outbox, OutboxRx};
use crate::session::Session;
use crate::sync::lock;

/// Ended sessions remembered (to answer 410 rather than 404), at most this
/// many and for this long: bounded memory whatever clients do.
const GONE_KEPT: usize = 10_000;
const GONE_FOR: Duration = Duration::from_secs(600);

#[derive(Default)]
struct Gone {
    order: VecDeque<(String, Instant)>,
    tokens: HashSet<String>,
}

/// Every live emulated session by token, and recently ended tokens.
#[derive(Default)]
pub struct Registry {
    live: Mutex<HashMap<String, Arc<Shared>>>,
    gone: Mutex<Gone>,
    creation: crate::addr_rate::AddrRate,
}

impl Registry {
    /// The live session, or why not: 410 if it ended recently, else 404.
    pub fn find(&self, token: &str) -> Result<Arc<Shared>, EmuError> {
        if let Some(s) = lock(&self.live).get(token) {
            return Ok(s.clone());
        }
        let mut gone = lock(&self.gone);
        gone.expire(Instant::now());
        match gone.tokens.contains(token) {
            true => Err(EmuError::ExpiredSession),
            false => Err(EmuError::UnknownSession),
        }
    }

    fn insert(&self, shared: Arc<Shared>) {
        lock(&self.live).insert(shared.token.clone(), shared);
    }

    /// Forgets a session, remembering its token as ended.
    fn remove(&self, token: &str) {
        lock(&self.live).remove(token);
        lock(&self.gone).remember(token, Instant::now());
    }

    /// Live sessions now (tests and metrics).
    pub fn len(&self) -> usize {
        lock(&self.live).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Gone {
    /// Remembers `token` as ended, forgetting the oldest past [`GONE_KEPT`].
    fn remember(&mut self, token: &str, now: Instant) {
        self.expire(now);
        if self.order.len() >= GONE_KEPT
            && let Some((t, _)) = self.order.pop_front()
        {
            self.tokens.remove(&t);
        }
        self.order.push_back((token.to_owned(), now));
        self.tokens.insert(token.to_owned());
    }

    fn expire(&mut self, now: Instant) {
        while self.order.front().is_some_and(|(_, at)| now.duration_since(*at) >= GONE_FOR) {
            if let Some((t, _)) = self.order.pop_front() {
                self.tokens.remove(&t);
            }
        }
    }
}

/// 128 random bits from the thread's CSPRNG, URL-safe base64 (22 characters).
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// With several instances, prefixed by this instance's id so any instance
/// can tell where the session lives (forward.rs); still opaque to clients.
fn token_for(state: &AppState) -> String {
    match state.peers() {
        Some(peers) => format!("{}.{}", peers.id(), new_token()),
        None => new_token(),
    }
}

/// `POST {base}/session`: admits (the same caps as `/ws`) and starts a session.
pub async fn create(
    State(state): State<AppState>,
    ext: Extensions,
) -> Result<(StatusCode, Json<serde_json::Value>), EmuError> {
    let ip = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let emu = &state.settings().limits.emulated;
    let now = std::time::Instant::now();
    if let Err(wait) = state.emulated().creation.take(ip, emu.session_burst, emu.session_rate, now) {
        state.metrics().connections_refused.inc();
        let (burst, rate, ms) = (emu.session_burst, emu.session_rate, crate::rate::retry_ms(wait));
        return Err(EmuError::RateLimited(format!(
            "too many sessions started from this address ({burst} at once, then {rate}/s); retry in {ms} ms"
        )));
    }
    let ticket = state.admission().admit(ip).map_err(|refused| {
        state.metrics().connections_refused.inc();
        tracing::info!(?ip, %refused, "emulated session refused");
        match refused {
            Refused::PerIp => EmuError::RateLimited(refused.to_string()),
            Refused::Total => EmuError::ServerFull(refused.to_string()),
        }
    })?;
    let limits = &state.settings().limits;
    let slow = state.metrics().slow_consumer_closes.clone();
    let (outbox, rx) = Outbox::new(state.hub().next_conn_id(), limits.outbox_bytes, slow);
    let session = Session::new(state.clone(), outbox.clone());
    let metrics = state.metrics_arc();
    let shared = Arc::new(Shared::new(token_for(&state), session, limits.outbox_bytes, metrics));
    state.emulated().insert(shared.clone());
    state.metrics().emulated_session_started();
    tracing::debug!(conn = outbox.id, "emulated session started");
    let body = serde_json::json!({
        "session": shared.token,
        "poll_ms": limits.emulated.poll_hold_ms,
        "idle_ms": limits.emulated.session_idle_ms,
    });
    // Registered with the hub before the client can say hello (the hub
    // marks registered connections greeted, for `room_added`).
    let (registered, is_registered) = tokio::sync::oneshot::channel();
    let tracker = state.tracker().clone();
    tracker.spawn(run(shared, state, outbox, rx, ticket, registered));
    let _ = is_registered.await;
    Ok((StatusCode::CREATED, Json(body)))
}

/// `DELETE {base}/session`: the client closed, like a WebSocket close 1000.
pub async fn delete(State(state): State<AppState>, Query(q): Query<SessionQuery>) -> Result<StatusCode, EmuError> {
    let shared = state.emulated().find(q.session()?)?;
    shared.closer.end(Ending::PeerGone);
    Ok(StatusCode::NO_CONTENT)
}

async fn run(
    shared: Arc<Shared>,
    state: AppState,
    outbox: Outbox,
    mut rx: OutboxRx,
    _ticket: Ticket,
    registered: tokio::sync::oneshot::Sender<()>,
) {
    let conn = outbox.id;
    let registration = state.hub().register(outbox);
    let _ = registered.send(());
    let closer = shared.closer.clone();
    let shutdown = state.shutdown_token().clone();
    let limits = &state.settings().limits;
    let hello_deadline = Instant::now() + Duration::from_millis(limits.hello_timeout_ms);
    let idle = Duration::from_millis(limits.emulated.session_idle_ms);
    let mut ticks = tokio::time::interval((idle / 8).clamp(Duration::from_millis(10), Duration::from_secs(1)));
    let mut greeted = false;
    loop {
        tokio::select! {
            biased;
            _ = closer.ended() => break,
            _ = shutdown.cancelled() => {
                // Between frames, as on /ws: a post being handled (`feed`
                // holds `up`) is acked before the 1001.
                let _between = shared.up.lock().await;
                closer.close(close_code::GOING_AWAY, "server shutting down");
            }
            _ = tokio::time::sleep_until(hello_deadline), if !greeted => {
                greeted = shared.up.lock().await.session.greeted();
                if !greeted {
                    // Not 1008 as on /ws: a browser may hold this session's
                    // hello POST behind its few connections per origin (SSE
                    // streams of other tabs), so the client must retry, not stop.
                    tracing::info!(conn, "no hello in time; closing with 1013");
                    closer.close(close_code::TRY_AGAIN_LATER, "no hello in time");
                }
            }
            _ = ticks.tick() => {
                if shared.idle_for() >= idle {
                    tracing::debug!(conn, "emulated session idle; expiring");
                    closer.end(Ending::PeerGone);
                }
            }
            m = rx.recv() => match m {
                Some(m) => keep(&shared, &state, m),
                None => break,
            },
        }
    }
    tracing::debug!(conn, ending = ?closer.ending(), "emulated session ended");
    // Frames queued before a Close still go out, as on a WebSocket.
    let end = match closer.ending() {
        Some(Ending::Close { code, reason }) => {
            while let Some(m) = rx.try_recv() {
                keep(&shared, &state, m);
            }
            End::Close { code: *code, reason: (*reason).to_owned() }
        }
        _ => End::Lost,
    };
    drop(rx);
    shared.finish(end.clone());
    shared.up.lock().await.session.leave_all().await;
    drop(registration);
    shared.closed();
    if end != End::Lost {
        linger(&shared, idle, &shutdown).await;
    }
    state.emulated().remove(&shared.token);
}

/// Moves one outbox frame into the downstream log. WebSocket pings are
/// dropped: SSE `ping` events and poll timeouts are the liveness here.
fn keep(shared: &Shared, state: &AppState, m: Message) {
    let Message::Text(text) = m else { return };
    if !shared.push_down(text) && !shared.closer.is_ended() {
        tracing::info!("emulated session too far behind; closing with 1013");
        state.metrics().slow_consumer_closes.inc();
        shared.closer.close(close_code::TRY_AGAIN_LATER, "too slow, reconnect");
    }
}

/// After a closing end, keeps the last frames and the `close` readable
/// until the client has them, the session idles out, or the server stops.
async fn linger(shared: &Shared, idle: Duration, shutdown: &tokio_util::sync::CancellationToken) {
    let mut changed = shared.subscribe();
    let mut ticks = tokio::time::interval((idle / 8).clamp(Duration::from_millis(10), Duration::from_secs(1)));
    while !shared.was_close_delivered() && shared.idle_for() < idle {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = changed.changed() => if r.is_err() { return },
            _ = ticks.tick() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_tokens_are_remembered_for_a_while_and_at_most_so_many() {
        let t0 = Instant::now();
        let mut gone = Gone::default();
        for i in 0..=GONE_KEPT {
            gone.remember(&i.to_string(), t0);
        }
        assert_eq!(gone.tokens.len(), GONE_KEPT);
        assert!(!gone.tokens.contains("0") && gone.tokens.contains("1"), "the oldest is forgotten first");
        gone.expire(t0 + GONE_FOR);
        assert!(gone.tokens.is_empty() && gone.order.is_empty());
    }

    #[test]
    fn tokens_are_128_random_bits_url_safe() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
    }
}
