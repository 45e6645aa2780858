//! The carrier without the `fallback` feature: one WebSocket per
//! connection attempt, nothing else. It behaves as the full carrier does
//! with `fallback(false)`: the socket's `open` is the connection's, its
//! events go to the host unchanged (the browser's `error` only once the
//! socket opened or a close was asked for: before that a close follows and
//! says it all), and there is never a probe, a deadline or a session.

use super::{CarrierSettings, Host};
use crate::browser::socket::{Live, SocketEvent};
use crate::close_code;
use crate::codec::Frame;
use crate::metrics::Transport;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

pub(crate) struct Carrier {
    me: Weak<Self>,
    host: Weak<dyn Host>,
    protocols: Vec<String>,
    live: RefCell<Option<Live>>,
    /// The current socket's generation; events from any other are ignored.
    id: Cell<u64>,
    /// The current socket has opened.
    opened: Cell<bool>,
    /// A close the driver asked for is under way.
    closing: Cell<bool>,
}

impl Carrier {
    pub fn new(host: Weak<dyn Host>, settings: CarrierSettings) -> Rc<Self> {
        Rc::new_cyclic(|me| Self {
            me: me.clone(),
            host,
            protocols: settings.protocols,
            live: RefCell::new(None),
            id: Cell::new(0),
            opened: Cell::new(false),
            closing: Cell::new(false),
        })
    }

    /// Always WebSocket.
    pub fn transport(&self) -> Transport {
        Transport::WebSocket
    }

    /// Background probes: none without a fallback.
    pub fn probes(&self) -> u32 {
        0
    }

    /// Whether the handshake frames went out as the transport opened: only a
    /// fallback's transports do that (to prove themselves).
    pub fn presented(&self) -> bool {
        false
    }

    /// A new socket to `url`, replacing any current one (then `Ok(true)`).
    /// Errs when the browser refuses the URL outright.
    pub fn connect(&self, url: &str) -> Result<bool, String> {
        let had = self.abandon(close_code::NORMAL, "replaced");
        self.closing.set(false);
        let id = self.id.get() + 1;
        self.id.set(id);
        let me = self.me.clone();
        let sink = move |ev| {
            if let Some(c) = me.upgrade() {
                c.on_socket(id, ev);
            }
        };
        *self.live.borrow_mut() = Some(Live::connect(url, &self.protocols, sink)?);
        Ok(had)
    }

    pub fn transmit(&self, frame: &Frame) -> bool {
        self.live.borrow().as_ref().is_some_and(|l| l.transmit(frame))
    }

    /// A graceful close asked for by the driver.
    pub fn close(&self, code: u16, reason: &str) {
        self.closing.set(true);
        if let Some(l) = self.live.borrow().as_ref() {
            l.close(code, reason);
        }
    }

    /// Drop the current socket now (written off, replaced); true if there
    /// was one.
    pub fn abandon(&self, code: u16, reason: &str) -> bool {
        let old = self.live.borrow_mut().take();
        self.id.set(self.id.get() + 1);
        self.opened.set(false);
        let had = old.is_some();
        if let Some(l) = old {
            l.shutdown(code, reason);
        }
        had
    }

    /// The network came back or the tab became visible: the driver retries;
    /// there is no fallback to probe from.
    pub fn page_event(&self, _back: bool) {}

    fn on_socket(&self, id: u64, ev: SocketEvent) {
        if id != self.id.get() {
            return;
        }
        let Some(host) = self.host.upgrade() else { return };
        match ev {
            SocketEvent::Open => self.opened.set(true),
            SocketEvent::Error if !(self.opened.get() || self.closing.get()) => return,
            SocketEvent::Close { .. } => {
                let old = self.live.borrow_mut().take();
                self.opened.set(false);
                drop(old);
            }
            SocketEvent::Message(_) | SocketEvent::Error => {}
        }
        host.event(ev);
    }

    /// Stop everything (the connection is disposed).
    pub fn dispose(&self, reason: &str) {
        self.abandon(close_code::NORMAL, reason);
    }
}
