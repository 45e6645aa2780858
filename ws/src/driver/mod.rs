//! The hook's brain, free of `web_sys`: events go in (with the time they
//! happened), commands come out, and the browser glue carries them out.
//!
//! Keeping every decision here (when to connect, reconnect, give up, ping,
//! flush the queue) means the rules are unit-tested natively with a fake
//! clock and a seeded random source, and the glue cannot grow its own
//! opinions. Each timer kind exists at most once: `SetTimer` replaces, so two
//! events racing to schedule a reconnect (the classic onerror + onclose storm)
//! still leave exactly one timer.

use crate::backoff::RandomSource;
use crate::close_code;
use crate::config::DriverConfig;
use crate::metrics::Metrics;
use crate::queue::SendQueue;
use crate::state::{ConnState, check_transition};

mod cmd;
mod liveness;
mod reconnect;

pub use cmd::{Cmd, MAX_TIMER_MS, TimerKind, timer_delay_ms};
pub use sending::NotOpen;
mod sending;
#[cfg(test)]
mod tests;

/// The connection's decision maker. Feed it events with their time; take
/// its commands with [`Driver::take_commands`] and carry them out in order.
pub struct Driver {
    cfg: DriverConfig,
    rng: Box<dyn RandomSource>,
    state: ConnState,
    url: Result<String, String>,
    /// Auto-reconnect is on: cleared by `close()`, set again by `open()`.
    wanted: bool,
    /// Failed attempts in the current streak; indexes the backoff.
    attempt: u32,
    opened_at: Option<f64>,
    online: bool,
    visible: bool,
    queue: SendQueue,
    next_nonce: u64,
    /// The last unanswered ping, for RTT: (nonce, sent at).
    ping_in_flight: Option<(u64, f64)>,
    /// A pong deadline is pending; any inbound frame disarms it.
    pong_armed: bool,
    metrics: Metrics,
    /// When the last connection was lost without the app asking, for the
    /// time-to-reconnect.
    down_since: Option<f64>,
    /// The time of the latest event, for the state history.
    clock: f64,
    cmds: Vec<Cmd>,
}

impl Driver {
    /// A driver in `Idle`, with no URL yet.
    pub fn new(cfg: DriverConfig, rng: Box<dyn RandomSource>) -> Self {
        let queue = SendQueue::new(cfg.queue_capacity);
        Self {
            cfg,
            rng,
            state: ConnState::Idle,
            url: Err("no URL yet".into()),
            wanted: false,
            attempt: 0,
            opened_at: None,
            online: true,
            visible: true,
            queue,
            next_nonce: 0,
            ping_in_flight: None,
            pong_armed: false,
            metrics: Metrics { state: crate::metrics::StateName(ConnState::Idle.name()), ..Metrics::default() },
            down_since: None,
            clock: 0.0,
            cmds: Vec::new(),
        }
    }

    /// Where the connection is now.
    pub fn state(&self) -> &ConnState {
        &self.state
    }

    /// The counters so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Everything decided since the last call, in order.
    pub fn take_commands(&mut self) -> Vec<Cmd> {
        std::mem::take(&mut self.cmds)
    }

    /// The URL in use (or why there is none).
    pub fn url(&self) -> &Result<String, String> {
        &self.url
    }

    /// A new URL (or the reason it is not one). An active connection moves to
    /// it at once (a bad one closes it: nothing from the old URL may reach the
    /// app after it changed); otherwise it is used by the next `open()`. The
    /// same URL again changes nothing.
    pub fn set_url(&mut self, url: Result<String, String>, now: f64) {
        self.clock = now;
        if url.is_ok() && url == self.url {
            return;
        }
        self.url = url;
        let active = matches!(self.state, ConnState::Connecting | ConnState::Open | ConnState::Reconnecting { .. });
        let failed_while_wanted = self.wanted && matches!(self.state, ConnState::Failed { .. });
        if active || failed_while_wanted {
            self.attempt = 0;
            self.connect(now);
        }
    }

    /// Connect (on mount, `open()` and "reconnect now"), re-enabling automatic
    /// reconnection and starting a fresh backoff.
    pub fn open(&mut self, now: f64) {
        self.clock = now;
        self.wanted = true;
        self.attempt = 0;
        match self.state {
            ConnState::Connecting | ConnState::Open => {}
            _ => self.connect(now),
        }
    }

    /// The app's own close: no reconnect until `open()`; a pending retry is
    /// cancelled, so it cannot fire later.
    pub fn close(&mut self, now: f64) {
        self.clock = now;
        self.wanted = false;
        self.down_since = None;
        self.cmds.push(Cmd::CancelTimer(TimerKind::Reconnect));
        match self.state {
            ConnState::Connecting | ConnState::Open => {
                self.stop_connection_timers();
                self.cmds.push(Cmd::Close { code: close_code::NORMAL, reason: "closed by client" });
                self.cmds.push(Cmd::SetTimer { kind: TimerKind::CloseTimeout, delay_ms: self.cfg.close_timeout_ms });
                self.goto(ConnState::Closing);
            }
            ConnState::Idle | ConnState::Reconnecting { .. } | ConnState::Failed { .. } => {
                self.goto(ConnState::Closed { code: close_code::NORMAL, reason: "closed by client".into() });
            }
            ConnState::Closing | ConnState::Closed { .. } => {}
        }
    }

