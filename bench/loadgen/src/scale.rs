//! Server scale: resident memory per idle connection at 1,000 and 10,000
//! connections, and a room's fan-out to 1,000 members (post to last receipt).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Post-to-last-receipt latencies (ms) over `posts` sequential posts into a
/// room of `members` connections, sorted.
pub async fn fanout(server: &Proc, dialect: Dialect, members: usize, posts: usize) -> Vec<f64> {
    let url = server.ws_url();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let joined = Arc::new(AtomicUsize::new(0));
    let conns = futures_util::future::join_all((0..members).map(|i| {
        let url = url.clone();
        let joined = joined.clone();
        async move {
            // One nickname for all: presence changes would otherwise be
            // announced to every member on each join.
            let mut ws = connect(&url, dialect, "member").await.ok()?;
            join(&mut ws, dialect, "fan").await.ok()?;
            joined.fetch_add(1, Ordering::Relaxed);
            let _ = i;
            Some(ws)
        }
    }))
    .await;
    let conns: Vec<_> = conns.into_iter().flatten().collect();
    let n = conns.len();
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
    let (mut sink, stream) = futures_util::StreamExt::split(poster);
    tokio::spawn(async move {
        let mut stream = stream;
        while futures_util::StreamExt::next(&mut stream).await.is_some() {}
    });
    let mut lat = Vec::new();
    for i in 0..posts {
        let body = format!("fanmark-{i}-end");
        let msg = match dialect {
            Dialect::Tether => text(&ClientMsg::Post { room: "fan".into(), id: format!("fan-{i}"), body }),
            Dialect::Plain => Message::text(body),
        };
        let t0 = Instant::now();
        if sink.send(msg).await.is_err() {
            break;
        }
        let mut got = 0;
        let mut last = t0;
        while got < n {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some((idx, at))) if idx == i => {
                    got += 1;
                    last = at;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        if got == n {
            lat.push(last.duration_since(t0).as_secs_f64() * 1000.0);
        }
    }
    lat.sort_by(f64::total_cmp);
    eprintln!("  {dialect:?}: fan-out to {n} members, {} of {posts} posts reached all", lat.len());
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
