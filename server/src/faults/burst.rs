//! `POST /test/burst?room=R&n=N`: N small messages by `burst` into room R,
//! through the hub like real posts (stored, then fanned out to the room's
//! members), for the client throughput test and `make bench`. The answer
//! is the last message's body.
//!
//! Answers at once (202) and runs in the background: a burst of 100,000 takes
//! longer than an HTTP client waits. Storage is batched (one transaction per
//! chunk), and the next chunk waits until every member's queue has room, so a
//! burst measures how fast a client takes messages in, instead of closing a
//! reader for being slower than the disk.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::AppState;

/// The author of every burst message.
pub const AUTHOR: &str = "burst";
/// Most messages one request may ask for.
const MAX_N: usize = 1_000_000;
/// Messages stored per transaction and queued per step.
const CHUNK: usize = 256;
/// A step waits until no member has more than this queued (well below the
/// outbox's frame and byte limits, with a chunk on top).
const LOW_WATER_BYTES: usize = 32 * 1024;
/// A member that takes nothing for this long ends the burst.
const STALL: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
pub struct BurstQuery {
    room: String,
    n: usize,
}

pub async fn burst(
    State(state): State<AppState>,
    Query(q): Query<BurstQuery>,
) -> Result<(StatusCode, String), (StatusCode, String)> {
    tether_protocol::validate_room(&q.room).map_err(|e| (StatusCode::BAD_REQUEST, format!("{e}\n")))?;
    if q.n > MAX_N {
        return Err((StatusCode::BAD_REQUEST, format!("n is at most {MAX_N}\n")));
    }
    let (room, _) = state.hub().room(&q.room, true).await.map_err(|e| {
        tracing::warn!(error = %e, "test burst: no room");
        (StatusCode::CONFLICT, format!("{e}\n"))
    })?;
    let n = q.n;
    tracing::info!(room = %room.name, n, "test burst");
    let tracker = state.tracker().clone();
    tracker.spawn(async move {
        let shutdown = state.shutdown_token().clone();
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let mut sent = 0;
        while sent < n && !shutdown.is_cancelled() {
            let end = (sent + CHUNK).min(n);
            let items = (sent..end).map(|i| (format!("burst-{tag}-{i}"), format!("burst {}", i + 1))).collect();
            if let Err(e) = state.hub().post_batch(&room, AUTHOR.to_owned(), items).await {
                tracing::warn!(error = %e, "test burst: storing failed");
                return;
            }
            sent = end;
            let since = tokio::time::Instant::now();
            while state.hub().most_queued(&room).await > LOW_WATER_BYTES {
                if since.elapsed() > STALL || shutdown.is_cancelled() {
                    tracing::warn!(sent, "test burst: a member stopped reading; burst ended");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        tracing::info!(sent, "test burst done");
    });
    // The last message's body: a page showing it has everything (make bench
    // waits for it).
    Ok((StatusCode::ACCEPTED, format!("burst {n}\n")))
}
