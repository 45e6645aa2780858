//! What an ack promises: one order for everyone, on disk with fsync, kept
//! through a graceful shutdown; and /healthz tells the truth about storage.

mod common;

use std::time::Duration;

use common::frames::{joined, post};
use common::process::spawn;
use common::{Client, Closed, TestServer, http};
use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ClientMsg, RejectReason, ServerMsg, close_code};
use tether_server::{SqliteStore, Store};
use tokio_tungstenite::tungstenite::Message;

/// SQLite runs with `synchronous=NORMAL` and the store fsyncs its log
/// itself (wal_sync.rs): every way of storing leaves nothing unsynced when
/// it reports, and a reader never sees a commit no fsync covers.
#[tokio::test]
async fn every_commit_is_fsynced_before_it_is_reported_or_read() {
    use tether_server::NewPost;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let new = |id: &str| NewPost { room: "r".into(), id: id.into(), author: "a".into(), body: "b".into(), ts_ms: 0 };
    store.ensure_room("r").unwrap();
    assert_eq!(store.unsynced_commits(), 0, "a new room");
    store.append("r", "one", "a", "b", 0).unwrap();
    assert_eq!(store.unsynced_commits(), 0, "append");
    store.append_batch(&[new("two"), new("three")]).unwrap();
    assert_eq!(store.unsynced_commits(), 0, "append_batch");
    store.append_batch_unsynced(&[new("four")]).unwrap();
    assert_eq!(store.unsynced_commits(), 1, "append_batch_unsynced leaves its commit to sync");
    assert_eq!(store.after("r", 0, 10).unwrap().len(), 4);
    assert_eq!(store.unsynced_commits(), 0, "a read syncs first");
    store.append_batch_unsynced(&[new("five")]).unwrap();
    store.sync().unwrap();
    assert_eq!(store.unsynced_commits(), 0, "sync");
}

/// The store fsyncs the log SQLite writes, also when the database is
/// opened through a symbolic link (SQLite names the log after the file the
/// link points to): posts are stored and synced, and the log the store
/// holds open is the one SQLite has open.
#[tokio::test]
async fn the_log_synced_is_the_one_sqlite_writes_even_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let (real, link) = (dir.path().join("real.db"), dir.path().join("link.db"));
    std::fs::write(&real, b"").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let store = SqliteStore::open(&link).unwrap();
    store.ensure_room("r").unwrap();
    store.append("r", "one", "a", "b", 0).expect("a post through the link is stored");
    assert_eq!(store.unsynced_commits(), 0);
    let wal = std::fs::canonicalize(dir.path()).unwrap().join("real.db-wal");
    let open_on_wal = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| *target == wal)
        .count();
    assert!(open_on_wal >= 2, "SQLite's and the store's handles on {wal:?}: {open_on_wal}");
    assert!(!dir.path().join("link.db-wal").exists(), "no log under the link's name");
}

/// A failed fsync is final (Linux may drop the pages it could not write
/// and let the next fsync succeed): here the log is moved away for one post,
/// whose sync fails, then put back; nothing after that is reported stored
/// or read, and the health check fails too, until a restart.
#[tokio::test]
async fn after_a_failed_sync_nothing_more_is_reported_stored_or_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (wal, away) = (dir.path().join("t.db-wal"), dir.path().join("away"));
    let store = SqliteStore::open(&db).unwrap();
    store.ensure_room("r").unwrap();
    store.append("r", "one", "a", "b", 0).unwrap();
    std::fs::rename(&wal, &away).unwrap();
    assert!(store.append("r", "two", "a", "b", 0).is_err(), "its sync failed");
    std::fs::rename(&away, &wal).unwrap();
    let later = store.append("r", "three", "a", "b", 0).expect_err("a later sync vouches for nothing");
    assert!(later.to_string().contains("restart"), "{later}");
    assert!(store.after("r", 0, 10).is_err());
    assert!(store.check_writable().is_err());
    drop(store);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.last_seq("r").unwrap(), 3, "after a restart the store works again");
}

