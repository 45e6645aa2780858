//! Decoding a client frame, with a specific error for every way it can be
//! wrong, for the server's answer to a bad frame. What it accepts is exactly
//! what the server's session parses today (`serde_json::from_str::<ClientMsg>`);
//! the fuzz target (fuzz/) and the property tests drive this function.
//!
//! The size check repeats the WebSocket layer's on purpose: a frame can also
//! arrive as an HTTP body (the fallback transports), where no frame limit
//! applies.

use crate::{ClientMsg, MAX_FRAME_BYTES};

/// Longest error detail, in characters. serde's messages quote the input
/// (an unknown `type` can be 64 KiB long): the sender gets a readable reason,
/// not its own frame back.
pub const MAX_DETAIL_CHARS: usize = 160;

/// Why a client frame is not a message. Each says what is wrong in terms
/// the sender can act on; none reveals server internals.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("frame is {0} bytes; the limit is {MAX_FRAME_BYTES}")]
    TooBig(usize),
    #[error("frame is not UTF-8 text")]
    NotText,
    /// Not something serde_json can read as a JSON value: bad syntax,
    /// truncated, a lone surrogate escape, or nesting deeper than 128.
    #[error("frame is not valid JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but not an object with a known `type` and its fields.
    #[error("frame is not a Tether client message: {0}")]
    NotAMessage(String),
}

impl ClientMsg {
    /// Decodes one text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::TooBig(text.len()));
        }
        serde_json::from_str(text).map_err(|e| {
            if !e.is_data() {
                return DecodeError::NotJson(truncate(&e.to_string()));
            }
            // serde stops at the first value of the wrong shape, before it
            // reaches a syntax error further on: `0a` must be "not JSON". A
            // full, strict read decides (IgnoredAny would let a lone
            // surrogate escape such as "\ude00" through). Bad frames only.
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(_) => DecodeError::NotAMessage(truncate(&e.to_string())),
                Err(syntax) => DecodeError::NotJson(truncate(&syntax.to_string())),
            }
        })
    }

    /// Decodes raw bytes: a binary frame or an HTTP body.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::TooBig(bytes.len()));
        }
        Self::decode(std::str::from_utf8(bytes).map_err(|_| DecodeError::NotText)?)
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}
