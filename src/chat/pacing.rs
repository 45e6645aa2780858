//! Posts the server refused as `rate_limited` are not failed: they wait and
//! go out again by themselves, one per retry interval the server named, in
//! the order they were typed. A message typed while others wait queues
//! behind them, so a user's messages are never stored out of order. While
//! waiting, a refused message says why and that it will be sent again.

use super::log::Status;
use super::outbox::Logs;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tether_protocol::ClientMsg;
use tether_ws::{ConnState, SendFn};

/// Used when a server does not say how long to wait.
const DEFAULT_RETRY_MS: u64 = 1000;

/// The connection's send and state, once the hook exists.
type Wire = RefCell<Option<(SendFn<ClientMsg>, Signal<ConnState>)>>;

/// The connection's send and state, known once the hook exists.
pub type Link = Rc<Wire>;

#[derive(Clone)]
pub struct Pacer {
    logs: Logs,
    link: Link,
    /// The server's latest retry interval.
    step_ms: Rc<Cell<u64>>,
    ticking: Rc<Cell<bool>>,
    /// The pending tick, owned (never `forget()`): dropping it cancels it.
    timer: Rc<RefCell<Option<Timeout>>>,
}

/// A [`Pacer`] held weakly by its own timer.
struct WeakPacer {
    logs: Logs,
    link: std::rc::Weak<Wire>,
    step_ms: std::rc::Weak<Cell<u64>>,
    ticking: std::rc::Weak<Cell<bool>>,
    timer: std::rc::Weak<RefCell<Option<Timeout>>>,
}

impl WeakPacer {
    fn upgrade(&self) -> Option<Pacer> {
        Some(Pacer {
            logs: self.logs,
            link: self.link.upgrade()?,
            step_ms: self.step_ms.upgrade()?,
            ticking: self.ticking.upgrade()?,
            timer: self.timer.upgrade()?,
        })
    }
}

impl Pacer {
    fn downgrade(&self) -> WeakPacer {
        WeakPacer {
            logs: self.logs,
            link: Rc::downgrade(&self.link),
            step_ms: Rc::downgrade(&self.step_ms),
            ticking: Rc::downgrade(&self.ticking),
            timer: Rc::downgrade(&self.timer),
        }
    }

    pub fn new(logs: Logs) -> Self {
        Self {
            logs,
            link: Rc::default(),
            step_ms: Rc::new(Cell::new(DEFAULT_RETRY_MS)),
            ticking: Rc::default(),
            timer: Rc::default(),
        }
    }

    pub fn link(&self) -> Link {
        self.link.clone()
    }

    /// Whether `room` has own messages waiting: a new one must queue behind them.
    pub fn holds(&self, room: &str) -> bool {
        self.logs
            .try_with_untracked(|l| l.get(room).is_some_and(|log| log.pending().any(|e| e.status == Status::Queued)))
            .unwrap_or(false)
    }

    /// `id` in `room` was refused as rate-limited: show why, send it again later.
    pub fn defer(&self, room: String, id: String, detail: String, retry_after_ms: Option<u64>) {
        let step = retry_after_ms.unwrap_or(DEFAULT_RETRY_MS).clamp(50, 60_000);
        self.step_ms.set(step);
        let note = format!("{detail} (sending again automatically)");
        self.logs.try_update(|l| l.entry(room).or_default().wait(&id, note));
        self.kick();
    }

    /// Makes sure waiting messages get sent: one tick per retry interval.
    pub fn kick(&self) {
        if self.ticking.replace(true) {
            return;
        }
        // The tick holds only weak handles, so a pending tick cannot keep an
        // unmounted chat alive; the chat's drop of the pacer cancels it.
        let this = self.downgrade();
        let delay = u32::try_from(self.step_ms.get()).unwrap_or(u32::MAX).min(i32::MAX as u32);
        *self.timer.borrow_mut() = Some(Timeout::new(delay, move || {
            if let Some(p) = this.upgrade() {
                p.tick();
            }
        }));
    }

    /// Sends the oldest waiting message of each room, then ticks again while
    /// any wait. Disconnected: nothing; the next handshake sends them all.
    /// Unmounted (signals disposed): nothing, and no more ticks.
    fn tick(&self) {
        self.ticking.set(false);
        let Some((send, state)) = self.link.borrow().clone() else { return };
        if !state.try_get_untracked().is_some_and(|s| s.is_open()) {
            return;
        }
        let heads: Vec<(String, String, String)> = self
            .logs
            .try_with_untracked(|l| {
                l.iter()
                    .filter_map(|(room, log)| {
                        let e = log.pending().find(|e| e.status == Status::Queued)?;
                        Some((room.clone(), e.id.clone(), e.body.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if heads.is_empty() {
            return;
        }
        for (room, id, body) in heads {
            self.logs.try_update(|l| l.entry(room.clone()).or_default().mark_sent(&id));
            let _ = send(&ClientMsg::Post { room, id, body });
        }
        self.kick();
    }
}
