//! One connection: the pure [`Driver`], the transport [`Carrier`] (a
//! WebSocket or the HTTP fallback), its timers and page listeners, and the
//! hook instances subscribed to it (one, or several in shared mode). It feeds
//! transport, timer, network and visibility events to the driver, carries the
//! driver's commands out, and fans results out to every subscriber. What the
//! transport reports is handled in `events`.
//!
//! Nothing here holds a `RefCell` borrow while calling the app (handshake,
//! callbacks, signal writes), because the app may call back in (`send` from
//! `on_message` is normal).

use super::page::{PageEvent, PageWatch};
use super::publish::Publisher;
use super::registry;
pub(crate) use super::settings::{ConnSettings, Stamp, Tap};

mod arrivals;
mod commands;
mod events;
#[cfg(feature = "tabs")]
mod leader;
use super::sub::{Sub, Subscribers};
use super::transport::{Carrier, Host};
use crate::codec::{Codec, Frame, Incoming};
use crate::driver::{Driver, TimerKind};
use crate::options::{PingFn, PongFn, UseWebSocketOptions};
use crate::{ConnState, Metrics, WsError};
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::rc::{Rc, Weak};

/// Milliseconds on the monotonic page clock (`performance.now()`), the clock
/// of `ConnState::Reconnecting::retry_at_ms`.
pub fn now_ms() -> f64 {
    // Looked up once: every inbound frame asks.
    thread_local! {
        static PERFORMANCE: Option<web_sys::Performance> = web_sys::window().and_then(|w| w.performance());
    }
    PERFORMANCE.with(|p| p.as_ref().map_or_else(js_sys::Date::now, web_sys::Performance::now))
}

pub(crate) struct Conn<Tx: 'static, Rx: Send + Sync + 'static, C> {
    me: Weak<Self>,
    driver: RefCell<Driver>,
    carrier: Rc<Carrier>,
    timers: RefCell<HashMap<TimerKind, Timeout>>,
    page: RefCell<Option<PageWatch>>,
    alive: Cell<bool>,
    codec: C,
    ping: Option<PingFn<Tx>>,
    pong: Option<PongFn<Rx>>,
    subs: Subscribers<Tx, Rx>,
    /// Set by a `try_send` frame the browser would not take.
    direct_failed: Cell<bool>,
    /// Handshake frames already sent on the current socket (hash, length):
    /// the same frame from several subscribers or tabs (a hello, a join, a
    /// pending post each restored from shared storage) goes out once.
    handshake_sent: RefCell<HashSet<(u64, usize)>>,
    /// Called once when the last subscriber leaves (shared mode forgets it).
    on_dispose: RefCell<Option<Box<dyn FnOnce()>>>,
    publisher: Publisher,
    /// Decoded frames not yet handed to the subscribers (`arrivals`).
    arrivals: RefCell<VecDeque<Incoming<Rx>>>,
    delivery_queued: Cell<bool>,
    handing_over: Cell<bool>,
    tap: RefCell<Option<Weak<dyn Tap>>>,
    /// Written into published metrics: the tab's role and cross-tab fields.
    stamp: RefCell<Stamp>,
}

impl<Tx, Rx, C> Conn<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx>,
{
    /// A connection with the settings of `opts` (its callbacks belong to the
    /// subscriber, not to the connection).
    pub fn new(opts: &UseWebSocketOptions<Tx, Rx, C>, codec: C) -> Rc<Self>
    where
        C: Clone,
    {
        let mut settings = ConnSettings::from_options(opts);
        settings.codec = codec;
        Self::with_settings(settings)
    }

    pub fn with_settings(s: ConnSettings<Tx, Rx, C>) -> Rc<Self> {
        let ConnSettings { driver, carrier, codec, ping, pong } = s;
        let driver = Driver::new(driver, Box::new(js_sys::Math::random));
        let conn = Rc::new_cyclic(|me| Self {
            me: me.clone(),
            driver: RefCell::new(driver),
            carrier: Carrier::new(me.clone() as Weak<dyn Host>, carrier),
            timers: RefCell::new(HashMap::new()),
            page: RefCell::new(None),
            alive: Cell::new(true),
            codec,
            ping,
            pong,
            subs: Subscribers::new(),
            direct_failed: Cell::new(false),
            handshake_sent: RefCell::new(HashSet::new()),
            on_dispose: RefCell::new(None),
            publisher: Publisher::new(),
            arrivals: RefCell::default(),
            delivery_queued: Cell::new(false),
            handing_over: Cell::new(false),
            tap: RefCell::new(None),
            stamp: RefCell::new(Stamp::default()),
        });
        conn.listen_to_page();
        conn
    }

    pub fn on_dispose(&self, f: impl FnOnce() + 'static) {
        *self.on_dispose.borrow_mut() = Some(Box::new(f));
    }

    fn tap(&self) -> Option<Rc<dyn Tap>> {
        self.tap.borrow().as_ref().and_then(Weak::upgrade)
    }

    pub fn state(&self) -> ConnState {
        self.driver.borrow().state().clone()
    }

