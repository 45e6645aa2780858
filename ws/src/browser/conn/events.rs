//! What the transport reports to a connection, and what the connection
//! does at the transport's edges: connecting, the handshake, frames in,
//! closes, and the transport switching under it.

use super::Conn;
#[cfg(feature = "fallback")]
use crate::ConnState;
use crate::WsError;
use crate::browser::registry;
use crate::browser::socket::SocketEvent;
use crate::browser::transport::Host;
use crate::codec::{Codec, Frame, Incoming, decode};
use std::hash::{Hash, Hasher};

/// Which handshake frames to produce.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handshake {
    /// For a transport that just opened: all of them.
    Fresh,
    /// Again at `open`, after the transport sent them when it opened: only new ones.
    Again,
    /// For a probe: all of them, not recorded as sent on the current transport.
    #[cfg(feature = "fallback")]
    Probe,
}

fn frame_key(frame: &Frame) -> (u64, usize) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    frame.hash(&mut hasher);
    (hasher.finish(), frame.len())
}

impl<Tx, Rx, C> Conn<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + 'static,
{
    /// The app's URL (or why it is not one), opening too if `open`.
    pub fn set_url(&self, url: Result<String, String>, open: bool) {
        self.drop_arrivals_for(&url);
        self.step(|d, now| {
            d.set_url(url, now);
            if open {
                d.open(now);
            }
        });
    }

    pub(super) fn connect(&self, url: &str) {
        match self.carrier.connect(url) {
            Ok(true) => self.closed(crate::close_code::NORMAL, "replaced", true),
            Ok(false) => {}
            Err(e) => {
                let e = WsError::InvalidUrl(format!("{url}: {e}"));
                self.subs.report(&e);
                self.driver.borrow_mut().connect_failed(e.to_string());
            }
        }
    }

    /// Every subscriber's handshake frames (unless the transport already
    /// sent them when it opened), then its `on_open`. Runs only after the
    /// driver accepted the move to `open`.
    ///
    /// When the transport already sent them as it opened (to prove itself),
    /// they are asked for again and only what is new goes out: a message the
    /// app queued while the transport was proving itself belongs in the
    /// handshake, before anything sent after `open`.
    pub(super) fn handshake(&self) {
        let mode = if self.carrier.presented() { Handshake::Again } else { Handshake::Fresh };
        for frame in self.encoded_handshake(mode) {
            if self.transmit(&frame) {
                self.driver.borrow_mut().sent_by_glue(frame.len());
            }
        }
        self.opened();
    }

    fn opened(&self) {
        if let Some(tap) = self.tap() {
            tap.opened();
        }
        for sub in &self.subs.all() {
            sub.opened();
        }
    }

    /// The subscribers' handshake frames, in subscription order, each once.
    /// For the current transport they are recorded as sent on it, so an
    /// identical frame (relayed, or asked for again) does not go out twice.
    fn encoded_handshake(&self, mode: Handshake) -> Vec<Frame> {
        let mut seen = std::collections::HashSet::new();
        #[cfg(feature = "fallback")]
        let probe = mode == Handshake::Probe;
        #[cfg(not(feature = "fallback"))]
        let probe = false;
        if mode == Handshake::Fresh {
            self.handshake_sent.borrow_mut().clear();
        }
        let mut out = Vec::new();
        for sub in &self.subs.all() {
            for tx in sub.handshake_frames() {
                match self.codec.encode(&tx) {
                    Ok(frame) => {
                        let key = frame_key(&frame);
                        let fresh = if probe { seen.insert(key) } else { self.handshake_sent.borrow_mut().insert(key) };
                        if fresh {
                            out.push(frame);
                        }
                    }
                    Err(e) => {
                        sub.report(WsError::Encode(e.to_string()));
                    }
                }
            }
        }
        out
    }

    pub(super) fn closed(&self, code: u16, reason: &str, was_clean: bool) {
        self.hand_over_arrivals();
        self.subs.closed(code, reason, was_clean);
        if let Some(tap) = self.tap() {
            tap.closed(code, reason, was_clean);
        }
    }

    fn on_frame(&self, frame: Frame) {
        if !self.alive.get() {
            registry::late_event();
            return;
        }
        if let Some(tap) = self.tap() {
            tap.frame(&frame);
        }
        let len = frame.len();
        let incoming = decode(&self.codec, frame);
        let pong = match &incoming {
            Incoming::Message(rx) => self.pong.as_ref().and_then(|p| p(rx)),
            Incoming::Undecodable { .. } => None,
        };
        self.step_quietly(|d, now| {
            d.on_frame(len);
            if let Some(nonce) = pong {
                d.on_pong(nonce, now);
            }
            if matches!(incoming, Incoming::Undecodable { .. }) {
                d.on_malformed();
            }
        });
        self.arrived(incoming);
    }
}

impl<Tx, Rx, C> Host for Conn<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + 'static,
{
    #[cfg(feature = "fallback")]
    fn handshake_frames(&self, probe: bool) -> Vec<Frame> {
        // Only for a connection being made (or a probe of a working one):
        // never for one the app closed meanwhile.
        let state = self.driver.borrow().state().clone();
        let wanted = if probe { state.is_open() } else { matches!(state, ConnState::Connecting) };
        if !self.alive.get() || !wanted {
            return Vec::new();
        }
        let frames = self.encoded_handshake(if probe { Handshake::Probe } else { Handshake::Fresh });
        if !probe {
            let mut d = self.driver.borrow_mut();
            frames.iter().for_each(|f| d.sent_by_glue(f.len()));
        }
        frames
    }

    fn event(&self, ev: SocketEvent) {
        if !matches!(ev, SocketEvent::Message(_)) && self.alive.get() {
            self.hand_over_arrivals();
            if !self.alive.get() {
                // The app's `on_message` unmounted the last subscriber.
                return;
            }
        }
        match ev {
            SocketEvent::Open => self.step(|d, now| d.on_open(now)),
            SocketEvent::Close { code, reason, was_clean } => {
                if let Some(tap) = self.tap() {
                    tap.closed(code, &reason, was_clean);
                }
                // The driver first, so that `state` inside the app's
                // `on_close` is already the new one (reconnecting, closed,
                // failed) and a `reconnect_now` from there acts on it.
                let why = reason.clone();
                self.step(|d, now| d.on_close(code, why, now));
                self.subs.closed(code, &reason, was_clean);
            }
            SocketEvent::Error => self.subs.all().iter().for_each(|s| s.connection_error()),
            SocketEvent::Message(frame) => self.on_frame(frame),
        }
    }

    #[cfg(feature = "fallback")]
    fn switched(&self) {
        // The new socket has this tab's handshake; other tabs' frames (a
        // leader's followers) must go out on it again.
        self.handshake_sent.borrow_mut().clear();
        if let Some(tap) = self.tap() {
            tap.opened();
        }
        self.publish();
    }

    #[cfg(feature = "fallback")]
    fn next_transport(&self) {
        self.step(|d, now| d.next_transport(now));
    }

    #[cfg(feature = "fallback")]
    fn probing(&self) {
        self.publish();
    }

    #[cfg(feature = "fallback")]
    fn unsent(&self, frames: Vec<Frame>) {
        self.step(|d, now| d.untransmitted(frames.into_iter().map(|f| (f, now)).collect()));
    }
}
