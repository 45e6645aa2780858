//! `POST {base}/send?session=S&seq=K`: upstream frames, numbered by the
//! client, fed to the chat session exactly as WebSocket frames are.
//!
//! Numbering makes a retried POST (its response was lost) harmless: frames
//! already accepted are skipped. A gap means the client lost track: 409.

use axum::Json;
use axum::body::Body;
use axum::extract::ws::Message;
use axum::extract::{Query, State};
use base64::Engine;
use serde::Deserialize;
use tether_protocol::{MAX_FRAME_BYTES, close_code};

use std::sync::Arc;

use super::shared::Shared;
use super::{EmuError, SessionQuery};
use crate::AppState;

/// A body holds at most this many bytes: a few maximal frames even if
/// every character of them is JSON-escaped (`\u0001` is six bytes for one).
pub const MAX_SEND_BODY: usize = 8 * MAX_FRAME_BYTES;

/// One upstream frame: a JSON string is a text frame, `{"b": base64}` a binary one.
#[derive(Deserialize)]
#[serde(untagged)]
enum UpFrame {
    Text(String),
    Binary { b: String },
}

pub async fn send(
    State(state): State<AppState>,
    Query(q): Query<SessionQuery>,
    body: Body,
) -> Result<Json<serde_json::Value>, EmuError> {
    let shared = state.emulated().find(q.session()?)?;
    let seq = q.seq()?;
    let bytes = axum::body::to_bytes(body, MAX_SEND_BODY)
        .await
        .map_err(|_| EmuError::TooLarge(format!("a send body may hold at most {MAX_SEND_BODY} bytes")))?;
    let frames: Vec<UpFrame> = serde_json::from_slice(&bytes)
        .map_err(|_| EmuError::bad("the body must be a JSON array of strings and {\"b\": base64} objects"))?;
    let mut messages = Vec::with_capacity(frames.len());
    for frame in frames {
        let message = match frame {
            UpFrame::Text(t) => Message::Text(t.into()),
            UpFrame::Binary { b } => {
                let data = base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .map_err(|_| EmuError::bad("a binary frame's \"b\" must be standard base64"))?;
                Message::Binary(data.into())
            }
        };
        let len = match &message {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
            _ => 0,
        };
        if len > MAX_FRAME_BYTES {
            // As on a WebSocket (1009): the session ends, the client sees why.
            shared.closer.close(close_code::TOO_BIG, "message too big");
            return Err(EmuError::TooLarge(format!(
                "a frame may hold at most {MAX_FRAME_BYTES} bytes; this one has {len}"
            )));
        }
        messages.push(message);
    }
    shared.touch();
    // hyper drops this handler when the client goes away (our client aborts
    // POSTs on teardown), but a frame may be mid-commit for other people's
    // posts too (group commit): the frames run in a task the request cannot
    // cancel, and a retry finds them accepted.
    let task = state.tracker().spawn(feed(shared.clone(), seq, messages));
    let accepted = task.await.map_err(|_| EmuError::ExpiredSession)??;
    shared.touch();
    Ok(Json(serde_json::json!({ "accepted": accepted })))
}

/// Gives the chat session the frames numbered from `seq` that it has not
/// had yet; returns the number of the last frame accepted.
async fn feed(shared: Arc<Shared>, seq: u64, messages: Vec<Message>) -> Result<u64, EmuError> {
    let mut up = shared.up.lock().await;
    if seq > up.accepted + 1 {
        return Err(EmuError::OutOfOrder { got: seq, want: up.accepted + 1 });
    }
    for (n, message) in (seq..).zip(messages) {
        if n <= up.accepted {
            continue; // a retried POST: processed the first time
        }
        if shared.closer.is_ended() {
            return Err(EmuError::ExpiredSession);
        }
        up.session.on_frame(message).await;
        up.accepted = n;
    }
    Ok(up.accepted)
}
