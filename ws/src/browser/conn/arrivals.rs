//! Inbound messages reach the subscribers in batches: a frame is decoded and
//! counted as it arrives (pongs, metrics), but handed to `on_message` in a
//! task of its own queued behind the frames already waiting. A burst's
//! messages then reach the app back to back in one task, so whatever they
//! update renders once per batch instead of once per message (each
//! WebSocket `message` event is its own task, and Leptos runs effects after
//! every task).
//!
//! Order is kept with everything else the connection reports: any other
//! event (open, close, error, a timer, a command) first hands over what
//! arrived before it. Two exceptions, each where the frames had no reader
//! before batching either: a URL change drops what the old URL sent and was
//! not handed over yet (nothing from the old URL reaches the app after it
//! changed; frames its socket received after the change were always
//! dropped), and unmounting drops what nobody is left to read.
//!
//! A command from inside `on_message` (`close`, `reconnect_now`) does not
//! hand over the rest of the batch from inside that call: `on_message` is
//! never re-entered, and the rest follows once it returns.

use super::Conn;
use crate::WsError;
use crate::browser::next_task::next_task;
use crate::codec::{Codec, Incoming};

/// Most messages handed over in one task; the rest go in the next, so a
/// flood never makes one long task (the page stays responsive).
const MAX_PER_TASK: usize = 1000;

impl<Tx, Rx, C> Conn<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + 'static,
{
    /// Queue `incoming` for the next delivery task.
    pub(super) fn arrived(&self, incoming: Incoming<Rx>) {
        self.arrivals.borrow_mut().push_back(incoming);
        if !self.delivery_queued.replace(true) {
            self.queue_delivery();
        }
    }

    fn queue_delivery(&self) {
        let me = self.me.clone();
        next_task(move || {
            if let Some(conn) = me.upgrade() {
                conn.delivery_queued.set(false);
                if conn.hand_over(MAX_PER_TASK) && !conn.delivery_queued.replace(true) {
                    conn.queue_delivery();
                }
            }
        });
    }

    /// Everything that arrived, now: before another event is reported.
    /// Does nothing while a hand-over is under way (a command from inside
    /// `on_message`): that one carries on once the callback returns.
    pub(super) fn hand_over_arrivals(&self) {
        self.hand_over(usize::MAX);
    }

    /// The URL is changing: what the old one sent and is still waiting goes
    /// (the same URL again keeps it).
    pub(super) fn drop_arrivals_for(&self, url: &Result<String, String>) {
        if !(url.is_ok() && self.driver.borrow().url() == url) {
            self.arrivals.borrow_mut().clear();
        }
    }

    /// Up to `most` arrivals to the subscribers, oldest first; true if some
    /// are left. No borrow is held while the app runs: its `on_message` may
    /// send, reconnect or unmount (and the guard keeps any of those from
    /// handing the rest over from inside it).
    fn hand_over(&self, most: usize) -> bool {
        if self.handing_over.replace(true) {
            return true;
        }
        let left = self.hand_over_unguarded(most);
        self.handing_over.set(false);
        left
    }

    fn hand_over_unguarded(&self, most: usize) -> bool {
        for _ in 0..most {
            if !self.alive.get() {
                self.arrivals.borrow_mut().clear();
                return false;
            }
            let Some(incoming) = self.arrivals.borrow_mut().pop_front() else { return false };
            if let Incoming::Undecodable { error, .. } = &incoming {
                web_sys::console::warn_1(&format!("use_websocket: unreadable frame: {error}").into());
                self.subs.report(&WsError::Decode(error.clone()));
            }
            self.subs.deliver(incoming);
        }
        !self.arrivals.borrow().is_empty()
    }
}
