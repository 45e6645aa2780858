//! Reconnect storm with real connections: `clients` Tether clients are
//! dropped by a server restart (SIGKILL, then the same binary on the same
//! port and database) and come back with the hook's own full-jitter backoff
//! (tether_ws::backoff, run natively). Arrivals are counted per 100 ms.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tether_ws::backoff::{BackoffConfig, SplitMix64};
use tokio::sync::{mpsc, watch};

use crate::clients::{Dialect, connect, open_many};
use crate::procs::{Proc, TetherCmd};

pub struct Storm {
    pub clients: usize,
    pub back: usize,
    /// Arrivals per 100 ms from the kill.
    pub buckets: Vec<usize>,
    pub ms_to_99: f64,
}

impl Storm {
    pub fn peak_over_mean(&self) -> f64 {
        let used = self.buckets.iter().rposition(|&b| b > 0).map_or(1, |i| i + 1);
        let mean = self.back as f64 / used as f64;
        *self.buckets.iter().max().unwrap_or(&0) as f64 / mean.max(f64::MIN_POSITIVE)
    }
}

/// `immediate_first`: the peer's policy, retrying at once after the drop
/// (then the same backoff), as a naive client does.
pub async fn run(cmd: &TetherCmd, clients: usize, immediate_first: bool) -> Storm {
    let db = cmd.work.join("storm.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let server = cmd.start_on(&db, "127.0.0.1:0", &[]).await;
    let addr = server.addr;
    let url = server.ws_url();
    let conns = open_many(&url, Dialect::Tether, clients, 200).await;
    let n = conns.len();
    let (killed_tx, killed_rx) = watch::channel(None::<Instant>);
    let (back_tx, mut back_rx) = mpsc::unbounded_channel::<Instant>();
    for (i, mut ws) in conns.into_iter().enumerate() {
        let url = url.clone();
        let back_tx = back_tx.clone();
        let mut killed_rx = killed_rx.clone();
        tokio::spawn(async move {
            while ws.next().await.is_some() {}
            // Dropped: retry as the hook does, delay = random(0, min(cap, base * 2^attempt)).
            let _ = killed_rx.wait_for(Option::is_some).await;
            let backoff = BackoffConfig::default();
            let mut rng = SplitMix64(i as u64 * 7919 + 1);
            let mut attempt = 0;
            loop {
                let delay = if immediate_first && attempt == 0 { 0.0 } else { backoff.delay_ms(attempt, &mut rng) };
                tokio::time::sleep(Duration::from_secs_f64(delay / 1000.0)).await;
                if let Ok(ws) = connect(&url, Dialect::Tether, &format!("s{i}")).await {
                    let _ = back_tx.send(Instant::now());
                    // Stay connected (reading answers pings) until the run ends.
                    tokio::spawn(async move {
                        let mut ws = ws;
                        while ws.next().await.is_some() {}
                    });
                    return;
                }
                attempt += 1;
            }
        });
    }
    drop(back_tx);
    let killed = Instant::now();
    server.kill().await;
    let _ = killed_tx.send(Some(killed));
    let server: Proc = cmd.start_on(&db, &addr.to_string(), &[]).await;
    let mut arrivals = Vec::with_capacity(n);
    while arrivals.len() < n {
        match tokio::time::timeout(Duration::from_secs(60), back_rx.recv()).await {
            Ok(Some(at)) => arrivals.push(at.duration_since(killed).as_secs_f64() * 1000.0),
            _ => break,
        }
    }
    server.kill().await;
    arrivals.sort_by(f64::total_cmp);
    let idx99 = ((n as f64 * 0.99).ceil() as usize).saturating_sub(1);
    let ms_to_99 = arrivals.get(idx99).copied().unwrap_or(f64::NAN);
    let last = arrivals.last().copied().unwrap_or(0.0);
    let mut buckets = vec![0; (last / 100.0) as usize + 1];
    for a in &arrivals {
        buckets[(a / 100.0) as usize] += 1;
    }
    Storm { clients: n, back: arrivals.len(), buckets, ms_to_99 }
}
