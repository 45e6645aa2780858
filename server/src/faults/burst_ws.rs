//! `GET /test/burst-ws?n=N&size=B&close=C`, routed only with `--test-faults`:
//! a plain WebSocket that sends N chat-shaped `message` frames (bodies of B
//! bytes) as fast as the socket takes them, then stays open until the peer
//! leaves, or, with `close=C`, closes at once with code C (the hook's tests:
//! a close right behind a burst).
//! `make bench` points the hook pages (tether-ws, leptos-use, raw JS) at it
//! to measure how fast each takes in a burst; nothing here is chat logic.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use futures_util::SinkExt;
use serde::Deserialize;
use tether_protocol::{ChatMessage, MAX_BODY_CHARS, ServerMsg};

use crate::AppState;
use crate::outbox::encode;

/// Bounds so a typo cannot make the server build gigabytes.
const MAX_N: usize = 1_000_000;

#[derive(Deserialize)]
pub struct BurstQuery {
    n: usize,
    size: Option<usize>,
    close: Option<u16>,
}

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>, Query(q): Query<BurstQuery>) -> Response {
    let n = q.n.min(MAX_N);
    let size = q.size.unwrap_or(40).min(MAX_BODY_CHARS);
    ws.on_upgrade(move |socket| {
        let tracker = state.tracker().clone();
        tracker.track_future(burst(socket, state, n, size, q.close))
    })
}

async fn burst(mut socket: WebSocket, state: AppState, n: usize, size: usize, close: Option<u16>) {
    let body = "x".repeat(size);
    for seq in 1..=n as u64 {
        let message = ChatMessage {
            room: "burst".into(),
            seq,
            id: format!("burst-{seq}"),
            author: "bench".into(),
            body: body.clone(),
            ts_ms: 0,
        };
        let Some(frame) = encode(&ServerMsg::Message { message }) else { return };
        if socket.feed(Message::Text(frame)).await.is_err() {
            return;
        }
    }
    if socket.flush().await.is_err() {
        return;
    }
    // Only codes a peer may send (RFC 6455 7.4): not 1005, 1006 or 1015.
    if let Some(code) = close.filter(|c| matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999)) {
        let frame = axum::extract::ws::CloseFrame { code, reason: "burst over".into() };
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
    let shutdown = state.shutdown_token().clone();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            next = socket.recv() => if !matches!(next, Some(Ok(_))) { return },
        }
    }
}
