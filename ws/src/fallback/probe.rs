//! The selector's probe decisions: when to try WebSocket again while on a
//! working fallback, and what a probe's outcome means for the transport in
//! use and for the tab's memory. The glue opens the probe's socket and
//! runs its timers (`browser/transport/carrier/probe.rs`).

use super::{Attempt, Remember, Selector};
use crate::metrics::Transport;

impl Selector {
    /// The fallback just verified was reached because WebSocket failed fast
    /// (a refused connection, as while the server restarts): probe
    /// WebSocket now rather than after the probe backoff.
    pub fn recheck_now(&self) -> bool {
        self.unconfirmed && self.on_fallback() && !self.probing
    }

    /// When to probe next (ms from now), while on a fallback and no probe is
    /// under way: from `probe_first_ms`, doubling up to `probe_max_ms`, with
    /// equal jitter (between half the ceiling and the ceiling) so tabs sent
    /// to the fallback by the same proxy do not probe in step.
    pub fn next_probe_ms(&mut self) -> Option<f64> {
        if !self.on_fallback() || self.probing {
            return None;
        }
        let exp = 2f64.powi(self.probe_attempt.min(40) as i32);
        let ceiling = (self.cfg.probe_first_ms * exp).min(self.cfg.probe_max_ms).max(0.0);
        let r = self.rng.next_f64().clamp(0.0, 1.0);
        Some(ceiling / 2.0 + r * ceiling / 2.0)
    }

    /// Start a probe now (its timer fired, the network came back or the tab
    /// became visible): the WebSocket attempt, unless not on a fallback or a
    /// probe is already under way.
    pub fn probe(&mut self) -> Option<Attempt> {
        if !self.on_fallback() || self.probing {
            return None;
        }
        self.probing = true;
        Some(Attempt { transport: Transport::WebSocket, deadline_ms: Some(self.ws_deadline_ms()) })
    }

    /// Whether a probe is under way.
    pub fn probing(&self) -> bool {
        self.probing
    }

    /// The probe failed (error, close, or no frame within its deadline): the
    /// next one waits longer. Returns what to remember: an unconfirmed
    /// fallback is confirmed by it.
    pub fn probe_failed(&mut self) -> Remember {
        if std::mem::take(&mut self.probing) {
            self.probe_attempt = self.probe_attempt.saturating_add(1);
        }
        if std::mem::take(&mut self.unconfirmed) && self.on_fallback() {
            return self.remember(self.current);
        }
        Remember::Nothing
    }

    /// The probe's WebSocket delivered a frame and took over: WebSocket is
    /// the working transport again. Returns what to remember.
    pub fn probe_succeeded(&mut self) -> Remember {
        self.probing = false;
        self.unconfirmed = false;
        self.probe_attempt = 0;
        self.current = Transport::WebSocket;
        self.start = Transport::WebSocket;
        self.verified = true;
        self.remember(Transport::WebSocket)
    }
}
