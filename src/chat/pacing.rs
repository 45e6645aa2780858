//! Posts the server refused as `rate_limited` wait for the time it named and
//! go out again by themselves, paced: the k-th waiting post waits k retry
//! intervals, so a backlog (a fast typist, a resend after reconnecting)
//! drains at the server's rate instead of being refused again all at once.
//! While waiting, the message says why and when it will be sent.

use super::log::Status;
use super::outbox::Logs;
use crate::ws::{ConnState, SendFn};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tether_protocol::ClientMsg;

/// Used when a server does not say how long to wait.
const DEFAULT_RETRY_MS: u64 = 1000;

/// The connection's send and state, known once the hook exists.
pub type Link = Rc<RefCell<Option<(SendFn<ClientMsg>, Signal<ConnState>)>>>;

#[derive(Clone)]
pub struct Pacer {
    logs: Logs,
    link: Link,
    waiting: Rc<Cell<u32>>,
}

impl Pacer {
    pub fn new(logs: Logs) -> Self {
        Self { logs, link: Rc::default(), waiting: Rc::default() }
    }

    pub fn link(&self) -> Link {
        self.link.clone()
    }

    /// `id` in `room` was refused as rate-limited: show why, send it again later.
    pub fn defer(&self, room: String, id: String, detail: String, retry_after_ms: Option<u64>) {
        let k = self.waiting.get() + 1;
        self.waiting.set(k);
        let step = retry_after_ms.unwrap_or(DEFAULT_RETRY_MS).clamp(50, 60_000);
        let delay = step.saturating_mul(u64::from(k)).min(600_000);
        let note = format!("{detail} (sending again automatically in {:.1} s)", delay as f64 / 1000.0);
        self.logs.update(|l| l.entry(room.clone()).or_default().wait(&id, note));
        let this = self.clone();
        Timeout::new(u32::try_from(delay).unwrap_or(u32::MAX), move || {
            this.waiting.set(this.waiting.get().saturating_sub(1));
            this.resend(&room, &id);
        })
        .forget();
    }

    /// Sends the post again if it still waits and the connection is open;
    /// otherwise the next handshake sends it.
    fn resend(&self, room: &str, id: &str) {
        let body = self.logs.with_untracked(|l| {
            let e = l.get(room)?.get(id)?;
            (e.seq.is_none() && e.status == Status::Queued).then(|| e.body.clone())
        });
        let Some(body) = body else { return };
        let Some((send, state)) = self.link.borrow().clone() else { return };
        if !state.get_untracked().is_open() {
            return;
        }
        self.logs.update(|l| l.entry(room.to_owned()).or_default().mark_sent(id));
        let _ = send(&ClientMsg::Post { room: room.to_owned(), id: id.to_owned(), body });
    }
}
