//! Server scale: resident memory per idle connection at 1,000 and 10,000
//! connections, and a room's fan-out to 1,000 members (post to last receipt).

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tether_protocol::ClientMsg;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{Dialect, connect, hold, join, open_many, text};
use crate::procs::Proc;

/// KiB of server RSS per connection at each count in `steps` (cumulative).
pub async fn idle_rss(server: &Proc, dialect: Dialect, steps: &[usize]) -> Vec<(usize, f64)> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = server.rss_kib();
    let mut open = 0;
    let mut out = Vec::new();
    let url = server.ws_url();
    for &target in steps {
        let conns = open_many(&url, dialect, target - open, 200).await;
        open += conns.len();
        for ws in conns {
            hold(ws, |_| {});
        }
        // Let the server settle (handshakes done, buffers allocated).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let rss = server.rss_kib();
        out.push((open, rss.saturating_sub(base) as f64 / open.max(1) as f64));
        eprintln!("  {dialect:?}: {open} idle connections, RSS {base} -> {rss} KiB");
    }
    out
}

/// A room of `members` connections on one server, and a poster in it.
struct Room {
    dialect: Dialect,
    members: usize,
    receipts: mpsc::UnboundedReceiver<(usize, Instant)>,
    poster: futures_util::stream::SplitSink<crate::clients::Ws, Message>,
}

impl Room {
    async fn open(server: &Proc, dialect: Dialect, members: usize) -> Self {
        let url = server.ws_url();
        let (tx, receipts) = mpsc::unbounded_channel::<(usize, Instant)>();
        let conns = futures_util::future::join_all((0..members).map(|_| {
            let url = url.clone();
            async move {
                // One nickname for all: presence changes would otherwise be
                // announced to every member on each join.
                let mut ws = connect(&url, dialect, "member").await.ok()?;
                join(&mut ws, dialect, "fan").await.ok()?;
                Some(ws)
            }
        }))
        .await;
        let conns: Vec<_> = conns.into_iter().flatten().collect();
        let members = conns.len();
        for ws in conns {
            let tx = tx.clone();
            hold(ws, move |t| {
                if let Some(idx) = marker(t) {
                    let _ = tx.send((idx, Instant::now()));
                }
            });
        }
        let mut poster = connect(&url, dialect, "poster").await.expect("poster connects");
        join(&mut poster, dialect, "fan").await.expect("poster joins");
        let (poster, stream) = futures_util::StreamExt::split(poster);
        tokio::spawn(async move {
            let mut stream = stream;
            while futures_util::StreamExt::next(&mut stream).await.is_some() {}
        });
        Self { dialect, members, receipts, poster }
    }

    /// Post `i`; ms until every member has it (None if some never did).
    async fn post(&mut self, i: usize) -> Option<f64> {
        let body = format!("fanmark-{i}-end");
        let msg = match self.dialect {
            Dialect::Tether => text(&ClientMsg::Post { room: "fan".into(), id: format!("fan-{i}"), body }),
            Dialect::Plain => Message::text(body),
        };
        let t0 = Instant::now();
        self.poster.send(msg).await.ok()?;
        let mut got = 0;
        let mut last = t0;
        while got < self.members {
            match tokio::time::timeout(Duration::from_millis(MISS_MS as u64), self.receipts.recv()).await {
                Ok(Some((idx, at))) if idx == i => {
                    got += 1;
                    last = at;
                }
                Ok(Some(_)) => {}
                _ => return None,
            }
        }
        Some(last.duration_since(t0).as_secs_f64() * 1000.0)
    }
}

/// How long a post may take to reach every member before it counts as
/// missed (ms).
const MISS_MS: f64 = 10_000.0;

/// Post-to-last-receipt latencies (ms), sorted, over `posts` sequential
/// posts into a room of `members` connections on each of two servers. The
/// posts alternate between the two (one at a time), so both sides see the
/// same moments of a noisy machine rather than one side a busy stretch.
pub async fn fanout_pair(a: (&Proc, Dialect), b: (&Proc, Dialect), members: usize, posts: usize) -> [Vec<f64>; 2] {
    let mut rooms = [Room::open(a.0, a.1, members).await, Room::open(b.0, b.1, members).await];
    let mut lat = [Vec::new(), Vec::new()];
    let mut missed = [0usize; 2];
    for i in 0..posts {
        for ((room, lat), missed) in rooms.iter_mut().zip(lat.iter_mut()).zip(missed.iter_mut()) {
            // A post that did not reach everyone counts as the longest wait,
            // so a side that loses posts cannot look faster at p99; after
            // one miss that side is not waited on again.
            let took = if *missed == 0 { room.post(i).await } else { None };
            lat.push(took.unwrap_or_else(|| {
                *missed += 1;
                MISS_MS
            }));
        }
    }
    for ((room, lat), missed) in rooms.iter().zip(lat.iter_mut()).zip(missed) {
        lat.sort_by(f64::total_cmp);
        eprintln!(
            "  {:?}: fan-out to {} members, {} of {posts} posts reached all (the rest count as {MISS_MS} ms)",
            room.dialect,
            room.members,
            posts - missed
        );
    }
    lat
}

fn marker(t: &str) -> Option<usize> {
    let start = t.find("fanmark-")? + "fanmark-".len();
    let end = t[start..].find("-end")? + start;
    t[start..end].parse().ok()
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