    /// The glue could not even create the socket (the browser refused the URL).
    pub fn connect_failed(&mut self, reason: String) {
        self.cmds.push(Cmd::CancelTimer(TimerKind::ConnectTimeout));
        self.goto(ConnState::Failed { reason });
    }

    /// The connection attempt moved on to the next transport (the HTTP
    /// fallback): it gets a full connect timeout of its own.
    pub fn next_transport(&mut self, now: f64) {
        self.clock = now;
        if matches!(self.state, ConnState::Connecting) {
            self.cmds.push(Cmd::SetTimer { kind: TimerKind::ConnectTimeout, delay_ms: self.cfg.connect_timeout_ms });
        }
    }

    /// The socket opened. Only once the move to `Open` is accepted does the
    /// glue get [`Cmd::Handshake`]: the app's handshake frames, and whatever
    /// its handshake closure does besides (marking posts sent), must never
    /// happen for a connection the state machine refused.
    pub fn on_open(&mut self, now: f64) {
        self.clock = now;
        if !self.goto(ConnState::Open) {
            return;
        }
        self.cmds.push(Cmd::CancelTimer(TimerKind::ConnectTimeout));
        self.opened_at = Some(now);
        self.metrics.opens += 1;
        self.metrics.open_since_ms = Some(now);
        if let Some(since) = self.down_since.take() {
            self.metrics.reconnect_ms.add((now - since).max(0.0));
        }
        self.cmds.push(Cmd::Handshake);
        self.flush_queue(now);
        if let Some(hb) = &self.cfg.heartbeat {
            self.cmds.push(Cmd::SetTimer { kind: TimerKind::Heartbeat, delay_ms: hb.interval_ms });
        }
    }

    /// Any inbound frame, of `bytes` bytes: proof the connection is alive.
    pub fn on_frame(&mut self, bytes: usize) {
        self.metrics.frames_in += 1;
        self.metrics.bytes_in += bytes as u64;
        if self.pong_armed {
            self.pong_armed = false;
            self.cmds.push(Cmd::CancelTimer(TimerKind::PongTimeout));
        }
    }

    /// An inbound frame the codec could not decode.
    pub fn on_malformed(&mut self) {
        self.metrics.malformed_in += 1;
    }

    /// A timer the driver set has fired.
    pub fn on_timer(&mut self, kind: TimerKind, now: f64) {
        self.clock = now;
        match (kind, &self.state) {
            (TimerKind::Reconnect, ConnState::Reconnecting { retry_at_ms: Some(_), .. }) => self.connect(now),
            (TimerKind::ConnectTimeout, ConnState::Connecting) => {
                self.metrics.connect_timeouts += 1;
                self.write_off(close_code::CONNECT_TIMEOUT, "connect timeout", now);
            }
            (TimerKind::CloseTimeout, ConnState::Closing) => {
                self.cmds.push(Cmd::Abandon { code: close_code::NORMAL, reason: "closed by client" });
                self.goto(ConnState::Closed { code: close_code::NORMAL, reason: "closed by client".into() });
            }
            (TimerKind::Heartbeat, ConnState::Open) => self.heartbeat(now),
            (TimerKind::PongTimeout, ConnState::Open) => {
                self.metrics.heartbeat_timeouts += 1;
                self.write_off(close_code::HEARTBEAT_TIMEOUT, "heartbeat timeout", now);
            }
            _ => {} // a timer for a state we already left; harmless
        }
    }

    pub(super) fn connect(&mut self, now: f64) {
        let _ = now;
        self.cmds.push(Cmd::CancelTimer(TimerKind::Reconnect));
        self.cmds.push(Cmd::CancelTimer(TimerKind::CloseTimeout));
        self.stop_connection_timers();
        match self.url.clone() {
            Ok(url) => {
                if self.goto(ConnState::Connecting) {
                    self.metrics.connects += 1;
                    self.cmds.push(Cmd::Connect { url });
                    self.cmds
                        .push(Cmd::SetTimer { kind: TimerKind::ConnectTimeout, delay_ms: self.cfg.connect_timeout_ms });
                }
            }
            Err(reason) => {
                if matches!(self.state, ConnState::Connecting | ConnState::Open | ConnState::Closing) {
                    self.cmds.push(Cmd::Abandon { code: close_code::NORMAL, reason: "URL changed" });
                }
                self.goto(ConnState::Failed { reason });
            }
        }
    }

    fn stop_connection_timers(&mut self) {
        self.ping_in_flight = None;
        self.pong_armed = false;
        for kind in [TimerKind::ConnectTimeout, TimerKind::Heartbeat, TimerKind::PongTimeout] {
            self.cmds.push(Cmd::CancelTimer(kind));
        }
    }

    /// Apply a validated transition; a refused one is counted and reported.
    pub(super) fn goto(&mut self, to: ConnState) -> bool {
        match check_transition(&self.state, &to) {
            Ok(()) => {
                let m = &mut self.metrics;
                m.state = crate::metrics::StateName(to.name());
                m.attempt = if let ConnState::Reconnecting { attempt, .. } = to { attempt } else { 0 };
                if !to.is_open() {
                    m.open_since_ms = None;
                }
                if m.history.len() == crate::metrics::HISTORY_LEN {
                    m.history.pop_front();
                }
                m.history.push_back(crate::metrics::StateChange { at_ms: self.clock, state: m.state });
                self.state = to;
                true
            }
            Err(e) => {
                self.metrics.invalid_transitions += 1;
                self.cmds.push(Cmd::Warn(e.to_string()));
                false
            }
        }
    }
}
