//! The emulated connection's JSON: what `POST /session` and `GET /poll`
//! answer, what `POST /send` carries, error bodies, and which HTTP statuses
//! end a session.

use crate::codec::Frame;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// `201` from `POST {base}/session`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct SessionStarted {
    /// The opaque session token.
    pub session: String,
    /// How long the server holds a poll with nothing to send.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// How long an idle session lives.
    #[serde(default)]
    pub idle_ms: u64,
}

fn default_poll_ms() -> u64 {
    25_000
}

/// A downstream frame in a poll reply: `t` text or `b` base64 binary.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct WireFrame {
    /// Its number in the session.
    pub n: u64,
    /// A text frame.
    #[serde(default)]
    pub t: Option<String>,
    /// A binary frame, base64.
    #[serde(default)]
    pub b: Option<String>,
}

impl WireFrame {
    /// The frame it carries, or why it carries none.
    pub fn frame(&self) -> Result<Frame, String> {
        match (&self.t, &self.b) {
            (Some(t), None) => Ok(Frame::Text(t.clone())),
            (None, Some(b)) => decode_binary(b),
            _ => Err(format!("frame {} has neither or both of t and b", self.n)),
        }
    }
}

/// How a session ended (an SSE `close` event, a poll's `close`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CloseInfo {
    /// The close code, as on a WebSocket.
    pub code: u16,
    /// The reason.
    #[serde(default)]
    pub reason: String,
}

/// `200` from `GET {base}/poll`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PollReply {
    /// Frames after the asked number, in order.
    #[serde(default)]
    pub frames: Vec<WireFrame>,
    /// Set once the session has ended (after its last frames).
    #[serde(default)]
    pub close: Option<CloseInfo>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Accepted {
    accepted: u64,
}

/// What an HTTP answer on the emulated connection means.
#[derive(Clone, Debug, PartialEq)]
pub enum WireError {
    /// Worth retrying later (network, 429, 5xx).
    Retry(String),
    /// The session is gone or refused: the connection closes with this code
    /// and reason (404/410: 1006 "session lost"; 413: 1009; others 1002).
    Closed(u16, String),
}

impl WireError {
    /// The meaning of a non-2xx `status` with its `body`.
    pub fn from_status(status: u16, body: &str) -> Self {
        let (code, message) = serde_json::from_str::<ErrorBody>(body)
            .map(|e| (e.error, e.message))
            .unwrap_or_else(|_| (String::new(), body.chars().take(200).collect()));
        let why = if message.is_empty() { format!("HTTP {status} {code}") } else { message };
        match status {
            404 | 410 => WireError::Closed(1006, format!("session lost ({why})")),
            413 => WireError::Closed(1009, why),
            403 => WireError::Closed(1008, why),
            408 | 429 | 500..=599 => WireError::Retry(why),
            _ => WireError::Closed(1002, why),
        }
    }

    /// A network failure (no answer at all).
    pub fn network(what: &str) -> Self {
        WireError::Retry(format!("{what}: network error"))
    }
}

/// The body of `POST {base}/send`: a JSON array of strings (text) and
/// `{"b": base64}` (binary).
pub fn send_body(frames: &[Frame]) -> String {
    let items: Vec<serde_json::Value> = frames
        .iter()
        .map(|f| match f {
            Frame::Text(t) => serde_json::Value::String(t.clone()),
            Frame::Binary(b) => serde_json::json!({ "b": STANDARD.encode(b) }),
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// A binary frame from its base64 text.
pub fn decode_binary(b64: &str) -> Result<Frame, String> {
    STANDARD.decode(b64.trim()).map(Frame::Binary).map_err(|e| format!("bad base64 frame: {e}"))
}

/// The last frame number a `200` from `/send` says was accepted.
pub fn accepted(body: &str) -> Option<u64> {
    serde_json::from_str::<Accepted>(body).ok().map(|a| a.accepted)
}
