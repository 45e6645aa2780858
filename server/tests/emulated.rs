//! The emulated connection (HTTP fallback) over real sockets: the chat works
//! the same over SSE + POST, long-poll + POST and WebSocket together, and
//! streams, polls, sessions and shutdown behave as ws/README.md says.

mod common;

use std::time::{Duration, Instant};

use common::emu::{Emu, Sse, fetch, start_session};
use common::frames::{join, post};
use common::{Client, TestServer, WAIT};
use tether_protocol::{ClientMsg, ServerMsg, close_code};
use tether_server::Limits;
use tether_server::emulated::EmulatedLimits;

fn limits(emulated: EmulatedLimits) -> Limits {
    Limits {
        post_rate: 1e6,
        post_burst: 1_000_000,
        join_rate: 1e6,
        join_burst: 1_000_000,
        emulated,
        ..Limits::default()
    }
}

async fn server(dir: &tempfile::TempDir, emulated: EmulatedLimits) -> TestServer {
    TestServer::start_limited(&dir.path().join("t.db"), limits(emulated)).await
}

fn quick() -> EmulatedLimits {
    EmulatedLimits { session_idle_ms: 60_000, poll_hold_ms: 1_500, sse_ping_ms: 200 }
}

/// Anything that receives chat frames: a WebSocket or an emulated client.
trait Receiver {
    async fn next(&mut self) -> ServerMsg;
}

impl Receiver for Client {
    async fn next(&mut self) -> ServerMsg {
        self.recv().await
    }
}

impl Receiver for Emu {
    async fn next(&mut self) -> ServerMsg {
        self.recv().await
    }
}

