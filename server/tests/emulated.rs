//! The emulated connection (HTTP fallback) over real sockets: the chat works
//! the same over SSE + POST, long-poll + POST and WebSocket together, and
//! streams and polls behave as ws/README.md says.

mod common;

use std::time::{Duration, Instant};

use common::emu::{Emu, Sse, start_session};
use common::emu_chat::{collect, joined, limits, quick, server};
use common::frames::{join, post};
use common::{Client, TestServer, WAIT};
use tether_protocol::{ClientMsg, ServerMsg};
use tether_server::Settings;

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
    // Precompressed files where the stream lives: the static files' gzip/br
    // must never answer in its place (a compressed stream is held back by
    // proxies and browsers until it ends).
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("ws")).unwrap();
    for name in ["index.html", "index.html.gz", "index.html.br", "ws/sse", "ws/sse.gz", "ws/sse.br"] {
        std::fs::write(site.join(name), "not the stream").unwrap();
    }
    let settings = Settings { static_dir: site, test_faults: true, limits: limits(quick()), ..Settings::default() };
    let server = TestServer::start_with(&dir.path().join("t.db"), settings).await;
    let token = start_session(server.addr).await;
    let gzip = [("accept-encoding", "gzip, br")];
    let mut sse = Sse::open(server.addr, &format!("/ws/sse?session={token}"), &gzip).await;
    assert_eq!(sse.status, 200);
    let header = |name| sse.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header("content-encoding"), None, "an event stream is never compressed");
    assert_eq!(header("content-type").as_deref(), Some("text/event-stream"));
    assert_eq!(header("cache-control").as_deref(), Some("no-cache, no-transform"));
    assert_eq!(header("x-accel-buffering").as_deref(), Some("no"));
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
        let ev = again.next_event(WAIT * 2).await.expect("stream");
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
