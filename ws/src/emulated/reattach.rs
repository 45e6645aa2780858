//! When a broken SSE stream or poll is attached again, and when its
//! emulated connection ends instead.
//!
//! A stream that has shown a sign of life (a frame or a heartbeat) and
//! breaks is most likely a passing failure (a proxy timeout, a server
//! restart): attach again, a bounded number of times in a row, with growing
//! pauses. One that breaks before any sign of life is a transport that does
//! not get through: the connection ends at once, so the hook falls back to
//! the next transport without waiting out re-attachments (the same rule as
//! for an error before a WebSocket's first frame).

/// The first pause before attaching again; it doubles per break in a row,
/// up to 16 times this.
const FIRST_PAUSE_MS: u32 = 250;

/// Re-attachments of one emulated connection's stream or poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reattach {
    limit: u32,
    broken: u32,
    alive: bool,
}

impl Reattach {
    /// At most `limit` re-attachments in a row without a sign of life.
    pub fn new(limit: u32) -> Self {
        Self { limit, broken: 0, alive: false }
    }

    /// A frame or a heartbeat arrived: the stream works.
    pub fn alive(&mut self) {
        self.alive = true;
        self.broken = 0;
    }

    /// The stream or poll broke: attach again after this many ms, or `None`
    /// when the connection should end (nothing ever arrived on it, or too
    /// many breaks in a row).
    pub fn broke(&mut self) -> Option<u32> {
        if !self.alive {
            return None;
        }
        self.broken += 1;
        (self.broken <= self.limit).then(|| FIRST_PAUSE_MS << (self.broken - 1).min(4))
    }

    /// Whether anything ever arrived (for the reason given when it ends).
    pub fn ever_alive(&self) -> bool {
        self.alive
    }
}