#[tokio::test]
async fn healthz_is_503_with_the_reason_while_the_store_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    assert_eq!(http(server.addr, "GET", "/healthz").await, (200, "ok".into()));
    let mut c = Client::hello(&server.ws_url(), "h").await;
    joined(&mut c, "lobby", None).await;
    assert_eq!(server.http("POST", "/test/store-read-only?on=true").await.0, 200);
    let (status, body) = http(server.addr, "GET", "/healthz").await;
    assert_eq!(status, 503);
    // SQLite says "readonly", PostgreSQL "read-only" (TETHER_TEST_STORE=postgres).
    assert!(body.contains("store cannot write") && (body.contains("readonly") || body.contains("read-only")), "{body}");
    c.send(&post("lobby", "p1", "while broken")).await;
    assert!(matches!(c.recv().await, ServerMsg::Rejected { reason: RejectReason::Internal, .. }));
    assert_eq!(server.http("POST", "/test/store-read-only?on=false").await.0, 200);
    assert_eq!(http(server.addr, "GET", "/healthz").await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn concurrent_posters_in_one_room_keep_one_order_for_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    const POSTERS: usize = 4;
    const EACH: usize = 25;
    let total = POSTERS * EACH;
    let mut clients = Vec::new();
    for i in 0..POSTERS + 2 {
        let mut c = Client::hello(&server.ws_url(), &format!("u{i}")).await;
        joined(&mut c, "order", None).await;
        clients.push(c);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            tokio::spawn(async move {
                if i < POSTERS {
                    for k in 0..EACH {
                        c.send(&post("order", &format!("p{i}-{k}"), "x")).await;
                    }
                }
                let mut seen = Vec::new();
                while seen.len() < total {
                    match c.recv().await {
                        ServerMsg::Message { message } => seen.push((message.seq, message.id)),
                        ServerMsg::Ack { .. } | ServerMsg::RoomAdded { .. } => {}
                        other => panic!("unexpected {other:?}"),
                    }
                }
                seen
            })
        })
        .collect();
    let mut views = Vec::new();
    for t in tasks {
        views.push(t.await.unwrap());
    }
    let first = &views[0];
    assert_eq!(first.iter().map(|m| m.0).collect::<Vec<_>>(), (1..=total as u64).collect::<Vec<_>>());
    for v in &views[1..] {
        assert_eq!(v, first, "every client sees the same order");
    }
    server.stop().await;
}

/// One client's view of the shutdown: the ids acked (with seqs) and how the
/// connection ended.
async fn post_until_closed(
    url: String,
    i: usize,
    ready: tokio::sync::mpsc::Sender<()>,
) -> (Vec<(String, u64)>, Closed) {
    let mut c = Client::hello(&url, &format!("c{i}")).await;
    let room = format!("shut{}", i % 10);
    joined(&mut c, &room, None).await;
    let _ = ready.send(()).await;
    let (mut sink, mut stream) = c.ws.split();
    let writer = tokio::spawn(async move {
        for k in 0.. {
            let m = ClientMsg::Post { room: room.clone(), id: format!("c{i}-{k}"), body: "bye".into() };
            let text = Message::text(serde_json::to_string(&m).unwrap());
            if sink.send(text).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    });
    let mut acks = Vec::new();
    let closed = loop {
        let next = tokio::time::timeout(Duration::from_secs(20), stream.next()).await.expect("no close within 20 s");
        match next {
            Some(Ok(Message::Text(t))) => {
                if let Ok(ServerMsg::Ack { id, seq, .. }) = serde_json::from_str(&t) {
                    acks.push((id, seq));
                }
            }
            Some(Ok(Message::Close(f))) => break Closed::Code(f.map_or(1005, |f| f.code.into())),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break Closed::Abnormal,
        }
    };
    writer.abort();
    (acks, closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_with_200_clients_closes_all_with_1001_and_keeps_every_acked_message() {
    const CLIENTS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut server = spawn(|c| {
        c.args(["--addr", "127.0.0.1:0", "--db"]).arg(&db);
        c.args(["--conns-per-ip", "1000", "--post-rate", "1000", "--post-burst", "1000"]);
    });
    let url = format!("ws://{}/ws", server.addr);
    let (ready, mut all_ready) = tokio::sync::mpsc::channel(CLIENTS);
    let clients: Vec<_> =
        (0..CLIENTS).map(|i| tokio::spawn(post_until_closed(url.clone(), i, ready.clone()))).collect();
    for _ in 0..CLIENTS {
        tokio::time::timeout(Duration::from_secs(20), all_ready.recv()).await.expect("clients joined in time");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = i32::try_from(server.child.id()).unwrap();
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let mut acked = Vec::new();
    for (i, c) in clients.into_iter().enumerate() {
        let (acks, closed) = c.await.unwrap();
        assert_eq!(closed, Closed::Code(close_code::GOING_AWAY), "client {i}");
        acked.extend(acks);
    }
    let status = tokio::task::block_in_place(|| server.child.wait()).unwrap();
    assert!(status.success(), "{status:?}");
    assert!(acked.len() >= CLIENTS, "most clients got at least one ack: {}", acked.len());

    // Restart the storage from the file: every acked message is there.
    let store = SqliteStore::open(&db).unwrap();
    let mut stored = std::collections::HashMap::new();
    for r in 0..10 {
        for m in store.after(&format!("shut{r}"), 0, 100_000).unwrap() {
            stored.insert(m.id, m.seq);
        }
    }
    for (id, seq) in &acked {
        assert_eq!(stored.get(id), Some(seq), "acked {id} as {seq} but not on disk");
    }
    // And the other way round: queued acks were flushed before the 1001,
    // so nothing was stored without its author hearing of it.
    assert_eq!(stored.len(), acked.len(), "stored messages whose ack was dropped at shutdown");
}
