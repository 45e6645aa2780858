//! A connection's outgoing side as seen by everyone else: a queue of frames
//! bounded in frames and in bytes, plus a way to end the connection.
//!
//! Broadcasts must never wait on a slow client (that would stall the whole
//! room), so pushes are non-blocking. A full queue is not silently dropped:
//! the connection is closed with 1013 so the client reconnects and resumes
//! from its cursor, which guarantees it misses nothing. The byte budget is
//! what bounds memory: a client that stops reading can pin at most that much.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use axum::extract::ws::{Message, Utf8Bytes};
use prometheus_client::metrics::counter::Counter;
use tether_protocol::{MAX_FRAME_BYTES, ServerMsg, close_code};

pub use crate::closer::{Closer, Ending};
use crate::sync::lock;

/// Frames a connection may have queued before it counts as too slow.
pub const OUTBOX_FRAMES: usize = 1024;

pub type ConnId = u64;

/// Cloneable handle used to send to one connection.
#[derive(Debug)]
pub struct Outbox {
    pub id: ConnId,
    pub closer: Arc<Closer>,
    shared: Arc<Shared>,
}

/// The queue both ends share. Not tokio's bounded `mpsc`: that allocates
/// its first block of 32 slots and a cache-padded channel (about 2 KiB) for
/// every connection up front, while an idle connection's queue is empty.
/// A `VecDeque` allocates only while frames wait (`make bench`, 10,000 idle
/// connections: see README "Benchmarks").
#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// Bytes queued and not yet handed to the socket.
    queued: AtomicUsize,
    budget: usize,
    /// Live [`Outbox`] handles: with none left, the reader sees the end.
    senders: AtomicUsize,
    /// Counts connections closed for being too slow.
    overflows: Counter,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Message>,
    /// The reader waiting for a frame.
    waker: Option<Waker>,
    /// The reader is gone: pushes fail, as they would to a closed channel.
    closed: bool,
}

/// The writer's end: frames in order, releasing their bytes from the budget.
#[derive(Debug)]
pub struct OutboxRx {
    shared: Arc<Shared>,
}

impl OutboxRx {
    /// The next frame; `None` once every [`Outbox`] is dropped and the
    /// queue is empty. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let mut q = lock(&self.shared.queue);
        if let Some(m) = q.pop() {
            drop(q);
            self.release(&m);
            return Poll::Ready(Some(m));
        }
        if self.shared.senders.load(Ordering::Acquire) == 0 {
            return Poll::Ready(None);
        }
        if !q.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            q.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    pub fn try_recv(&mut self) -> Option<Message> {
        let m = lock(&self.shared.queue).pop()?;
        self.release(&m);
        Some(m)
    }

    fn release(&self, m: &Message) {
        if let Message::Text(t) = m {
            self.shared.queued.fetch_sub(t.len(), Ordering::Relaxed);
        }
    }
}

impl Drop for OutboxRx {
    fn drop(&mut self) {
        let mut q = lock(&self.shared.queue);
        q.closed = true;
        // The waker would keep the ended connection's task (the size of the
        // whole connection future) alive as long as any `Outbox` copy lives.
        let (frames, waker) = (std::mem::take(&mut q.frames), q.waker.take());
        self.shared.queued.store(0, Ordering::Relaxed);
        drop(q);
        drop((frames, waker));
    }
}

impl Queue {
    /// Takes the oldest frame; an emptied queue gives its memory back, so a
    /// connection holds queue memory only while it has a backlog.
    fn pop(&mut self) -> Option<Message> {
        let m = self.frames.pop_front()?;
        if self.frames.is_empty() {
            self.frames = VecDeque::new();
        }
        Some(m)
    }

    /// Queues `m` unless the reader is gone or [`OUTBOX_FRAMES`] wait;
    /// returns the reader to wake.
    fn push(&mut self, m: Message) -> Result<Option<Waker>, Refused> {
        if self.closed {
            return Err(Refused::Gone);
        }
        if self.frames.len() >= OUTBOX_FRAMES {
            return Err(Refused::Full);
        }
        self.frames.push_back(m);
        Ok(self.waker.take())
    }
}

enum Refused {
    Gone,
    Full,
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self { id: self.id, closer: self.closer.clone(), shared: self.shared.clone() }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            let waker = lock(&self.shared.queue).waker.take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl Outbox {
    /// A queue that holds at most `budget` bytes (and [`OUTBOX_FRAMES`] frames).
    pub fn new(id: ConnId, budget: usize, overflows: Counter) -> (Self, OutboxRx) {
        let closer = Arc::new(Closer::default());
        let queue = Mutex::new(Queue::default());
        let shared =
            Arc::new(Shared { queue, queued: AtomicUsize::new(0), budget, senders: AtomicUsize::new(1), overflows });
        (Self { id, closer, shared: shared.clone() }, OutboxRx { shared })
    }

    /// Bytes queued now (for tests and metrics).
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Queues a frame. Returns false if the connection is gone or was just
    /// closed for being too slow. A frame over [`MAX_FRAME_BYTES`] is a bug
    /// on our side: it is logged and not sent (the peer would refuse it).
    pub fn push_frame(&self, frame: Utf8Bytes) -> bool {
        let len = frame.len();
        if len > MAX_FRAME_BYTES {
            tracing::error!(conn = self.id, len, "refusing to send a frame over MAX_FRAME_BYTES");
            return false;
        }
        let queued = &self.shared.queued;
        if queued.fetch_add(len, Ordering::Relaxed) + len > self.shared.budget {
            queued.fetch_sub(len, Ordering::Relaxed);
            self.overflow();
            return false;
        }
        let pushed = lock(&self.shared.queue).push(Message::Text(frame));
        match pushed {
            Ok(waker) => {
                if let Some(w) = waker {
                    w.wake();
                }
                true
            }
            Err(refused) => {
                queued.fetch_sub(len, Ordering::Relaxed);
                if let Refused::Full = refused {
                    self.overflow();
                }
                false
            }
        }
    }

    fn overflow(&self) {
        if !self.closer.is_ended() {
            tracing::info!(conn = self.id, "outgoing queue full; closing with 1013");
            self.shared.overflows.inc();
        }
        self.closer.close(close_code::TRY_AGAIN_LATER, "too slow, reconnect");
    }

    /// Queues a WebSocket ping (liveness check); never counts against the
    /// budget, and a full queue already means the connection is closing.
    pub fn push_ping(&self) {
        let pushed = lock(&self.shared.queue).push(Message::Ping(Default::default()));
        if let Ok(Some(w)) = pushed {
            w.wake();
        }
    }

    pub fn push(&self, msg: &ServerMsg) -> bool {
        match encode(msg) {
            Some(frame) => self.push_frame(frame),
            None => false,
        }
    }
}

/// Serialises a frame once so a broadcast can share it between receivers.
pub fn encode(msg: &ServerMsg) -> Option<Utf8Bytes> {
    match serde_json::to_string(msg) {
        Ok(s) => Some(Utf8Bytes::from(s)),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise server frame");
            None
        }
    }
}
