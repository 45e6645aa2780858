//! "Acked means on disk", proven with a real crash: the genuine binary is
//! SIGKILLed in the middle of a pipelined burst of posts, restarted on the
//! same database file, and every post that was acked before the kill must be
//! there exactly once with the seq it was acked with. Resending everything
//! afterwards must dedup the stored posts (original seqs) and store the rest.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::process::{Proc, spawn};
use common::{Client, WAIT};
use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ChatMessage, ClientMsg, Cursor, ServerMsg};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

/// Posts in the burst. Each costs at least one fsync, so the kill after
/// [`KILL_AFTER_ACKS`] acks nearly always lands mid-burst; the assertions
/// hold (and still mean something) even if it does not.
const POSTS: usize = 400;
const KILL_AFTER_ACKS: usize = 50;
const ROOM: &str = "crash";

/// Starts the real binary on `db`.
fn spawn_on(db: &Path) -> Proc {
    spawn(|c| {
        c.args(["--addr", "127.0.0.1:0", "--db"]).arg(db);
        // This test floods posts on purpose; the rate limit is not its subject.
        c.args(["--post-rate", "1000000", "--post-burst", "1000000"]);
    })
}

fn url(p: &Proc) -> String {
    format!("ws://{}/ws", p.addr)
}

fn id(i: usize) -> String {
    format!("crash-{i:04}")
}

fn body(i: usize) -> String {
    format!("post number {i}")
}

fn post(i: usize) -> ClientMsg {
    ClientMsg::Post { room: ROOM.into(), id: id(i), body: body(i) }
}

fn text(msg: &ClientMsg) -> Message {
    Message::text(serde_json::to_string(msg).expect("json"))
}

