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
#[derive(Default)]
struct Fields {
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

/// A key of the frame's object; `Other` is ignored.
#[derive(Deserialize, Clone, Copy)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    #[serde(rename = "type")]
    Kind,
    Nick,
    Protocol,
    MaxBodyChars,
    Rooms,
    Truncated,
    Room,
    Epoch,
    Recovered,
    History,
    HasOlder,
    Before,
    Messages,
    Members,
    Total,
    Message,
    Id,
    Seq,
    Reason,
    Detail,
    RetryAfterMs,
    Code,
    Nonce,
    #[serde(other)]
    Other,
}

pub(crate) const KEYS: &[&str] = &[
    "type",
    "nick",
    "protocol",
    "max_body_chars",
    "rooms",
    "truncated",
    "room",
    "epoch",
    "recovered",
    "history",
    "has_older",
    "before",
    "messages",
    "members",
    "total",
    "message",
    "id",
    "seq",
    "reason",
    "detail",
    "retry_after_ms",
    "code",
    "nonce",
];

/// Reads the value of `key` into `slot` (`null` reads as absent, as for a
/// derived struct's `Option` field); a key seen twice is an error.
fn read<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    map: &mut A,
    seen: &mut u32,
    key: Key,
    slot: &mut Option<T>,
) -> Result<(), A::Error> {
    let bit = 1 << key as u32;
    if *seen & bit != 0 {
        return Err(A::Error::duplicate_field(KEYS[key as usize]));
    }
    *seen |= bit;
    *slot = map.next_value()?;
    Ok(())
}

/// Only an object is read (a derived struct would also take a JSON array,
/// and compile a second reader for it).
impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Tether server message object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let (mut f, mut seen) = (Fields::default(), 0u32);
                while let Some(key) = map.next_key::<Key>()? {
                    let m = &mut map;
                    let s = &mut seen;
                    match key {
                        Key::Kind => read(m, s, key, &mut f.kind)?,
                        Key::Nick => read(m, s, key, &mut f.nick)?,
                        Key::Protocol => read(m, s, key, &mut f.protocol)?,
                        Key::MaxBodyChars => read(m, s, key, &mut f.max_body_chars)?,
                        Key::Rooms => read(m, s, key, &mut f.rooms)?,
                        Key::Truncated => read(m, s, key, &mut f.truncated)?,
                        Key::Room => read(m, s, key, &mut f.room)?,
                        Key::Epoch => read(m, s, key, &mut f.epoch)?,
                        Key::Recovered => read(m, s, key, &mut f.recovered)?,
                        Key::History => read(m, s, key, &mut f.history)?,
                        Key::HasOlder => read(m, s, key, &mut f.has_older)?,
                        Key::Before => read(m, s, key, &mut f.before)?,
                        Key::Messages => read(m, s, key, &mut f.messages)?,
                        Key::Members => read(m, s, key, &mut f.members)?,
                        Key::Total => read(m, s, key, &mut f.total)?,
                        Key::Message => read(m, s, key, &mut f.message)?,
                        Key::Id => read(m, s, key, &mut f.id)?,
                        Key::Seq => read(m, s, key, &mut f.seq)?,
                        Key::Reason => read(m, s, key, &mut f.reason)?,
                        Key::Detail => read(m, s, key, &mut f.detail)?,
                        Key::RetryAfterMs => read(m, s, key, &mut f.retry_after_ms)?,
                        Key::Code => read(m, s, key, &mut f.code)?,
                        Key::Nonce => read(m, s, key, &mut f.nonce)?,
                        Key::Other => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(f)
            }
        }
        d.deserialize_map(V)
    }
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
