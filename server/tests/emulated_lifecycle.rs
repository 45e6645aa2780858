//! Emulated sessions' lifecycle over real sockets: idle expiry (410) and
//! unknown tokens (404), the client's DELETE, the hello timeout, server
//! shutdown (close 1001), a client too slow to read (close 1013), and when
//! a session counts as started.

mod common;

use std::time::Duration;

use common::emu::{Emu, Sse, fetch, start_session};
use common::emu_chat::{collect, joined, limits, quick, server};
use common::frames::{join, post};
use common::{Client, TestServer, WAIT, metric, wait_metric};
use tether_protocol::{ClientMsg, close_code};
use tether_server::Limits;
use tether_server::emulated::EmulatedLimits;

#[tokio::test]
async fn idle_sessions_expire_with_410_and_unknown_ones_get_404() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, EmulatedLimits { session_idle_ms: 300, ..quick() }).await;
    let idle = start_session(server.addr).await;
    let attached = start_session(server.addr).await;
    let mut sse = Sse::open(server.addr, &format!("/ws/sse?session={attached}"), &[]).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let r = Emu::of(server.addr, &idle).poll(0).await;
    assert_eq!((r.status, r.error()), (410, "expired_session".to_owned()), "{}", r.body);
    let r = fetch(server.addr, "GET", "/ws/poll?session=AAAAAAAAAAAAAAAAAAAAAA", &[], "").await;
    assert_eq!((r.status, r.error()), (404, "unknown_session".to_owned()), "{}", r.body);
    // An attached stream keeps its session alive (pings flowing), until it goes.
    Emu::of(server.addr, &attached).send(&ClientMsg::Hello { nick: "al".into() }).await;
    sse.next_frame().await;
    drop(sse);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let r = Emu::of(server.addr, &attached).post_frames(2, "[]").await;
    assert_eq!(r.status, 410, "{}", r.body);
    assert_eq!(server.state.emulated().len(), 0, "expired sessions are forgotten");
    server.stop().await;
}

/// Every endpoint that names a session answers a bad one the same way:
/// none named → 400, never issued → 404, expired or deleted → 410, each
/// with its JSON code (the client starts a new session on 404 and 410).
#[tokio::test]
async fn every_endpoint_refuses_a_missing_unknown_expired_or_deleted_session_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, EmulatedLimits { session_idle_ms: 1_000, ..quick() }).await;
    let live = start_session(server.addr).await;
    // Attached, so it outlives the wait below however slow the machine.
    let mut attached = Sse::open(server.addr, &format!("/ws/sse?session={live}"), &[]).await;
    let deleted = start_session(server.addr).await;
    let r = fetch(server.addr, "DELETE", &format!("/ws/session?session={deleted}"), &[], "").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let expired = start_session(server.addr).await;
    let deadline = tokio::time::Instant::now() + WAIT * 2;
    while server.state.emulated().len() > 1 {
        assert!(tokio::time::Instant::now() < deadline, "the idle session never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let endpoints = [
        ("sse", "GET", "/ws/sse?", ""),
        ("poll", "GET", "/ws/poll?after=0&", ""),
        ("send", "POST", "/ws/send?seq=1&", "[]"),
        ("DELETE session", "DELETE", "/ws/session?", ""),
    ];
    let sessions = [
        ("missing", None, 400, "bad_request"),
        ("unknown", Some("AAAAAAAAAAAAAAAAAAAAAA"), 404, "unknown_session"),
        ("expired", Some(expired.as_str()), 410, "expired_session"),
        ("deleted", Some(deleted.as_str()), 410, "expired_session"),
    ];
    for (endpoint, method, path, body) in endpoints {
        for (what, token, status, code) in sessions {
            let path = token.map_or(path.to_owned(), |t| format!("{path}session={t}"));
            let r = fetch(server.addr, method, &path, &[], body).await;
            assert_eq!(r.status, status, "{endpoint} with a {what} session: {}", r.body);
            assert_eq!(r.error(), code, "{endpoint} with a {what} session: {}", r.body);
            assert!(!r.json()["message"].as_str().unwrap_or_default().is_empty(), "{endpoint}: {}", r.body);
        }
    }
    // A live session with a bad frame number: 400 naming it, and the session goes on.
    let bad_numbers = [
        ("POST", format!("/ws/send?session={live}"), "seq"),
        ("POST", format!("/ws/send?session={live}&seq=0"), "seq"),
        ("POST", format!("/ws/send?session={live}&seq=x"), "seq"),
        ("GET", format!("/ws/poll?session={live}&after=x"), "after"),
        ("GET", format!("/ws/sse?session={live}&after=-1"), "after"),
    ];
    for (method, path, param) in bad_numbers {
        let r = fetch(server.addr, method, &path, &[], "[]").await;
        assert_eq!((r.status, r.error().as_str()), (400, "bad_request"), "{method} {path}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap_or_default().contains(param), "{path}: {}", r.body);
    }
    Emu::of(server.addr, &live).send(&ClientMsg::Hello { nick: "al".into() }).await;
    assert!(attached.next_frame().await.data.contains("welcome"), "the live session still works");
    server.stop().await;
}

#[tokio::test]
async fn a_deleted_session_is_over_and_the_hello_timeout_applies() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { hello_timeout_ms: 300, ..limits(quick()) };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let token = start_session(server.addr).await;
    let r = fetch(server.addr, "DELETE", &format!("/ws/session?session={token}"), &[], "").await;
    assert_eq!(r.status, 204);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(Emu::of(server.addr, &token).poll(0).await.status, 410);
    let silent = start_session(server.addr).await;
    let mut sse = Sse::open(server.addr, &format!("/ws/sse?session={silent}"), &[]).await;
    let close = sse.next_frame().await;
    assert_eq!(close.event.as_deref(), Some("close"));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&close.data).unwrap()["code"], close_code::TRY_AGAIN_LATER);
    assert!(sse.next_event(WAIT).await.is_none(), "the response ends after close");
    server.stop().await;
}

