//! Joining a room (history or an exact replay, then live messages, with
//! nothing missed or doubled), paging back through history, and leaving.

use std::sync::Arc;

use tether_protocol::{Cursor, HISTORY_WINDOW, MAX_FRAME_BYTES, ServerMsg};

use super::{Hub, HubError, MAX_REPLAY, Room, blocking};
use crate::outbox::{ConnId, Outbox, encode};
use crate::paging::{all_fit, keep_newest};

impl Hub {
    /// Replies `joined` and subscribes, atomically with respect to posts.
    /// A cursor's gap is replayed only if it fits in one frame; otherwise the
    /// newest page that fits replaces the client's view (`has_older` says
    /// older pages can be fetched with `history`).
    /// Then tells the joiner who is there (`presence`) and the others that
    /// `nick` came, if it is new in the room.
    pub async fn join(
        &self,
        room: &Arc<Room>,
        outbox: &Outbox,
        nick: &str,
        since: Option<Cursor>,
    ) -> Result<(), HubError> {
        let mut members = room.members.lock().await;
        let store = self.store.clone();
        let name = room.name.clone();
        let resuming = since.is_some();
        let usable = since.filter(|c| c.epoch == room.epoch).map(|c| c.seq);
        let envelope = |recovered| {
            let frame = ServerMsg::Joined {
                room: room.name.clone(),
                epoch: room.epoch.clone(),
                recovered,
                history: vec![],
                has_older: true,
            };
            encode(&frame).map_or(0, |f| f.len())
        };
        let (replay_env, fresh_env) = (envelope(true), envelope(false));
        let (recovered, history, has_older, last) = blocking(move || {
            let last = store.last_seq(&name)?;
            if let Some(seq) = usable.filter(|&seq| seq <= last && last - seq <= MAX_REPLAY) {
                // The gap bounds the count, so no message is cut off.
                let replay = store.after(&name, seq, MAX_REPLAY as usize)?;
                if all_fit(&replay, replay_env) {
                    return Ok((true, replay, false, last));
                }
            }
            let (page, _) = keep_newest(store.before(&name, u64::MAX, HISTORY_WINDOW, MAX_FRAME_BYTES)?, fresh_env);
            let has_older = page.first().is_some_and(|m| m.seq > 1);
            Ok((false, page, has_older, last))
        })
        .await?;
        // Everything up to here is in the history (or before the client's
        // cursor); another instance may have stored more than we delivered yet.
        let floor = history.last().map_or(last, |m| m.seq.max(last));
        if resuming {
            self.metrics.resumed(recovered);
        }
        let joined =
            ServerMsg::Joined { room: room.name.clone(), epoch: room.epoch.clone(), recovered, history, has_older };
        outbox.push(&joined);
        // The others hear of a new nickname; the joiner gets the whole list.
        let new_here = !members.nicks.contains_key(nick) && !members.conns.contains_key(&outbox.id);
        if new_here && !members.elsewhere(nick) {
            let came = ServerMsg::MemberJoined { room: room.name.clone(), nick: nick.to_owned() };
            members.announce(&room.name, &came, &self.metrics);
        }
        members.add(outbox, nick, &self.metrics);
        if new_here {
            self.share_presence(&room.name, &members);
        }
        if floor > members.order.delivered() {
            members.floors.insert(outbox.id, floor);
        }
        outbox.push(&members.presence(&room.name));
        Ok(())
    }

    /// Replies `history`: the newest page before seq `before` that fits in one frame.
    pub async fn history(&self, room: &str, before: u64, outbox: &Outbox) -> Result<(), HubError> {
        let store = self.store.clone();
        let name = room.to_owned();
        let frame = |messages, has_older| ServerMsg::History { room: room.to_owned(), before, messages, has_older };
        let envelope = encode(&frame(vec![], true)).map_or(0, |f| f.len());
        let (page, has_older) = blocking(move || {
            let (page, _) = keep_newest(store.before(&name, before, HISTORY_WINDOW, MAX_FRAME_BYTES)?, envelope);
            let has_older = page.first().is_some_and(|m| m.seq > 1);
            Ok((page, has_older))
        })
        .await?;
        outbox.push(&frame(page, has_older));
        Ok(())
    }

    /// Stops broadcasts from `room` to `conn`; once this returns no further
    /// message of the room is queued for it.
    pub async fn leave(&self, room: &str, conn: ConnId) {
        let room = self.rooms.lock().await.get(room).cloned();
        if let Some(room) = room {
            let mut members = room.members.lock().await;
            let before = members.nicks.len();
            if let Some(nick) = members.remove(conn, &self.metrics) {
                members.announce(&room.name, &ServerMsg::MemberLeft { room: room.name.clone(), nick }, &self.metrics);
            }
            if members.nicks.len() != before {
                self.share_presence(&room.name, &members);
            }
        }
    }
}
