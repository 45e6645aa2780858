//! The driver's rules, checked with a fake clock and a seeded random source.
//! `connect`: opening, sending, closing; `resilience`: backoff, timeouts,
//! heartbeats, policy, network and visibility.
//! `Harness` plays the glue: it keeps at most one timer per kind (as the glue
//! does) and fires them as time advances.

use super::*;
use crate::backoff::SplitMix64;
use crate::codec::Frame;
use crate::config::HeartbeatConfig;
use crate::queue::QueueFull;
use std::collections::HashMap;

pub(crate) struct Harness {
    pub d: Driver,
    pub now: f64,
    pub timers: HashMap<TimerKind, f64>,
    /// Everything the driver asked for, in order.
    pub log: Vec<Cmd>,
}

impl Harness {
    pub fn new(cfg: DriverConfig, seed: u64) -> Self {
        let mut d = Driver::new(cfg, Box::new(SplitMix64(seed)));
        d.set_url(Ok("ws://x/ws".into()), 0.0);
        Self { d, now: 0.0, timers: HashMap::new(), log: Vec::new() }
    }

    /// A harness whose connection is already open (handshake sent).
    pub fn connected(cfg: DriverConfig, seed: u64) -> Self {
        let mut h = Self::new(cfg, seed);
        h.d.open(0.0);
        h.pump();
        h.opened();
        h
    }

    /// Apply pending commands to the fake timer table and return them.
    pub fn pump(&mut self) -> Vec<Cmd> {
        let cmds = self.d.take_commands();
        for c in &cmds {
            match c {
                Cmd::SetTimer { kind, delay_ms } => {
                    self.timers.insert(*kind, self.now + delay_ms);
                }
                Cmd::CancelTimer(kind) => {
                    self.timers.remove(kind);
                }
                _ => {}
            }
        }
        self.log.extend(cmds.iter().cloned());
        cmds
    }

    /// Move the clock, firing due timers in time order.
    pub fn advance(&mut self, ms: f64) {
        let until = self.now + ms;
        loop {
            self.pump();
            let next = self
                .timers
                .iter()
                .filter(|(_, t)| **t <= until)
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(k, t)| (*k, *t));
            let Some((kind, at)) = next else { break };
            self.timers.remove(&kind);
            self.now = at;
            self.d.on_timer(kind, at);
        }
        self.now = until;
        self.pump();
    }

    pub fn state(&self) -> &ConnState {
        self.d.state()
    }

    pub fn opened(&mut self) -> Vec<Cmd> {
        self.d.on_open(self.now);
        self.pump()
    }

    pub fn dropped(&mut self, code: u16) -> Vec<Cmd> {
        self.d.on_close(code, String::new(), self.now);
        self.pump()
    }
}

pub(super) fn quiet() -> DriverConfig {
    DriverConfig { heartbeat: None, ..DriverConfig::default() }
}

/// What reaches the socket, in order; the glue sends the app's handshake
/// (here "hello") where the driver says `Handshake`.
pub(super) fn transmits(cmds: &[Cmd]) -> Vec<String> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::Handshake => Some("hello".to_owned()),
            Cmd::Transmit { frame: Frame::Text(t), .. } => Some(t.clone()),
            Cmd::Transmit { frame: Frame::Binary(b), .. } => Some(format!("{b:?}")),
            _ => None,
        })
        .collect()
}

pub(super) fn count(cmds: &[Cmd], f: impl Fn(&Cmd) -> bool) -> usize {
    cmds.iter().filter(|c| f(c)).count()
}

mod connect;
mod resilience;
