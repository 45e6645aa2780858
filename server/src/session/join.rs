//! Joining a room and paging back through its history. Apart from posting
//! because both only read (they share the join bucket with `hello`) and
//! are refused with an error, not with a rejection naming a message.

use tether_protocol::{Cursor, ErrorCode, validate_room};

use super::{Session, error};
use crate::hub::RoomError;

impl Session {
    pub(super) async fn join(&mut self, room: String, since: Option<Cursor>) {
        if let Err(e) = validate_room(&room) {
            self.outbox.push(&error(ErrorCode::BadRoom, &e.to_string()));
            return;
        }
        if !self.join_allowed("join") {
            return;
        }
        let limits = &self.state.settings().limits;
        if !self.joined.contains(&room) && self.joined.len() >= limits.rooms_joined_per_conn {
            let message = format!("you are in {} rooms, the most allowed; leave one first", self.joined.len());
            self.outbox.push(&error(ErrorCode::TooManyJoined, &message));
            return;
        }
        let may_create = self.rooms_created < limits.rooms_created_per_conn;
        let hub = self.state.hub();
        let result = match hub.room(&room, may_create).await {
            Ok((live, created)) => {
                self.rooms_created += u32::from(created);
                let nick = self.nick.clone().unwrap_or_default();
                hub.join(&live, &self.outbox, &nick, since).await.map_err(RoomError::from)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                self.joined.insert(room);
            }
            Err(e @ (RoomError::CreateLimit | RoomError::TotalLimit)) => {
                self.outbox.push(&error(ErrorCode::RoomLimit, &format!("cannot create room {room:?}: {e}")));
            }
            Err(RoomError::Hub(e)) => {
                tracing::error!(conn = self.outbox.id, room, error = %e, "join failed");
                self.outbox.push(&error(ErrorCode::Internal, "internal error"));
            }
        }
    }

    pub(super) async fn history(&mut self, room: String, before: u64) {
        if !self.joined.contains(&room) {
            self.outbox.push(&error(ErrorCode::NotJoined, "join the room before asking for its history"));
            return;
        }
        if !self.join_allowed("history") {
            return;
        }
        if let Err(e) = self.state.hub().history(&room, before, &self.outbox).await {
            tracing::error!(conn = self.outbox.id, room, error = %e, "history failed");
            self.outbox.push(&error(ErrorCode::Internal, "internal error"));
        }
    }
}
