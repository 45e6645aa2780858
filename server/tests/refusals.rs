//! Every bad input gets a specific answer: close codes for broken frames,
//! reasons for refused values, 403 for foreign origins, and timeouts for
//! clients that say nothing.

mod common;

use std::time::Duration;

use common::frames::{joined, pair_in, post, post_ok, recv_message};
use common::{Client, Closed, TestServer, http, http_with};
use futures_util::SinkExt;
use tether_protocol::{ClientMsg, ErrorCode, RejectReason, ServerMsg, close_code};
use tether_server::{Limits, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

#[tokio::test]
async fn invalid_utf8_closes_1007_and_binary_closes_1003() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::hello(&server.ws_url(), "u").await;
    let bad = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    let _ = c.ws.send(Message::Frame(bad)).await;
    assert_eq!(c.closed().await, Closed::Code(close_code::INVALID_PAYLOAD));

    let mut c = Client::hello(&server.ws_url(), "b").await;
    c.send_raw(Message::binary(br#"{"type":"ping","nonce":1}"#.to_vec())).await;
    assert_eq!(c.closed().await, Closed::Code(close_code::UNSUPPORTED));
    server.stop().await;
}

#[tokio::test]
async fn control_characters_and_invisible_nick_characters_are_refused_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::connect(&server.ws_url()).await;
    c.send(&ClientMsg::Hello { nick: "admin\u{202E}nimda".into() }).await;
    match c.recv().await {
        ServerMsg::Error { code: ErrorCode::BadNick, message, .. } => assert!(message.contains("U+202E"), "{message}"),
        other => panic!("expected bad_nick, got {other:?}"),
    }
    c.send(&ClientMsg::Hello { nick: "zero\u{200B}width".into() }).await;
    assert!(matches!(c.recv().await, ServerMsg::Error { code: ErrorCode::BadNick, .. }));
    let mut c = Client::hello(&server.ws_url(), "ctl").await;
    joined(&mut c, "lobby", None).await;
    c.send(&post("lobby", "c1", "ring \u{7} the bell")).await;
    match c.recv().await {
        ServerMsg::Rejected { id, reason: RejectReason::ControlChars, detail, .. } => {
            assert_eq!(id, "c1");
            assert!(detail.contains("U+0007"), "{detail}");
        }
        other => panic!("expected control_chars, got {other:?}"),
    }
    // Newlines and tabs are fine.
    post_ok(&mut c, "lobby", "c2", "two\nlines\tand a tab").await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_id_reused_in_another_room_is_refused_not_acked_with_that_room() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::hello(&server.ws_url(), "u").await;
    joined(&mut c, "one", None).await;
    joined(&mut c, "two", None).await;
    post_ok(&mut c, "one", "same-id", "first").await;
    c.send(&post("two", "same-id", "second")).await;
    match c.recv().await {
        ServerMsg::Rejected { id, room, reason: RejectReason::IdReused, detail, .. } => {
            assert_eq!((id.as_str(), room.as_str()), ("same-id", "two"));
            assert!(!detail.is_empty());
        }
        other => panic!("expected id_reused, got {other:?}"),
    }
    // A retry in the right room is still a plain duplicate.
    c.send(&post("one", "same-id", "first")).await;
    assert_eq!(c.recv().await, ServerMsg::Ack { id: "same-id".into(), room: "one".into(), seq: 1 });
    c.recv_nothing(Duration::from_millis(200)).await;
    server.stop().await;
}

#[tokio::test]
async fn foreign_origins_get_403_before_the_upgrade_and_on_state_changing_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        static_dir: "/nonexistent".into(),
        test_faults: true,
        allowed_origins: vec!["https://chat.example.com".into()],
        limits: Limits::default(),
        ..Settings::default()
    };
    let server = TestServer::start_with(&dir.path().join("t.db"), settings).await;
    let url = server.ws_url();
    assert_eq!(Client::connect_from(&url, "http://evil.example").await.err(), Some(403));
    assert_eq!(Client::connect_from(&url, "null").await.err(), Some(403));
    let own = format!("http://{}", server.addr);
    assert!(Client::connect_from(&url, &own).await.is_ok(), "the server's own origin");
    assert!(Client::connect_from(&url, "https://chat.example.com").await.is_ok(), "a listed origin");
    assert!(Client::try_connect(&url).await.is_ok(), "no Origin: not a browser page");

    let (status, _) = http_with(server.addr, "POST", "/test/drop-all", "Origin: http://evil.example\r\n").await;
    assert_eq!(status, 403);
    let (status, _) = http_with(server.addr, "POST", "/test/drop-all", &format!("Origin: {own}\r\n")).await;
    assert_eq!(status, 200);
    // Reading is not guarded.
    assert_eq!(http_with(server.addr, "GET", "/healthz", "Origin: http://evil.example\r\n").await.0, 200);
    server.stop().await;
}

