//! `GET /test/echo`: a plain WebSocket echo, routed only with `--test-faults`,
//! for the Autobahn|Testsuite conformance run (scripts/conformance.sh).
//!
//! It uses the same socket limits as `/ws`, so what Autobahn checks (fragments,
//! control frames, UTF-8, close handshake, oversize) is what chat clients get.
//! tungstenite answers pings and echoes the peer's close itself, but when it
//! fails a connection (bad frame, bad UTF-8, too big) it sends no close frame,
//! so the peer would see 1006; [`close_code_for`] picks the code RFC 6455 asks for.

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tether_protocol::{MAX_FRAME_BYTES, close_code};
use tungstenite::error::ProtocolError;
use tungstenite::protocol::frame::coding::CloseCode;

use crate::AppState;

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "echo upgrade failed"))
        .on_upgrade(move |socket| {
            let tracker = state.tracker().clone();
            tracker.track_future(echo(socket, state))
        })
}

async fn echo(mut socket: WebSocket, state: AppState) {
    let shutdown = state.shutdown_token().clone();
    let mut closing = false;
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.cancelled(), if !closing => {
                closing = true;
                let _ = socket.send(close(close_code::GOING_AWAY, "server shutting down")).await;
                continue;
            }
            next = socket.recv() => next,
        };
        let reply = match next {
            // After the peer's close, tungstenite queues its echo and flushes
            // it on the next read, which then ends the stream: keep reading.
            Some(Ok(Message::Close(_) | Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(_)) if closing => continue,
            Some(Ok(data)) => data,
            Some(Err(e)) => {
                if let Some((code, reason)) = close_code_for(&e) {
                    tracing::debug!(code, error = %e, "echo: failing the connection");
                    let _ = socket.send(close(code, reason)).await;
                }
                return;
            }
            None => return,
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

/// The close code and reason for a read error, or `None` when the peer is
/// gone (there is nobody to tell).
pub fn close_code_for(e: &axum::Error) -> Option<(u16, &'static str)> {
    use std::error::Error as _;
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(err) = source {
        if let Some(ws) = err.downcast_ref::<tungstenite::Error>() {
            return match ws {
                tungstenite::Error::Capacity(_) => Some((close_code::TOO_BIG, "message too big")),
                tungstenite::Error::Utf8(_) => Some((CloseCode::Invalid.into(), "invalid UTF-8")),
                tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
                tungstenite::Error::Protocol(_) => Some((CloseCode::Protocol.into(), "protocol error")),
                _ => None,
            };
        }
        source = err.source();
    }
    None
}