#[tokio::test]
async fn server_shutdown_sends_close_1001_to_streams_and_polls() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, EmulatedLimits { poll_hold_ms: 20_000, ..quick() }).await;
    let mut s = Emu::sse(server.addr).await.greet("s").await;
    let p = Emu::longpoll(server.addr).await.greet("p").await;
    let polling = tokio::spawn(async move { p.poll(2).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(server.stop());
    let r = polling.await.unwrap();
    assert_eq!(r.json()["close"]["code"], close_code::GOING_AWAY, "{}", r.body);
    let Some(sse) = s.stream() else { panic!("sse client") };
    let close = sse.next_frame().await;
    assert_eq!(close.event.as_deref(), Some("close"));
    let data: serde_json::Value = serde_json::from_str(&close.data).unwrap();
    assert_eq!((data["code"].as_u64(), data["reason"].as_str()), (Some(1001), Some("server shutting down")));
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_session_that_stops_reading_ends_with_1013_after_its_last_frames() {
    let dir = tempfile::tempdir().unwrap();
    let l = Limits { outbox_bytes: 4096, ..limits(quick()) };
    let server = TestServer::start_limited(&dir.path().join("t.db"), l).await;
    let mut slow = Emu::longpoll(server.addr).await.greet("slow").await;
    slow.send(&join("lobby", None)).await;
    joined(&mut slow, "lobby").await;
    let mut w = Client::hello(&server.ws_url(), "ws").await;
    w.send(&join("lobby", None)).await;
    joined(&mut w, "lobby").await;
    for i in 0..60 {
        w.send(&post("lobby", &format!("m{i}"), &"x".repeat(200))).await;
    }
    collect(&mut w, 40).await; // all broadcast while `slow` did not poll
    let (mut after, mut close) = (4, serde_json::Value::Null);
    for _ in 0..40 {
        let r = slow.poll(after).await;
        let answer = r.json();
        let frames = answer["frames"].as_array().unwrap();
        after = frames.last().map_or(after, |f| f["n"].as_u64().unwrap());
        if !answer["close"].is_null() {
            close = answer["close"].clone();
            break;
        }
    }
    assert_eq!(close["code"], close_code::TRY_AGAIN_LATER, "too slow: closed like a WebSocket");
    assert!(after > 4, "the frames kept before the close are delivered first");
    server.stop().await;
}

#[tokio::test]
async fn the_drop_and_abort_faults_reach_emulated_sessions_too() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let mut dropped = Emu::sse(server.addr).await.greet("d").await;
    assert_eq!(server.http("POST", "/test/drop-all?code=4000").await.0, 200);
    let close = dropped.stream().unwrap().next_frame().await;
    assert_eq!(close.event.as_deref(), Some("close"));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&close.data).unwrap()["code"], 4000);

    let mut aborted = Emu::sse(server.addr).await.greet("a").await;
    assert_eq!(server.http("POST", "/test/abort-all").await.0, 200);
    // Like a dropped TCP connection: the stream ends without a close event,
    // and the session is gone.
    let sse = aborted.stream().unwrap();
    while let Some(ev) = sse.next_event(WAIT).await {
        assert_eq!(ev.event.as_deref(), Some("ping"), "nothing but pings before the end: {ev:?}");
    }
    assert_eq!(aborted.poll(2).await.status, 410);
    server.stop().await;
}

