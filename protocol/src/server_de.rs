//! Decoding [`ServerMsg`] without serde's buffered `Content` tree.
//!
//! A derived internally tagged enum (`#[serde(tag = "type")]`) reads each
//! frame into an intermediate tree first, and that machinery is a large share
//! of the app's wasm. Here every field any variant has is read in one pass
//! into a flat struct, then the `type` picks the variant. The wire format is
//! unchanged (the derived `Serialize` writes it; tests round-trip every
//! variant); as before, unknown fields are ignored and a missing field, an
//! unknown `type` or a value of the wrong type is an error.

use crate::{ChatMessage, ErrorCode, RejectReason, ServerMsg};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::Error as _};

/// `message`: a chat message in `message` frames, text in `error` frames.
enum MessageField {
    Chat(ChatMessage),
    Text(String),
}

impl<'de> Deserialize<'de> for MessageField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MessageField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a chat message or a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MessageField, E> {
                Ok(MessageField::Text(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<MessageField, E> {
                Ok(MessageField::Text(s))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MessageField, A::Error> {
                ChatMessage::deserialize(de::value::MapAccessDeserializer::new(map)).map(MessageField::Chat)
            }
        }
        d.deserialize_any(V)
    }
}

/// Every field of every variant.
#[derive(Deserialize)]
struct Fields {
    #[serde(rename = "type")]
    kind: Option<String>,
    nick: Option<String>,
    protocol: Option<u32>,
    max_body_chars: Option<usize>,
    rooms: Option<Vec<String>>,
    truncated: Option<bool>,
    room: Option<String>,
    epoch: Option<String>,
    recovered: Option<bool>,
    history: Option<Vec<ChatMessage>>,
    has_older: Option<bool>,
    before: Option<u64>,
    messages: Option<Vec<ChatMessage>>,
    members: Option<Vec<String>>,
    total: Option<usize>,
    message: Option<MessageField>,
    id: Option<String>,
    seq: Option<u64>,
    reason: Option<RejectReason>,
    detail: Option<String>,
    retry_after_ms: Option<u64>,
    code: Option<ErrorCode>,
    nonce: Option<u64>,
}

const VARIANTS: &[&str] = &[
    "welcome",
    "rooms",
    "joined",
    "history",
    "room_added",
    "left",
    "presence",
    "member_joined",
    "member_left",
    "message",
    "ack",
    "rejected",
    "error",
    "pong",
];

fn need<T, E: de::Error>(v: Option<T>, name: &'static str) -> Result<T, E> {
    v.ok_or_else(|| E::missing_field(name))
}

impl<'de> Deserialize<'de> for ServerMsg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = Fields::deserialize(d)?;
        let kind = need(f.kind, "type")?;
        Ok(match kind.as_str() {
            "welcome" => ServerMsg::Welcome {
                nick: need(f.nick, "nick")?,
                protocol: need(f.protocol, "protocol")?,
                max_body_chars: need(f.max_body_chars, "max_body_chars")?,
            },
            "rooms" => ServerMsg::Rooms { rooms: need(f.rooms, "rooms")?, truncated: f.truncated.unwrap_or(false) },
            "joined" => ServerMsg::Joined {
                room: need(f.room, "room")?,
                epoch: need(f.epoch, "epoch")?,
                recovered: need(f.recovered, "recovered")?,
                history: need(f.history, "history")?,
                has_older: f.has_older.unwrap_or(false),
            },
            "history" => ServerMsg::History {
                room: need(f.room, "room")?,
                before: need(f.before, "before")?,
                messages: need(f.messages, "messages")?,
                has_older: need(f.has_older, "has_older")?,
            },
            "room_added" => ServerMsg::RoomAdded { room: need(f.room, "room")? },
            "left" => ServerMsg::Left { room: need(f.room, "room")? },
            "presence" => ServerMsg::Presence {
                room: need(f.room, "room")?,
                members: need(f.members, "members")?,
                total: need(f.total, "total")?,
            },
            "member_joined" => ServerMsg::MemberJoined { room: need(f.room, "room")?, nick: need(f.nick, "nick")? },
            "member_left" => ServerMsg::MemberLeft { room: need(f.room, "room")?, nick: need(f.nick, "nick")? },
            "message" => match need(f.message, "message")? {
                MessageField::Chat(message) => ServerMsg::Message { message },
                MessageField::Text(_) => return Err(D::Error::custom("`message` must be a chat message")),
            },
            "ack" => ServerMsg::Ack { id: need(f.id, "id")?, room: need(f.room, "room")?, seq: need(f.seq, "seq")? },
            "rejected" => ServerMsg::Rejected {
                id: need(f.id, "id")?,
                room: need(f.room, "room")?,
                reason: need(f.reason, "reason")?,
                detail: need(f.detail, "detail")?,
                retry_after_ms: f.retry_after_ms,
            },
            "error" => ServerMsg::Error {
                code: need(f.code, "code")?,
                message: match need(f.message, "message")? {
                    MessageField::Text(text) => text,
                    MessageField::Chat(_) => return Err(D::Error::custom("`message` must be a string")),
                },
                retry_after_ms: f.retry_after_ms,
            },
            "pong" => ServerMsg::Pong { nonce: need(f.nonce, "nonce")? },
            other => return Err(D::Error::unknown_variant(other, VARIANTS)),
        })
    }
}
