//! Chat semantics over real sockets against an in-process server.

mod common;

use std::time::Duration;

use common::frames::{join, joined, pair_in, post, post_ok, recv_ack, recv_message};
use common::{Client, Closed, TestServer, metric, wait_metric};
use futures_util::SinkExt;
use tether_protocol::{
    ClientMsg, Cursor, ErrorCode, HISTORY_WINDOW, MAX_BODY_CHARS, MAX_FRAME_BYTES, PROTOCOL_VERSION, RejectReason,
    ServerMsg, close_code,
};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn two_clients_see_each_others_messages_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut alice = Client::hello(&server.ws_url(), "alice").await;
    let mut bob = Client::hello(&server.ws_url(), "bob").await;
    joined(&mut alice, "lobby", None).await;
    joined(&mut bob, "lobby", None).await;

    for i in 0..5 {
        alice.send(&post("lobby", &format!("a{i}"), &format!("hello {i}"))).await;
    }
    for i in 0..5 {
        // The poster gets the ack first, then its own message.
        let (id, room, seq) = recv_ack(&mut alice).await;
        assert_eq!((id.as_str(), room.as_str(), seq), (format!("a{i}").as_str(), "lobby", i + 1));
        let own = recv_message(&mut alice).await;
        assert_eq!((own.seq, own.author.as_str()), (i + 1, "alice"));
        let seen = recv_message(&mut bob).await;
        assert_eq!((seen.seq, seen.body), (i + 1, format!("hello {i}")));
        assert_eq!(seen.author, "alice");
    }
    let seq = post_ok(&mut bob, "lobby", "b0", "hi alice").await;
    assert_eq!(seq, 6);
    assert_eq!(recv_message(&mut alice).await.body, "hi alice");
    server.stop().await;
}

#[tokio::test]
async fn hello_is_required_and_nick_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::connect(&server.ws_url()).await;
    c.send(&join("lobby", None)).await;
    assert!(matches!(c.recv().await, ServerMsg::Error { code: ErrorCode::HelloRequired, .. }));
    c.send(&ClientMsg::Hello { nick: " spaced ".into() }).await;
    assert!(matches!(c.recv().await, ServerMsg::Error { code: ErrorCode::BadNick, .. }));
    // The connection survives both errors.
    c.send(&ClientMsg::Hello { nick: "carol".into() }).await;
    match c.recv().await {
        ServerMsg::Welcome { nick, protocol, max_body_chars } => {
            assert_eq!((nick.as_str(), protocol, max_body_chars), ("carol", PROTOCOL_VERSION, MAX_BODY_CHARS));
        }
        other => panic!("expected welcome, got {other:?}"),
    }
    assert!(matches!(c.recv().await, ServerMsg::Rooms { .. }));
    c.send(&join("bad room!", None)).await;
    assert!(matches!(c.recv().await, ServerMsg::Error { code: ErrorCode::BadRoom, .. }));
    server.stop().await;
}

#[tokio::test]
async fn new_rooms_are_announced_to_everyone_as_deltas() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut a = Client::hello(&server.ws_url(), "a").await;
    let mut b = Client::hello(&server.ws_url(), "b").await;
    joined(&mut a, "zeta", None).await;
    assert_eq!(b.recv().await, ServerMsg::RoomAdded { room: "zeta".into() });
    joined(&mut a, "alpha", None).await;
    assert_eq!(b.recv().await, ServerMsg::RoomAdded { room: "alpha".into() });
    // A newcomer gets the whole (bounded) list once.
    let mut c = Client::connect(&server.ws_url()).await;
    c.send(&ClientMsg::Hello { nick: "c".into() }).await;
    assert!(matches!(c.recv().await, ServerMsg::Welcome { .. }));
    assert_eq!(c.recv().await, ServerMsg::Rooms { rooms: vec!["alpha".into(), "zeta".into()], truncated: false });
    // Joining an existing room announces nothing.
    joined(&mut b, "alpha", None).await;
    a.recv_nothing(Duration::from_millis(200)).await;
    server.stop().await;
}

