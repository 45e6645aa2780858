//! `GET {base}/sse`: the session's downstream frames as Server-Sent Events.
//!
//! Headers that keep proxies from buffering or transforming the stream, a
//! ~2 KB padding comment flushed at once (some proxies and old browsers hold
//! back the first bytes), one `id:` per frame so EventSource's own
//! reconnects carry the cursor, `ping` events (real events: comments are
//! invisible to the page) and a `close` event before a closing end.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::downlog::{End, Read};
use super::shared::{Attached, Shared};
use super::{EmuError, SessionQuery, gap_close};
use crate::AppState;

/// Frame bytes written in one chunk at most (a backlog goes out in pieces).
const CHUNK_BYTES: usize = 256 * 1024;
const PADDING: usize = 2048;

pub async fn sse(
    State(state): State<AppState>,
    Query(q): Query<SessionQuery>,
    headers: HeaderMap,
) -> Result<Response, EmuError> {
    let shared = state.emulated().find(q.session()?)?;
    // EventSource resends the last id it saw on its own reconnects.
    let after = match headers.get("last-event-id") {
        Some(v) => super::number(v.to_str().ok(), "Last-Event-ID")?,
        None => q.after()?,
    };
    shared.ack(after)?;
    shared.touch();
    let stream = Stream {
        generation: shared.take_stream(),
        attached: shared.attach("sse"),
        changed: shared.subscribe(),
        shared,
        cursor: after,
        hold: state.faults().transport.sse_hold(),
        shutdown: state.shutdown_token().clone(),
        ping_every: Duration::from_millis(state.settings().limits.emulated.sse_ping_ms.max(10)),
        padded: false,
        done: false,
    };
    let body = futures_util::stream::unfold(stream, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), s))
    });
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-transform")),
        (header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
    ];
    Ok((headers, Body::from_stream(body)).into_response())
}

struct Stream {
    shared: Arc<Shared>,
    #[allow(dead_code)] // held for its Drop: the session is attached while the stream lives
    attached: Attached,
    generation: u64,
    /// Number of the last frame written.
    cursor: u64,
    changed: watch::Receiver<u64>,
    hold: watch::Receiver<bool>,
    shutdown: CancellationToken,
    ping_every: Duration,
    padded: bool,
    done: bool,
}

impl Stream {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.padded {
            self.padded = true;
            return Some(Bytes::from(format!(":{}\n\n", " ".repeat(PADDING))));
        }
        if self.done {
            return None;
        }
        loop {
            self.changed.borrow_and_update();
            if !self.shared.is_stream(self.generation) {
                return None; // replaced by a newer stream
            }
            if *self.hold.borrow_and_update() {
                // A buffering proxy (test fault): nothing at all until released;
                // the response ends with the session or the server.
                if self.shared.end().is_some() || self.shutdown.is_cancelled() {
                    return None;
                }
                tokio::select! {
                    r = self.hold.changed() => if r.is_err() { return None },
                    r = self.changed.changed() => if r.is_err() { return None },
                    _ = self.shutdown.cancelled() => return None,
                }
                continue;
            }
            match self.shared.read(self.cursor, CHUNK_BYTES) {
                Read::Frames { frames, end } if !frames.is_empty() || end.is_some() => {
                    return self.write(frames, end);
                }
                Read::Frames { .. } => {}
                Read::Gap => {
                    self.done = true;
                    let (code, reason) = gap_close(&self.shared);
                    return Some(close_event(code, reason));
                }
                Read::Ahead => return None,
            }
            tokio::select! {
                biased;
                r = self.changed.changed() => if r.is_err() { return None },
                r = self.hold.changed() => if r.is_err() { return None },
                _ = tokio::time::sleep(self.ping_every) => return Some(Bytes::from_static(b"event: ping\ndata: \n\n")),
            }
        }
    }

    fn write(&mut self, frames: Vec<(u64, axum::extract::ws::Utf8Bytes)>, end: Option<End>) -> Option<Bytes> {
        let mut out = String::new();
        for (n, text) in &frames {
            out.push_str(&format!("id: {n}\n"));
            push_data(&mut out, text.as_str());
            self.cursor = *n;
        }
        self.shared.streamed(self.cursor);
        match end {
            None => {}
            Some(End::Close { code, reason }) => {
                self.done = true;
                out.push_str(&close_text(code, &reason));
                self.shared.close_delivered();
            }
            Some(End::Lost) => self.done = true,
        }
        if out.is_empty() { None } else { Some(Bytes::from(out)) }
    }
}

/// `data:` lines for `text` (one per line of it, per the SSE spec), then the blank line.
fn push_data(out: &mut String, text: &str) {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for line in text.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

fn close_text(code: u16, reason: &str) -> String {
    let data = serde_json::json!({ "code": code, "reason": reason });
    format!("event: close\ndata: {data}\n\n")
}

fn close_event(code: u16, reason: &str) -> Bytes {
    Bytes::from(close_text(code, reason))
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_with_newlines_becomes_several_data_lines() {
        let mut out = String::new();
        super::push_data(&mut out, "a\nb\r\nc\n");
        assert_eq!(out, "data: a\ndata: b\ndata: c\ndata: \n\n");
    }
}
