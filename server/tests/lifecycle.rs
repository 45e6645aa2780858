//! Restarts, shutdown, fault endpoints and plain HTTP routes, in-process.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Client, Closed, TestServer, WAIT, http, metric, wait_metric};
use futures_util::StreamExt;
use tether_protocol::{ClientMsg, Cursor, ServerMsg, close_code};
use tether_server::{Limits, Settings};
use tokio_tungstenite::tungstenite::Message;

async fn join(c: &mut Client, room: &str, since: Option<Cursor>) -> (String, bool, Vec<u64>) {
    c.send(&ClientMsg::Join { room: room.into(), since }).await;
    loop {
        match c.recv().await {
            ServerMsg::Joined { epoch, recovered, history, .. } => {
                return (epoch, recovered, history.iter().map(|m| m.seq).collect());
            }
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

async fn post(c: &mut Client, room: &str, id: &str) -> u64 {
    c.send(&ClientMsg::Post { room: room.into(), id: id.into(), body: format!("body of {id}") }).await;
    match c.recv().await {
        ServerMsg::Ack { seq, .. } => seq,
        other => panic!("expected ack, got {other:?}"),
    }
}

/// Posts a new message: ack, then the echo.
async fn post_new(c: &mut Client, room: &str, id: &str) -> u64 {
    let seq = post(c, room, id).await;
    match c.recv().await {
        ServerMsg::Message { message } => assert_eq!(message.seq, seq),
        other => panic!("expected message, got {other:?}"),
    }
    seq
}

#[tokio::test]
async fn history_and_epoch_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/dirs/t.db");
    let server = TestServer::start(&db).await;
    let mut c = Client::hello(&server.ws_url(), "a").await;
    let (epoch, _, _) = join(&mut c, "keep", None).await;
    for i in 0..3 {
        post_new(&mut c, "keep", &format!("k{i}")).await;
    }
    drop(c);
    server.stop().await;

    let server = TestServer::start(&db).await;
    let mut c = Client::connect(&server.ws_url()).await;
    c.send(&ClientMsg::Hello { nick: "b".into() }).await;
    assert!(matches!(c.recv().await, ServerMsg::Welcome { .. }));
    assert_eq!(c.recv().await, ServerMsg::Rooms { rooms: vec!["keep".into()], truncated: false });
    let (epoch2, _, seqs) = join(&mut c, "keep", None).await;
    assert_eq!(epoch2, epoch);
    assert_eq!(seqs, [1, 2, 3]);
    let (_, recovered, seqs) = join(&mut c, "keep", Some(Cursor { epoch, seq: 1 })).await;
    assert!(recovered);
    assert_eq!(seqs, [2, 3]);
    // Seqs continue, and a retry of a pre-restart id is still deduplicated.
    assert_eq!(post(&mut c, "keep", "k0").await, 1);
    assert_eq!(post_new(&mut c, "keep", "new").await, 4);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut a = Client::hello(&server.ws_url(), "a").await;
    let mut b = Client::connect(&server.ws_url()).await; // never said hello
    let started = std::time::Instant::now();
    let stopping = tokio::spawn(server.stop());
    assert_eq!(a.closed().await, Closed::Code(close_code::GOING_AWAY));
    assert_eq!(b.closed().await, Closed::Code(close_code::GOING_AWAY));
    tokio::time::timeout(Duration::from_secs(5), stopping).await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "shutdown took {:?}", started.elapsed());
}

#[tokio::test]
async fn drop_all_closes_with_the_requested_code_and_abort_sends_none() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut a = Client::hello(&server.ws_url(), "a").await;
    let mut b = Client::hello(&server.ws_url(), "b").await;
    assert_eq!(server.http("POST", "/test/drop-all?code=4321").await.0, 200);
    assert_eq!(a.closed().await, Closed::Code(4321));
    assert_eq!(b.closed().await, Closed::Code(4321));
    assert_eq!(server.http("POST", "/test/drop-all?code=1006").await.0, 400);

    let mut c = Client::hello(&server.ws_url(), "c").await;
    assert_eq!(server.http("POST", "/test/abort-all").await.0, 200);
    assert_eq!(c.closed().await, Closed::Abnormal);
    wait_metric(server.addr, "tether_connections_open", 0).await;
    server.stop().await;
}

#[tokio::test]
async fn stall_pongs_stops_pongs_but_not_chat() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = Client::hello(&server.ws_url(), "a").await;
    c.send(&ClientMsg::Ping { nonce: 1 }).await;
    assert_eq!(c.recv().await, ServerMsg::Pong { nonce: 1 });
    assert_eq!(server.http("POST", "/test/stall-pongs?on=true").await.0, 200);
    c.send(&ClientMsg::Ping { nonce: 2 }).await;
    join(&mut c, "room", None).await; // the next frame is joined, not pong
    assert_eq!(post_new(&mut c, "room", "x").await, 1);
    c.recv_nothing(Duration::from_millis(300)).await;
    assert_eq!(server.http("POST", "/test/stall-pongs?on=false").await.0, 200);
    c.send(&ClientMsg::Ping { nonce: 3 }).await;
    assert_eq!(c.recv().await, ServerMsg::Pong { nonce: 3 });
    server.stop().await;
}

