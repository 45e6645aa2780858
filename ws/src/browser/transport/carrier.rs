//! The transport under one connection: which one is tried (the pure
//! [`Selector`] decides), falling over to the next at once on an error or
//! close before the first frame or when its deadline passes, remembering a
//! working fallback for the tab's session, and probing WebSocket in the
//! background while on a fallback. A probe that gets a frame back takes over
//! make-before-break: the fallback's waiting frames are handed over first,
//! then its session is closed with `DELETE`; the app's resume cursor and
//! dedup absorb the overlap.
//!
//! The driver above sees one socket: `open` only once a transport proved
//! itself, and `close` only when none is left. Nothing here holds a borrow
//! while calling the host, which calls back in.

use super::{CarrierSettings, Host, Pipe};
use crate::browser::socket::Live;
use crate::close_code;
use crate::codec::Frame;
use crate::driver::timer_delay_ms;
use crate::fallback::{Attempt, FallbackConfig, Selector};
use crate::metrics::Transport;
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

mod failover;
mod memory;
mod probe;

/// A switch back to WebSocket waits this long at most for the fallback's
/// POSTs to drain (polled every [`SWITCH_POLL_MS`]).
const SWITCH_WAIT_TRIES: u32 = 50;
const SWITCH_POLL_MS: u32 = 100;
/// Frames a verified probe may buffer while the switch waits.
const PROBE_BUFFER: usize = 10_000;

struct Probe {
    live: Live,
    id: u64,
    frames: Vec<Frame>,
    verified: bool,
}

pub(crate) struct Carrier {
    me: Weak<Self>,
    host: Weak<dyn Host>,
    cfg: FallbackConfig,
    protocols: Vec<String>,
    url: RefCell<String>,
    selector: RefCell<Selector>,
    pipe: RefCell<Option<Pipe>>,
    /// The current pipe's generation; events from any other are ignored.
    id: Cell<u64>,
    generations: Cell<u64>,
    /// The handshake frames went out on the current pipe when it opened.
    presented: Cell<bool>,
    /// Those handshake frames: the next connection sends its own, so they
    /// are not handed back with the unaccepted ones.
    handshake: RefCell<Vec<Frame>>,
    /// A close the driver asked for is under way.
    closing: Cell<bool>,
    /// The network came back or the tab became visible while no fallback
    /// was working yet: probe as soon as one is.
    probe_soon: Cell<bool>,
    deadline: RefCell<Option<Timeout>>,
    probe: RefCell<Option<Probe>>,
    probe_deadline: RefCell<Option<Timeout>>,
    probe_timer: RefCell<Option<Timeout>>,
    /// WebSocket probes started on this hook (`Metrics::probes`).
    probes: Cell<u32>,
    /// A switch waits for the fallback's POSTs to drain: sends are held.
    switch_wait: RefCell<Option<Timeout>>,
    held: RefCell<Vec<Frame>>,
}

impl Carrier {
    pub fn new(host: Weak<dyn Host>, settings: CarrierSettings) -> Rc<Self> {
        let CarrierSettings { protocols, fallback: cfg } = settings;
        let selector = Selector::new(cfg.clone(), None, Box::new(js_sys::Math::random));
        Rc::new_cyclic(|me| Self {
            me: me.clone(),
            host,
            cfg,
            protocols,
            url: RefCell::new(String::new()),
            selector: RefCell::new(selector),
            pipe: RefCell::new(None),
            id: Cell::new(0),
            generations: Cell::new(0),
            presented: Cell::new(false),
            handshake: RefCell::new(Vec::new()),
            closing: Cell::new(false),
            probe_soon: Cell::new(false),
            deadline: RefCell::new(None),
            probe: RefCell::new(None),
            probe_deadline: RefCell::new(None),
            probe_timer: RefCell::new(None),
            probes: Cell::new(0),
            switch_wait: RefCell::new(None),
            held: RefCell::new(Vec::new()),
        })
    }

    fn host(&self) -> Option<Rc<dyn Host>> {
        self.host.upgrade()
    }

    /// The transport in use (or being tried).
    pub fn transport(&self) -> Transport {
        self.selector.borrow().transport()
    }

    /// The handshake frames already went out on the current transport.
    pub fn presented(&self) -> bool {
        self.presented.get()
    }

    /// A new connection attempt to `url`, replacing any current one (then
    /// `Ok(true)`). Errs when the browser refuses the URL outright.
    pub fn connect(&self, url: &str) -> Result<bool, String> {
        let had = self.abandon(close_code::NORMAL, "replaced");
        self.closing.set(false);
        if *self.url.borrow() != url {
            *self.url.borrow_mut() = url.to_owned();
            let remembered = self.recall(url);
            *self.selector.borrow_mut() = Selector::new(self.cfg.clone(), remembered, Box::new(js_sys::Math::random));
        }
        let attempt = self.selector.borrow_mut().begin();
        self.open_pipe(attempt)?;
        Ok(had)
    }

    fn open_pipe(&self, attempt: Attempt) -> Result<(), String> {
        let id = self.fresh_generation();
        self.id.set(id);
        self.presented.set(false);
        let me = self.me.clone();
        let sink = move |ev| {
            if let Some(c) = me.upgrade() {
                c.on_pipe(id, ev);
            }
        };
        let url = self.url.borrow().clone();
        let pipe = Pipe::open(attempt.transport, &url, &self.protocols, self.cfg.reattach_limit, sink)?;
        *self.pipe.borrow_mut() = Some(pipe);
        *self.deadline.borrow_mut() = attempt.deadline_ms.map(|ms| {
            let me = self.me.clone();
            Timeout::new(timer_delay_ms(ms), move || {
                if let Some(c) = me.upgrade() {
                    c.deadline_passed(id, ms);
                }
            })
        });
        Ok(())
    }

    fn fresh_generation(&self) -> u64 {
        self.generations.set(self.generations.get() + 1);
        self.generations.get()
    }

    /// Hand a frame to the transport (held while a switch waits).
    pub fn transmit(&self, frame: &Frame) -> bool {
        if self.switch_wait.borrow().is_some() {
            self.held.borrow_mut().push(frame.clone());
            return true;
        }
        self.pipe.borrow().as_ref().is_some_and(|p| p.transmit(frame))
    }

    /// A graceful close asked for by the driver.
    pub fn close(&self, code: u16, reason: &str) {
        self.closing.set(true);
        self.stop_probing();
        self.deadline.borrow_mut().take();
        if let Some(p) = self.pipe.borrow().as_ref() {
            p.close(code, reason);
        }
    }

    /// Drop the current transport now (written off, replaced); true if there
    /// was one.
    pub fn abandon(&self, code: u16, reason: &str) -> bool {
        self.stop_probing();
        self.deadline.borrow_mut().take();
        let old = self.pipe.borrow_mut().take();
        self.id.set(self.fresh_generation());
        let had = old.is_some();
        if let Some(p) = old {
            p.shutdown(code, reason);
        }
        self.selector.borrow_mut().lost();
        had
    }

    /// The network came back or the tab became visible: probe now if on a fallback.
    pub fn page_event(&self, back: bool) {
        if !back {
            return;
        }
        if self.selector.borrow().on_fallback() {
            self.start_probe();
        } else {
            self.probe_soon.set(self.cfg.enabled);
        }
    }

    /// Stop everything (the connection is disposed).
    pub fn dispose(&self, reason: &str) {
        self.abandon(close_code::NORMAL, reason);
        self.held.borrow_mut().clear();
    }
}
