//! The thin layer between the pure [`Driver`] and the browser: it feeds
//! socket, timer, network and visibility events in, carries the driver's
//! commands out, and publishes state to signals.
//!
//! The is-mounted guard lives here: after `dispose` nothing may touch a
//! signal (they are disposed with the component), so every entry point checks
//! it first, and dispose clears it before tearing anything down.

use super::codec::{self, Incoming};
use super::driver::{Cmd, Driver, TimerKind};
use super::options::UseWebSocketOptions;
use super::registry;
use super::socket::{Live, SocketEvent};
use super::{ConnState, Metrics, WsError};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

pub(crate) struct Signals<Rx: Send + Sync + 'static> {
    pub state: RwSignal<ConnState>,
    pub message: RwSignal<Option<Incoming<Rx>>>,
    pub error: RwSignal<Option<WsError>>,
    pub metrics: RwSignal<Metrics>,
}

pub(crate) struct Inner<Tx, Rx: Send + Sync + 'static> {
    me: Weak<Self>,
    driver: RefCell<Driver>,
    socket: RefCell<Option<Live>>,
    /// Bumped per socket; events from an older socket are ignored.
    generation: Cell<u64>,
    timers: RefCell<HashMap<TimerKind, Timeout>>,
    listeners: RefCell<Vec<gloo_events::EventListener>>,
    mounted: Cell<bool>,
    opts: UseWebSocketOptions<Tx, Rx>,
    pub sig: Signals<Rx>,
}

/// Milliseconds on the monotonic page clock (`performance.now()`), the clock
/// of `ConnState::Reconnecting::retry_at_ms`.
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

