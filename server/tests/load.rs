//! Hostile load against the real binary: clients that flood joins on a long
//! history without reading, and clients that create rooms by the thousand.
//! The server's memory (VmRSS) stays within a fixed budget and a bystander's
//! posts keep being acked throughout.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::Client;
use common::frames::{join, joined, post};
use common::process::{Proc, spawn};
use futures_util::SinkExt;
use tether_protocol::{ErrorCode, MAX_BODY_CHARS, MAX_ROOM_LIST, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

const MIB: u64 = 1024 * 1024;
/// Growth over the idle server that we accept under attack. Without the
/// byte budget one non-reading client alone could pin 1024 frames x 64 KiB.
const RSS_BUDGET: u64 = 96 * MIB;
const FLOODERS: usize = 8;

/// The process's resident memory in bytes (VmRSS), if it is still running.
fn vm_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

fn rss(p: &Proc) -> u64 {
    vm_rss(p.child.id()).expect("VmRSS")
}

/// A room with `n` maximal messages (~16 KB each), written straight to the
/// file before the server starts.
fn seed_long_history(db: &Path, room: &str, n: u64) {
    let store = tether_server::SqliteStore::open(db).unwrap();
    tether_server::Store::ensure_room(&store, room).unwrap();
    drop(store);
    let mut conn = rusqlite::Connection::open(db).unwrap();
    let tx = conn.transaction().unwrap();
    let body = "\u{10348}".repeat(MAX_BODY_CHARS);
    for seq in 1..=n {
        tx.execute(
            "INSERT INTO messages (room, seq, client_id, author, body, ts_ms) VALUES (?1, ?2, ?3, 'seed', ?4, 0)",
            rusqlite::params![room, seq as i64, format!("seed-{room}-{seq}"), body],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// The binary with joins not rate limited (so only the limit under test
/// stands in the way), a bystander posting, and the RSS sampler running.
struct Attacked {
    server: Proc,
    url: String,
    stop: Arc<AtomicBool>,
    calm: tokio::task::JoinHandle<u64>,
    before: u64,
    peak: tokio::task::JoinHandle<u64>,
}

impl Attacked {
    async fn start(db: &Path) -> Self {
        let server = spawn(|c| {
            c.args(["--addr", "127.0.0.1:0", "--db"]).arg(db);
            c.args(["--join-rate", "1000000", "--join-burst", "1000000"]);
        });
        let url = format!("ws://{}/ws", server.addr);
        let stop = Arc::new(AtomicBool::new(false));
        let calm = bystander(url.clone(), stop.clone());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = rss(&server);
        let peak = sampler(&server, stop.clone());
        Self { server, url, stop, calm, before, peak }
    }

    /// Stops the bystander and the sampler and checks both outcomes.
    async fn finish(self, what: &str) {
        self.stop.store(true, Ordering::Relaxed);
        let peak = self.peak.await.unwrap();
        let acked = self.calm.await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (before, after) = (self.before, rss(&self.server));
        eprintln!("{what}: RSS before {} MiB, peak {} MiB, after {} MiB", before / MIB, peak / MIB, after / MIB);
        assert!(acked > 0, "the bystander's posts were acked throughout");
        assert!(peak.saturating_sub(before) < RSS_BUDGET, "peak {} MiB over {} MiB", peak / MIB, before / MIB);
    }
}

/// Posts in its own room every 250 ms (within the default rate) until told to stop; each ack must come
/// within the generous liveness bound of `recv`. Returns how many were acked.
fn bystander(url: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut c = Client::hello(&url, "bystander").await;
        joined(&mut c, "calm", None).await;
        let mut acked = 0;
        while !stop.load(Ordering::Relaxed) {
            c.send(&post("calm", &format!("b{acked}"), "still here")).await;
            loop {
                match c.recv().await {
                    ServerMsg::Ack { .. } => break,
                    ServerMsg::Message { .. } | ServerMsg::RoomAdded { .. } => {}
                    other => panic!("bystander got {other:?}"),
                }
            }
            acked += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        acked
    })
}

/// Samples the server's RSS every 20 ms until stopped; returns the peak.
fn sampler(p: &Proc, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    let pid = p.child.id();
    let peak = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            peak.fetch_max(vm_rss(pid).unwrap_or(0), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak.load(Ordering::Relaxed)
    })
}

/// Joins `room` `times` times without ever reading, and stays connected
/// (the caller holds the client) so whatever the server queued stays queued.
async fn flood_joins(url: String, room: String, times: usize) -> Client {
    let mut c = Client::hello(&url, "flood").await;
    let frame = serde_json::to_string(&join(&room, None)).unwrap();
    for _ in 0..times {
        let sent = tokio::time::timeout(Duration::from_secs(1), c.ws.send(Message::text(frame.clone()))).await;
        if !matches!(sent, Ok(Ok(()))) {
            break;
        }
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_floods_on_a_long_history_stay_within_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for k in 0..FLOODERS {
        seed_long_history(&db, &format!("long{k}"), 300);
    }
    // Only the byte budget stands in the way: joins are not rate limited here.
    let attacked = Attacked::start(&db).await;
    let (url, addr) = (attacked.url.clone(), attacked.server.addr);
    let floods: Vec<_> =
        (0..FLOODERS).map(|k| tokio::spawn(flood_joins(url.clone(), format!("long{k}"), 3000))).collect();
    let mut flooders = Vec::new();
    for f in floods {
        flooders.push(f.await.unwrap());
    }
    // Each flooder is closed with 1013 once its queue passes the budget.
    let started = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while common::metric(addr, "tether_slow_consumer_closes_total").await < FLOODERS as i64 {
        if tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("flooders closed after {:?}", started.elapsed());
    let closed_slow = common::metric(addr, "tether_slow_consumer_closes_total").await;
    drop(flooders);
    attacked.finish("join flood").await;
    assert_eq!(closed_slow, FLOODERS as i64, "every flooder closed with 1013 once over its byte budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_rooms_by_the_thousand_is_capped_and_never_resends_the_whole_list() {
    let dir = tempfile::tempdir().unwrap();
    let attacked = Attacked::start(&dir.path().join("t.db")).await;
    let url = attacked.url.clone();
    let mut watcher = Client::hello(&url, "watcher").await;

    // One client tries 3000 new rooms: the per-connection cap stops it.
    let mut greedy = Client::hello(&url, "greedy").await;
    let (mut created, mut refused) = (0, 0);
    for batch in 0..30 {
        for i in 0..100 {
            greedy.send(&join(&format!("g{batch}-{i}"), None)).await;
        }
        while created + refused < (batch + 1) * 100 {
            match greedy.recv().await {
                ServerMsg::Joined { .. } => created += 1,
                ServerMsg::Error { code: ErrorCode::RoomLimit, .. } => refused += 1,
                ServerMsg::RoomAdded { .. } | ServerMsg::Message { .. } => {}
                other => panic!("greedy got {other:?}"),
            }
        }
    }
    assert_eq!(created, tether_server::limits::DEFAULT_ROOMS_CREATED_PER_CONN);
    // Thirty connections together create 600 rooms.
    let makers: Vec<_> = (0..30)
        .map(|k| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut c = Client::hello(&url, &format!("maker{k}")).await;
                for i in 0..20 {
                    joined(&mut c, &format!("m{k}-{i}"), None).await;
                }
            })
        })
        .collect();
    for m in makers {
        m.await.unwrap();
    }
    // The watcher heard of each new room as a small delta, never the list.
    let mut added = std::collections::HashSet::new();
    while added.iter().filter(|r: &&String| !r.starts_with("calm")).count() < 620 {
        match watcher.recv().await {
            ServerMsg::RoomAdded { room } => assert!(added.insert(room), "a room announced twice"),
            other => panic!("watcher got {other:?}"),
        }
    }
    // A newcomer gets a bounded list.
    let mut late = Client::connect(&url).await;
    late.send(&tether_protocol::ClientMsg::Hello { nick: "late".into() }).await;
    assert!(matches!(late.recv().await, ServerMsg::Welcome { .. }));
    match late.recv().await {
        ServerMsg::Rooms { rooms, truncated } => assert!(rooms.len() == MAX_ROOM_LIST && truncated),
        other => panic!("expected rooms, got {other:?}"),
    }
    attacked.finish("room flood").await;
}
