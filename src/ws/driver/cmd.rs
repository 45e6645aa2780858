//! What the driver asks of the glue. Commands are data, so tests can assert
//! on exactly what would have happened in the browser.

/// The timers the driver may ask for; at most one of each kind is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    Reconnect,
    ConnectTimeout,
    CloseTimeout,
    Heartbeat,
    PongTimeout,
}

/// What the glue must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    /// Replace the current socket (detach and close it with 1000 if any) by a
    /// new one to `url`.
    Connect {
        url: String,
    },
    /// Start a graceful close; keep handlers to learn when it finished.
    Close {
        code: u16,
        reason: &'static str,
    },
    /// Detach handlers now and close: the connection is written off.
    Abandon {
        code: u16,
        reason: &'static str,
    },
    /// Send a text frame on the open socket.
    Transmit(String),
    /// Send a heartbeat ping carrying `nonce`.
    Ping {
        nonce: u64,
    },
    SetTimer {
        kind: TimerKind,
        delay_ms: f64,
    },
    CancelTimer(TimerKind),
    /// Something worth a console warning (a rejected transition).
    Warn(String),
}