impl<Tx, Rx> Inner<Tx, Rx>
where
    Tx: Serialize + 'static,
    Rx: DeserializeOwned + Clone + Send + Sync + 'static,
{
    pub fn new(opts: UseWebSocketOptions<Tx, Rx>, sig: Signals<Rx>) -> Rc<Self> {
        let driver = Driver::new(opts.driver_config(), Box::new(js_sys::Math::random));
        let inner = Rc::new_cyclic(|me| Self {
            me: me.clone(),
            driver: RefCell::new(driver),
            socket: RefCell::new(None),
            generation: Cell::new(0),
            timers: RefCell::new(HashMap::new()),
            listeners: RefCell::new(Vec::new()),
            mounted: Cell::new(true),
            opts,
            sig,
        });
        registry::hook_created();
        inner.listen_to_page();
        inner
    }

    pub fn immediate(&self) -> bool {
        self.opts.immediate
    }

    /// Run one driver step, carry out its commands, publish the result.
    pub fn step(&self, f: impl FnOnce(&mut Driver, f64)) {
        if !self.mounted.get() {
            registry::late_event();
            return;
        }
        f(&mut self.driver.borrow_mut(), now_ms());
        self.run_commands();
        self.publish();
    }

    pub fn send(&self, tx: &Tx) -> Result<(), WsError> {
        if !self.mounted.get() {
            return Err(WsError::Disposed);
        }
        let frame = codec::encode(tx).map_err(|e| WsError::Encode(e.to_string()))?;
        let r = self.driver.borrow_mut().send(frame);
        self.run_commands();
        self.publish();
        r.map_err(|e| self.report(WsError::QueueFull(e)))
    }

    fn report(&self, e: WsError) -> WsError {
        if self.mounted.get() {
            self.sig.error.set(Some(e.clone()));
        }
        e
    }

    fn run_commands(&self) {
        loop {
            let cmds = self.driver.borrow_mut().take_commands();
            if cmds.is_empty() {
                return;
            }
            let mut unsent = Vec::new();
            for cmd in cmds {
                match cmd {
                    Cmd::Transmit(frame) => {
                        let ok = unsent.is_empty() && self.socket.borrow().as_ref().is_some_and(|s| s.transmit(&frame));
                        if !ok {
                            unsent.push(frame);
                        }
                    }
                    other => self.execute(other),
                }
            }
            if !unsent.is_empty() {
                self.driver.borrow_mut().untransmitted(unsent);
            }
        }
    }

    fn execute(&self, cmd: Cmd) {
        match cmd {
            Cmd::Connect { url } => {
                drop(self.socket.borrow_mut().take());
                let generation = self.generation.get() + 1;
                self.generation.set(generation);
                let me = self.me.clone();
                let sink = move |ev| {
                    if let Some(inner) = me.upgrade() {
                        inner.on_socket_event(generation, ev);
                    }
                };
                match Live::connect(&url, sink) {
                    Ok(live) => *self.socket.borrow_mut() = Some(live),
                    Err(e) => {
                        let e = self.report(WsError::InvalidUrl(format!("{url}: {e}")));
                        self.driver.borrow_mut().connect_failed(e.to_string());
                    }
                }
            }
            Cmd::Close { code, reason } => {
                if let Some(s) = self.socket.borrow().as_ref() {
                    s.close(code, reason);
                }
            }
            Cmd::Abandon { code, reason } => {
                if let Some(s) = self.socket.borrow_mut().take() {
                    s.shutdown(code, reason);
                }
            }
            Cmd::Transmit(_) => unreachable!("handled in run_commands"),
            Cmd::Ping { nonce } => {
                let frame = self.opts.ping.as_ref().and_then(|p| codec::encode(&p(nonce)).ok());
                if let (Some(frame), Some(s)) = (frame, self.socket.borrow().as_ref()) {
                    s.transmit(&frame);
                }
            }
            Cmd::SetTimer { kind, delay_ms } => {
                let me = self.me.clone();
                let t = Timeout::new(delay_ms.ceil().clamp(0.0, u32::MAX as f64) as u32, move || {
                    if let Some(inner) = me.upgrade() {
                        inner.step(|d, now| d.on_timer(kind, now));
                    }
                });
                self.timers.borrow_mut().insert(kind, t); // replaces (and cancels) any older one
            }
            Cmd::CancelTimer(kind) => {
                self.timers.borrow_mut().remove(&kind);
            }
            Cmd::Warn(w) => web_sys::console::warn_1(&format!("tether ws: {w}").into()),
        }
    }

    fn on_socket_event(&self, generation: u64, ev: SocketEvent) {
        if generation != self.generation.get() {
            return;
        }
        match ev {
            SocketEvent::Open => {
                let frames = (self.opts.handshake)().iter().filter_map(|tx| codec::encode(tx).ok()).collect();
                self.step(|d, now| d.on_open(now, frames));
            }
            SocketEvent::Close { code, reason } => self.step(|d, now| d.on_close(code, reason, now)),
            SocketEvent::Message(frame) => self.on_frame(frame),
        }
    }

    fn on_frame(&self, frame: Result<String, u32>) {
        if !self.mounted.get() {
            registry::late_event();
            return;
        }
        let (len, incoming) = match frame {
            Ok(text) => (text.len(), codec::decode::<Rx>(&text)),
            Err(n) => (
                n as usize,
                Incoming::Raw { text: String::new(), error: format!("unexpected binary frame of {n} bytes") },
            ),
        };
        let pong = match &incoming {
            Incoming::Typed(rx) => self.opts.pong.as_ref().and_then(|p| p(rx)),
            Incoming::Raw { .. } => None,
        };
        self.step(|d, now| {
            d.on_frame(len);
            if let Some(nonce) = pong {
                d.on_pong(nonce, now);
            }
            if matches!(incoming, Incoming::Raw { .. }) {
                d.on_malformed();
            }
        });
        if let Incoming::Raw { error, .. } = &incoming {
            web_sys::console::warn_1(&format!("tether ws: unreadable frame: {error}").into());
            self.report(WsError::Malformed(error.clone()));
        }
        (self.opts.on_message)(&incoming);
        if self.mounted.get() {
            self.sig.message.set(Some(incoming));
        }
    }

    /// Copy the driver's state to the signals, writing only what changed so
    /// subscribers do not re-run for nothing.
    fn publish(&self) {
        if !self.mounted.get() {
            return;
        }
        let (state, metrics) = {
            let d = self.driver.borrow();
            (d.state().clone(), d.metrics().clone())
        };
        if self.sig.state.with_untracked(|s| s != &state) {
            self.sig.state.set(state);
        }
        if self.sig.metrics.with_untracked(|m| m != &metrics) {
            self.sig.metrics.set(metrics);
        }
    }

    fn listen_to_page(&self) {
        let Some(window) = web_sys::window() else { return };
        let document = window.document();
        let online = window.navigator().on_line();
        let visible = document.as_ref().is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
        {
            let mut d = self.driver.borrow_mut();
            d.set_online(online, now_ms());
            d.set_visible(visible, now_ms());
        }
        let mut ls = self.listeners.borrow_mut();
        for (name, up) in [("online", true), ("offline", false)] {
            let me = self.me.clone();
            ls.push(gloo_events::EventListener::new(&window, name, move |_| {
                if let Some(inner) = me.upgrade() {
                    inner.step(|d, now| d.set_online(up, now));
                }
            }));
        }
        if let Some(doc) = document {
            let me = self.me.clone();
            let target = doc.clone();
            ls.push(gloo_events::EventListener::new(&doc, "visibilitychange", move |_| {
                let visible = target.visibility_state() == web_sys::VisibilityState::Visible;
                if let Some(inner) = me.upgrade() {
                    inner.step(|d, now| d.set_visible(visible, now));
                }
            }));
        }
    }

    /// Unmount: guard first, then timers, listeners and the socket.
    pub fn dispose(&self) {
        if !self.mounted.replace(false) {
            return;
        }
        self.timers.borrow_mut().clear();
        self.listeners.borrow_mut().clear();
        if let Some(s) = self.socket.borrow_mut().take() {
            s.shutdown(1000, "component unmounted");
        }
        registry::hook_disposed();
    }
}
