//! What the emulated connection refuses, and the test-fault switches that
//! break WebSockets the ways networks do: oversize frames and bodies, bad
//! requests, foreign origins (and CORS for allowed ones only), admission
//! caps, and upgrades refused, black-holed or SSE held back.

mod common;

use std::time::Duration;

use common::emu::{Emu, Sse, fetch, start_session};
use common::emu_chat::{limits, quick};
use common::{Client, Closed, TestServer, WAIT, metric, wait_metric};
use futures_util::StreamExt;
use tether_protocol::{ClientMsg, ErrorCode, MAX_FRAME_BYTES, RejectReason, ServerMsg, close_code};
use tether_server::emulated::{EmulatedLimits, MAX_SEND_BODY};
use tether_server::{Limits, Settings};

async fn server(dir: &tempfile::TempDir) -> TestServer {
    TestServer::start(&dir.path().join("t.db")).await
}

#[tokio::test]
async fn oversize_frames_and_bodies_get_413_naming_the_limit_and_bad_bodies_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let mut c = Emu::sse(server.addr).await.greet("al").await;
    // A malformed chat frame is answered downstream, as on a WebSocket.
    let r = c.post_frames(2, r#"["not json"]"#).await;
    assert_eq!(r.status, 200);
    assert!(matches!(c.recv().await, ServerMsg::Error { code: ErrorCode::BadFrame, .. }));
    for bad in ["{", r#"{"a":1}"#, "[1]", r#"[{"b":"%%%"}]"#] {
        let r = c.post_frames(3, bad).await;
        assert_eq!((r.status, r.error()), (400, "bad_request".to_owned()), "{bad}: {}", r.body);
    }
    let body = format!("[{}]", "\"x\",".repeat(MAX_SEND_BODY / 4) + "\"x\"");
    let r = c.post_frames(3, &body).await;
    assert_eq!((r.status, r.error()), (413, "too_large".to_owned()));
    assert!(r.json()["message"].as_str().unwrap().contains(&MAX_SEND_BODY.to_string()), "{}", r.body);
    let big = serde_json::to_string(&["y".repeat(MAX_FRAME_BYTES + 1)]).unwrap();
    let r = c.post_frames(3, &big).await;
    assert_eq!((r.status, r.error()), (413, "too_large".to_owned()));
    assert!(r.json()["message"].as_str().unwrap().contains(&MAX_FRAME_BYTES.to_string()), "{}", r.body);
    // As a WebSocket closes with 1009, the session ends and says so.
    let close = c.stream().unwrap().next_frame().await;
    assert_eq!(close.event.as_deref(), Some("close"));
    assert!(close.data.contains(&close_code::TOO_BIG.to_string()), "{}", close.data);
    server.stop().await;
}