#[tokio::test]
async fn slow_client_is_closed_with_try_again_later() {
    let server = TestServer::start(Path::new(":memory:")).await;
    let mut slow = Client::hello(&server.ws_url(), "slow").await;
    join(&mut slow, "flood", None).await;
    let mut fast = Client::hello(&server.ws_url(), "fast").await;
    join(&mut fast, "flood", None).await;
    let body = "z".repeat(3900);
    let mut i = 0;
    let t0 = std::time::Instant::now();
    while metric(server.addr, "tether_slow_consumer_closes_total").await == 0 {
        for _ in 0..25 {
            i += 1;
            let id = format!("f{i}");
            fast.send(&ClientMsg::Post { room: "flood".into(), id, body: body.clone() }).await;
            assert!(matches!(fast.recv().await, ServerMsg::Ack { .. }));
            assert!(matches!(fast.recv().await, ServerMsg::Message { .. }));
        }
        assert!(i < 20_000, "slow client never overflowed");
    }
    // It gets its backlog, then a close asking it to come back later.
    eprintln!("overflowed at {i} after {:?}", t0.elapsed());
    assert_eq!(slow.closed().await, Closed::Code(1013));
    fast.send(&ClientMsg::Ping { nonce: 9 }).await;
    assert_eq!(fast.recv().await, ServerMsg::Pong { nonce: 9 });
    server.stop().await;
}

#[tokio::test]
async fn http_routes() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<html>tether app</html>").unwrap();
    std::fs::write(dist.join("app.js"), "console.log(1)").unwrap();
    let settings = Settings { static_dir: dist.clone(), test_faults: false, ..Settings::default() };
    let server = TestServer::start_with(&dir.path().join("t.db"), settings).await;
    assert_eq!(server.http("GET", "/healthz").await, (200, "ok".into()));
    assert_eq!(server.http("GET", "/app.js").await, (200, "console.log(1)".into()));
    assert_eq!(server.http("GET", "/").await, (200, "<html>tether app</html>".into()));
    assert_eq!(server.http("GET", "/some/spa/route?room=x").await, (200, "<html>tether app</html>".into()));
    // Fault endpoints do not exist without --test-faults, not even as the SPA page.
    assert_eq!(server.http("POST", "/test/drop-all?code=1001").await.0, 404);
    assert_eq!(server.http("POST", "/test/abort-all").await.0, 404);
    assert_eq!(server.http("GET", "/test/stall-pongs").await.0, 404);
    let (status, body) = server.http("GET", "/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("tether_connections_open 0"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn missing_static_dir_breaks_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let settings =
        Settings { static_dir: PathBuf::from("/definitely/not/here"), test_faults: false, ..Settings::default() };
    let server = TestServer::start_with(&dir.path().join("t.db"), settings).await;
    assert_eq!(server.http("GET", "/").await.0, 404);
    assert_eq!(server.http("GET", "/healthz").await, (200, "ok".into()));
    let mut c = Client::hello(&server.ws_url(), "a").await;
    c.send(&ClientMsg::Ping { nonce: 1 }).await;
    assert_eq!(c.recv().await, ServerMsg::Pong { nonce: 1 });
    assert_eq!(http(server.addr, "GET", "/metrics").await.0, 200);
    server.stop().await;
}

/// A client that stopped reading with hundreds of frames queued for it (far
/// more than one 64-frame write run, more than the kernel's buffers hold)
/// gets every one once, in order, whether sent while it catches up or as the
/// backlog before the 1001 when the server shuts down midway: no frame is
/// dropped or moved where one run ends and the next begins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_backlog_is_delivered_whole_and_in_order_before_the_shutdown_close() {
    const POSTS: u64 = 900;
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { post_rate: 1e6, post_burst: 1_000_000, outbox_bytes: 16 << 20, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    // A small fixed receive window, so the server's socket fills and frames
    // wait in its queue rather than in the kernel.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    let (ws, _) = tokio_tungstenite::client_async(server.ws_url(), stream).await.unwrap();
    let mut reader = Client { ws };
    reader.send(&ClientMsg::Hello { nick: "stalled".into() }).await;
    assert!(matches!(reader.recv().await, ServerMsg::Welcome { .. }));
    join(&mut reader, "backlog", None).await;
    let mut poster = Client::hello(&server.ws_url(), "poster").await;
    join(&mut poster, "backlog", None).await;
    let body = "x".repeat(tether_protocol::MAX_BODY_CHARS);
    for chunk in 0..POSTS / 50 {
        for k in 0..50 {
            let id = format!("b{}", chunk * 50 + k);
            poster.send(&ClientMsg::Post { room: "backlog".into(), id, body: body.clone() }).await;
        }
        // Each post's ack and its echo.
        for _ in 0..100 {
            poster.recv().await;
        }
    }
    // Every post is acked, so each is queued for the reader, who has read
    // none yet. It catches up a little, then the server stops.
    let mut seqs = Vec::new();
    let (mut server, mut stopping) = (Some(server), None);
    let closed = loop {
        let next = tokio::time::timeout(WAIT, reader.ws.next()).await.expect("a frame or the close in time");
        match next {
            Some(Ok(Message::Text(t))) => {
                if let Ok(ServerMsg::Message { message }) = serde_json::from_str(t.as_str()) {
                    seqs.push(message.seq);
                }
            }
            Some(Ok(Message::Close(f))) => break Closed::Code(f.map_or(1005, |f| f.code.into())),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break Closed::Abnormal,
        }
        if seqs.len() == 300 {
            stopping = server.take().map(|s| tokio::spawn(s.stop()));
        }
    };
    let missing = (1..=POSTS).filter(|s| !seqs.contains(s)).count();
    let wrong = seqs.iter().zip(1..).position(|(got, want)| *got != want);
    assert!(
        seqs.len() == POSTS as usize && wrong.is_none(),
        "every queued frame once, in order: got {} ({missing} missing), first out of place at {wrong:?}: {:?}",
        seqs.len(),
        wrong.map(|i| &seqs[i.saturating_sub(2)..(i + 3).min(seqs.len())]),
    );
    assert_eq!(closed, Closed::Code(close_code::GOING_AWAY));
    stopping.expect("stopped").await.unwrap();
}
