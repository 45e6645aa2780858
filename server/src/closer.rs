//! How a connection ends: one [`Closer`] per connection, shared by everyone
//! who may end it (its reader and writer, a room that finds it too slow,
//! shutdown, test faults), so the first reason wins and every side sees it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

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
///
/// A `Notify` rather than a `CancellationToken`: the token allocates its
/// own tree node (about 150 bytes per connection) and takes a mutex on
/// every check, and nothing here needs child tokens.
#[derive(Debug, Default)]
pub struct Closer {
    ending: OnceLock<Ending>,
    /// Shutdown asked the reader to end the connection between frames (see
    /// [`Closer::ask_shutdown`]).
    shutting_down: AtomicBool,
    notify: Notify,
}

impl Closer {
    /// Records the reason (unless one is already recorded) and wakes the
    /// connection's tasks.
    pub fn end(&self, ending: Ending) {
        let _ = self.ending.set(ending);
        self.notify.notify_waiters();
    }

    pub fn close(&self, code: u16, reason: &'static str) {
        self.end(Ending::Close { code, reason });
    }

    pub fn ending(&self) -> Option<&Ending> {
        self.ending.get()
    }

    /// Asks the connection's reader to end it once the frame it is handling
    /// is done, rather than ending it at once: a post in flight when the
    /// server shuts down is acked before the Close, so nothing is stored
    /// without its author hearing of it.
    pub fn ask_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Resolves once [`Closer::ask_shutdown`] has been called. Cancel-safe.
    pub async fn shutdown_asked(&self) {
        self.wait_for(|c| c.shutting_down.load(Ordering::Acquire)).await
    }

    /// Resolves once [`Closer::end`] has been called. Cancel-safe.
    pub async fn ended(&self) {
        self.wait_for(Self::is_ended).await
    }

    async fn wait_for(&self, done: impl Fn(&Self) -> bool) {
        loop {
            let notified = self.notify.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the check, so a wake-up in between is not missed.
            notified.as_mut().enable();
            if done(self) {
                return;
            }
            notified.await
        }
    }

    pub fn is_ended(&self) -> bool {
        self.ending.get().is_some()
    }
}
