//! A connection's outgoing side as seen by everyone else: a bounded queue of
//! frames plus a way to end the connection.
//!
//! Broadcasts must never wait on a slow client (that would stall the whole
//! room), so pushes are non-blocking. A full queue is not silently dropped:
//! the connection is closed with 1013 so the client reconnects and resumes
//! from its cursor, which guarantees it misses nothing.

use std::sync::{Arc, OnceLock};

use axum::extract::ws::{Message, Utf8Bytes};
use prometheus_client::metrics::counter::Counter;
use tether_protocol::{ServerMsg, close_code};
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
    /// Counts connections closed for being too slow.
    overflows: Counter,
}

impl Outbox {
    pub fn new(id: ConnId, overflows: Counter) -> (Self, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(OUTBOX_FRAMES);
        let closer = Arc::new(Closer::default());
        (Self { id, tx, closer, overflows }, rx)
    }

    /// Queues a frame. Returns false if the connection is gone or was just
    /// closed for being too slow.
    pub fn push_frame(&self, frame: Utf8Bytes) -> bool {
        match self.tx.try_send(Message::Text(frame)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.closer.is_ended() {
                    tracing::info!(conn = self.id, "outgoing queue full; closing with 1013");
                    self.overflows.inc();
                }
                self.closer.close(close_code::TRY_AGAIN_LATER, "too slow, reconnect");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
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
