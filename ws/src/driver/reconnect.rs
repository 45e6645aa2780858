//! Losing a connection and getting it back: the app's close policy, writing
//! off a dead connection, backoff, and the rule for giving up.

use super::{Cmd, Driver, TimerKind};
use crate::config::CloseAction;
use crate::state::ConnState;

impl Driver {
    /// The socket closed (as the browser reports it).
    pub fn on_close(&mut self, code: u16, reason: String, now: f64) {
        self.clock = now;
        if !matches!(self.state, ConnState::Connecting | ConnState::Open | ConnState::Closing) {
            return; // the glue only reports its current socket; nothing to do
        }
        self.stop_connection_timers();
        self.cmds.push(Cmd::CancelTimer(TimerKind::CloseTimeout));
        if matches!(self.state, ConnState::Closing) || !self.wanted {
            self.goto(ConnState::Closed { code, reason });
            return;
        }
        self.lost(now);
        match (self.cfg.close_policy)(code, &reason) {
            CloseAction::Reconnect => self.schedule_reconnect(now),
            CloseAction::Stay => {
                self.wanted = false;
                self.goto(ConnState::Closed { code, reason });
            }
            CloseAction::Fail => {
                let why = if reason.is_empty() { String::new() } else { format!(": {reason}") };
                self.goto(ConnState::Failed { reason: format!("server refused the connection ({code}{why})") });
            }
        }
    }

    /// The connection is dead or hopeless: drop it and retry per backoff.
    pub(super) fn write_off(&mut self, code: u16, reason: &'static str, now: f64) {
        self.stop_connection_timers();
        self.cmds.push(Cmd::Abandon { code, reason });
        self.lost(now);
        self.schedule_reconnect(now);
    }

    fn schedule_reconnect(&mut self, now: f64) {
        // The streak resets only after a connection proved itself stable, so
        // a server that accepts and immediately drops cannot cause a storm.
        if let Some(at) = self.opened_at.take()
            && now - at >= self.cfg.min_uptime_ms
        {
            self.attempt = 0;
        }
        if let Some(max) = self.cfg.max_attempts
            && self.attempt >= max
        {
            self.cmds.push(Cmd::CancelTimer(TimerKind::Reconnect));
            self.goto(ConnState::Failed { reason: format!("gave up after {max} reconnect attempts") });
            return;
        }
        self.attempt += 1;
        if !self.online {
            self.goto(ConnState::Reconnecting { attempt: self.attempt, retry_at_ms: None });
            return;
        }
        let delay = self.cfg.backoff.delay_ms(self.attempt - 1, self.rng.as_mut());
        self.metrics.reconnects += 1;
        if self.goto(ConnState::Reconnecting { attempt: self.attempt, retry_at_ms: Some(now + delay) }) {
            self.cmds.push(Cmd::SetTimer { kind: TimerKind::Reconnect, delay_ms: delay });
        }
    }

    /// The connection ended without the app asking.
    fn lost(&mut self, now: f64) {
        self.metrics.drops += 1;
        self.metrics.open_since_ms = None;
        self.down_since.get_or_insert(now);
    }
}
