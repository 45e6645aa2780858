//! Which transport carries the connection, decided without `web_sys`:
//! WebSocket first, then Server-Sent Events + POST, then long-polling + POST;
//! when a fallback is in use, when to probe WebSocket again, and what to
//! remember for the tab's session.
//!
//! A transport counts as working only once the server's first frame has
//! arrived, not at `onopen`: a proxy that accepts the upgrade and then
//! passes nothing, or one that buffers an event stream, opens fine and
//! delivers nothing. So each attempt has a deadline, and an error or close
//! before the first frame moves on at once. An attempt that starts on a
//! fallback (remembered, or the one that last worked) and finds it broken
//! goes round to WebSocket again: a fallback that breaks must not keep the
//! tab off a WebSocket that works. The memory is cleared only once
//! WebSocket delivers its first frame, not when the fallback fails: a server
//! restarting refuses every transport, and a tab that forgot then would pay
//! the WebSocket deadline again on its next reload. The glue carries out the
//! decisions (sockets, streams, timers, sessionStorage); the [`Selector`]
//! only decides, so its rules are tested natively with a seeded random
//! source.

mod config;
mod probe;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use config::FallbackConfig;

use crate::backoff::RandomSource;
use crate::metrics::Transport;

/// One transport to try, with the time it has to deliver its first frame
/// (`None`: no fallback after it, the driver's connect timeout applies).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attempt {
    /// The transport.
    pub transport: Transport,
    /// Give up on it after this many ms without a frame.
    pub deadline_ms: Option<f64>,
}

/// What a failure before the first frame leads to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AfterFailure {
    /// Try the next transport now (the same connection attempt).
    Try(Attempt),
    /// No transport left: the connection is lost (the driver backs off).
    Lost,
}

/// What the glue should write to the tab's session storage for this URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remember {
    /// Nothing to change.
    Nothing,
    /// This fallback works here: start with it after a reload.
    Keep(Transport),
    /// WebSocket works: forget any fallback.
    Forget,
}

/// The transport decisions of one connection.
pub struct Selector {
    cfg: FallbackConfig,
    rng: Box<dyn RandomSource>,
    /// Where the next connection attempt starts: the transport that last
    /// worked, or the one remembered for this URL.
    start: Transport,
    /// Where the current connection attempt started.
    began: Transport,
    /// The transport being tried or in use.
    current: Transport,
    /// The current transport has delivered a frame.
    verified: bool,
    /// A background WebSocket probe is under way.
    probing: bool,
    /// Failed probes in a row; indexes the probe backoff.
    probe_attempt: u32,
    /// WebSocket failed fast in this attempt (an error or close, not its
    /// deadline): as likely a server restarting as a proxy refusing the
    /// upgrade, so the fallback it led to is checked with a probe at once
    /// and remembered only if that probe fails.
    ws_failed_fast: bool,
    /// A fallback reached that way works, not yet remembered: the probe
    /// started at once decides.
    unconfirmed: bool,
    /// WebSocket has delivered a frame on this page before.
    ws_worked: bool,
    /// WebSocket failures in a row (before a frame) since it last worked.
    ws_failures: u32,
}

/// Once WebSocket has worked on a page, this many failures in a row (each
/// after the driver's backoff; an error, a close or no frame in time) come
/// before falling back. A WebSocket that worked and now fails is most
/// likely a server restarting, not a network that changed; falling back
/// then would put every tab on SSE at the same moment, and unshared tabs
/// starve each other's POSTs on the browser's six connections per origin.
pub const WS_FAILURES_BEFORE_FALLBACK: u32 = 3;

/// Once WebSocket has worked on a page, its attempts (and probes) get this
/// many times `ws_deadline_ms`. After a server restart Firefox holds new
/// sockets to that host unopened for a growing delay (RFC 6455 section
/// 7.2.3; 200 ms growing 1.5x per failure, up to a minute) and opens one at
/// a time: with the plain deadline every tab gave up a socket that was only
/// waiting its turn, and went to SSE.
pub const WS_DEADLINE_FACTOR_AFTER_IT_WORKED: f64 = 3.0;

impl Selector {
    /// A selector starting with `remembered` (read from session storage by
    /// the glue) when fallback and remembering are on, else WebSocket.
    pub fn new(cfg: FallbackConfig, remembered: Option<Transport>, rng: Box<dyn RandomSource>) -> Self {
        let start = remembered.filter(|_| cfg.enabled && cfg.remember).unwrap_or_default();
        Self {
            cfg,
            rng,
            start,
            began: start,
            current: start,
            verified: false,
            probing: false,
            probe_attempt: 0,
            ws_failed_fast: false,
            unconfirmed: false,
            ws_worked: false,
            ws_failures: 0,
        }
    }

    /// The transport being tried or in use.
    pub fn transport(&self) -> Transport {
        self.current
    }

    /// Whether the current transport has delivered its first frame.
    pub fn verified(&self) -> bool {
        self.verified
    }

