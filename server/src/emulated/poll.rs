//! `GET {base}/poll`: long-polling for networks where even a streamed
//! response is held back. Answers at once when frames wait, else holds up
//! to `poll_ms`; a newer poll of the same session answers this one empty.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::time::{Duration, Instant};

use super::downlog::{End, Read};
use super::{EmuError, SessionQuery, gap_close};
use crate::AppState;

/// Frame bytes in one answer at most (a backlog takes several polls).
const POLL_BYTES: usize = 256 * 1024;

#[derive(Serialize)]
struct Frame<'a> {
    n: u64,
    t: &'a str,
}

#[derive(Serialize)]
struct Close<'a> {
    code: u16,
    reason: &'a str,
}

#[derive(Serialize)]
struct Answer<'a> {
    frames: Vec<Frame<'a>>,
    close: Option<Close<'a>>,
}

pub async fn poll(State(state): State<AppState>, Query(q): Query<SessionQuery>) -> Result<Response, EmuError> {
    let shared = state.emulated().find(q.session()?)?;
    let after = q.after()?;
    shared.ack(after)?;
    shared.touch();
    let generation = shared.take_poll();
    let _attached = shared.attach("longpoll");
    let mut changed = shared.subscribe();
    let hold = Duration::from_millis(state.settings().limits.emulated.poll_hold_ms);
    let deadline = Instant::now() + hold;
    loop {
        changed.borrow_and_update();
        if !shared.is_poll(generation) {
            return Ok(answer(&[], None)); // a newer poll took over
        }
        match shared.read(after, POLL_BYTES) {
            Read::Frames { frames, end: Some(End::Lost) } if frames.is_empty() => {
                return Err(EmuError::ExpiredSession);
            }
            Read::Frames { frames, end } if !frames.is_empty() || end.is_some() => {
                // The close is not marked delivered: this answer may be lost,
                // and its retry (same `after`) must get the close again, not
                // 410. The ended session lingers until idle, as undelivered.
                let close = match &end {
                    Some(End::Close { code, reason }) => Some((*code, reason.as_str())),
                    _ => None,
                };
                return Ok(answer(&frames, close));
            }
            Read::Frames { .. } => {}
            Read::Gap => {
                let (code, reason) = gap_close(&shared);
                return Ok(answer(&[], Some((code, reason))));
            }
            Read::Ahead => return Err(EmuError::bad("after is past the last frame sent")),
        }
        tokio::select! {
            r = changed.changed() => if r.is_err() { return Err(EmuError::ExpiredSession) },
            _ = tokio::time::sleep_until(deadline) => return Ok(answer(&[], None)),
        }
    }
}

fn answer(frames: &[(u64, axum::extract::ws::Utf8Bytes)], close: Option<(u16, &str)>) -> Response {
    let body = Answer {
        frames: frames.iter().map(|(n, t)| Frame { n: *n, t: t.as_str() }).collect(),
        close: close.map(|(code, reason)| Close { code, reason }),
    };
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
