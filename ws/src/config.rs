//! The pure part of the hook's options: timing, limits and the close-code
//! policy. Kept apart from the browser-facing options so the driver can be
//! built and tested natively.

use crate::backoff::BackoffConfig;
use crate::close_code;
use std::rc::Rc;

/// What to do when the server (or the network) ends the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseAction {
    /// Retry with backoff.
    Reconnect,
    /// Stay closed until the app calls `open()`.
    Stay,
    /// Give up and show why; "reconnect now" is offered.
    Fail,
}

/// Decides what a close code means. Shared, so options stay cloneable.
pub type ClosePolicy = Rc<dyn Fn(u16, &str) -> CloseAction>;

/// The default policy for a close the app did not ask for: reconnect, unless
/// the peer refused us.
/// - 1003 (unacceptable data), 1008 (policy), 4401/4403 (auth, forbidden): fail,
///   and show why; retrying would only be refused again.
/// - everything else reconnects with backoff, 1000 included: a proxy or load
///   balancer closing an idle connection sends 1000 ("idle timeout") too, and a
///   client that stays closed then is stuck until the user reloads (phoenix.js
///   reconnects on it for the same reason). Only the app's own `close()` stops.
pub fn default_close_policy(code: u16, _reason: &str) -> CloseAction {
    match code {
        close_code::UNSUPPORTED_DATA | close_code::POLICY | close_code::UNAUTHORIZED | close_code::FORBIDDEN => {
            CloseAction::Fail
        }
        _ => CloseAction::Reconnect,
    }
}

/// Application-level heartbeat timing.
#[derive(Clone, Debug, PartialEq)]
pub struct HeartbeatConfig {
    /// Time between pings, in ms. Default 15 000.
    pub interval_ms: f64,
    /// How long to wait for any inbound frame after a ping before writing the
    /// connection off, in ms. Default 10 000.
    pub timeout_ms: f64,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self { interval_ms: 15_000.0, timeout_ms: 10_000.0 }
    }
}

/// Everything the pure driver needs to decide; built from the options.
#[derive(Clone)]
pub struct DriverConfig {
    /// Reconnect delays. Default: base 500 ms, cap 30 000 ms.
    pub backoff: BackoffConfig,
    /// Reconnect attempts in a row before giving up; `None` retries forever.
    pub max_attempts: Option<u32>,
    /// How long a connection must stay open before the attempt counter resets.
    pub min_uptime_ms: f64,
    /// A handshake slower than this is abandoned and retried.
    pub connect_timeout_ms: f64,
    /// A close we asked for that the peer does not finish within this is
    /// written off, so the state never sticks at "closing".
    pub close_timeout_ms: f64,
    /// `None` disables heartbeats.
    pub heartbeat: Option<HeartbeatConfig>,
    /// Frames that may wait for the socket to open.
    pub queue_capacity: usize,
    /// A queued frame older than this is dropped (and reported) instead of
    /// being sent late. `None`: frames wait as long as it takes.
    pub queue_ttl_ms: Option<f64>,
    /// What a close the app did not ask for means.
    pub close_policy: ClosePolicy,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            backoff: BackoffConfig::default(),
            max_attempts: None,
            min_uptime_ms: 5_000.0,
            connect_timeout_ms: 10_000.0,
            close_timeout_ms: 3_000.0,
            heartbeat: Some(HeartbeatConfig::default()),
            queue_capacity: 1024,
            queue_ttl_ms: None,
            close_policy: Rc::new(default_close_policy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_reconnects_on_everything_but_a_refusal() {
        for code in [1000, 1001, 1005, 1006, 1011, 1012, 1013, 4000, 4001] {
            assert_eq!(default_close_policy(code, ""), CloseAction::Reconnect, "{code}");
        }
        for code in [1003, 1008, 4401, 4403] {
            assert_eq!(default_close_policy(code, ""), CloseAction::Fail, "{code}");
        }
    }
}
