//! Options for `use_websocket_with_options`, shaped like leptos-use: a struct
//! with `Default` and a builder method per field.

use super::backoff::BackoffConfig;
use super::codec::Incoming;
use super::config::{CloseAction, DriverConfig, HeartbeatConfig};
use std::rc::Rc;

/// Called with every inbound frame.
pub type OnMessage<Rx> = Rc<dyn Fn(&Incoming<Rx>)>;
/// Recognises a pong and returns its nonce.
pub type PongFn<Rx> = Rc<dyn Fn(&Rx) -> Option<u64>>;

/// How the hook behaves. Every builder method documents its default.
pub struct UseWebSocketOptions<Tx, Rx> {
    pub(crate) driver: DriverConfig,
    pub(crate) immediate: bool,
    pub(crate) handshake: Rc<dyn Fn() -> Vec<Tx>>,
    pub(crate) on_message: OnMessage<Rx>,
    pub(crate) ping: Option<Rc<dyn Fn(u64) -> Tx>>,
    pub(crate) pong: Option<PongFn<Rx>>,
}

impl<Tx: 'static, Rx: 'static> Default for UseWebSocketOptions<Tx, Rx> {
    fn default() -> Self {
        Self {
            driver: DriverConfig::default(),
            immediate: true,
            handshake: Rc::new(Vec::new),
            on_message: Rc::new(|_| {}),
            ping: None,
            pong: None,
        }
    }
}

impl<Tx, Rx> UseWebSocketOptions<Tx, Rx> {
    /// Connect as soon as the hook mounts. Default `true`; with `false`,
    /// nothing happens until `open()`.
    pub fn immediate(mut self, yes: bool) -> Self {
        self.immediate = yes;
        self
    }

    /// Frames sent first on every (re)connection, before anything queued:
    /// the place for authentication, joins and resume cursors. Called at each
    /// open, so it can read current state. Default: none.
    pub fn handshake(mut self, f: impl Fn() -> Vec<Tx> + 'static) -> Self {
        self.handshake = Rc::new(f);
        self
    }

    /// Called synchronously for every inbound frame, in order. Unlike the
    /// `message` signal (which only holds the latest), this never skips a
    /// frame when several arrive at once. Default: nothing.
    pub fn on_message(mut self, f: impl Fn(&Incoming<Rx>) + 'static) -> Self {
        self.on_message = Rc::new(f);
        self
    }

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
    /// `WsError::QueueFull`. Default 1024.
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.driver.queue_capacity = n;
        self
    }

    /// Heartbeat: every `interval_ms` send `ping(nonce)`; if no frame at all
    /// arrives within `timeout_ms`, the connection is closed with 4000 and
    /// retried. `pong` recognises the answer (for the RTT). Default: off until
    /// set; Tether's app uses 15 000 / 10 000 ms.
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

    /// Decide what a close code means. Default: [`super::config::default_close_policy`]
    /// (reconnect on transient codes, fail on 1003/1008/4401/4403, stay closed on 1000).
    pub fn close_policy(mut self, f: impl Fn(u16, &str) -> CloseAction + 'static) -> Self {
        self.driver.close_policy = Rc::new(f);
        self
    }

    /// The driver configuration with heartbeats only when a ping is set.
    pub(crate) fn driver_config(&self) -> DriverConfig {
        let mut cfg = self.driver.clone();
        if self.ping.is_none() {
            cfg.heartbeat = None;
        }
        cfg
    }
}
