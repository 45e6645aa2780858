//! A live room and who is in it: each connection's queue and nickname,
//! kept under the room's lock so posts and joins see one order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use tether_protocol::{MAX_PRESENCE, ServerMsg};

use super::post::Waiting;
use super::presence;
use crate::bus::order::Order;
use crate::metrics::Metrics;
use crate::outbox::{ConnId, Outbox, encode};
use axum::extract::ws::Utf8Bytes;

pub struct Room {
    pub name: String,
    pub epoch: String,
    pub(super) members: tokio::sync::Mutex<Members>,
    /// Posts waiting for the room lock (see [`Hub::post`](super::Hub::post)).
    pub(super) waiting: Mutex<Vec<Waiting>>,
}

/// Who is in a room: each connection's queue and nickname, and how many
/// connections each nickname has there (presence is per nickname).
#[derive(Default)]
pub(super) struct Members {
    pub(super) conns: HashMap<ConnId, (Outbox, String)>,
    pub(super) nicks: BTreeMap<String, usize>,
    pub(super) order: Order,
    /// Joiners whose history already reaches past `order.delivered()`:
    /// live messages up to that seq are not sent to them again.
    pub(super) floors: HashMap<ConnId, u64>,
    /// Who is in the room on other instances, as each last said.
    pub(super) remote: HashMap<String, presence::Remote>,
    /// Acks past what the room has delivered, each with its poster: they
    /// wait for the lower seqs another instance stored (see `Hub::answer`).
    pub(super) held_acks: Vec<(u64, Outbox, ServerMsg)>,
    /// Set when the store could not fill the gap after this seq (a hole):
    /// acks are not held for it (see [`Hub::sequence`](super::Hub)).
    pub(super) stuck_after: Option<u64>,
}

/// Most acks a room holds back; past it they go out at once (the store
/// read that would release them is failing: better late order than none).
const MAX_HELD_ACKS: usize = crate::bus::order::MAX_PENDING;

impl Members {
    /// Sends `ack` (for `seq`) now if the room has delivered up to `seq`,
    /// else once it has ([`Members::release_acks_up_to`]).
    pub(super) fn ack_after_delivery(&mut self, seq: u64, poster: &Outbox, ack: ServerMsg) {
        let delivered = self.order.delivered();
        if seq <= delivered || self.stuck_after == Some(delivered) || self.held_acks.len() >= MAX_HELD_ACKS {
            poster.push(&ack);
        } else {
            self.held_acks.push((seq, poster.clone(), ack));
        }
    }

    /// Sends the held acks for seqs up to `seq` (what the room has
    /// delivered, or everything when the store has a hole it cannot fill).
    pub(super) fn release_acks_up_to(&mut self, seq: u64) {
        self.held_acks.retain(|(held, poster, ack)| {
            let due = *held <= seq;
            if due {
                poster.push(ack);
            }
            !due
        });
    }

    /// Adds `conn` (a second join of the same connection changes nothing).
    pub(super) fn add(&mut self, outbox: &Outbox, nick: &str, metrics: &Metrics) {
        if self.conns.insert(outbox.id, (outbox.clone(), nick.to_owned())).is_some() {
            return;
        }
        metrics.members.inc();
        *self.nicks.entry(nick.to_owned()).or_default() += 1;
    }

    /// Removes `conn`; its nickname if that was its last connection here.
    pub(super) fn remove(&mut self, conn: ConnId, metrics: &Metrics) -> Option<String> {
        let (_, nick) = self.conns.remove(&conn)?;
        self.floors.remove(&conn);
        metrics.members.dec();
        let n = self.nicks.get_mut(&nick)?;
        *n -= 1;
        if *n > 0 {
            return None;
        }
        self.nicks.remove(&nick);
        // Still here through another instance: nobody left.
        if self.elsewhere(&nick) {
            return None;
        }
        Some(nick)
    }

    /// Queues `frame` for every member; a dead or too-slow one (already told
    /// to close) leaves, and the nicknames that left with them are returned.
    pub(super) fn broadcast(&mut self, frame: &Utf8Bytes, metrics: &Metrics) -> Vec<String> {
        let dead: Vec<ConnId> =
            self.conns.iter().filter(|(_, (m, _))| !m.push_frame(frame.clone())).map(|(id, _)| *id).collect();
        dead.into_iter().filter_map(|id| self.remove(id, metrics)).collect()
    }

    /// Tells everyone `msg`, then that whoever dropped meanwhile left.
    pub(super) fn announce(&mut self, room: &str, msg: &ServerMsg, metrics: &Metrics) {
        let gone = encode(msg).map(|f| self.broadcast(&f, metrics)).unwrap_or_default();
        self.farewell(room, gone, metrics);
    }

    /// Tells everyone that `gone` left, and who dropped meanwhile.
    pub(super) fn farewell(&mut self, room: &str, mut gone: Vec<String>, metrics: &Metrics) {
        while let Some(nick) = gone.pop() {
            if let Some(f) = encode(&ServerMsg::MemberLeft { room: room.to_owned(), nick }) {
                gone.extend(self.broadcast(&f, metrics));
            }
        }
    }

    pub(super) fn presence(&self, room: &str) -> ServerMsg {
        let everyone = self.everyone();
        let members = everyone.iter().take(MAX_PRESENCE).cloned().collect();
        ServerMsg::Presence { room: room.to_owned(), members, total: everyone.len() }
    }
}