#[tokio::test]
async fn foreign_origins_get_403_and_cors_headers_go_to_allowed_origins_only() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        static_dir: "/nonexistent".into(),
        allowed_origins: vec!["http://static.example".into()],
        ..Settings::default()
    };
    let server = TestServer::start_with(&dir.path().join("t.db"), settings).await;
    let evil = [("origin", "http://evil.example")];
    let r = fetch(server.addr, "POST", "/ws/session", &evil, "").await;
    assert_eq!((r.status, r.error()), (403, "origin_not_allowed".to_owned()));
    assert_eq!(r.header("access-control-allow-origin"), None);
    let token = start_session(server.addr).await;
    for (method, path) in [
        ("GET", format!("/ws/sse?session={token}")),
        ("GET", format!("/ws/poll?session={token}")),
        ("POST", format!("/ws/send?session={token}&seq=1")),
        ("DELETE", format!("/ws/session?session={token}")),
        ("OPTIONS", "/ws/send".to_owned()),
    ] {
        let r = fetch(server.addr, method, &path, &evil, "[]").await;
        assert_eq!(r.status, 403, "{method} {path}");
        assert_eq!(r.header("access-control-allow-origin"), None);
    }
    let ok = [("origin", "http://static.example")];
    let r = fetch(server.addr, "POST", "/ws/session", &ok, "").await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://static.example"));
    assert!(r.header("vary").is_some_and(|v| v.contains("origin")), "{:?}", r.headers);
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let preflight = [
        ("origin", "http://static.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let r = fetch(server.addr, "OPTIONS", "/ws/send", &preflight, "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://static.example"));
    assert!(r.header("access-control-allow-methods").is_some_and(|m| m.contains("POST") && m.contains("DELETE")));
    assert!(r.header("access-control-allow-headers").is_some_and(|h| h.contains("content-type")));
    server.stop().await;
}

#[tokio::test]
async fn sessions_share_the_websocket_admission_caps_and_are_counted_by_transport() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { conns_per_ip: 2, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let _ws = Client::connect(&server.ws_url()).await;
    let token = start_session(server.addr).await;
    let r = fetch(server.addr, "POST", "/ws/session", &[], "").await;
    assert_eq!((r.status, r.error()), (429, "rate_limited".to_owned()), "{}", r.body);
    let sse = Sse::open(server.addr, &format!("/ws/sse?session={token}"), &[]).await;
    let gauge = "tether_connections_by_transport{transport=\"sse\"}";
    wait_metric(server.addr, gauge, 1).await;
    assert_eq!(metric(server.addr, "tether_connections_open").await, 1, "WebSocket connections only");
    let r = fetch(server.addr, "DELETE", &format!("/ws/session?session={token}"), &[], "").await;
    assert_eq!(r.status, 204);
    wait_metric(server.addr, gauge, 0).await;
    drop(sse);
    // The deleted session's place is free again.
    let deadline = tokio::time::Instant::now() + WAIT;
    while fetch(server.addr, "POST", "/ws/session", &[], "").await.status != 201 {
        assert!(tokio::time::Instant::now() < deadline, "place not freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn refused_upgrades_get_400_while_the_fallback_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    assert_eq!(server.http("POST", "/test/refuse-upgrade?on=true").await.0, 200);
    assert_eq!(Client::try_connect(&server.ws_url()).await.err(), Some(400));
    Emu::sse(server.addr).await.greet("al").await;
    assert_eq!(server.http("POST", "/test/refuse-upgrade?on=false").await.0, 200);
    Client::hello(&server.ws_url(), "back").await;
    server.stop().await;
}

#[tokio::test]
async fn a_blackholed_upgrade_is_accepted_and_then_silent_until_switched_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    assert_eq!(server.http("POST", "/test/blackhole-upgrade?on=true").await.0, 200);
    let mut c = Client::connect(&server.ws_url()).await;
    c.send(&ClientMsg::Hello { nick: "al".into() }).await;
    let got = tokio::time::timeout(Duration::from_millis(1500), c.ws.next()).await;
    assert!(got.is_err(), "expected silence after the upgrade, got {got:?}");
    assert_eq!(server.http("POST", "/test/blackhole-upgrade?on=false").await.0, 200);
    assert_eq!(c.closed().await, Closed::Abnormal, "dropped when the switch goes off");
    Client::hello(&server.ws_url(), "back").await;
    server.stop().await;
}

#[tokio::test]
async fn held_sse_sends_its_padding_then_nothing_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    assert_eq!(server.http("POST", "/test/hold-sse?on=true").await.0, 200);
    let token = start_session(server.addr).await;
    let mut sse = Sse::open(server.addr, &format!("/ws/sse?session={token}"), &[]).await;
    assert!(sse.chunk(WAIT).await.expect("padding").starts_with(':'));
    Emu::of(server.addr, &token).send(&ClientMsg::Hello { nick: "al".into() }).await;
    sse.nothing_for(Duration::from_millis(1000)).await;
    // Long-polling gets through meanwhile (the frames are kept, not lost).
    let r = Emu::of(server.addr, &token).poll(0).await;
    assert_eq!(r.json()["frames"][0]["n"], 1);
    assert_eq!(server.http("POST", "/test/hold-sse?on=false").await.0, 200);
    let ev = sse.next_frame().await;
    assert_eq!(ev.id, Some(1));
    server.stop().await;
}

/// Starting sessions in a loop is slowed per address (the spec's "rate
/// limited"): past the burst, 429 `rate_limited` saying when to retry.
#[tokio::test]
async fn starting_sessions_in_a_loop_is_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let emulated = EmulatedLimits { session_burst: 3, session_rate: 0.01, ..quick() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits(emulated)).await;
    for _ in 0..3 {
        start_session(server.addr).await;
    }
    let r = fetch(server.addr, "POST", "/ws/session", &[], "").await;
    assert_eq!((r.status, r.error()), (429, "rate_limited".to_owned()), "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap_or_default().contains("retry in"), "{}", r.body);
    server.stop().await;
}

/// The per-message post rate holds over POSTed frames as on a socket: a
/// flood (a backlog in one POST, then POSTs in a loop) is accepted at the
/// HTTP level, and each post is then either acked and shown to the room or
/// refused as `rate_limited` with a retry time; none silently lost.
#[tokio::test]
async fn a_flood_of_posts_through_send_is_refused_per_message_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let l = Limits { post_burst: 3, post_rate: 0.1, ..limits(quick()) };
    let server = TestServer::start_limited(&dir.path().join("t.db"), l).await;
    let mut watcher = Client::hello(&server.ws_url(), "watcher").await;
    common::frames::joined(&mut watcher, "lobby", None).await;
    let mut c = Emu::sse(server.addr).await.greet("flood").await;
    c.send(&ClientMsg::Join { room: "lobby".into(), since: None }).await;
    let post = |i: usize| {
        let msg = ClientMsg::Post { room: "lobby".into(), id: format!("f{i}"), body: format!("flood {i}") };
        serde_json::to_string(&msg).unwrap()
    };
    let backlog: Vec<String> = (0..10).map(post).collect();
    let r = c.post_frames(c.next_seq, &serde_json::to_string(&backlog).unwrap()).await;
    assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(c.next_seq + 9)), "{}", r.body);
    c.next_seq += 10;
    for i in 10..20 {
        let r = c.post_frames(c.next_seq, &serde_json::to_string(&[post(i)]).unwrap()).await;
        assert_eq!(r.status, 200, "a refused post is answered downstream, not by HTTP: {}", r.body);
        c.next_seq += 1;
    }
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    while acked.len() + refused.len() < 20 {
        match c.recv().await {
            ServerMsg::Ack { id, .. } => acked.push(id),
            ServerMsg::Rejected { id, reason: RejectReason::RateLimited, retry_after_ms, .. } => {
                assert!(retry_after_ms.is_some_and(|ms| ms > 0), "{id}: no retry time");
                refused.push(id);
            }
            ServerMsg::Joined { .. } | ServerMsg::Message { .. } | ServerMsg::RoomAdded { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut every: Vec<String> = acked.iter().chain(&refused).cloned().collect();
    every.sort_by_key(|id| id[1..].parse::<usize>().unwrap());
    assert_eq!(every, (0..20).map(|i| format!("f{i}")).collect::<Vec<_>>(), "each post answered exactly once");
    assert!(acked.len() >= 3 && refused.len() >= 15, "burst of 3 then refusals: {acked:?} {refused:?}");
    // What was acked reaches the room; nothing refused does.
    let mut shown = Vec::new();
    while shown.len() < acked.len() {
        if let ServerMsg::Message { message } = watcher.recv().await {
            shown.push(message.id);
        }
    }
    assert_eq!(shown, acked);
    watcher.recv_nothing(Duration::from_millis(300)).await;
    assert_eq!(metric(server.addr, "tether_rate_limited_total").await, refused.len() as i64);
    server.stop().await;
}
