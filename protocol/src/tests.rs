//! Round trips and the exact JSON shape: other clients (and old app builds
//! still open in someone's tab) depend on these bytes, not on our types.

use super::*;
use serde_json::json;

fn round_trip_client(m: ClientMsg) {
    let text = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<ClientMsg>(&text).unwrap(), m, "{text}");
}

fn round_trip_server(m: ServerMsg) {
    let text = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<ServerMsg>(&text).unwrap(), m, "{text}");
}

fn sample() -> ChatMessage {
    ChatMessage {
        room: "general".into(),
        seq: 7,
        id: "5f0c7a4e-0000-4000-8000-000000000001".into(),
        author: "ada".into(),
        body: "hello <b>world</b> \u{1F600}".into(),
        ts_ms: 1_700_000_000_000,
    }
}

#[test]
fn client_messages_round_trip() {
    round_trip_client(ClientMsg::Hello { nick: "ada".into() });
    round_trip_client(ClientMsg::Join { room: "r".into(), since: None });
    round_trip_client(ClientMsg::Join { room: "r".into(), since: Some(Cursor { epoch: "e1".into(), seq: 42 }) });
    round_trip_client(ClientMsg::Leave { room: "r".into() });
    round_trip_client(ClientMsg::Post { room: "r".into(), id: "x".into(), body: "b".into() });
    round_trip_client(ClientMsg::Ping { nonce: u64::MAX });
}

#[test]
fn server_messages_round_trip() {
    round_trip_server(ServerMsg::Welcome {
        nick: "ada".into(),
        protocol: PROTOCOL_VERSION,
        max_body_chars: MAX_BODY_CHARS,
    });
    round_trip_server(ServerMsg::Rooms { rooms: vec!["a".into(), "b".into()] });
    round_trip_server(ServerMsg::Joined {
        room: "general".into(),
        epoch: "e".into(),
        recovered: false,
        history: vec![sample()],
    });
    round_trip_server(ServerMsg::Message { message: sample() });
    round_trip_server(ServerMsg::Ack { id: "x".into(), room: "r".into(), seq: 3 });
    round_trip_server(ServerMsg::Rejected {
        id: "x".into(),
        room: "r".into(),
        reason: RejectReason::BodyTooLong,
        detail: "too long".into(),
    });
    round_trip_server(ServerMsg::Error { code: ErrorCode::BadFrame, message: "bad".into() });
    round_trip_server(ServerMsg::Pong { nonce: 1 });
}

#[test]
fn wire_shape_is_stable() {
    let v = serde_json::to_value(ClientMsg::Post { room: "r".into(), id: "i".into(), body: "b".into() }).unwrap();
    assert_eq!(v, json!({"type": "post", "room": "r", "id": "i", "body": "b"}));
    let v = serde_json::to_value(ClientMsg::Join { room: "r".into(), since: None }).unwrap();
    assert_eq!(v, json!({"type": "join", "room": "r"}), "absent cursor is omitted");
    let v = serde_json::to_value(ServerMsg::Ack { id: "i".into(), room: "r".into(), seq: 9 }).unwrap();
    assert_eq!(v, json!({"type": "ack", "id": "i", "room": "r", "seq": 9}));
    let v = serde_json::to_value(ServerMsg::Error { code: ErrorCode::HelloRequired, message: "m".into() }).unwrap();
    assert_eq!(v, json!({"type": "error", "code": "hello_required", "message": "m"}));
}

#[test]
fn unknown_or_malformed_frames_are_errors_not_panics() {
    for bad in
        ["", "{", "null", "[]", r#"{"type":"nope"}"#, r#"{"type":"post","room":"r"}"#, r#"{"type":"ping","nonce":-1}"#]
    {
        assert!(serde_json::from_str::<ClientMsg>(bad).is_err(), "{bad:?} should not parse");
        assert!(serde_json::from_str::<ServerMsg>(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn validation_limits() {
    assert!(validate_nick("ada").is_ok());
    assert_eq!(validate_nick(""), Err(ValidationError::Nick));
    assert_eq!(validate_nick(" ada"), Err(ValidationError::Nick));
    assert_eq!(validate_nick(&"x".repeat(MAX_NICK_CHARS + 1)), Err(ValidationError::Nick));
    assert!(validate_nick(&"é".repeat(MAX_NICK_CHARS)).is_ok(), "limit counts characters, not bytes");

    assert!(validate_room("general").is_ok());
    assert!(validate_room("a-b_C9").is_ok());
    for bad in ["", "a b", "a/b", "ünï", &"r".repeat(MAX_ROOM_CHARS + 1)] {
        assert_eq!(validate_room(bad), Err(ValidationError::Room), "{bad:?}");
    }

    assert_eq!(validate_body("  \n"), Err(ValidationError::EmptyBody));
    assert!(validate_body(&"é".repeat(MAX_BODY_CHARS)).is_ok());
    assert_eq!(validate_body(&"x".repeat(MAX_BODY_CHARS + 1)), Err(ValidationError::BodyTooLong(MAX_BODY_CHARS + 1)));

    assert!(validate_id("5f0c7a4e-0000-4000-8000-000000000001").is_ok());
    assert_eq!(validate_id(""), Err(ValidationError::Id));
    assert_eq!(validate_id("a b"), Err(ValidationError::Id));
    assert_eq!(validate_id(&"x".repeat(MAX_ID_CHARS + 1)), Err(ValidationError::Id));
}
