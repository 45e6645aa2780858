//! Every frame the server can send survives encoding and decoding unchanged,
//! whatever the text in it (the app decodes exactly these bytes).

use proptest::prelude::*;
use tether_protocol::{ChatMessage, ErrorCode, RejectReason, ServerMsg};

fn chat_message() -> impl Strategy<Value = ChatMessage> {
    (any::<String>(), any::<u64>(), any::<String>(), any::<String>(), any::<String>(), any::<i64>())
        .prop_map(|(room, seq, id, author, body, ts_ms)| ChatMessage { room, seq, id, author, body, ts_ms })
}

fn reject_reason() -> impl Strategy<Value = RejectReason> {
    prop::sample::select(vec![
        RejectReason::EmptyBody,
        RejectReason::BodyTooLong,
        RejectReason::BadId,
        RejectReason::NotJoined,
        RejectReason::RateLimited,
        RejectReason::Internal,
        RejectReason::ControlChars,
        RejectReason::IdReused,
    ])
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop::sample::select(vec![
        ErrorCode::BadFrame,
        ErrorCode::HelloRequired,
        ErrorCode::BadNick,
        ErrorCode::BadRoom,
        ErrorCode::Internal,
        ErrorCode::RateLimited,
        ErrorCode::RoomLimit,
        ErrorCode::TooManyJoined,
        ErrorCode::NotJoined,
    ])
}

fn server_msg() -> impl Strategy<Value = ServerMsg> {
    let s = || any::<String>();
    prop_oneof![
        (s(), any::<u32>(), any::<usize>()).prop_map(|(nick, protocol, max_body_chars)| ServerMsg::Welcome {
            nick,
            protocol,
            max_body_chars
        }),
        (prop::collection::vec(s(), 0..4), any::<bool>())
            .prop_map(|(rooms, truncated)| ServerMsg::Rooms { rooms, truncated }),
        (s(), s(), any::<bool>(), prop::collection::vec(chat_message(), 0..4), any::<bool>()).prop_map(
            |(room, epoch, recovered, history, has_older)| ServerMsg::Joined {
                room,
                epoch,
                recovered,
                history,
                has_older
            }
        ),
        (s(), any::<u64>(), prop::collection::vec(chat_message(), 0..4), any::<bool>())
            .prop_map(|(room, before, messages, has_older)| ServerMsg::History { room, before, messages, has_older }),
        s().prop_map(|room| ServerMsg::RoomAdded { room }),
        s().prop_map(|room| ServerMsg::Left { room }),
        (s(), prop::collection::vec(s(), 0..4), any::<usize>())
            .prop_map(|(room, members, total)| ServerMsg::Presence { room, members, total }),
        (s(), s()).prop_map(|(room, nick)| ServerMsg::MemberJoined { room, nick }),
        (s(), s()).prop_map(|(room, nick)| ServerMsg::MemberLeft { room, nick }),
        chat_message().prop_map(|message| ServerMsg::Message { message }),
        (s(), s(), any::<u64>()).prop_map(|(id, room, seq)| ServerMsg::Ack { id, room, seq }),
        (s(), s(), reject_reason(), s(), any::<Option<u64>>()).prop_map(
            |(id, room, reason, detail, retry_after_ms)| ServerMsg::Rejected {
                id,
                room,
                reason,
                detail,
                retry_after_ms
            }
        ),
        (error_code(), s(), any::<Option<u64>>()).prop_map(|(code, message, retry_after_ms)| ServerMsg::Error {
            code,
            message,
            retry_after_ms
        }),
        any::<u64>().prop_map(|nonce| ServerMsg::Pong { nonce }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn server_messages_round_trip(msg in server_msg()) {
        let text = serde_json::to_string(&msg).unwrap();
        prop_assert_eq!(serde_json::from_str::<ServerMsg>(&text).map_err(|e| e.to_string()), Ok(msg), "{}", text);
    }
}
