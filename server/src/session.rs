//! What a connection has said so far (nick, joined rooms) and how each
//! client frame is answered. Kept apart from socket plumbing so protocol
//! rules read in one place.

use std::collections::HashSet;

use axum::extract::ws::Message;
use tether_protocol::{
    ClientMsg, Cursor, ErrorCode, MAX_BODY_CHARS, PROTOCOL_VERSION, RejectReason, ServerMsg, ValidationError,
    close_code, validate_body, validate_id, validate_nick, validate_room,
};

use crate::AppState;
use crate::outbox::{ConnId, Outbox};

/// Malformed frames in a row after which the client is clearly broken and
/// gets closed with 1008 instead of an endless stream of errors.
pub const MAX_MALFORMED_STREAK: u32 = 50;

pub struct Session {
    state: AppState,
    outbox: Outbox,
    nick: Option<String>,
    joined: HashSet<String>,
    malformed_streak: u32,
}

fn error(code: ErrorCode, message: &str) -> ServerMsg {
    ServerMsg::Error { code, message: message.to_owned() }
}

impl Session {
    pub fn new(state: AppState, outbox: Outbox) -> Self {
        Self { state, outbox, nick: None, joined: HashSet::new(), malformed_streak: 0 }
    }

    pub fn conn_id(&self) -> ConnId {
        self.outbox.id
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn on_frame(&mut self, frame: Message) {
        let parsed = match &frame {
            Message::Text(text) => serde_json::from_str::<ClientMsg>(text.as_str()).ok(),
            Message::Binary(_) => None,
            // tungstenite answers pings itself; close is handled by the caller.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return,
        };
        match parsed {
            Some(msg) => {
                self.malformed_streak = 0;
                self.dispatch(msg).await;
            }
            None => self.malformed(),
        }
    }

    fn malformed(&mut self) {
        self.state.metrics().frames_malformed.inc();
        self.malformed_streak += 1;
        if self.malformed_streak >= MAX_MALFORMED_STREAK {
            self.outbox.closer.close(close_code::POLICY, "too many malformed frames");
            return;
        }
        self.outbox.push(&error(ErrorCode::BadFrame, "not a valid Tether frame"));
    }

    async fn dispatch(&mut self, msg: ClientMsg) {
        if let ClientMsg::Hello { nick } = msg {
            return self.hello(nick);
        }
        let Some(nick) = self.nick.clone() else {
            self.outbox.push(&error(ErrorCode::HelloRequired, "send hello first"));
            return;
        };
        match msg {
            ClientMsg::Hello { .. } => {}
            ClientMsg::Join { room, since } => self.join(room, since).await,
            ClientMsg::Leave { room } => {
                self.state.hub().leave(&room, self.outbox.id).await;
                self.joined.remove(&room);
            }
            ClientMsg::Post { room, id, body } => self.post(nick, room, id, body).await,
            ClientMsg::Ping { nonce } => {
                if !self.state.faults().pongs_stalled() {
                    self.outbox.push(&ServerMsg::Pong { nonce });
                }
            }
        }
    }

    fn hello(&mut self, nick: String) {
        if let Err(e) = validate_nick(&nick) {
            self.outbox.push(&error(ErrorCode::BadNick, &e.to_string()));
            return;
        }
        let welcome =
            ServerMsg::Welcome { nick: nick.clone(), protocol: PROTOCOL_VERSION, max_body_chars: MAX_BODY_CHARS };
        self.nick = Some(nick);
        self.state.hub().greet(&self.outbox, &welcome);
    }

    async fn join(&mut self, room: String, since: Option<Cursor>) {
        if let Err(e) = validate_room(&room) {
            self.outbox.push(&error(ErrorCode::BadRoom, &e.to_string()));
            return;
        }
        let hub = self.state.hub();
        let result = match hub.room(&room).await {
            Ok(live) => hub.join(&live, &self.outbox, since).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                self.joined.insert(room);
            }
            Err(e) => {
                tracing::error!(conn = self.outbox.id, room, error = %e, "join failed");
                self.outbox.push(&error(ErrorCode::Internal, "internal error"));
            }
        }
    }

    async fn post(&mut self, author: String, room: String, id: String, body: String) {
        let reject =
            |reason, detail: String| ServerMsg::Rejected { id: id.clone(), room: room.clone(), reason, detail };
        let live = match self.joined.contains(&room) {
            true => self.state.hub().existing_room(&room).await,
            false => None,
        };
        let Some(live) = live else {
            let detail = "join the room before posting to it".to_owned();
            self.outbox.push(&reject(RejectReason::NotJoined, detail));
            return;
        };
        if let Err(e) = validate_id(&id) {
            self.outbox.push(&reject(RejectReason::BadId, e.to_string()));
            return;
        }
        if let Err(e) = validate_body(&body) {
            let reason = match e {
                ValidationError::BodyTooLong(_) => RejectReason::BodyTooLong,
                _ => RejectReason::EmptyBody,
            };
            self.outbox.push(&reject(reason, e.to_string()));
            return;
        }
        let rejected_internal = reject(RejectReason::Internal, "internal error".to_owned());
        if let Err(e) = self.state.hub().post(&live, &self.outbox, id, author, body).await {
            tracing::error!(conn = self.outbox.id, room, error = %e, "post failed");
            self.outbox.push(&rejected_internal);
        }
    }

    /// Leaves every joined room so broadcasts stop targeting a dead queue.
    pub async fn leave_all(&mut self) {
        for room in self.joined.drain() {
            self.state.hub().leave(&room, self.outbox.id).await;
        }
    }
}