/// A healthy SSE stream never re-sends `after`, so the server must not keep
/// everything it already streamed until the byte budget is full: a reattach
/// from far back finds those frames gone (close 1013, never a silent gap),
/// while one from the last frame goes on.
#[tokio::test]
async fn frames_already_streamed_are_kept_only_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let mut emu = Emu::sse(server.addr).await.greet("reader").await;
    emu.send(&ClientMsg::Join { room: "big".into(), since: None }).await;
    joined(&mut emu, "big").await;
    let mut poster = Client::hello(&server.ws_url(), "poster").await;
    poster.send(&join("big", None)).await;
    let body = "x".repeat(3900);
    for i in 0..60 {
        poster.send(&post("big", &format!("p{i}"), &body)).await;
    }
    let (got, _) = collect(&mut emu, 60).await;
    assert_eq!(got.len(), 60);
    let token = emu.token.clone();
    drop(emu);
    let mut back = Sse::open(server.addr, &format!("/ws/sse?session={token}&after=1"), &[]).await;
    let ev = back.next_frame().await;
    assert_eq!(ev.event.as_deref(), Some("close"), "240 KB of streamed frames still kept: got frame {:?}", ev.id);
    assert!(ev.data.contains(&close_code::TRY_AGAIN_LATER.to_string()), "{}", ev.data);
    server.stop().await;
}

/// A poll answer carrying `close` can be lost like any other: its retry
/// (same `after`) must get the close code again, not 410 (which the client
/// shows as 1006 "session lost" instead of why the server closed).
#[tokio::test]
async fn a_retried_poll_gets_the_close_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let emu = Emu::longpoll(server.addr).await;
    let big = serde_json::to_string(&["x".repeat(tether_protocol::MAX_FRAME_BYTES + 1)]).unwrap();
    assert_eq!(emu.post_frames(1, &big).await.status, 413);
    for attempt in ["first", "retry"] {
        let r = emu.poll(0).await;
        assert_eq!(r.status, 200, "{attempt}: {}", r.body);
        assert_eq!(r.json()["close"]["code"].as_u64(), Some(close_code::TOO_BIG.into()), "{attempt}: {}", r.body);
    }
    server.stop().await;
}

/// A session counts as started when it is created, before any stream
/// attaches: a browser may hold a fallback's stream back (six connections
/// per host) until the client gives the session up, after its handshake's
/// post was stored. The post then comes again on the next connection, and
/// the started sessions are what accounts for that duplicate.
#[tokio::test]
async fn a_session_counts_as_started_before_a_stream_attaches() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let token = start_session(server.addr).await;
    let mut emu = Emu::of(server.addr, &token);
    emu.send(&ClientMsg::Hello { nick: "al".into() }).await;
    emu.send(&join("lobby", None)).await;
    emu.send(&post("lobby", "p1", "hi")).await;
    wait_metric(server.addr, "tether_messages_stored_total", 1).await;
    // Given up before its ack came back: the next connection resends.
    let r = fetch(server.addr, "DELETE", &format!("/ws/session?session={token}"), &[], "").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let mut ws = Client::hello(&server.ws_url(), "al").await;
    ws.send(&join("lobby", None)).await;
    ws.send(&post("lobby", "p1", "hi")).await;
    wait_metric(server.addr, "tether_duplicate_posts_total", 1).await;
    let sessions = metric(server.addr, "tether_emulated_sessions_total").await;
    assert_eq!(sessions, 1, "the unattached session counts");
    assert_eq!(metric(server.addr, "tether_messages_stored_total").await, 1, "stored once");
    server.stop().await;
}