fn quick_timeouts() -> Limits {
    Limits {
        hello_timeout_ms: 300,
        ping_interval_ms: 100,
        idle_timeout_ms: 500,
        header_timeout_ms: 300,
        ..Limits::default()
    }
}

#[tokio::test]
async fn a_connection_without_hello_is_closed_and_a_silent_peer_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_limited(&dir.path().join("t.db"), quick_timeouts()).await;
    let mut mute = Client::connect(&server.ws_url()).await;
    assert_eq!(mute.closed().await, Closed::Code(close_code::POLICY));

    // A client that keeps reading answers the server's pings and stays.
    let mut alive = Client::hello(&server.ws_url(), "alive").await;
    let mut silent = Client::hello(&server.ws_url(), "silent").await;
    alive.recv_nothing(Duration::from_millis(1200)).await;
    alive.send(&ClientMsg::Ping { nonce: 1 }).await;
    assert_eq!(alive.recv().await, ServerMsg::Pong { nonce: 1 });
    // The silent one read nothing for as long, so it never answered a ping.
    assert_eq!(silent.closed().await, Closed::Code(close_code::HEARTBEAT_TIMEOUT));
    server.stop().await;
}

#[tokio::test]
async fn a_client_trickling_http_headers_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_limited(&dir.path().join("t.db"), quick_timeouts()).await;
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    let n = read.expect("the server must drop a connection whose headers never finish").unwrap_or(0);
    assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"), "{:?}", &buf[..n]);
    assert_eq!(http(server.addr, "GET", "/healthz").await.0, 200, "normal requests still work");
    server.stop().await;
}

#[tokio::test]
async fn leave_stops_broadcasts() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let (mut a, mut b) = pair_in(&server.ws_url(), "lobby").await;
    post_ok(&mut a, "lobby", "m1", "before").await;
    assert_eq!(recv_message(&mut b).await.body, "before");
    b.send(&ClientMsg::Leave { room: "lobby".into() }).await;
    assert_eq!(b.recv().await, ServerMsg::Left { room: "lobby".into() });
    post_ok(&mut a, "lobby", "m2", "after").await;
    b.recv_nothing(Duration::from_millis(300)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_repeated_hello_pulls_nothing_and_a_new_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::hello(&server.ws_url(), "ann").await;
    // Components sharing a connection each say hello: each gets the small
    // welcome, never the room list again.
    for _ in 0..10 {
        c.send(&ClientMsg::Hello { nick: "ann".into() }).await;
    }
    for _ in 0..10 {
        assert!(matches!(c.recv().await, ServerMsg::Welcome { .. }));
    }
    c.recv_nothing(Duration::from_millis(300)).await;
    c.send(&ClientMsg::Hello { nick: "eve".into() }).await;
    match c.recv().await {
        ServerMsg::Error { code: ErrorCode::BadNick, message, .. } => {
            assert!(message.contains("already greeted"), "{message}")
        }
        other => panic!("expected bad_nick, got {other:?}"),
    }
    server.stop().await;
}
