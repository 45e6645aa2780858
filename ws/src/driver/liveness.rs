//! Liveness: heartbeats, and reacting to the network and the page's
//! visibility. Separate from the connect/close logic because these are the
//! inputs that other clients ignore, and each has its own rules.

use super::{Cmd, Driver, TimerKind};
use crate::state::ConnState;

impl Driver {
    /// A pong for `nonce` arrived: measure the round trip.
    pub fn on_pong(&mut self, nonce: u64, now: f64) {
        self.clock = now;
        if let Some((sent, at)) = self.ping_in_flight
            && sent == nonce
        {
            self.metrics.rtt_ms.add((now - at).max(0.0));
            self.ping_in_flight = None;
        }
    }

    /// `online`/`offline` events: never burn retries while the machine has no
    /// network; retry at once with a fresh backoff when it comes back.
    pub fn set_online(&mut self, online: bool, now: f64) {
        self.clock = now;
        self.online = online;
        if online {
            if matches!(self.state, ConnState::Reconnecting { .. }) {
                self.attempt = 0;
                self.connect(now);
            }
        } else {
            self.pause_retries();
        }
    }

    /// Page visibility. A hidden tab keeps reconnecting (the browser throttles
    /// its timers, which is fine) so a background page is current when the
    /// user comes back; becoming visible retries at once, with a fresh
    /// backoff, rather than making the user wait out a long delay. An open
    /// socket is never closed for either.
    pub fn set_visible(&mut self, visible: bool, now: f64) {
        self.clock = now;
        let was = std::mem::replace(&mut self.visible, visible);
        if visible && !was && self.online && matches!(self.state, ConnState::Reconnecting { .. }) {
            self.attempt = 0;
            self.connect(now);
        }
    }

    fn pause_retries(&mut self) {
        if let ConnState::Reconnecting { attempt, retry_at_ms: Some(_) } = self.state {
            self.cmds.push(Cmd::CancelTimer(TimerKind::Reconnect));
            self.goto(ConnState::Reconnecting { attempt, retry_at_ms: None });
        }
    }

    pub(super) fn heartbeat(&mut self, now: f64) {
        let Some(hb) = self.cfg.heartbeat.clone() else { return };
        self.next_nonce += 1;
        self.cmds.push(Cmd::Ping { nonce: self.next_nonce });
        if !self.pong_armed {
            self.pong_armed = true;
            self.cmds.push(Cmd::SetTimer { kind: TimerKind::PongTimeout, delay_ms: hb.timeout_ms });
        }
        self.ping_in_flight = Some((self.next_nonce, now));
        self.cmds.push(Cmd::SetTimer { kind: TimerKind::Heartbeat, delay_ms: hb.interval_ms });
    }
}
