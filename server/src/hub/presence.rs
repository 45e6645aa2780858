//! Presence across instances: each instance publishes who is in a room
//! through it (on every change, and repeated every 2 s); the others merge
//! those snapshots into what their members see, and forget an instance that
//! has gone quiet (crashed) after a few missed repeats.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tether_protocol::ServerMsg;

use super::remote::PRESENCE_EVERY;
use super::{Hub, Members, Room};
use crate::bus::Event;
use crate::metrics::Metrics;

/// An instance not heard from for this long has crashed or lost the bus.
const EXPIRE: Duration = Duration::from_secs(PRESENCE_EVERY.as_secs() * 3);

/// What one other instance last said about a room.
pub(super) struct Remote {
    nicks: BTreeSet<String>,
    seen: Instant,
}

impl Members {
    /// `nick` is in the room through another instance.
    pub(super) fn elsewhere(&self, nick: &str) -> bool {
        self.remote.values().any(|r| r.nicks.contains(nick))
    }

    /// Every nickname in the room, on any instance.
    pub(super) fn everyone(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.nicks.keys().cloned().collect();
        for r in self.remote.values() {
            all.extend(r.nicks.iter().cloned());
        }
        all
    }

    /// Applies a change to the remote part and tells local members who came and went.
    fn change_remote(&mut self, room: &str, metrics: &Metrics, change: impl FnOnce(&mut Self)) {
        let before = self.everyone();
        change(self);
        let after = self.everyone();
        for nick in after.difference(&before) {
            self.announce(room, &ServerMsg::MemberJoined { room: room.to_owned(), nick: nick.clone() }, metrics);
        }
        for nick in before.difference(&after) {
            self.announce(room, &ServerMsg::MemberLeft { room: room.to_owned(), nick: nick.clone() }, metrics);
        }
    }
}

impl Hub {
    /// Tells the other instances who is in `room` through this one.
    pub(super) fn share_presence(&self, room: &str, members: &Members) {
        if self.bus.get().is_some() {
            self.publish(|| Event::Presence { room: room.to_owned(), nicks: members.nicks.keys().cloned().collect() });
        }
    }

    pub(super) async fn on_presence(&self, from: String, room: &str, nicks: Vec<String>) {
        let Some(room) = self.existing_room(room).await else { return };
        let mut members = room.members.lock().await;
        let remote = Remote { nicks: nicks.into_iter().collect(), seen: Instant::now() };
        members.change_remote(&room.name, &self.metrics, |m| {
            if remote.nicks.is_empty() {
                m.remote.remove(&from);
            } else {
                m.remote.insert(from, remote);
            }
        });
    }

    /// Repeats this instance's presence and forgets instances gone quiet.
    pub(super) async fn repeat_presence(&self) {
        let rooms: Vec<Arc<Room>> = self.rooms.lock().await.values().cloned().collect();
        for room in rooms {
            let mut members = room.members.lock().await;
            if !members.nicks.is_empty() {
                self.share_presence(&room.name, &members);
            }
            members.change_remote(&room.name, &self.metrics, |m| m.remote.retain(|_, r| r.seen.elapsed() < EXPIRE));
        }
    }
}
