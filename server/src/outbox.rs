//! A connection's outgoing side as seen by everyone else: a queue of frames
//! bounded in frames and in bytes, plus a way to end the connection.
//!
//! Broadcasts must never wait on a slow client (that would stall the whole
//! room), so pushes are non-blocking. A full queue is not silently dropped:
//! the connection is closed with 1013 so the client reconnects and resumes
//! from its cursor, which guarantees it misses nothing. The byte budget is
//! what bounds memory: a client that stops reading can pin at most that much.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::ws::{Message, Utf8Bytes};
use prometheus_client::metrics::counter::Counter;
use tether_protocol::{MAX_FRAME_BYTES, ServerMsg, close_code};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Frames a connection may have queued before it counts as too slow.
pub const OUTBOX_FRAMES: usize = 1024;

pub type ConnId = u64;

/// How a connection ends; the first reason wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Send a Close frame with this code, then wait briefly for the echo.
    Close { code: u16, reason: &'static str },
    /// The peer closed or vanished; nothing more to send.
    PeerGone,
    /// Drop the TCP connection without a Close frame (tests a client's 1006
    /// handling).
    Abort,
}

/// One-shot "this connection is over, and why".
#[derive(Debug, Default)]
pub struct Closer {
    ending: OnceLock<Ending>,
    token: CancellationToken,
}

impl Closer {
    /// Records the reason (unless one is already recorded) and wakes the
    /// connection's tasks.
    pub fn end(&self, ending: Ending) {
        let _ = self.ending.set(ending);
        self.token.cancel();
    }

    pub fn close(&self, code: u16, reason: &'static str) {
        self.end(Ending::Close { code, reason });
    }

    pub fn ending(&self) -> Option<&Ending> {
        self.ending.get()
    }

    pub async fn ended(&self) {
        self.token.cancelled().await
    }

    pub fn is_ended(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// Cloneable handle used to send to one connection.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub id: ConnId,
    tx: mpsc::Sender<Message>,
    pub closer: Arc<Closer>,
    /// Bytes queued and not yet handed to the socket.
    queued: Arc<AtomicUsize>,
    budget: usize,
    /// Counts connections closed for being too slow.
    overflows: Counter,
}

/// The writer's end: frames in order, releasing their bytes from the budget.
#[derive(Debug)]
pub struct OutboxRx {
    rx: mpsc::Receiver<Message>,
    queued: Arc<AtomicUsize>,
}

impl OutboxRx {
    pub async fn recv(&mut self) -> Option<Message> {
        let m = self.rx.recv().await?;
        self.release(&m);
        Some(m)
    }

    pub fn try_recv(&mut self) -> Option<Message> {
        let m = self.rx.try_recv().ok()?;
        self.release(&m);
        Some(m)
    }

    fn release(&self, m: &Message) {
        if let Message::Text(t) = m {
            self.queued.fetch_sub(t.len(), Ordering::Relaxed);
        }
    }
}

impl Outbox {
    /// A queue that holds at most `budget` bytes (and [`OUTBOX_FRAMES`] frames).
    pub fn new(id: ConnId, budget: usize, overflows: Counter) -> (Self, OutboxRx) {
        let (tx, rx) = mpsc::channel(OUTBOX_FRAMES);
        let closer = Arc::new(Closer::default());
        let queued = Arc::new(AtomicUsize::new(0));
        (Self { id, tx, closer, queued: queued.clone(), budget, overflows }, OutboxRx { rx, queued })
    }

    /// Bytes queued now (for tests and metrics).
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
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
        if self.queued.fetch_add(len, Ordering::Relaxed) + len > self.budget {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            self.overflow();
            return false;
        }
        match self.tx.try_send(Message::Text(frame)) {
            Ok(()) => true,
            Err(e) => {
                self.queued.fetch_sub(len, Ordering::Relaxed);
                if let mpsc::error::TrySendError::Full(_) = e {
                    self.overflow();
                }
                false
            }
        }
    }

    fn overflow(&self) {
        if !self.closer.is_ended() {
            tracing::info!(conn = self.id, "outgoing queue full; closing with 1013");
            self.overflows.inc();
        }
        self.closer.close(close_code::TRY_AGAIN_LATER, "too slow, reconnect");
    }

    /// Queues a WebSocket ping (liveness check); never counts against the
    /// budget, and a full queue already means the connection is closing.
    pub fn push_ping(&self) {
        let _ = self.tx.try_send(Message::Ping(Default::default()));
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
