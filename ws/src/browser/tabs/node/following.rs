//! The follower's side of a [`TabNode`]: what it hears on the channel, its
//! handshake for the leader's socket, and the view it publishes.

use super::TabNode;
use super::apply;
use crate::WsError;
use crate::browser::conn::{Stamp, now_ms};
use crate::browser::sub::Sub;
use crate::codec::{Codec, Frame, Incoming, decode};
use crate::metrics::Role;
use crate::tabs::ConnTag;
use crate::tabs::wire::{Remote, Wire, rebase};
use std::rc::Rc;

impl<Tx, Rx, C> TabNode<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone + 'static,
{
    pub(super) fn stamp(&self, role: Role) -> Stamp {
        let e = self.election.borrow();
        Stamp { role, fallback: None, leader_changes: e.leader_changes(), epoch: e.epoch() }
    }

    /// Publish the follower view (the leader's Conn publishes its own).
    pub(super) fn publish(&self) {
        if let Some(conn) = self.conn() {
            conn.set_stamp(self.stamp(Role::Leader));
            return;
        }
        let (state, mut metrics) = self.mirror.borrow().clone();
        self.stamp(Role::Follower).apply(&mut metrics);
        let f = self.follower.borrow();
        metrics.queued = f.queued();
        metrics.queue_high_water = f.high_water();
        metrics.queue_rejected = f.rejected();
        metrics.queue_expired = f.expired();
        drop(f);
        self.subs.publish(&state, &metrics);
    }

    pub(super) fn on_wire(&self, w: Wire) {
        if !self.alive.get() {
            return;
        }
        let now = now_ms();
        match w {
            Wire::Hello { epoch, .. } => {
                self.election.borrow_mut().epoch_seen(epoch, now);
                self.run_election();
                if self.conn().is_some() {
                    self.beat();
                }
            }
            Wire::Beat { from, epoch, open, state, at_ms, metrics } => {
                let current = self.election.borrow_mut().heard(from, epoch, now);
                self.run_election();
                if current {
                    *self.mirror.borrow_mut() = (rebase(state, at_ms, now), *metrics);
                    let handshake = self.follower.borrow_mut().leader_socket(open);
                    if let Some(tag) = handshake {
                        self.handshake(tag);
                    }
                    self.publish();
                }
            }
            Wire::Frame { from, epoch, conn, seq, frame } => {
                let current = self.election.borrow_mut().heard(from, epoch, now);
                self.run_election();
                if current && self.follower.borrow_mut().accept(conn, seq) {
                    self.deliver(frame);
                }
            }
            Wire::Closed { from, epoch, code, reason, clean } => {
                let current = self.election.borrow_mut().heard(from, epoch, now);
                self.run_election();
                if current {
                    self.follower.borrow_mut().leader_socket(None);
                    self.subs.closed(code, &reason, clean);
                }
            }
            Wire::Took { to, upto, .. } => {
                let mut taken = self.taken.borrow_mut();
                let t = taken.entry(to).or_default();
                *t = (*t).max(upto);
                drop(taken);
                if to == self.tab {
                    self.follower.borrow_mut().took(upto);
                    self.publish();
                }
            }
            Wire::Handshake { from, conn: tag, frames } => {
                let Some(conn) = self.conn() else { return };
                let ok = self.leader.borrow_mut().as_mut().is_some_and(|l| l.handshake(from, tag));
                if ok {
                    // Once per socket: tabs restored the same pending posts
                    // from shared storage, and all say hello.
                    frames.iter().for_each(|f| {
                        conn.send_handshake_frame(f);
                    });
                }
            }
            Wire::Send { from, conn: tag, seq, frame } => self.relay_send(from, tag, seq, frame),
            Wire::Command { cmd, .. } => {
                if let Some(conn) = self.conn() {
                    self.wanted.set(cmd == Remote::Open);
                    apply(&conn, cmd);
                }
            }
            Wire::Bye { from } => self.election.borrow_mut().leader_left(from),
        }
    }

    /// The leader's socket `tag` is open: our handshake frames, then what
    /// we hold, then `on_open`.
    pub(super) fn handshake(&self, tag: ConnTag) {
        let subs = self.subs.all();
        let frames = self.encoded_handshakes(&subs);
        self.post(&Wire::Handshake { from: self.tab, conn: tag, frames });
        self.expire();
        let held = self.follower.borrow_mut().handshaken(tag);
        held.iter().for_each(|o| self.post_send(o));
        for sub in &subs {
            sub.opened();
        }
    }

    /// The handshake frames of `subs`, encoded, in order.
    pub(super) fn encoded_handshakes(&self, subs: &[Rc<Sub<Tx, Rx>>]) -> Vec<Frame> {
        let mut frames = Vec::new();
        for sub in subs {
            for tx in sub.handshake_frames() {
                match self.settings.codec.encode(&tx) {
                    Ok(f) => frames.push(f),
                    Err(e) => {
                        sub.report(WsError::Encode(e.to_string()));
                    }
                }
            }
        }
        frames
    }

    pub(super) fn deliver(&self, frame: Frame) {
        let incoming = decode(&self.settings.codec, frame);
        if let Incoming::Undecodable { error, .. } = &incoming {
            self.subs.report(&WsError::Decode(error.clone()));
        }
        self.subs.deliver(incoming);
    }
}
