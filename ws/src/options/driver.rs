//! The options that shape the connection's driver: backoff, attempt limit,
//! timeouts, the send queue, heartbeat and close policy. They all end up in
//! the one [`DriverConfig`] the driver runs on, so they are kept together,
//! apart from the options that say how the page uses the hook.

use super::UseWebSocketOptions;
use crate::backoff::BackoffConfig;
use crate::config::{CloseAction, DriverConfig, HeartbeatConfig};
use std::rc::Rc;

impl<Tx, Rx, C> UseWebSocketOptions<Tx, Rx, C> {
    /// Backoff before reconnecting: full jitter in `0..min(cap, base * 2^n)`.
    /// Defaults: base 500 ms, cap 30 000 ms.
    pub fn backoff(mut self, base_ms: u32, cap_ms: u32) -> Self {
        self.driver.backoff = BackoffConfig { base_ms: base_ms as f64, cap_ms: cap_ms as f64 };
        self
    }

    /// Give up (state `failed`) after this many reconnect attempts in a row.
    /// Default `None`: retry forever.
    pub fn max_attempts(mut self, n: Option<u32>) -> Self {
        self.driver.max_attempts = n;
        self
    }

    /// How long a connection must stay open before the attempt counter
    /// resets. Default 5 000 ms.
    pub fn min_uptime_ms(mut self, ms: u32) -> Self {
        self.driver.min_uptime_ms = ms as f64;
        self
    }

    /// Abandon and retry a handshake slower than this. Default 10 000 ms.
    pub fn connect_timeout_ms(mut self, ms: u32) -> Self {
        self.driver.connect_timeout_ms = ms as f64;
        self
    }

    /// Frames that may wait for the socket to open; `send` beyond that returns
    /// [`WsError::QueueFull`](crate::WsError::QueueFull). Default 1024.
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.driver.queue_capacity = n;
        self
    }

    /// Drop (and report as [`WsError::Expired`](crate::WsError::Expired)) queued frames that waited
    /// longer than this, instead of sending them late. Default `None`: no limit.
    pub fn queue_ttl_ms(mut self, ms: Option<f64>) -> Self {
        self.driver.queue_ttl_ms = ms;
        self
    }

    /// Heartbeat: every `interval_ms` send `ping(nonce)`; if no frame at all
    /// arrives within `timeout_ms`, the connection is closed with 4000 and
    /// retried. `pong` recognises the answer (for the RTT). Default: off.
    pub fn heartbeat(
        mut self,
        interval_ms: u32,
        timeout_ms: u32,
        ping: impl Fn(u64) -> Tx + 'static,
        pong: impl Fn(&Rx) -> Option<u64> + 'static,
    ) -> Self {
        self.driver.heartbeat =
            Some(HeartbeatConfig { interval_ms: interval_ms as f64, timeout_ms: timeout_ms as f64 });
        self.ping = Some(Rc::new(ping));
        self.pong = Some(Rc::new(pong));
        self
    }

    /// Decide what a close the app did not ask for means. Default:
    /// [`crate::config::default_close_policy`] (reconnect on everything, 1000
    /// included; fail on 1003, 1008, 4401 and 4403).
    pub fn close_policy(mut self, f: impl Fn(u16, &str) -> CloseAction + 'static) -> Self {
        self.driver.close_policy = Rc::new(f);
        self
    }

    /// The driver configuration, with heartbeats only when a ping is set.
    pub(crate) fn driver_config(&self) -> DriverConfig {
        let mut cfg = self.driver.clone();
        if self.ping.is_none() {
            cfg.heartbeat = None;
        }
        cfg
    }
}
