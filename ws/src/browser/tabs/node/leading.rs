//! The leader's side of a [`TabNode`]: its socket, its beats, and the
//! follower frames it transmits.

use super::TabNode;
use crate::browser::conn::{Conn, Tap, now_ms};
use crate::codec::{Codec, Frame};
use crate::metrics::Role;
use crate::tabs::leader::{Leader, Offer};
use crate::tabs::wire::Wire;
use crate::tabs::{ConnTag, TabId};
use crate::{ConnState, Metrics, WsError};
use std::rc::Weak;

impl<Tx, Rx, C> TabNode<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone + 'static,
{
    pub(super) fn beat(&self) {
        let (Some(conn), Some(epoch)) = (self.conn(), self.leader.borrow().as_ref().map(|_| self.epoch())) else {
            return;
        };
        let open = self.leader.borrow().as_ref().and_then(Leader::open);
        let state = conn.state();
        *self.told.borrow_mut() = Some(state.clone());
        let metrics = Box::new(self.mirror.borrow().1.clone());
        self.post(&Wire::Beat { from: self.tab, epoch, open, state, at_ms: now_ms(), metrics });
    }

    /// This tab leads `epoch`: its own socket, with whatever its follower
    /// side still held queued first.
    pub(super) fn lead(&self, epoch: u64) {
        if !self.alive.get() {
            return;
        }
        *self.leader.borrow_mut() = Some(Leader::new(self.tab, epoch, self.taken.borrow().clone()));
        let conn = Conn::with_settings(self.settings.clone());
        let tap: Weak<dyn Tap> = self.me.clone();
        conn.set_tap(tap);
        conn.set_stamp(self.stamp(Role::Leader));
        for sub in self.subs.all() {
            conn.subscribe(sub);
        }
        *self.conn.borrow_mut() = Some(conn.clone());
        let held = self.follower.borrow_mut().drain();
        for frame in held {
            if let Err(e) = conn.send_frame(frame) {
                self.subs.report(&e);
            }
        }
        conn.set_url(self.url.clone(), self.wanted.get());
        self.beat();
    }

    /// Another tab leads now: close our socket; what it still had queued
    /// goes to the follower side, to be relayed.
    pub(super) fn step_down(&self) {
        self.leader.borrow_mut().take();
        let Some(conn) = self.conn.borrow_mut().take() else { return };
        let state = conn.state();
        for frame in conn.take_queued() {
            if let Err(e) = self.follower.borrow_mut().send(frame, now_ms()) {
                self.subs.report(&WsError::QueueFull(e));
            }
        }
        self.follower.borrow_mut().leader_socket(None);
        self.mirror.borrow_mut().0 = if state.is_open() { ConnState::Connecting } else { state };
        // Hooks still here (an election, not the last one leaving) read
        // what the socket got before it closed; anything they send from
        // `on_message` queues behind what was queued above.
        conn.shutdown(!self.subs.all().is_empty());
    }

    /// A follower's frame: transmit it once, in order, and say so.
    pub(super) fn relay_send(&self, from: TabId, tag: ConnTag, seq: u64, frame: Frame) {
        let Some(conn) = self.conn() else { return };
        let offer = self.leader.borrow().as_ref().map(|l| l.offer(from, tag, seq));
        let upto = match offer {
            Some(Offer::Take) if conn.try_send_frame(frame) => {
                self.leader.borrow_mut().as_mut().map(|l| l.took(from, seq))
            }
            Some(Offer::Duplicate) => self.taken.borrow().get(&from).copied(),
            _ => None,
        };
        if let Some(upto) = upto {
            let mut taken = self.taken.borrow_mut();
            let t = taken.entry(from).or_default();
            *t = (*t).max(upto);
            drop(taken);
            self.post(&Wire::Took { from: self.tab, to: from, upto });
        }
    }
}

impl<Tx, Rx, C> Tap for TabNode<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone + 'static,
{
    fn opened(&self) {
        if let Some(l) = self.leader.borrow_mut().as_mut() {
            l.opened();
        }
        self.beat();
    }

    fn frame(&self, frame: &Frame) {
        let relay = self.leader.borrow_mut().as_mut().and_then(|l| Some((l.open()?, l.next_relay_seq())));
        if let Some((conn, seq)) = relay {
            self.post(&Wire::Frame { from: self.tab, epoch: self.epoch(), conn, seq, frame: frame.clone() });
        }
    }

    fn published(&self, state: &ConnState, metrics: &Metrics) {
        self.mirror.borrow_mut().1 = metrics.clone();
        if !state.is_open()
            && let Some(l) = self.leader.borrow_mut().as_mut()
        {
            l.closed();
        }
        let changed = self.told.borrow().as_ref() != Some(state);
        if changed {
            self.beat();
        }
    }

    fn closed(&self, code: u16, reason: &str, was_clean: bool) {
        if self.leader.borrow().is_some() {
            let epoch = self.epoch();
            self.post(&Wire::Closed { from: self.tab, epoch, code, reason: reason.to_owned(), clean: was_clean });
        }
    }
}