#[tokio::test]
async fn posts_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::hello(&server.ws_url(), "dave").await;
    let reason = |m: ServerMsg| match m {
        ServerMsg::Rejected { reason, detail, .. } => {
            assert!(!detail.is_empty());
            reason
        }
        other => panic!("expected rejected, got {other:?}"),
    };
    c.send(&post("lobby", "x1", "hi")).await;
    assert_eq!(reason(c.recv().await), RejectReason::NotJoined);
    joined(&mut c, "lobby", None).await;
    c.send(&post("lobby", "", "hi")).await;
    assert_eq!(reason(c.recv().await), RejectReason::BadId);
    c.send(&post("lobby", "x2", "   ")).await;
    assert_eq!(reason(c.recv().await), RejectReason::EmptyBody);
    c.send(&post("lobby", "x3", &"é".repeat(MAX_BODY_CHARS + 1))).await;
    assert_eq!(reason(c.recv().await), RejectReason::BodyTooLong);
    c.send(&ClientMsg::Leave { room: "lobby".into() }).await;
    assert_eq!(c.recv().await, ServerMsg::Left { room: "lobby".into() });
    c.send(&post("lobby", "x4", "after leaving")).await;
    assert_eq!(reason(c.recv().await), RejectReason::NotJoined);
    assert_eq!(metric(server.addr, "tether_messages_stored_total").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn duplicate_post_is_stored_once_and_acked_with_the_original_seq() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let (mut a, mut b) = pair_in(&server.ws_url(), "lobby").await;
    post_ok(&mut a, "lobby", "first", "one").await;
    let seq = post_ok(&mut a, "lobby", "dup-id", "two").await;
    assert_eq!(recv_message(&mut b).await.seq, 1);
    assert_eq!(recv_message(&mut b).await.id, "dup-id");

    a.send(&post("lobby", "dup-id", "two (retry)")).await;
    assert_eq!(recv_ack(&mut a).await, ("dup-id".into(), "lobby".into(), seq));
    a.recv_nothing(Duration::from_millis(200)).await;
    b.recv_nothing(Duration::from_millis(1)).await;

    let (_, _, history) = joined(&mut b, "lobby", None).await;
    assert_eq!(history.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["one", "two"]);
    assert_eq!(metric(server.addr, "tether_messages_stored_total").await, 2);
    assert_eq!(metric(server.addr, "tether_duplicate_posts_total").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn join_since_replays_exactly_the_missing_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut a = Client::hello(&server.ws_url(), "a").await;
    let (epoch, recovered, history) = joined(&mut a, "lobby", None).await;
    assert!(!recovered && history.is_empty());
    for i in 1..=HISTORY_WINDOW as u64 + 10 {
        post_ok(&mut a, "lobby", &format!("m{i}"), &format!("body {i}")).await;
    }
    let last = HISTORY_WINDOW as u64 + 10;

    let mut b = Client::hello(&server.ws_url(), "b").await;
    let since = Some(Cursor { epoch: epoch.clone(), seq: 3 });
    let (e2, recovered, history) = joined(&mut b, "lobby", since).await;
    assert_eq!(e2, epoch);
    assert!(recovered);
    assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), (4..=last).collect::<Vec<_>>());

    // Up to date: nothing to replay, still recovered.
    let (_, recovered, history) = joined(&mut b, "lobby", Some(Cursor { epoch: epoch.clone(), seq: last })).await;
    assert!(recovered && history.is_empty());

    // A cursor from another epoch (lost history) gets the fresh window.
    let (_, recovered, history) = joined(&mut b, "lobby", Some(Cursor { epoch: "old".into(), seq: 3 })).await;
    assert!(!recovered);
    assert_eq!(history.len(), HISTORY_WINDOW);
    assert_eq!(history.first().map(|m| m.seq), Some(last - HISTORY_WINDOW as u64 + 1));
    assert_eq!(history.last().map(|m| m.seq), Some(last));

    // A cursor ahead of the room is not trusted either.
    let (_, recovered, _) = joined(&mut b, "lobby", Some(Cursor { epoch, seq: last + 1 })).await;
    assert!(!recovered);
    server.stop().await;
}

