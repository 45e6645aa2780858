//! Property test of the session's frame handling: whatever frames arrive,
//! in whatever order, the session never panics and answers every one
//! specifically (a reply, a refusal with a reason, or a close with a code),
//! never with a generic internal error.

use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes};
use proptest::prelude::*;
use tether_protocol::{ClientMsg, Cursor, ErrorCode, RejectReason, ServerMsg};
use tether_server::outbox::{Ending, Outbox};
use tether_server::session::Session;
use tether_server::{AppState, Settings, SqliteStore};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9_-]{1,12}",
        ".{0,80}",
        "[\\x00-\\x1f\\u{200B}-\\u{202E} a]{1,10}",
        Just("x".repeat(5000)),
    ]
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    let room = prop_oneof![Just("lobby".to_owned()), Just("other".to_owned()), text()];
    let cursor = proptest::option::of((text(), any::<u64>()).prop_map(|(epoch, seq)| Cursor { epoch, seq }));
    prop_oneof![
        text().prop_map(|nick| ClientMsg::Hello { nick }),
        Just(ClientMsg::Hello { nick: "prop".into() }),
        (room.clone(), cursor).prop_map(|(room, since)| ClientMsg::Join { room, since }),
        room.clone().prop_map(|room| ClientMsg::Leave { room }),
        (room.clone(), text(), text()).prop_map(|(room, id, body)| ClientMsg::Post { room, id, body }),
        (room, any::<u64>()).prop_map(|(room, before)| ClientMsg::History { room, before }),
        any::<u64>().prop_map(|nonce| ClientMsg::Ping { nonce }),
    ]
}

fn frame() -> impl Strategy<Value = Message> {
    prop_oneof![
        6 => client_msg().prop_map(|m| Message::Text(Utf8Bytes::from(serde_json::to_string(&m).unwrap()))),
        1 => text().prop_map(|t| Message::Text(Utf8Bytes::from(t))),
        1 => Just(Message::Text(Utf8Bytes::from_static(r#"{"type":"post","room":1,"id":[],"body":null}"#))),
        1 => proptest::collection::vec(any::<u8>(), 0..32).prop_map(|b| Message::Binary(b.into())),
    ]
}

fn is_generic(m: &ServerMsg) -> bool {
    matches!(
        m,
        ServerMsg::Error { code: ErrorCode::Internal, .. } | ServerMsg::Rejected { reason: RejectReason::Internal, .. }
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_frame_gets_a_specific_answer(frames in proptest::collection::vec(frame(), 1..25)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
            let state = AppState::new(store, Settings::default()).unwrap();
            let slow = state.metrics().slow_consumer_closes.clone();
            let (outbox, mut rx) = Outbox::new(state.hub().next_conn_id(), 1 << 20, slow);
            let _registration = state.hub().register(outbox.clone());
            let mut session = Session::new(state.clone(), outbox.clone());
            for f in frames {
                let what = format!("{f:?}");
                session.on_frame(f).await;
                let mut answers = Vec::new();
                while let Some(m) = rx.try_recv() {
                    if let Message::Text(t) = m {
                        answers.push(serde_json::from_str::<ServerMsg>(t.as_str()).expect("server frames parse"));
                    }
                }
                let closed = matches!(outbox.closer.ending(), Some(Ending::Close { .. }));
                prop_assert!(!answers.is_empty() || closed, "no answer to {}", what);
                prop_assert!(!answers.iter().any(is_generic), "generic answer to {}: {:?}", what, answers);
                if closed {
                    break;
                }
            }
            session.leave_all().await;
            Ok(())
        })?;
    }
}
