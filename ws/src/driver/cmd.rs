//! What the driver asks of the glue. Commands are data, so tests can assert
//! on exactly what would have happened in the browser.

use crate::codec::Frame;

/// The timers the driver may ask for; at most one of each kind is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The next reconnect attempt.
    Reconnect,
    /// Give up on a handshake.
    ConnectTimeout,
    /// Give up waiting for a close we asked for.
    CloseTimeout,
    /// Send the next ping.
    Heartbeat,
    /// Give up waiting for any frame after a ping.
    PongTimeout,
}

/// The largest delay `setTimeout` honours: browsers store it as a signed
/// 32-bit number and fire at once when it is larger, so a huge option would
/// otherwise mean "now". Delays are clamped to it (about 24.8 days).
pub const MAX_TIMER_MS: u32 = i32::MAX as u32;

/// A driver delay as the whole milliseconds a browser timer accepts.
pub fn timer_delay_ms(delay_ms: f64) -> u32 {
    if delay_ms.is_nan() { 0 } else { delay_ms.ceil().clamp(0.0, MAX_TIMER_MS as f64) as u32 }
}

/// What the glue must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    /// Replace the current socket (detach and close it with 1000 if any) by a
    /// new one to `url`.
    Connect {
        /// Where to.
        url: String,
    },
    /// Start a graceful close; keep handlers to learn when it finished.
    Close {
        /// The close code to send.
        code: u16,
        /// The close reason to send.
        reason: &'static str,
    },
    /// Detach handlers now and close: the connection is written off.
    Abandon {
        /// The close code to send (and report to `on_close`).
        code: u16,
        /// The close reason to send.
        reason: &'static str,
    },
    /// Send this frame on the open socket. `queued_at` is when `send` took
    /// it: if the socket is no longer open, the glue hands it back with
    /// [`super::Driver::untransmitted`] to keep its place. `None` (from
    /// `try_send`): not requeued, the caller is told it was not sent.
    Transmit {
        /// The frame.
        frame: Frame,
        /// When it was queued, if it may be requeued.
        queued_at: Option<f64>,
    },
    /// The connection is open: send the app's handshake frames now, before
    /// any `Transmit` that follows.
    Handshake,
    /// This many queued frames waited too long and were dropped: tell the app.
    Expired(usize),
    /// Send a heartbeat ping carrying `nonce`.
    Ping {
        /// Matches the pong to this ping, for the RTT.
        nonce: u64,
    },
    /// Start (or restart) the timer of this kind.
    SetTimer {
        /// Which timer.
        kind: TimerKind,
        /// In how many milliseconds (see [`timer_delay_ms`]).
        delay_ms: f64,
    },
    /// Stop the timer of this kind, if any.
    CancelTimer(TimerKind),
    /// Something worth a console warning (a rejected transition).
    Warn(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_delays_are_clamped_to_what_set_timeout_accepts() {
        assert_eq!(timer_delay_ms(0.4), 1);
        assert_eq!(timer_delay_ms(-5.0), 0);
        assert_eq!(timer_delay_ms(f64::NAN), 0);
        assert_eq!(timer_delay_ms(u32::MAX as f64), i32::MAX as u32);
        assert_eq!(timer_delay_ms(f64::INFINITY), i32::MAX as u32);
    }
}
