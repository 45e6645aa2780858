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
    round_trip_server(ServerMsg::Rooms { rooms: vec!["a".into(), "b".into()], truncated: false });
    round_trip_server(ServerMsg::Joined {
        room: "general".into(),
        epoch: "e".into(),
        recovered: false,
        history: vec![sample()],
        has_older: false,
    });
    round_trip_server(ServerMsg::Message { message: sample() });
    round_trip_server(ServerMsg::Ack { id: "x".into(), room: "r".into(), seq: 3 });
    round_trip_server(ServerMsg::Rejected {
        id: "x".into(),
        room: "r".into(),
        reason: RejectReason::BodyTooLong,
        detail: "too long".into(),
        retry_after_ms: None,
    });
    round_trip_server(ServerMsg::Error { code: ErrorCode::BadFrame, message: "bad".into(), retry_after_ms: None });
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
    let v = serde_json::to_value(ServerMsg::Error {
        code: ErrorCode::HelloRequired,
        message: "m".into(),
        retry_after_ms: None,
    })
    .unwrap();
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
fn server_frames_read_like_a_derived_struct() {
    let read = |text: &str| serde_json::from_str::<ServerMsg>(text).map_err(|e| e.to_string());
    // Unknown keys are skipped, in any position and of any shape.
    assert_eq!(read(r#"{"x":[{"y":1}],"type":"pong","nonce":2,"z":null}"#), Ok(ServerMsg::Pong { nonce: 2 }));
    // `null` is an absent field; a key given twice is refused, even after a `null`.
    assert!(read(r#"{"type":"pong","nonce":null}"#).unwrap_err().starts_with("missing field `nonce`"));
    assert!(read(r#"{"type":"pong","nonce":null,"nonce":1}"#).unwrap_err().starts_with("duplicate field `nonce`"));
    assert!(read(r#"{"type":"pong","type":"pong","nonce":1}"#).unwrap_err().starts_with("duplicate field `type`"));
    assert!(read(r#"{"type":"pong","nonce":"1"}"#).unwrap_err().starts_with("invalid type: string"));
    // A derived struct also read a sequence (`["welcome","ada",1,2000]`); the
    // server never sends one.
    for seq in [r#"["pong",1]"#, r#"["welcome","ada",1,2000]"#] {
        assert!(read(seq).is_err(), "only an object is a server message: {seq}");
    }
    // Each key's name in the error is its own: `KEYS` follows `Key`'s order.
    for key in crate::server_de::KEYS {
        let twice = format!(r#"{{"{key}":null,"{key}":null}}"#);
        assert!(read(&twice).unwrap_err().starts_with(&format!("duplicate field `{key}`")), "{twice}");
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

#[test]
fn hardening_frames_round_trip() {
    round_trip_client(ClientMsg::History { room: "r".into(), before: 17 });
    round_trip_server(ServerMsg::History { room: "r".into(), before: 17, messages: vec![sample()], has_older: true });
    round_trip_server(ServerMsg::RoomAdded { room: "new".into() });
    round_trip_server(ServerMsg::Left { room: "r".into() });
    round_trip_server(ServerMsg::Rooms { rooms: vec!["a".into()], truncated: true });
    round_trip_server(ServerMsg::Joined {
        room: "r".into(),
        epoch: "e".into(),
        recovered: false,
        history: vec![sample()],
        has_older: true,
    });
    round_trip_server(ServerMsg::Rejected {
        id: "x".into(),
        room: "r".into(),
        reason: RejectReason::RateLimited,
        detail: "slow down".into(),
        retry_after_ms: Some(1500),
    });
    round_trip_server(ServerMsg::Error { code: ErrorCode::RateLimited, message: "m".into(), retry_after_ms: Some(10) });
    for reason in [RejectReason::ControlChars, RejectReason::IdReused] {
        let m =
            ServerMsg::Rejected { id: "x".into(), room: "r".into(), reason, detail: "d".into(), retry_after_ms: None };
        round_trip_server(m);
    }
    for code in [ErrorCode::RoomLimit, ErrorCode::TooManyJoined, ErrorCode::NotJoined] {
        round_trip_server(ServerMsg::Error { code, message: "m".into(), retry_after_ms: None });
    }
}

#[test]
fn old_frames_still_parse_and_new_fields_are_omitted_when_unused() {
    // A frame from a server that does not page or rate-limit.
    let old = json!({"type": "joined", "room": "r", "epoch": "e", "recovered": true, "history": []});
    let m: ServerMsg = serde_json::from_value(old.clone()).unwrap();
    assert_eq!(serde_json::to_value(&m).unwrap(), old);
    let old = json!({"type": "rooms", "rooms": ["a"]});
    assert_eq!(serde_json::to_value(serde_json::from_value::<ServerMsg>(old.clone()).unwrap()).unwrap(), old);
    let old = json!({"type": "rejected", "id": "i", "room": "r", "reason": "bad_id", "detail": "d"});
    assert_eq!(serde_json::to_value(serde_json::from_value::<ServerMsg>(old.clone()).unwrap()).unwrap(), old);
    let v = serde_json::to_value(ServerMsg::Rejected {
        id: "i".into(),
        room: "r".into(),
        reason: RejectReason::RateLimited,
        detail: "d".into(),
        retry_after_ms: Some(250),
    })
    .unwrap();
    assert_eq!(
        v,
        json!({"type": "rejected", "id": "i", "room": "r", "reason": "rate_limited", "detail": "d", "retry_after_ms": 250})
    );
    let v = serde_json::to_value(ClientMsg::History { room: "r".into(), before: 5 }).unwrap();
    assert_eq!(v, json!({"type": "history", "room": "r", "before": 5}));
}

#[test]
fn nicknames_refuse_invisible_and_direction_characters() {
    for bad in ["ad\u{200B}a", "\u{202E}ada", "ada\u{2066}x", "a\u{FEFF}b", "a\u{00AD}b", "a\u{200D}b"] {
        assert!(matches!(validate_nick(bad), Err(ValidationError::NickInvisible(_))), "{bad:?}");
    }
    assert!(validate_nick("Zoë 李").is_ok());
    let e = validate_nick("a\u{202E}b").unwrap_err().to_string();
    assert!(e.contains("U+202E"), "{e}");
}

#[test]
fn bodies_refuse_control_characters_but_newline_and_tab() {
    assert!(validate_body("line one\nline\ttwo").is_ok());
    for (bad, code) in [("a\u{0}b", 0u32), ("bell\u{7}", 7), ("cr\r", 13), ("esc\u{1b}[31m", 0x1b), ("c1\u{85}", 0x85)]
    {
        assert_eq!(validate_body(bad), Err(ValidationError::BodyControl(code)), "{bad:?}");
    }
}

#[test]
fn hand_written_server_decoding_keeps_the_derived_rules() {
    // Unknown fields are ignored; absent defaults default; `message` is a
    // chat message in one frame and text in another.
    let m: ServerMsg = serde_json::from_str(r#"{"type":"pong","extra":[1],"nonce":5}"#).unwrap();
    assert_eq!(m, ServerMsg::Pong { nonce: 5 });
    let m: ServerMsg = serde_json::from_str(r#"{"type":"rooms","rooms":["a"]}"#).unwrap();
    assert_eq!(m, ServerMsg::Rooms { rooms: vec!["a".into()], truncated: false });
    let m: ServerMsg = serde_json::from_str(r#"{"type":"error","code":"bad_frame","message":"m"}"#).unwrap();
    assert_eq!(m, ServerMsg::Error { code: ErrorCode::BadFrame, message: "m".into(), retry_after_ms: None });
    for bad in [
        r#"{"type":"message","message":"text"}"#,
        r#"{"type":"error","code":"bad_frame","message":{"room":"r"}}"#,
        r#"{"type":"ack","id":"i","room":"r"}"#,
        r#"{"type":"ack","id":"i","room":"r","seq":1,"seq":2}"#,
        r#"{"nonce":1}"#,
        r#"{"type":7}"#,
    ] {
        assert!(serde_json::from_str::<ServerMsg>(bad).is_err(), "{bad:?} should not parse");
    }
}