#[tokio::test]
async fn joiner_misses_nothing_while_others_post() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut a = Client::hello(&server.ws_url(), "a").await;
    joined(&mut a, "busy", None).await;
    let total = 60u64;
    let url = server.ws_url();
    let poster = tokio::spawn(async move {
        for i in 0..total {
            a.send(&post("busy", &format!("p{i}"), "x")).await;
        }
        a
    });
    let mut b = Client::hello(&url, "b").await;
    let (_, _, history) = joined(&mut b, "busy", None).await;
    let mut seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
    while seqs.last().copied().unwrap_or(0) < total {
        seqs.push(recv_message(&mut b).await.seq);
    }
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>(), "a hole or duplicate between history and live");
    drop(poster.await.unwrap());
    server.stop().await;
}

#[tokio::test]
async fn malformed_frames_get_an_error_and_the_connection_survives() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::hello(&server.ws_url(), "eve").await;
    for raw in ["{not json", r#"{"type":"nope"}"#, r#"{"type":"post","room":1}"#] {
        c.send_raw(Message::text(raw)).await;
        match c.recv().await {
            ServerMsg::Error { code: ErrorCode::BadFrame, message, .. } => {
                assert!(!message.contains("line"), "leaks parser detail: {message}")
            }
            other => panic!("expected bad_frame, got {other:?}"),
        }
    }
    c.send(&ClientMsg::Ping { nonce: 7 }).await;
    assert_eq!(c.recv().await, ServerMsg::Pong { nonce: 7 });
    assert_eq!(metric(server.addr, "tether_frames_malformed_total").await, 3);
    // The server still takes new connections.
    let mut d = Client::hello(&server.ws_url(), "frank").await;
    d.send(&ClientMsg::Ping { nonce: 8 }).await;
    assert_eq!(d.recv().await, ServerMsg::Pong { nonce: 8 });
    server.stop().await;
}

#[tokio::test]
async fn endless_garbage_is_closed_with_policy() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::connect(&server.ws_url()).await;
    for _ in 0..60 {
        if c.ws.send(Message::text("garbage")).await.is_err() {
            break;
        }
    }
    assert_eq!(c.closed().await, Closed::Code(close_code::POLICY));
    server.stop().await;
}

#[tokio::test]
async fn oversize_message_is_closed_with_1009() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::hello(&server.ws_url(), "big").await;
    joined(&mut c, "lobby", None).await;
    let huge = "x".repeat(MAX_FRAME_BYTES + 1);
    c.send(&post("lobby", "huge", &huge)).await;
    assert_eq!(c.closed().await, Closed::Code(close_code::TOO_BIG));
    // Exactly at the limit is still fine (and rejected as too long a body).
    let mut d = Client::hello(&server.ws_url(), "edge").await;
    joined(&mut d, "lobby", None).await;
    let frame = serde_json::to_string(&post("lobby", "edge", "")).unwrap();
    let body = "y".repeat(MAX_FRAME_BYTES - frame.len());
    d.send(&post("lobby", "edge", &body)).await;
    assert!(matches!(d.recv().await, ServerMsg::Rejected { reason: RejectReason::BodyTooLong, .. }));
    wait_metric(server.addr, "tether_connections_open", 1).await;
    server.stop().await;
}

#[tokio::test]
async fn connections_open_returns_to_zero() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut clients = Vec::new();
    for i in 0..5 {
        let mut c = Client::hello(&server.ws_url(), &format!("u{i}")).await;
        joined(&mut c, "lobby", None).await;
        clients.push(c);
    }
    wait_metric(server.addr, "tether_connections_open", 5).await;
    // Two close politely, three just vanish.
    for mut c in clients.drain(..2) {
        c.ws.close(None).await.unwrap();
        assert_eq!(c.closed().await, Closed::Code(1005));
    }
    wait_metric(server.addr, "tether_connections_open", 3).await;
    drop(clients);
    wait_metric(server.addr, "tether_connections_open", 0).await;
    assert_eq!(metric(server.addr, "tether_connections_total").await, 5);
    server.stop().await;
}