async fn joined(r: &mut impl Receiver, room: &str) {
    loop {
        match r.next().await {
            ServerMsg::Joined { room: got, .. } if got == room => return,
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

/// Reads until `messages` chat messages arrived; returns (id, seq) of each
/// message in arrival order and the acks (id, seq) seen meanwhile.
async fn collect(r: &mut impl Receiver, messages: usize) -> (Vec<(String, u64)>, Vec<(String, u64)>) {
    let (mut got, mut acks) = (Vec::new(), Vec::new());
    while got.len() < messages {
        match r.next().await {
            ServerMsg::Message { message } => got.push((message.id, message.seq)),
            ServerMsg::Ack { id, seq, .. } => acks.push((id, seq)),
            ServerMsg::RoomAdded { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    (got, acks)
}

#[tokio::test]
async fn sse_longpoll_and_websocket_clients_chat_every_message_once_in_order_and_acked() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let mut s = Emu::sse(server.addr).await.greet("sse").await;
    let mut p = Emu::longpoll(server.addr).await.greet("poll").await;
    let mut w = Client::hello(&server.ws_url(), "ws").await;
    s.send(&join("lobby", None)).await;
    joined(&mut s, "lobby").await;
    p.send(&join("lobby", None)).await;
    joined(&mut p, "lobby").await;
    w.send(&join("lobby", None)).await;
    joined(&mut w, "lobby").await;
    for i in 0..4 {
        s.send(&post("lobby", &format!("s{i}"), "from sse")).await;
        p.send(&post("lobby", &format!("p{i}"), "from poll")).await;
        w.send(&post("lobby", &format!("w{i}"), "from ws")).await;
    }
    let (ss, sa) = collect(&mut s, 12).await;
    let (ps, pa) = collect(&mut p, 12).await;
    let (ws, wa) = collect(&mut w, 12).await;
    assert_eq!(ss, ps, "the SSE and the poll client saw the same messages in the same order");
    assert_eq!(ss, ws, "and so did the WebSocket client");
    let seqs: Vec<u64> = ss.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<_>>(), "every message once, in order");
    for (acks, prefix) in [(sa, "s"), (pa, "p"), (wa, "w")] {
        let mut want: Vec<(String, u64)> = ss.iter().filter(|(id, _)| id.starts_with(prefix)).cloned().collect();
        let mut acks = acks;
        acks.sort();
        want.sort();
        assert_eq!(acks, want, "each of {prefix}'s posts acked once with its seq");
    }
    server.stop().await;
}

#[tokio::test]
async fn sse_has_its_headers_padding_ids_and_ping_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let token = start_session(server.addr).await;
    let mut sse = Sse::open(server.addr, &format!("/ws/sse?session={token}"), &[]).await;
    assert_eq!(sse.status, 200);
    let header = |name| sse.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header("content-type").as_deref(), Some("text/event-stream"));
    assert_eq!(header("cache-control").as_deref(), Some("no-cache, no-transform"));
    assert_eq!(header("x-accel-buffering").as_deref(), Some("no"));
    assert_eq!(header("content-encoding"), None);
    // The padding comes at once, before there is any frame to send.
    let first = sse.chunk(WAIT).await.expect("padding");
    assert!(first.starts_with(':') && first.ends_with("\n\n") && first.len() >= 2048, "{first:?}");
    Emu::of(server.addr, &token).send(&ClientMsg::Hello { nick: "al".into() }).await;
    let welcome = sse.next_event(WAIT).await.expect("welcome");
    assert_eq!((welcome.id, welcome.event.as_deref()), (Some(1), None));
    assert!(matches!(serde_json::from_str(&welcome.data).unwrap(), ServerMsg::Welcome { .. }));
    assert_eq!(sse.next_event(WAIT).await.expect("rooms").id, Some(2));
    let ping = sse.next_event(WAIT).await.expect("a ping while idle");
    assert_eq!((ping.id, ping.event.as_deref(), ping.data.as_str()), (None, Some("ping"), ""));
    server.stop().await;
}

#[tokio::test]
async fn a_reattached_stream_gets_exactly_the_frames_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let token = start_session(server.addr).await;
    let path = format!("/ws/sse?session={token}");
    let mut first = Sse::open(server.addr, &path, &[]).await;
    let mut up = Emu::of(server.addr, &token);
    up.send(&ClientMsg::Hello { nick: "al".into() }).await;
    up.send(&join("lobby", None)).await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let ev = first.next_frame().await;
        seen.push(ev.id.expect("id"));
    }
    drop(first);
    // Sent while no stream is attached: kept for the next one.
    let mut w = Client::hello(&server.ws_url(), "ws").await;
    w.send(&join("lobby", None)).await;
    joined(&mut w, "lobby").await;
    w.send(&post("lobby", "w1", "while you were away")).await;
    // EventSource's own reconnect: Last-Event-ID beats a stale `after`.
    let mut again = Sse::open(server.addr, &format!("{path}&after=0"), &[("last-event-id", "2")]).await;
    let mut ids = Vec::new();
    loop {
        let ev = again.next_event(WAIT).await.expect("stream");
        if ev.event.is_some() {
            continue;
        }
        ids.push(ev.id.expect("id"));
        if let Ok(ServerMsg::Message { message }) = serde_json::from_str(&ev.data) {
            assert_eq!(message.id, "w1");
            break;
        }
    }
    assert_eq!(ids[0], 3, "resumes right after the last frame processed");
    assert_eq!(ids, (3..3 + ids.len() as u64).collect::<Vec<_>>(), "no frame skipped or repeated");
    again.nothing_for(Duration::from_millis(100)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_poll_holds_until_a_frame_comes_and_a_newer_poll_answers_the_older() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let c = Emu::longpoll(server.addr).await.greet("al").await;
    let started = Instant::now();
    let r = c.poll(2).await;
    assert!(started.elapsed() >= Duration::from_millis(1400), "held for poll_ms");
    assert_eq!((r.status, r.json()["frames"].as_array().map(Vec::len)), (200, Some(0)));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // A frame arriving while a poll waits answers it at once.
    let (addr, token) = (c.addr, c.token.clone());
    let waiting = tokio::spawn({
        let c = Emu::of(addr, &token);
        async move { c.poll(2).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut pinger = Emu::of(c.addr, &c.token);
    pinger.next_seq = 2;
    pinger.send(&ClientMsg::Ping { nonce: 7 }).await;
    let r = waiting.await.unwrap();
    assert_eq!(r.json()["frames"][0]["n"], 3);
    assert!(r.json()["frames"][0]["t"].as_str().unwrap().contains("pong"));
    // A newer poll answers the older one, empty.
    let older = tokio::spawn(async move {
        let t = Instant::now();
        (Emu::of(addr, &token).poll(3).await, t.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let newer = tokio::spawn({
        let c = Emu::of(addr, &c.token);
        async move { c.poll(3).await }
    });
    let (r, took) = older.await.unwrap();
    assert_eq!(r.json()["frames"].as_array().map(Vec::len), Some(0));
    assert!(took < Duration::from_millis(1200), "answered when the newer poll came, not after its hold");
    assert_eq!(newer.await.unwrap().status, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_retried_post_is_not_processed_twice_and_a_gap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir, quick()).await;
    let mut c = Emu::longpoll(server.addr).await.greet("al").await;
    c.send(&join("lobby", None)).await;
    joined(&mut c, "lobby").await;
    let mut w = Client::hello(&server.ws_url(), "ws").await;
    w.send(&join("lobby", None)).await;
    joined(&mut w, "lobby").await;
    let frame = |id: &str| serde_json::to_string(&post("lobby", id, "once")).unwrap();
    let body = serde_json::to_string(&[frame("m1")]).unwrap();
    for _ in 0..3 {
        let r = c.post_frames(3, &body).await; // its response was "lost": sent again
        assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(3)), "{}", r.body);
    }
    let gap = c.post_frames(5, &serde_json::to_string(&[frame("m3")]).unwrap()).await;
    assert_eq!((gap.status, gap.error()), (409, "out_of_order".to_owned()), "{}", gap.body);
    // A retry overlapping new frames: only the new one is processed.
    let r = c.post_frames(3, &serde_json::to_string(&[frame("m1"), frame("m2")]).unwrap()).await;
    assert_eq!(r.json()["accepted"].as_u64(), Some(4));
    let (got, _) = collect(&mut w, 2).await;
    assert_eq!(got.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["m1", "m2"]);
    w.recv_nothing(Duration::from_millis(300)).await;
    let (got, acks) = collect(&mut c, 2).await;
    assert_eq!((got.len(), acks.len()), (2, 2), "one ack per message");
    server.stop().await;
}

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
    assert_eq!(serde_json::from_str::<serde_json::Value>(&close.data).unwrap()["code"], close_code::POLICY);
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
    for i in 0..40 {
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
