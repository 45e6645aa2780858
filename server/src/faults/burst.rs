//! `POST /test/burst?room=R&n=N`, routed only with `--test-faults`: posts N
//! messages into room R through the normal hub path (stored, acked to a
//! stand-in poster, broadcast to the room), several at a time so they share
//! commits, then one final marker message. Answers at once with the
//! marker's body: a page showing it has received and rendered all N.
//! (Minimal version written for `make bench`; the perf branch has its own.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::AppState;
use crate::outbox::Outbox;

const MAX_N: usize = 1_000_000;
/// Posts in flight at once: enough to fill group commits.
const WORKERS: usize = 32;

#[derive(Deserialize)]
pub struct BurstQuery {
    room: String,
    n: usize,
}

pub async fn post(State(state): State<AppState>, Query(q): Query<BurstQuery>) -> Result<String, (StatusCode, String)> {
    let n = q.n.min(MAX_N);
    let (room, _) = state.hub().room(&q.room, true).await.map_err(|e| (StatusCode::BAD_REQUEST, format!("{e}\n")))?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let marker = format!("burst end {run}");
    let slow = state.metrics().slow_consumer_closes.clone();
    let (poster, mut acks) = Outbox::new(state.hub().next_conn_id(), usize::MAX, slow);
    tokio::spawn(async move { while acks.recv().await.is_some() {} });
    let body = marker.clone();
    tokio::spawn(async move {
        let next = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (state, room, poster, next, run) =
                    (state.clone(), room.clone(), poster.clone(), next.clone(), run.clone());
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return;
                        }
                        let (id, body) = (format!("burst-{run}-{i}"), format!("burst message {i}"));
                        if let Err(e) = state.hub().post(&room, &poster, id, "burst".into(), body).await {
                            tracing::warn!(error = %e, "test burst: post failed");
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.await;
        }
        let id = format!("burst-{run}-end");
        if let Err(e) = state.hub().post(&room, &poster, id, "burst".into(), body).await {
            tracing::warn!(error = %e, "test burst: final post failed");
        }
    });
    Ok(format!("{marker}\n"))
}
