//! One emulated session as its endpoints see it: the chat [`Session`] (fed
//! by POSTs), the downstream [`Downlog`], who is attached, and how it ends.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use super::downlog::{Downlog, End, Read};
use crate::metrics::{Metrics, OpenTransport};
use crate::outbox::Closer;
use crate::session::Session;
use crate::sync::lock;

/// The upstream side: the chat session and the number of the last frame
/// it was given. One POST at a time holds it.
pub struct Up {
    pub session: Session,
    pub accepted: u64,
}

#[derive(Debug)]
struct Activity {
    /// SSE streams and polls attached now.
    attached: usize,
    last: Instant,
}

pub struct Shared {
    pub token: String,
    down: Mutex<Downlog>,
    /// Bumped on every change a waiting stream or poll may care about.
    changed: watch::Sender<u64>,
    pub up: tokio::sync::Mutex<Up>,
    pub closer: Arc<Closer>,
    activity: Mutex<Activity>,
    /// Only the newest SSE stream / poll of a session is served.
    stream_gen: AtomicU64,
    poll_gen: AtomicU64,
    close_delivered: AtomicBool,
    /// Counts the session under the transport first used, until it ends.
    transport: Mutex<Option<OpenTransport>>,
    metrics: Arc<Metrics>,
}

impl Shared {
    pub fn new(token: String, session: Session, budget: usize, metrics: Arc<Metrics>) -> Self {
        let closer = session.outbox().closer.clone();
        Self {
            token,
            down: Mutex::new(Downlog::new(budget)),
            changed: watch::Sender::new(0),
            up: tokio::sync::Mutex::new(Up { session, accepted: 0 }),
            closer,
            activity: Mutex::new(Activity { attached: 0, last: Instant::now() }),
            stream_gen: AtomicU64::new(0),
            poll_gen: AtomicU64::new(0),
            close_delivered: AtomicBool::new(false),
            transport: Mutex::new(None),
            metrics,
        }
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Keeps a frame for the client; false when over budget (too slow).
    pub fn push_down(&self, frame: Utf8Bytes) -> bool {
        let ok = lock(&self.down).push(frame);
        self.bump();
        ok
    }

    pub fn finish(&self, end: End) {
        lock(&self.down).finish(end);
        self.bump();
    }

    pub fn end(&self) -> Option<End> {
        lock(&self.down).end().cloned()
    }

    /// Drops frames up to `n`, which the client says it has processed.
    pub fn ack(&self, n: u64) -> Result<(), super::EmuError> {
        let mut down = lock(&self.down);
        if n > down.last() {
            let message = format!("after={n} is past the last frame sent ({})", down.last());
            return Err(super::EmuError::BadRequest(message));
        }
        down.ack(n);
        Ok(())
    }

    pub fn read(&self, after: u64, max_bytes: usize) -> Read {
        lock(&self.down).read(after, max_bytes)
    }

    pub fn streamed(&self, n: u64) {
        lock(&self.down).streamed(n);
    }

    /// Makes this the session's only SSE stream (or poll); returns its number.
    pub fn take_stream(&self) -> u64 {
        let g = self.stream_gen.fetch_add(1, Ordering::SeqCst) + 1;
        self.bump();
        g
    }

    pub fn take_poll(&self) -> u64 {
        let g = self.poll_gen.fetch_add(1, Ordering::SeqCst) + 1;
        self.bump();
        g
    }

    pub fn is_stream(&self, g: u64) -> bool {
        self.stream_gen.load(Ordering::SeqCst) == g
    }

    pub fn is_poll(&self, g: u64) -> bool {
        self.poll_gen.load(Ordering::SeqCst) == g
    }

    /// The client has the `close`: the session can be forgotten.
    pub fn close_delivered(&self) {
        self.close_delivered.store(true, Ordering::SeqCst);
        self.bump();
    }

    pub fn was_close_delivered(&self) -> bool {
        self.close_delivered.load(Ordering::SeqCst)
    }

    /// The client did something: the idle clock restarts.
    pub fn touch(&self) {
        lock(&self.activity).last = Instant::now();
    }

    /// How long nobody has been attached and nothing was sent; zero while attached.
    pub fn idle_for(&self) -> Duration {
        let a = lock(&self.activity);
        if a.attached > 0 { Duration::ZERO } else { a.last.elapsed() }
    }

    /// Counts a stream or poll as attached until the guard drops.
    pub fn attach(self: &Arc<Self>, transport: &str) -> Attached {
        lock(&self.activity).attached += 1;
        let mut open = lock(&self.transport);
        if open.is_none() && !self.closer.is_ended() {
            *open = Some(self.metrics.transport_opened(transport));
        }
        Attached(self.clone())
    }

    /// The session is over: it no longer counts as an open connection.
    pub fn closed(&self) {
        lock(&self.transport).take();
    }
}

/// A stream or poll attached to a session (it does not idle meanwhile).
pub struct Attached(Arc<Shared>);

impl Drop for Attached {
    fn drop(&mut self) {
        let mut a = lock(&self.0.activity);
        a.attached -= 1;
        a.last = Instant::now();
    }
}