/// Joins `ROOM` and returns `(epoch, recovered, history)`, skipping any
/// `rooms` update that may come first.
async fn join(c: &mut Client, since: Option<Cursor>) -> (String, bool, Vec<ChatMessage>) {
    c.send(&ClientMsg::Join { room: ROOM.into(), since }).await;
    loop {
        match c.recv().await {
            ServerMsg::Joined { room, epoch, recovered, history, .. } => {
                assert_eq!(room, ROOM);
                return (epoch, recovered, history);
            }
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

/// The full history, via a cursor at seq 0 (the no-cursor window is only
/// `HISTORY_WINDOW` long; a replay covers up to `MAX_REPLAY`).
async fn full_history(c: &mut Client, epoch: &str) -> Vec<ChatMessage> {
    let since = Cursor { epoch: epoch.to_owned(), seq: 0 };
    let (got_epoch, recovered, history) = join(c, Some(since)).await;
    assert_eq!(got_epoch, epoch);
    assert!(recovered, "a seq-0 cursor in the right epoch must replay");
    history
}

/// The history must be exactly posts `0..n`, post `i` at seq `i + 1`: one
/// connection's posts are handled in order, so what survives is a prefix.
fn assert_prefix(history: &[ChatMessage], n: usize, what: &str) {
    assert_eq!(history.len(), n, "{what}: history length");
    for (i, m) in history.iter().enumerate() {
        assert_eq!(m.room, ROOM, "{what}: room of #{i}");
        assert_eq!(m.seq, i as u64 + 1, "{what}: seqs must be 1..=N, no gaps");
        assert_eq!(m.id, id(i), "{what}: id at seq {}", m.seq);
        assert_eq!(m.body, body(i), "{what}: body at seq {}", m.seq);
        assert_eq!(m.author, "crasher", "{what}: author at seq {}", m.seq);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_posts_survive_sigkill_and_dedup_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");

    // --- Phase 1: pipeline a burst, SIGKILL once some acks are in. ---
    let mut server = spawn_on(&db);
    let mut c = Client::hello(&url(&server), "crasher").await;
    let (epoch, recovered, history) = join(&mut c, None).await;
    assert!(!recovered);
    assert!(history.is_empty(), "fresh database");
    let (mut sink, mut stream) = c.ws.split();

    let (enough_tx, enough_rx) = oneshot::channel::<()>();
    // Records every ack until the connection dies with the server.
    let reader = tokio::spawn(async move {
        let mut acks: Vec<(String, u64)> = Vec::new();
        let mut enough = Some(enough_tx);
        loop {
            let next = tokio::time::timeout(Duration::from_secs(20), stream.next())
                .await
                .expect("connection neither delivered nor died within 20 s");
            let t = match next {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            };
            match serde_json::from_str::<ServerMsg>(&t).expect("server json") {
                ServerMsg::Ack { id, room, seq } => {
                    assert_eq!(room, ROOM);
                    acks.push((id, seq));
                    if acks.len() >= KILL_AFTER_ACKS
                        && let Some(tx) = enough.take()
                    {
                        let _ = tx.send(());
                    }
                }
                ServerMsg::Message { .. }
                | ServerMsg::Presence { .. }
                | ServerMsg::MemberJoined { .. }
                | ServerMsg::MemberLeft { .. } => {}
                other => panic!("unexpected frame before the crash: {other:?}"),
            }
        }
        acks
    });
    // Sends the whole burst without waiting; sends start failing once the
    // server is dead, which is expected.
    let writer = tokio::spawn(async move {
        let mut sent = 0;
        for i in 0..POSTS {
            let ok = tokio::time::timeout(WAIT, sink.send(text(&post(i)))).await.is_ok_and(|r| r.is_ok());
            if !ok {
                break;
            }
            sent += 1;
        }
        sent
    });

    tokio::time::timeout(Duration::from_secs(20), enough_rx)
        .await
        .unwrap_or_else(|_| panic!("no {KILL_AFTER_ACKS} acks within 20 s"))
        .unwrap_or_else(|_| panic!("reader ended before {KILL_AFTER_ACKS} acks"));
    // std's Child::kill is SIGKILL on Unix: no shutdown path runs at all.
    server.child.kill().expect("SIGKILL");
    let status = tokio::task::block_in_place(|| server.child.wait()).expect("wait");
    assert!(!status.success(), "killed, not exited: {status:?}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    }
    drop(server);

    let acks = tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .expect("reader did not finish")
        .expect("reader panicked");
    let sent = tokio::time::timeout(Duration::from_secs(30), writer)
        .await
        .expect("writer did not finish")
        .expect("writer panicked");

    // Acks arrive in post order with seq = index + 1 (one connection's posts
    // are processed sequentially in a fresh room).
    for (i, (got_id, seq)) in acks.iter().enumerate() {
        assert_eq!(got_id, &id(i), "ack #{i} out of order");
        assert_eq!(*seq, i as u64 + 1, "ack for {got_id}");
    }
    let acked = acks.len();
    assert!(acked >= KILL_AFTER_ACKS);

    // --- Phase 2: restart on the same file; every acked post is there. ---
    let t0 = Instant::now();
    let server = spawn_on(&db);
    let mut c = Client::hello(&url(&server), "crasher").await;
    // The room is known from the database, before anyone joins it.
    let (window_epoch, recovered, window) = join(&mut c, None).await;
    assert_eq!(window_epoch, epoch, "a crash must not look like lost history");
    assert!(!recovered);
    let history = full_history(&mut c, &epoch).await;
    let stored = history.len();
    eprintln!(
        "crash: sent {sent}/{POSTS} posts, {acked} acked before SIGKILL, \
         {stored} stored after restart (restart + join took {:?})",
        t0.elapsed()
    );
    assert!(stored >= acked, "{acked} posts were acked but only {stored} survived the crash");
    assert_prefix(&history, stored, "after restart");
    let by_id: HashMap<&str, &ChatMessage> = history.iter().map(|m| (m.id.as_str(), m)).collect();
    assert_eq!(by_id.len(), stored, "ids must be unique in history");
    for (acked_id, seq) in &acks {
        let m = by_id.get(acked_id.as_str()).unwrap_or_else(|| panic!("acked {acked_id} missing after the crash"));
        assert_eq!(m.seq, *seq, "{acked_id} moved after the crash");
    }
    // The no-cursor window is the tail of the same history.
    let tail = &history[stored.saturating_sub(tether_protocol::HISTORY_WINDOW)..];
    assert_eq!(window, tail, "no-cursor join returns the recent window");
    if acked == stored && stored == POSTS {
        eprintln!("crash: note: everything was acked before the kill landed");
    }

    // --- Phase 3: resend everything; stored ones dedup to their seq. ---
    let (mut sink, mut stream) = c.ws.split();
    let writer = tokio::spawn(async move {
        for i in 0..POSTS {
            tokio::time::timeout(WAIT, sink.send(text(&post(i)))).await.expect("resend timed out").expect("resend");
        }
        sink
    });
    let mut resend_acks: HashMap<String, u64> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut broadcasts: Vec<ChatMessage> = Vec::new();
    while resend_acks.len() < POSTS {
        let next = tokio::time::timeout(WAIT, stream.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {POSTS} resends acked before timing out", resend_acks.len()));
        let t = match next {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("connection ended during resend: {other:?}"),
        };
        match serde_json::from_str::<ServerMsg>(&t).expect("server json") {
            ServerMsg::Ack { id, room, seq } => {
                assert_eq!(room, ROOM);
                order.push(id.clone());
                let prev = resend_acks.insert(id.clone(), seq);
                assert!(prev.is_none(), "{id} acked twice");
            }
            ServerMsg::Message { message } => broadcasts.push(message),
            ServerMsg::Presence { .. } | ServerMsg::MemberJoined { .. } | ServerMsg::MemberLeft { .. } => {}
            other => panic!("unexpected frame during resend: {other:?}"),
        }
    }
    let sink = tokio::time::timeout(WAIT, writer).await.expect("writer did not finish").expect("writer panicked");
    let mut c = Client { ws: sink.reunite(stream).expect("same socket") };
    assert_eq!(order, (0..POSTS).map(id).collect::<Vec<_>>(), "ack order");
    for i in 0..POSTS {
        let seq = resend_acks[&id(i)];
        if i < stored {
            let original = by_id[id(i).as_str()].seq;
            assert_eq!(seq, original, "resent {} must get its original seq", id(i));
        }
        // New ones continue the sequence without gaps.
        assert_eq!(seq, i as u64 + 1, "seq for resent {}", id(i));
    }
    // Only the newly stored posts are broadcast (duplicates are not).
    // The ack for the last post can overtake its broadcast frame by at
    // most one frame, so catch up on it before comparing.
    while broadcasts.len() < POSTS - stored {
        match c.recv().await {
            ServerMsg::Message { message } => broadcasts.push(message),
            other => panic!("expected a broadcast, got {other:?}"),
        }
    }
    assert_eq!(
        broadcasts.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (stored as u64 + 1..=POSTS as u64).collect::<Vec<_>>(),
        "broadcasts are exactly the newly stored posts"
    );

    let history = full_history(&mut c, &epoch).await;
    assert_prefix(&history, POSTS, "after resend");
    drop(server);
}
