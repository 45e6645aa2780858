//! A subscriber: one hook instance's view of a connection (its signals and
//! callbacks), and [`Subscribers`], the list a connection fans out to.
//!
//! The is-mounted guard lives here: after its component is gone nothing may
//! touch a subscriber's signals (they are disposed with the component) or
//! call its callbacks, so every entry point checks it first.

use super::registry;
use crate::codec::Incoming;
use crate::options::{OnClose, OnError, OnMessage, UseWebSocketOptions};
use crate::{ConnState, Metrics, WsError};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The signals a hook instance returns (read-only) and the glue writes.
pub(crate) struct Signals<Rx: Send + Sync + 'static> {
    pub state: RwSignal<ConnState>,
    pub message: RwSignal<Option<Incoming<Rx>>>,
    pub error: RwSignal<Option<WsError>>,
    pub metrics: RwSignal<Metrics>,
}

impl<Rx: Send + Sync + 'static> Signals<Rx> {
    pub fn new() -> Self {
        Self {
            state: RwSignal::new(ConnState::Idle),
            message: RwSignal::new(None),
            error: RwSignal::new(None),
            metrics: RwSignal::new(Metrics::default()),
        }
    }
}

pub(crate) struct Sub<Tx: 'static, Rx: Send + Sync + 'static> {
    pub sig: Signals<Rx>,
    mounted: Cell<bool>,
    handshake: Rc<dyn Fn() -> Vec<Tx>>,
    on_open: Rc<dyn Fn()>,
    on_message: OnMessage<Rx>,
    on_close: OnClose,
    on_error: OnError,
}

impl<Tx: 'static, Rx: Clone + Send + Sync + 'static> Sub<Tx, Rx> {
    pub fn new<C>(opts: &UseWebSocketOptions<Tx, Rx, C>) -> Rc<Self> {
        registry::hook_created();
        Rc::new(Self {
            sig: Signals::new(),
            mounted: Cell::new(true),
            handshake: opts.handshake.clone(),
            on_open: opts.on_open.clone(),
            on_message: opts.on_message.clone(),
            on_close: opts.on_close.clone(),
            on_error: opts.on_error.clone(),
        })
    }

    pub fn mounted(&self) -> bool {
        self.mounted.get()
    }

    /// Unmount: from now on nothing reaches this subscriber.
    pub fn dispose(&self) {
        if self.mounted.replace(false) {
            registry::hook_disposed();
        }
    }

    pub fn handshake_frames(&self) -> Vec<Tx> {
        if self.mounted() { (self.handshake)() } else { Vec::new() }
    }

    pub fn opened(&self) {
        if self.mounted() {
            (self.on_open)();
        }
    }

    pub fn deliver(&self, incoming: Incoming<Rx>) {
        if !self.mounted() {
            registry::late_event();
            return;
        }
        (self.on_message)(&incoming);
        if self.mounted() {
            self.sig.message.set(Some(incoming));
        }
    }

    pub fn closed(&self, code: u16, reason: &str, was_clean: bool) {
        if self.mounted() {
            (self.on_close)(code, reason, was_clean);
        }
    }

    /// The browser's `error` event: for `on_error` only (a close follows,
    /// which is what the state shows).
    pub fn connection_error(&self) {
        if self.mounted() {
            (self.on_error)(&WsError::Connection);
        }
    }

    /// Show `e` in the `error` signal and tell `on_error`; returns it.
    pub fn report(&self, e: WsError) -> WsError {
        if self.mounted() {
            self.sig.error.set(Some(e.clone()));
            (self.on_error)(&e);
        }
        e
    }

    /// A usable URL arrived: an earlier URL error no longer applies.
    pub fn clear_url_error(&self) {
        if self.mounted() && self.sig.error.with_untracked(|e| matches!(e, Some(WsError::InvalidUrl(_)))) {
            self.sig.error.set(None);
        }
    }

    /// Write state and metrics, only what changed, so subscribers of the
    /// signals do not re-run for nothing.
    pub fn publish(&self, state: &ConnState, metrics: &Metrics) {
        if !self.mounted() {
            return;
        }
        if self.sig.state.with_untracked(|s| s != state) {
            self.sig.state.set(state.clone());
        }
        if self.sig.metrics.with_untracked(|m| m != metrics) {
            self.sig.metrics.set(metrics.clone());
        }
    }
}

/// The subscribers of one connection, in subscription order.
pub(crate) struct Subscribers<Tx: 'static, Rx: Send + Sync + 'static>(RefCell<Vec<Rc<Sub<Tx, Rx>>>>);

impl<Tx: 'static, Rx: Clone + Send + Sync + 'static> Subscribers<Tx, Rx> {
    pub fn new() -> Self {
        Self(RefCell::new(Vec::new()))
    }

    pub fn add(&self, sub: Rc<Sub<Tx, Rx>>) {
        self.0.borrow_mut().push(sub);
    }

    /// Remove `sub`; true when none is left.
    pub fn remove(&self, sub: &Rc<Sub<Tx, Rx>>) -> bool {
        let mut subs = self.0.borrow_mut();
        subs.retain(|s| !Rc::ptr_eq(s, sub));
        subs.is_empty()
    }

    /// A snapshot, so no borrow is held while the app runs (it may subscribe
    /// or unsubscribe from inside a callback).
    pub fn all(&self) -> Vec<Rc<Sub<Tx, Rx>>> {
        self.0.borrow().clone()
    }

    pub fn report(&self, e: &WsError) {
        for sub in self.all() {
            sub.report(e.clone());
        }
    }

    pub fn publish(&self, state: &ConnState, metrics: &Metrics) {
        for sub in self.all() {
            sub.publish(state, metrics);
        }
    }

    pub fn closed(&self, code: u16, reason: &str, was_clean: bool) {
        for sub in self.all() {
            sub.closed(code, reason, was_clean);
        }
    }

    /// Each subscriber gets its own copy; the last one takes `incoming`
    /// itself, so the usual single subscriber costs no copy (and no snapshot).
    pub fn deliver(&self, incoming: Incoming<Rx>) {
        let only = {
            let subs = self.0.borrow();
            (subs.len() == 1).then(|| subs[0].clone())
        };
        if let Some(sub) = only {
            return sub.deliver(incoming);
        }
        let mut all = self.all();
        let Some(last) = all.pop() else { return };
        for sub in all {
            sub.deliver(incoming.clone());
        }
        last.deliver(incoming);
    }
}
