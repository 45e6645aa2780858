//! Tether's wire format: the JSON frames exchanged over `/ws`.
//!
//! Both the app (compiled to wasm) and the server depend on this crate, so a
//! change to a frame is a compile error on both sides instead of a silent
//! mismatch in production. Every frame is a JSON object tagged by `"type"`.
//!
//! Limits live here too: the client checks them before sending (so the user
//! gets an immediate, specific error) and the server enforces them again
//! (because a client can be anything).

use serde::{Deserialize, Serialize};

mod decode;
pub use decode::{DecodeError, MAX_DETAIL_CHARS};

/// Bumped when a frame changes incompatibly; sent in `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest WebSocket frame/message either side accepts. Bigger frames make the
/// server close the connection with 1009 (message too big).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Longest message body, in characters (Unicode scalar values).
pub const MAX_BODY_CHARS: usize = 4000;
/// Longest nickname, in characters.
pub const MAX_NICK_CHARS: usize = 32;
/// Longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 64;
/// Longest client message id; UUIDs are 36.
pub const MAX_ID_CHARS: usize = 64;
/// How many messages a join without a usable cursor returns.
pub const HISTORY_WINDOW: usize = 200;

/// WebSocket close codes with a meaning in Tether.
pub mod close_code {
    /// We asked for it; never reconnect.
    pub const NORMAL: u16 = 1000;
    /// Server shutting down or page navigating away.
    pub const GOING_AWAY: u16 = 1001;
    /// The peer sent something that is not allowed (fatal for the client).
    pub const POLICY: u16 = 1008;
    /// Frame larger than [`super::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The server closed the connection because the client could not keep up
    /// (its outgoing queue filled). Not fatal: reconnect and resume from the
    /// cursor, which replays what was missed.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The client closed because no pong arrived in time.
    pub const HEARTBEAT_TIMEOUT: u16 = 4000;
    /// The client abandoned a handshake that took too long.
    pub const CONNECT_TIMEOUT: u16 = 4001;
}

/// A client-chosen message id (a UUID v4 in text form). It is the dedup key:
/// a retried post with the same id is stored once.
pub type ClientMsgId = String;

/// Where a client is in a room's history: the room's `epoch` (changes only if
/// the history was lost) and the last `seq` it has seen.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub epoch: String,
    pub seq: u64,
}

/// A stored chat message as the server assigned it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub room: String,
    /// Position in the room, starting at 1, strictly increasing, no gaps.
    pub seq: u64,
    /// The author's client message id.
    pub id: ClientMsgId,
    pub author: String,
    pub body: String,
    /// Server receive time, milliseconds since the Unix epoch.
    pub ts_ms: i64,
}

/// Frames the client sends.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First frame of every connection.
    Hello {
        nick: String,
    },
    /// Enter a room (creating it if new). With `since`, the server replays
    /// what came after the cursor instead of the recent window.
    Join {
        room: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Cursor>,
    },
    Leave {
        room: String,
    },
    /// Post to a room the connection has joined.
    Post {
        room: String,
        id: ClientMsgId,
        body: String,
    },
    /// Application-level heartbeat; the server answers with `pong`.
    Ping {
        nonce: u64,
    },
}

/// Why a post was refused. The post is not stored; retrying unchanged will
/// fail the same way.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    EmptyBody,
    BodyTooLong,
    BadId,
    NotJoined,
    RateLimited,
    Internal,
}

/// Errors that concern the connection rather than one post.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not valid JSON or not a known client message.
    BadFrame,
    /// A frame other than `hello` came before `hello`.
    HelloRequired,
    BadNick,
    BadRoom,
    Internal,
}

/// Frames the server sends.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Answer to `hello`.
    Welcome {
        nick: String,
        protocol: u32,
        max_body_chars: usize,
    },
    /// All rooms that exist; sent after `welcome` and whenever a room is created.
    Rooms {
        rooms: Vec<String>,
    },
    /// Answer to `join`: either the replay after the client's cursor
    /// (`recovered = true`) or a fresh window of recent history that replaces
    /// the client's view (`recovered = false`). Oldest first.
    Joined {
        room: String,
        epoch: String,
        recovered: bool,
        history: Vec<ChatMessage>,
    },
    /// A new message in a joined room (including one's own).
    Message {
        message: ChatMessage,
    },
    /// The post with client id `id` is durably stored as `seq`.
    Ack {
        id: ClientMsgId,
        room: String,
        seq: u64,
    },
    /// The post with client id `id` was refused.
    Rejected {
        id: ClientMsgId,
        room: String,
        reason: RejectReason,
        detail: String,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    Pong {
        nonce: u64,
    },
}

/// Why a client-side value cannot be sent. Checked before sending so the UI
/// can say exactly what is wrong.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    #[error("nickname must be 1 to {MAX_NICK_CHARS} characters")]
    Nick,
    #[error("room name must be 1 to {MAX_ROOM_CHARS} letters, digits, '-' or '_'")]
    Room,
    #[error("message is empty")]
    EmptyBody,
    #[error("message is {0} characters; the limit is {MAX_BODY_CHARS}")]
    BodyTooLong(usize),
    #[error("message id must be 1 to {MAX_ID_CHARS} characters")]
    Id,
}

/// A nickname: trimmed, 1..=32 characters, no control characters.
pub fn validate_nick(nick: &str) -> Result<(), ValidationError> {
    let n = nick.chars().count();
    if n == 0 || n > MAX_NICK_CHARS || nick.trim() != nick || nick.chars().any(char::is_control) {
        return Err(ValidationError::Nick);
    }
    Ok(())
}

/// A room name: 1..=64 of `[A-Za-z0-9_-]`, so it is safe in URLs and logs.
pub fn validate_room(room: &str) -> Result<(), ValidationError> {
    let n = room.chars().count();
    if n == 0 || n > MAX_ROOM_CHARS || !room.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ValidationError::Room);
    }
    Ok(())
}

/// A body: not blank, at most [`MAX_BODY_CHARS`] characters.
pub fn validate_body(body: &str) -> Result<(), ValidationError> {
    if body.trim().is_empty() {
        return Err(ValidationError::EmptyBody);
    }
    let n = body.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(ValidationError::BodyTooLong(n));
    }
    Ok(())
}

/// A client message id: 1..=64 printable ASCII characters.
pub fn validate_id(id: &str) -> Result<(), ValidationError> {
    if id.is_empty() || id.len() > MAX_ID_CHARS || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValidationError::Id);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
