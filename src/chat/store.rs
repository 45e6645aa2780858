//! The chat's reactive state and the connection that feeds it.
//!
//! Every (re)connection starts with hello, a join with our resume cursor, and
//! a resend of our own messages that were sent but never acknowledged (the
//! server deduplicates by id, so a resend can never show twice). Posts typed
//! while disconnected wait in the hook's queue and follow in order.

use super::ids::new_id;
use super::log::{RoomLog, Status};
use crate::ws::{ConnState, Incoming, Metrics, UseWebSocketOptions, WsError, use_websocket_with_options};
use leptos::prelude::*;
use std::collections::HashMap;
use tether_protocol::{ClientMsg, ServerMsg, validate_body, validate_room};

/// Shared with every component through context. All fields are `Copy`
/// handles or cheap clones.
#[derive(Clone)]
pub struct Chat {
    pub nick: String,
    pub rooms: RwSignal<Vec<String>>,
    pub room: RwSignal<String>,
    pub logs: RwSignal<HashMap<String, RoomLog>>,
    /// The latest problem worth telling the user (a refused post, a server error).
    pub notice: RwSignal<Option<String>>,
    pub state: Signal<ConnState>,
    pub metrics: Signal<Metrics>,
    pub ws_error: Signal<Option<WsError>>,
    send: crate::ws::SendFn<ClientMsg>,
    pub reconnect_now: crate::ws::Command,
}

/// The app's WebSocket URL: same origin, `/ws`.
pub fn default_ws_url() -> String {
    let loc = web_sys::window().map(|w| w.location());
    let proto = loc.as_ref().and_then(|l| l.protocol().ok()).unwrap_or_default();
    let host = loc.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let scheme = if proto == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/ws")
}

pub fn use_chat(url: Signal<String>, nick: String, room: String) -> Chat {
    let rooms = RwSignal::new(vec![room.clone()]);
    let room = RwSignal::new(room);
    let logs = RwSignal::new(HashMap::<String, RoomLog>::new());
    let notice = RwSignal::new(None::<String>);

    let hs_nick = nick.clone();
    let handshake = move || {
        let r = room.get_untracked();
        let (since, resend) = logs.with_untracked(|l| match l.get(&r) {
            Some(log) => (log.cursor(), log.unacked_sent().iter().map(|e| (e.id.clone(), e.body.clone())).collect()),
            None => (None, Vec::new()),
        });
        let mut frames = vec![ClientMsg::Hello { nick: hs_nick.clone() }, ClientMsg::Join { room: r.clone(), since }];
        frames.extend(resend.into_iter().map(|(id, body)| ClientMsg::Post { room: r.clone(), id, body }));
        frames
    };
    let me = nick.clone();
    let on_message = move |m: &Incoming<ServerMsg>| match m {
        Incoming::Typed(msg) => handle(msg.clone(), &me, rooms, logs, notice),
        Incoming::Raw { error, .. } => notice.set(Some(format!("unreadable message from server: {error}"))),
    };
    let opts = UseWebSocketOptions::default()
        .handshake(handshake)
        .on_message(on_message)
        .heartbeat(15_000, 10_000, |nonce| ClientMsg::Ping { nonce }, |m| match m {
            ServerMsg::Pong { nonce } => Some(*nonce),
            _ => None,
        });
    let ws = use_websocket_with_options(url, opts);

    // Queued posts are flushed right after open; show them as sent.
    let state = ws.state;
    Effect::new(move |_| {
        if state.get().is_open() {
            logs.update(|l| l.values_mut().for_each(|log| log.mark_all(Status::Queued, Status::Sent)));
        }
    });

    Chat {
        nick,
        rooms,
        room,
        logs,
        notice,
        state: ws.state,
        metrics: ws.metrics,
        ws_error: ws.error,
        send: ws.send,
        reconnect_now: ws.reconnect_now,
    }
}

fn handle(msg: ServerMsg, me: &str, rooms: RwSignal<Vec<String>>, logs: RwSignal<HashMap<String, RoomLog>>, notice: RwSignal<Option<String>>) {
    match msg {
        ServerMsg::Rooms { rooms: list } => rooms.set(list),
        ServerMsg::Joined { room, epoch, recovered, history } => {
            logs.update(|l| l.entry(room).or_default().joined(epoch, recovered, history, me));
        }
        ServerMsg::Message { message } => {
            let room = message.room.clone();
            logs.update(|l| {
                l.entry(room).or_default().apply(message, me);
            });
        }
        ServerMsg::Ack { id, room, seq } => logs.update(|l| l.entry(room).or_default().ack(&id, seq)),
        ServerMsg::Rejected { id, room, detail, .. } => {
            notice.set(Some(format!("message not delivered: {detail}")));
            logs.update(|l| l.entry(room).or_default().fail(&id, detail));
        }
        ServerMsg::Error { message, .. } => notice.set(Some(format!("server: {message}"))),
        ServerMsg::Welcome { .. } | ServerMsg::Pong { .. } => {}
    }
}

impl Chat {
    /// Post `body` to the current room. The message shows at once with its
    /// status; an invalid or unsendable one is marked failed with the reason.
    pub fn post(&self, body: String) -> Result<(), String> {
        validate_body(&body).map_err(|e| e.to_string())?;
        let room = self.room.get_untracked();
        let id = new_id();
        let status = if self.state.get_untracked().is_open() { Status::Sent } else { Status::Queued };
        self.logs.update(|l| l.entry(room.clone()).or_default().add_own(id.clone(), self.nick.clone(), body.clone(), status));
        if let Err(e) = (self.send)(&ClientMsg::Post { room: room.clone(), id: id.clone(), body }) {
            self.logs.update(|l| l.entry(room).or_default().fail(&id, e.to_string()));
            return Err(e.to_string());
        }
        Ok(())
    }

    /// Switch to (and create, if new) another room.
    pub fn switch_room(&self, name: &str) -> Result<(), String> {
        validate_room(name).map_err(|e| e.to_string())?;
        let old = self.room.get_untracked();
        if old == name {
            return Ok(());
        }
        let since = self.logs.with_untracked(|l| l.get(name).and_then(RoomLog::cursor));
        self.room.set(name.to_owned());
        self.rooms.update(|r| {
            if !r.iter().any(|x| x == name) {
                r.push(name.to_owned());
            }
        });
        // While disconnected these are not needed: the handshake joins the
        // current room on open.
        if self.state.get_untracked().is_open() {
            let _ = (self.send)(&ClientMsg::Leave { room: old });
            let _ = (self.send)(&ClientMsg::Join { room: name.to_owned(), since });
        }
        Ok(())
    }
}

