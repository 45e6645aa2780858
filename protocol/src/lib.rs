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

pub mod ids;
pub mod report;
pub use report::ClientReport;
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
/// Most nicknames a `presence` frame lists (a room can hold more).
pub const MAX_PRESENCE: usize = 200;
/// At most how many messages a join without a usable cursor (or a
/// `history` request) returns; fewer when they would not fit in one frame.
pub const HISTORY_WINDOW: usize = 200;
/// At most how many room names one `rooms` frame lists.
pub const MAX_ROOM_LIST: usize = 500;

/// WebSocket close codes with a meaning in Tether.
pub mod close_code {
    /// We asked for it; never reconnect.
    pub const NORMAL: u16 = 1000;
    /// Server shutting down or page navigating away.
    pub const GOING_AWAY: u16 = 1001;
    /// A binary frame where Tether only speaks text.
    pub const UNSUPPORTED: u16 = 1003;
    /// A text frame that is not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// The peer sent something that is not allowed (fatal for the client):
    /// endless garbage, no hello in time, sustained flooding.
    pub const POLICY: u16 = 1008;
    /// Frame larger than [`super::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The server closed the connection because the client could not keep up
    /// (its outgoing queue filled). Not fatal: reconnect and resume from the
    /// cursor, which replays what was missed.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The client closed because no pong arrived in time (and the server,
    /// likewise, closes a peer it has heard nothing from, pongs included).
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

fn is_false(b: &bool) -> bool {
    !*b
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
    /// Ask for the messages before seq `before` in a joined room (paging
    /// back through history); answered with `history`.
    History {
        room: String,
        before: u64,
    },
    /// Application-level heartbeat; the server answers with `pong`.
    Ping {
        nonce: u64,
    },
}

/// Why a post was refused. The post is not stored; retrying unchanged will
/// fail the same way, except `rate_limited` (retry after `retry_after_ms`).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    EmptyBody,
    BodyTooLong,
    BadId,
    NotJoined,
    RateLimited,
    Internal,
    /// The body holds control characters other than newline and tab.
    ControlChars,
    /// The client id is already stored in another room.
    IdReused,
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
    /// Too many joins or history requests; retry after `retry_after_ms`.
    RateLimited,
    /// The room does not exist and no more may be created (by this
    /// connection or on this server).
    RoomLimit,
    /// This connection is in as many rooms as allowed; leave one first.
    TooManyJoined,
    /// `history` for a room this connection has not joined.
    NotJoined,
}

/// Frames the server sends. `Deserialize` is written by hand (server_de.rs):
/// the same format, without serde's buffered path for tagged enums.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Answer to `hello`.
    Welcome {
        nick: String,
        protocol: u32,
        max_body_chars: usize,
    },
    /// Rooms that exist, sent once after `welcome`; new rooms follow as
    /// `room_added`. At most [`MAX_ROOM_LIST`] names; `truncated` says more exist.
    Rooms {
        rooms: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        truncated: bool,
    },
    /// Answer to `join`: either the replay after the client's cursor
    /// (`recovered = true`) or a fresh window of recent history that replaces
    /// the client's view (`recovered = false`). Oldest first.
    Joined {
        room: String,
        epoch: String,
        recovered: bool,
        history: Vec<ChatMessage>,
        /// Older messages exist before `history`; ask with `history`.
        /// Absent (false) in frames from servers that do not page.
        #[serde(default, skip_serializing_if = "is_false")]
        has_older: bool,
    },
    /// Answer to the client's `history`: messages with seq < `before`,
    /// oldest first, at most one frame's worth.
    History {
        room: String,
        before: u64,
        messages: Vec<ChatMessage>,
        /// Still older messages exist.
        has_older: bool,
    },
    /// A room was created (sent instead of the whole list again).
    RoomAdded {
        room: String,
    },
    /// Answer to `leave`: no more broadcasts from `room` after this frame.
    Left {
        room: String,
    },
    /// Who is in `room` now, sent right after `joined`: distinct nicknames,
    /// sorted, at most [`MAX_PRESENCE`] of them; `total` counts them all.
    Presence {
        room: String,
        members: Vec<String>,
        total: usize,
    },
    /// `nick` came into `room` (its first connection there).
    MemberJoined {
        room: String,
        nick: String,
    },
    /// `nick` left `room` (its last connection there left or dropped).
    MemberLeft {
        room: String,
        nick: String,
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
        /// For `rate_limited`: when a retry can succeed, in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Error {
        code: ErrorCode,
        message: String,
        /// For `rate_limited`: when a retry can succeed, in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Pong {
        nonce: u64,
    },
}

mod server_de;
mod validate;
pub use validate::*;

#[cfg(test)]
mod tests;