    /// Joining an open socket, `sub` has its handshake frames sent at once
    /// (less those already sent on it): left for the next reconnection, they
    /// would be overtaken by its sends (a chat mounted again over the same
    /// connection posting new messages before the pending ones it resends).
    pub fn subscribe(&self, sub: Rc<Sub<Tx, Rx>>) {
        let (state, metrics) = self.snapshot();
        sub.publish(&state, &metrics);
        self.subs.add(sub.clone());
        if !(self.alive.get() && state.is_open()) {
            return;
        }
        for tx in sub.handshake_frames() {
            match self.codec.encode(&tx) {
                Ok(frame) => {
                    self.send_handshake_frame(&frame);
                }
                Err(e) => {
                    sub.report(WsError::Encode(e.to_string()));
                }
            }
        }
    }

    /// Remove `sub`; the last one out disposes the connection.
    pub fn unsubscribe(&self, sub: &Rc<Sub<Tx, Rx>>) {
        if self.subs.remove(sub) {
            self.dispose();
        }
    }

    /// Run one driver step, carry out its commands, publish the result.
    pub fn step(&self, f: impl FnOnce(&mut Driver, f64)) {
        if !self.alive.get() {
            registry::late_event();
            return;
        }
        self.hand_over_arrivals();
        if !self.alive.get() {
            // The app's `on_message` unmounted the last subscriber.
            return;
        }
        f(&mut self.driver.borrow_mut(), now_ms());
        self.run_commands();
        self.publish();
    }

    /// A step for an inbound frame: published through [`Publisher::soon`]
    /// unless the state changed.
    fn step_quietly(&self, f: impl FnOnce(&mut Driver, f64)) {
        if !self.alive.get() {
            registry::late_event();
            return;
        }
        f(&mut self.driver.borrow_mut(), now_ms());
        self.run_commands();
        if self.publisher.changed(self.driver.borrow().state()) {
            return self.publish();
        }
        let me = self.me.clone();
        self.publisher.soon(move || {
            if let Some(conn) = me.upgrade()
                && conn.alive.get()
            {
                conn.publish();
            }
        });
    }

    /// Encode and send (or queue) for `from`; a refusal is reported to it.
    pub fn send(&self, tx: &Tx, from: &Sub<Tx, Rx>) -> Result<(), WsError> {
        let frame = self.codec.encode(tx).map_err(|e| from.report(WsError::Encode(e.to_string())))?;
        let r = self.driver.borrow_mut().send(frame, now_ms());
        self.run_commands();
        self.publish();
        r.map_err(|e| from.report(WsError::QueueFull(e)))
    }

    /// Send now or not at all; never queued (see `Driver::try_send`).
    pub fn try_send(&self, tx: &Tx, from: &Sub<Tx, Rx>) -> Result<(), WsError> {
        let frame = self.codec.encode(tx).map_err(|e| from.report(WsError::Encode(e.to_string())))?;
        if self.try_send_frame(frame) { Ok(()) } else { Err(WsError::NotOpen) }
    }

    /// Transmit an encoded frame now or not at all (a follower's, relayed).
    /// Send a handshake frame on the open socket, unless an identical one
    /// already went out on it (then it counts as sent).
    pub fn send_handshake_frame(&self, frame: &Frame) -> bool {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        frame.hash(&mut hasher);
        if !self.handshake_sent.borrow_mut().insert((hasher.finish(), frame.len())) {
            return true;
        }
        let sent = self.transmit(frame);
        if sent {
            self.driver.borrow_mut().sent_by_glue(frame.len());
        }
        sent
    }

    pub fn try_send_frame(&self, frame: Frame) -> bool {
        self.direct_failed.set(false);
        let r = self.driver.borrow_mut().try_send(frame);
        self.run_commands();
        self.publish();
        r.is_ok() && !self.direct_failed.replace(false)
    }

    fn transmit(&self, frame: &Frame) -> bool {
        self.carrier.transmit(frame)
    }

    fn snapshot(&self) -> (ConnState, Metrics) {
        let d = self.driver.borrow();
        let mut metrics = d.metrics().clone();
        metrics.transport = self.carrier.transport();
        metrics.probes = self.carrier.probes();
        self.stamp.borrow().apply(&mut metrics);
        (d.state().clone(), metrics)
    }

    fn publish(&self) {
        let (state, metrics) = self.snapshot();
        self.publisher.now(&state, &metrics, |s, m| {
            self.subs.publish(s, m);
            if let Some(tap) = self.tap() {
                tap.published(s, m);
            }
        });
    }

    fn listen_to_page(&self) {
        let me = self.me.clone();
        let ((online, visible), watch) = PageWatch::start(move |ev| {
            if let Some(conn) = me.upgrade() {
                conn.step(|d, now| match ev {
                    PageEvent::Online(up) => d.set_online(up, now),
                    PageEvent::Visible(shown) => d.set_visible(shown, now),
                });
                let (PageEvent::Online(back) | PageEvent::Visible(back)) = ev;
                conn.carrier.page_event(back);
            }
        });
        let mut d = self.driver.borrow_mut();
        d.set_online(online, now_ms());
        d.set_visible(visible, now_ms());
        *self.page.borrow_mut() = Some(watch);
    }

    /// The last subscriber left: timers, listeners, then the socket.
    fn dispose(&self) {
        if !self.alive.replace(false) {
            return;
        }
        self.timers.borrow_mut().clear();
        self.arrivals.borrow_mut().clear();
        self.publisher.cancel();
        self.page.borrow_mut().take();
        self.carrier.dispose("component unmounted");
        let f = self.on_dispose.borrow_mut().take();
        if let Some(f) = f {
            f();
        }
    }
}