    /// A new connection attempt (the driver's connect): starts with the
    /// transport that last worked.
    pub fn begin(&mut self) -> Attempt {
        self.began = self.start;
        self.current = self.start;
        self.verified = false;
        self.probing = false;
        self.ws_failed_fast = false;
        self.unconfirmed = false;
        self.attempt(self.current)
    }

    fn attempt(&self, transport: Transport) -> Attempt {
        let deadline_ms = match transport {
            _ if !self.cfg.enabled => None,
            Transport::WebSocket => Some(self.ws_deadline_ms()),
            Transport::Sse => Some(self.cfg.sse_deadline_ms),
            // Long-polling is last in the plain order, so it has no deadline
            // of its own, unless another transport follows it in this
            // attempt (one begun on a fallback goes round to WebSocket): a
            // hanging poll must not hold that one back for the whole connect
            // timeout, and a poll answers a handshake as quickly as a stream.
            Transport::LongPoll if self.next_after(transport).is_some() => Some(self.cfg.sse_deadline_ms),
            Transport::LongPoll => None,
        };
        Attempt { transport, deadline_ms }
    }

    fn ws_deadline_ms(&self) -> f64 {
        let factor = if self.ws_worked { WS_DEADLINE_FACTOR_AFTER_IT_WORKED } else { 1.0 };
        self.cfg.ws_deadline_ms * factor
    }

    /// The transport opened; `spoke`: the handshake frames went out on it.
    /// Without fallback, or when nothing was said that the server could
    /// answer, open is all the evidence there will be: it counts as working
    /// (`Some`). Otherwise the first frame decides.
    pub fn opened(&mut self, spoke: bool) -> Option<Remember> {
        if self.cfg.enabled && spoke { None } else { self.first_frame() }
    }

    /// A frame arrived on the current transport. The first one makes it the
    /// working transport (`Some`, with what to remember); later ones `None`.
    pub fn first_frame(&mut self) -> Option<Remember> {
        if self.verified {
            return None;
        }
        self.verified = true;
        self.start = self.current;
        self.probe_attempt = 0;
        if self.current == Transport::WebSocket {
            self.ws_worked = true;
            self.ws_failures = 0;
        }
        if self.current != Transport::WebSocket && std::mem::take(&mut self.ws_failed_fast) && self.cfg.enabled {
            self.unconfirmed = true;
            return Some(Remember::Nothing);
        }
        Some(self.remember(self.current))
    }

    fn remember(&self, t: Transport) -> Remember {
        match t {
            _ if !(self.cfg.enabled && self.cfg.remember) => Remember::Nothing,
            Transport::WebSocket => Remember::Forget,
            other => Remember::Keep(other),
        }
    }

    /// The current transport failed before its first frame (error, close, or
    /// its deadline passed): the next one, or lost.
    pub fn failed(&mut self) -> AfterFailure {
        self.failed_with(true)
    }

    /// [`Self::failed`], saying whether it was the deadline that passed
    /// (`timed_out`) or an error or close (a fast failure).
    pub fn failed_with(&mut self, timed_out: bool) -> AfterFailure {
        let ws_failed = self.current == Transport::WebSocket && !self.verified;
        if ws_failed && self.ws_worked && self.cfg.enabled {
            self.ws_failures += 1;
            if self.ws_failures < WS_FAILURES_BEFORE_FALLBACK {
                return AfterFailure::Lost;
            }
        }
        if self.current == Transport::WebSocket && !self.verified {
            self.ws_failed_fast = !timed_out;
        }
        if self.current == self.began && self.began != Transport::WebSocket && !self.verified && self.cfg.enabled {
            // The fallback this attempt started with (remembered, or the one
            // that last worked) no longer gets through: it may be the
            // fallback that broke while WebSocket works again, and with
            // WebSocket never tried no probe would ever find that out. The
            // memory stays until WebSocket's first frame clears it: if
            // nothing gets through (a server restarting), it still holds.
            self.start = Transport::WebSocket;
        }
        match self.next_after(self.current).filter(|_| self.cfg.enabled && !self.verified) {
            Some(next) => {
                self.current = next;
                AfterFailure::Try(self.attempt(next))
            }
            None => AfterFailure::Lost,
        }
    }

    /// The transport to try after `t` in this attempt: the order wraps
    /// round to WebSocket when the attempt began with a fallback, and ends
    /// before coming back to where it began.
    fn next_after(&self, t: Transport) -> Option<Transport> {
        let next = match t.next() {
            None if self.began != Transport::WebSocket => Some(Transport::WebSocket),
            next => next,
        };
        next.filter(|t| *t != self.began)
    }

    /// A working connection ended: any probe is moot, the next attempt
    /// starts with the transport that worked.
    pub fn lost(&mut self) {
        self.verified = false;
        self.probing = false;
    }

    /// On a working fallback, so WebSocket should be probed.
    pub fn on_fallback(&self) -> bool {
        self.cfg.enabled && self.verified && self.current != Transport::WebSocket
    }
}
