//! Group commit keeps the promise of an ack: many connections posting at
//! once into one room (so their posts share commits) each get exactly one
//! ack per post, everyone sees one gap-free order, posts share commits
//! (fewer transactions than posts), and an ack never leaves
//! before the commit covering it: the genuine binary is SIGKILLed right
//! after the acks arrive, restarted on the same file, and every acked post
//! is there with the seq it was acked with. (crash.rs kills mid-burst.)

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use common::process::{Proc, spawn};
use common::{Client, WAIT, metric};
use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ChatMessage, ClientMsg, Cursor, ServerMsg};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const POSTERS: usize = 40;
const EACH: usize = 10;
const ROOM: &str = "group";

fn spawn_on(db: &Path) -> Proc {
    spawn(|c| {
        c.args(["--addr", "127.0.0.1:0", "--db"]).arg(db);
        c.args(["--post-rate", "1000000", "--post-burst", "1000000"]);
    })
}

fn id(poster: usize, i: usize) -> String {
    format!("g{poster:02}-{i:03}")
}

/// Says hello and joins `ROOM`; returns the epoch and the history.
async fn join(url: &str, nick: &str, since: Option<Cursor>) -> (Client, String, Vec<ChatMessage>) {
    let mut c = Client::hello(url, nick).await;
    c.send(&ClientMsg::Join { room: ROOM.into(), since }).await;
    loop {
        match c.recv().await {
            ServerMsg::Joined { epoch, history, .. } => return (c, epoch, history),
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

/// Connects every poster, then lets them all pipeline their posts at once.
/// Each ack is forwarded to `acks` as it arrives, as (poster, id, seq).
async fn post_all(url: &str, acks: mpsc::UnboundedSender<(usize, String, u64)>) {
    let mut clients = Vec::new();
    for p in 0..POSTERS {
        clients.push(join(url, &format!("poster{p}"), None).await.0);
    }
    for (p, c) in clients.into_iter().enumerate() {
        let (mut sink, mut stream) = c.ws.split();
        let acks = acks.clone();
        tokio::spawn(async move {
            for i in 0..EACH {
                let post = ClientMsg::Post { room: ROOM.into(), id: id(p, i), body: format!("post {i} of {p}") };
                let text = Message::text(serde_json::to_string(&post).expect("json"));
                if sink.send(text).await.is_err() {
                    return;
                }
            }
            // Keep the sink alive until the reader is done.
            std::future::pending::<()>().await;
        });
        let acks = acks.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                let Message::Text(t) = frame else { continue };
                if let Ok(ServerMsg::Ack { id, seq, .. }) = serde_json::from_str(&t)
                    && acks.send((p, id, seq)).is_err()
                {
                    return;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_posts_are_each_acked_once_in_one_gap_free_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_on(&dir.path().join("t.db"));
    let url = format!("ws://{}/ws", server.addr);
    let (tx, mut rx) = mpsc::unbounded_channel();
    post_all(&url, tx).await;
    let mut acked: HashMap<String, u64> = HashMap::new();
    while acked.len() < POSTERS * EACH {
        let (p, id, seq) = tokio::time::timeout(WAIT, rx.recv()).await.expect("acks stopped").expect("acks");
        assert!(id.starts_with(&format!("g{p:02}-")), "{id} acked to poster {p}");
        assert!(acked.insert(id.clone(), seq).is_none(), "{id} acked twice");
    }
    // Nothing more: no second ack for anything.
    assert!(tokio::time::timeout(Duration::from_millis(300), rx.recv()).await.is_err(), "an extra ack came");
    let mut seqs: Vec<u64> = acked.values().copied().collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=(POSTERS * EACH) as u64).collect::<Vec<_>>(), "seqs must be 1..=N, each once");

    let (mut c, epoch, _) = join(&url, "reader", None).await;
    c.send(&ClientMsg::Join { room: ROOM.into(), since: Some(Cursor { epoch, seq: 0 }) }).await;
    let history = loop {
        if let ServerMsg::Joined { history, .. } = c.recv().await {
            break history;
        }
    };
    assert_eq!(history.len(), POSTERS * EACH);
    for m in &history {
        assert_eq!(acked.get(&m.id), Some(&m.seq), "{} stored at another seq than acked", m.id);
    }
    // Each poster's own posts keep their order.
    for p in 0..POSTERS {
        let own: Vec<u64> = (0..EACH).map(|i| acked[&id(p, i)]).collect();
        assert!(own.windows(2).all(|w| w[0] < w[1]), "poster {p}'s posts out of order: {own:?}");
    }
    let posts = (POSTERS * EACH) as i64;
    assert_eq!(metric(server.addr, "tether_messages_stored_total").await, posts);
    let commits = metric(server.addr, "tether_store_commits_total").await;
    eprintln!("group commit: {posts} posts in {commits} commits");
    assert!(commits <= posts);
}

/// Batches that arrive while the disk is busy share the next commit: another
/// connection holds SQLite's write lock (a real busy database), so the first
/// batch's commit waits; two more batches (two rooms) queue behind it; once
/// the lock is released, 3 batches take 2 commits, every post stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_waiting_for_a_busy_disk_share_one_commit() {
    use std::sync::Arc;
    use tether_server::group_commit::GroupCommit;
    use tether_server::{NewPost, SqliteStore, Store};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    for room in ["a", "b", "c"] {
        store.ensure_room(room).unwrap();
    }
    let commits = prometheus_client::metrics::counter::Counter::<u64>::default();
    let gc = Arc::new(GroupCommit::start(store.clone(), commits.clone()).unwrap());
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let submit = |room: &str| {
        let gc = gc.clone();
        let post =
            NewPost { room: room.into(), id: format!("id-{room}"), author: "x".into(), body: "hi".into(), ts_ms: 0 };
        tokio::spawn(async move { gc.submit(vec![post]).await })
    };
    let wait_for = |want: (bool, usize)| {
        let gc = gc.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while gc.pending() != want {
                assert!(std::time::Instant::now() < deadline, "stuck at {:?}, wanted {want:?}", gc.pending());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let first = submit("a");
    wait_for((true, 0)).await; // the commit is waiting for the lock
    let rest = [submit("b"), submit("c")];
    wait_for((true, 2)).await;
    blocker.execute_batch("ROLLBACK").unwrap();
    for t in std::iter::once(first).chain(rest) {
        let results = t.await.unwrap().expect("commit");
        assert!(matches!(results.as_slice(), [Ok(a)] if !a.duplicate && a.message.seq == 1), "{results:?}");
    }
    assert_eq!(commits.get(), 2, "the two queued batches must share one commit");
    for room in ["a", "b", "c"] {
        assert_eq!(store.last_seq(room).unwrap(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_acked_before_a_sigkill_is_there_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut server = spawn_on(&db);
    let url = format!("ws://{}/ws", server.addr);
    let (tx, mut rx) = mpsc::unbounded_channel();
    post_all(&url, tx).await;
    // Kill the moment the last ack is in: an ack sent before its commit
    // (in parallel with it, or with the commit left for the next batch)
    // loses that post here.
    let mut acked: HashMap<String, u64> = HashMap::new();
    while acked.len() < POSTERS * EACH {
        let (_, id, seq) = tokio::time::timeout(WAIT, rx.recv()).await.expect("acks stopped").expect("acks");
        acked.insert(id, seq);
    }
    server.child.kill().expect("SIGKILL");
    let _ = tokio::task::block_in_place(|| server.child.wait());
    drop(server);

    let server = spawn_on(&db);
    let url = format!("ws://{}/ws", server.addr);
    let (mut c, epoch, _) = join(&url, "reader", None).await;
    c.send(&ClientMsg::Join { room: ROOM.into(), since: Some(Cursor { epoch, seq: 0 }) }).await;
    let history = loop {
        if let ServerMsg::Joined { history, .. } = c.recv().await {
            break history;
        }
    };
    let stored: HashMap<&str, u64> = history.iter().map(|m| (m.id.as_str(), m.seq)).collect();
    eprintln!("group commit crash: {} acked before SIGKILL, {} stored after restart", acked.len(), stored.len());
    for (id, seq) in &acked {
        assert_eq!(stored.get(id.as_str()), Some(seq), "{id} was acked with seq {seq} but is not stored so");
    }
    let mut seqs: Vec<u64> = stored.values().copied().collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "no gaps after the crash");
}
