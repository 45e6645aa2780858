//! The hub's side of the bus: ordered delivery of every room's messages
//! (local posts and other instances' alike), filling gaps from the store,
//! and catching up after the bus was away.

use std::sync::Arc;
use std::time::Duration;

use tether_protocol::{ChatMessage, ServerMsg};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Hub, HubError, MAX_REPLAY, Members, Room, blocking};
use crate::bus::{Bus, Event, Incoming};
use crate::metrics::Metrics;
use crate::outbox::{ConnId, encode};

/// How often this instance's presence is repeated on the bus (others
/// expire it after a few missed repeats).
pub(super) const PRESENCE_EVERY: Duration = Duration::from_secs(2);
/// How often every live room is compared with the store by default, so an
/// event lost on the bus (Redis away, publish failed) costs at most this
/// much delay (`--bus-resync-ms`).
pub const DEFAULT_RESYNC_MS: u64 = 2_000;

impl Members {
    /// Sends `msgs` (in seq order) to every member that lacks them; the
    /// dead or too-slow leave.
    fn deliver(&mut self, room: &str, msgs: Vec<ChatMessage>, metrics: &Metrics) {
        for m in msgs {
            let seq = m.seq;
            let Some(frame) = encode(&ServerMsg::Message { message: m }) else { continue };
            let floors = &self.floors;
            let dead: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(id, _)| floors.get(id).is_none_or(|&f| f < seq))
                .filter(|(_, (outbox, _))| !outbox.push_frame(frame.clone()))
                .map(|(id, _)| *id)
                .collect();
            self.floors.retain(|_, f| *f > seq);
            let gone = dead.into_iter().filter_map(|id| self.remove(id, metrics)).collect();
            self.farewell(room, gone, metrics);
        }
    }
}

impl Hub {
    /// Joins this instance to others through `bus` (once, at startup).
    pub fn set_bus(&self, bus: Bus) {
        let _ = self.bus.set(bus);
    }

    pub fn bus(&self) -> Option<&Bus> {
        self.bus.get()
    }

    pub(super) fn publish(&self, event: impl FnOnce() -> Event) {
        // Built only when there is a bus: one instance copies nothing.
        if let Some(bus) = self.bus.get() {
            bus.publish(event());
        }
    }

    /// Delivers `msg` and whatever it unblocks in seq order; a gap before
    /// it is read from the store (committed: seq N+1 commits after N).
    pub(super) async fn sequence(&self, room: &Room, members: &mut Members, msg: Option<ChatMessage>) {
        if let Some(m) = msg {
            let ready = members.order.offer(m);
            members.deliver(&room.name, ready, &self.metrics);
        }
        while let Some((after, count)) = members.order.gap() {
            let (store, name) = (self.store.clone(), room.name.clone());
            let limit = usize::try_from(count.min(MAX_REPLAY)).unwrap_or(1);
            match blocking(move || store.after(&name, after, limit)).await {
                Ok(found) if !found.is_empty() => {
                    for m in found {
                        let ready = members.order.offer(m);
                        members.deliver(&room.name, ready, &self.metrics);
                    }
                    if members.order.delivered() == after {
                        // A hole in the store's seqs: asking again would spin
                        // under the room lock forever. The resync retries.
                        tracing::warn!(room = %room.name, after, "a gap the store cannot fill yet");
                        // Nothing a resume could get from the store either:
                        // holding acks for it would only wedge the posters.
                        members.stuck_after = Some(after);
                        members.release_acks_up_to(u64::MAX);
                        break;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    // Kept pending; the next resync tries again.
                    tracing::warn!(room = %room.name, error = %e, "cannot fill a gap from the store yet");
                    break;
                }
            }
        }
        members.release_acks_up_to(members.order.delivered());
    }

    /// Reads back and delivers everything the store has past what the
    /// room's members got.
    async fn catch_up(&self, room: &Arc<Room>) -> Result<(), HubError> {
        let mut members = room.members.lock().await;
        loop {
            let (store, name, after) = (self.store.clone(), room.name.clone(), members.order.delivered());
            let found = blocking(move || store.after(&name, after, MAX_REPLAY as usize)).await?;
            let full = found.len() == MAX_REPLAY as usize;
            for m in found {
                let ready = members.order.offer(m);
                members.deliver(&room.name, ready, &self.metrics);
            }
            if !full || members.order.delivered() == after {
                break;
            }
        }
        self.sequence(room, &mut members, None).await;
        Ok(())
    }

    /// Applies another instance's event.
    pub async fn on_event(&self, from: String, event: Event) {
        match event {
            Event::Message { message } => {
                let Some(room) = self.existing_room(&message.room).await else { return };
                let mut members = room.members.lock().await;
                self.sequence(&room, &mut members, Some(message)).await;
            }
            Event::RoomAdded { room } => {
                self.add_name(&room, false);
            }
            Event::Presence { room, nicks } => self.on_presence(from, &room, nicks).await,
            // The bus keeps beats to itself.
            Event::Beat => {}
        }
    }

    /// Brings the room list and every live room up to date with the store.
    pub async fn resync(&self) {
        let store = self.store.clone();
        match blocking(move || store.rooms()).await {
            Ok(names) => names.iter().for_each(|n| {
                self.add_name(n, false);
            }),
            Err(e) => tracing::warn!(error = %e, "resync: cannot read the room list"),
        }
        let rooms: Vec<Arc<Room>> = self.rooms.lock().await.values().cloned().collect();
        for room in rooms {
            if let Err(e) = self.catch_up(&room).await {
                tracing::warn!(room = %room.name, error = %e, "resync: cannot catch up");
            }
        }
    }

    /// Feeds the bus into the hub until `shutdown`, resyncing after each
    /// (re)subscription and every `resync` (zero: never on a timer), and
    /// repeating presence every [`PRESENCE_EVERY`].
    pub async fn pump(&self, mut incoming: mpsc::Receiver<Incoming>, resync: Duration, shutdown: CancellationToken) {
        let mut presence = tokio::time::interval(PRESENCE_EVERY);
        presence.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tick = tokio::time::interval(if resync.is_zero() { PRESENCE_EVERY } else { resync });
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = presence.tick() => self.repeat_presence().await,
                _ = tick.tick(), if !resync.is_zero() => self.resync().await,
                m = incoming.recv() => match m {
                    Some(Incoming::Event { from, event }) => self.on_event(from, event).await,
                    Some(Incoming::Resubscribed) => self.resync().await,
                    None => return,
                },
            }
        }
    }
}
