//! The chat's reactive state and the connection that feeds it.
//!
//! The room logs are the outbox: a post is transmitted at once only while
//! the connection is open; otherwise it waits in its log as `queued`. Every
//! (re)connection starts with hello, a join of the current room with our
//! resume cursor, and every own message not yet stored, in order, in every
//! room that has some (the server deduplicates by id, so a resend can never
//! show twice). Keeping one outbox, rather than also the hook's frame queue,
//! is what lets an expired message really stay unsent: posts go out with
//! `try_send`, which never queues, so a post whose socket is closing under it
//! stays in the outbox only, and cannot leave twice.

mod visibility;
mod wire;

use super::attention::Attention;
use super::ids::new_id;
use super::inbox::Batcher;
use super::log::{RoomLog, Status};
use super::outbox::{self, Logs};
use super::pacing::Pacer;
use super::presence::Presence;
use leptos::prelude::*;
use std::collections::HashMap;
use tether_protocol::{ClientMsg, RejectReason, ServerMsg, validate_body, validate_room};
use tether_ws::{
    Command, ConnState, Incoming, Metrics, Role, SendFn, Transport, UseWebSocketOptions, WsError,
    use_websocket_with_options,
};
pub use visibility::track_visibility;
use wire::{arrive, handle, handshake};

/// How long an own message may stay undelivered before it is marked failed
/// (with a retry button). Default: one day.
pub const DEFAULT_OUTBOX_DEADLINE_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// Shared with every component through context. All fields are `Copy`
/// handles or cheap clones.
#[derive(Clone)]
pub struct Chat {
    pub nick: String,
    pub rooms: RwSignal<Vec<String>>,
    pub room: RwSignal<String>,
    pub logs: Logs,
    /// Who is in each joined room.
    pub presence: RwSignal<Presence>,
    /// Unread counts and the rooms kept joined to count them.
    pub attention: RwSignal<Attention>,
    /// The tab is hidden: messages in the current room count as unread too.
    pub hidden: RwSignal<bool>,
    /// The latest problem worth telling the user (a refused post, a server error).
    pub notice: RwSignal<Option<String>>,
    /// Why the server refused the last room switch (shown by the room box).
    pub room_error: RwSignal<Option<String>>,
    pub state: Signal<ConnState>,
    pub metrics: Signal<Metrics>,
    /// The transport carrying the connection (the hook's own signal).
    pub transport: Signal<Transport>,
    pub ws_error: Signal<Option<WsError>>,
    /// Joins and leaves: queued by the hook (bounded by the outbox deadline).
    send: SendFn<ClientMsg>,
    /// Posts: sent now or left in the outbox for the next handshake.
    try_send: SendFn<ClientMsg>,
    pub reconnect_now: Command,
    /// The browser's event loop is the only thread; the wrapper states it.
    pacer: send_wrapper::SendWrapper<Pacer>,
}

/// The app's WebSocket URL: `/ws` on the page's own origin (the hook
/// resolves it against the page).
pub fn default_ws_url() -> String {
    "/ws".to_owned()
}

/// `across_tabs`: one connection for every tab of this browser showing the
/// chat as `nick` (see `share_across_tabs` in tether-ws). The tabs' handshakes
/// all go out on it, so it joins every room a tab shows; each tab keeps its
/// own logs and shows its own room; every tab's pending posts go out on it
/// after its own handshake, and the acks reach every tab.
pub fn use_chat(url: Signal<String>, nick: String, room: String, outbox_deadline_ms: f64, across_tabs: bool) -> Chat {
    let rooms = RwSignal::new(vec![room.clone()]);
    let attention = RwSignal::new(Attention::new(&room));
    let presence = RwSignal::new(Presence::default());
    let hidden = RwSignal::new(false);
    let room = RwSignal::new(room);
    let room_now = room;
    let logs: Logs = RwSignal::new(HashMap::new());
    let notice = RwSignal::new(None::<String>);
    let room_error = RwSignal::new(None::<String>);
    let adopted = outbox::restore(logs, &nick);
    outbox::keep_in_step(logs, adopted, outbox_deadline_ms);

    let hs_nick = nick.clone();
    let me = nick.clone();
    let pacer = Pacer::new(logs);
    let link = pacer.link();
    let chat_pacer = pacer.clone();
    // Frames are handled in order, a batch per animation frame; each run of
    // chat messages in a batch is one update of the logs.
    let inbox = Batcher::new(move |batch: Vec<ServerMsg>| {
        if logs.try_with_untracked(|_| ()).is_none() {
            return; // unmounted meanwhile
        }
        let mut run = Vec::new();
        for msg in batch {
            match msg {
                ServerMsg::Message { message } => run.push(message),
                ServerMsg::Rejected { id, room, reason: RejectReason::RateLimited, detail, retry_after_ms } => {
                    arrive(&mut run, &me, room_now, hidden, attention, logs);
                    pacer.defer(room, id, detail, retry_after_ms)
                }
                msg @ (ServerMsg::Presence { .. } | ServerMsg::MemberJoined { .. } | ServerMsg::MemberLeft { .. }) => {
                    presence.update(|p| {
                        p.apply(&msg);
                    });
                }
                msg => {
                    arrive(&mut run, &me, room_now, hidden, attention, logs);
                    handle(msg, &me, rooms, logs, notice, room_error)
                }
            }
        }
        arrive(&mut run, &me, room_now, hidden, attention, logs);
    });
    let opts = UseWebSocketOptions::default()
        .handshake(move || {
            let frames =
                attention.with_untracked(|a| logs.with_untracked(|l| handshake(&hs_nick, &room.get_untracked(), a, l)));
            logs.update(|l| l.values_mut().for_each(|log| log.mark_all(Status::Queued, Status::Sent)));
            frames
        })
        .on_message(move |m: &Incoming<ServerMsg>| match m {
            Incoming::Message(msg) => inbox.push(msg.clone()),
            Incoming::Undecodable { error, .. } => notice.set(Some(format!("unreadable message from server: {error}"))),
        })
        .queue_ttl_ms(Some(outbox_deadline_ms))
        .share_across_tabs(across_tabs)
        .tabs_key(nick.clone())
        .heartbeat(
            15_000,
            10_000,
            |nonce| ClientMsg::Ping { nonce },
            |m| match m {
                ServerMsg::Pong { nonce } => Some(*nonce),
                _ => None,
            },
        );
    let ws = use_websocket_with_options(url, opts);
    tether_ws::registry::expose_on_window("__tether");
    // The pacer resends with `try_send` too: never from the hook's queue.
    *link.borrow_mut() = Some((ws.try_send.clone(), ws.state));

    Chat {
        nick,
        rooms,
        room,
        logs,
        attention,
        presence,
        hidden,
        notice,
        room_error,
        state: ws.state,
        metrics: ws.metrics,
        transport: ws.transport,
        ws_error: ws.error,
        send: ws.send,
        try_send: ws.try_send,
        reconnect_now: ws.reconnect_now,
        pacer: send_wrapper::SendWrapper::new(chat_pacer),
    }
}

impl Chat {
    fn status_now(&self) -> Status {
        if self.state.get_untracked().is_open() { Status::Sent } else { Status::Queued }
    }

    /// Transmit a post if the connection is open; otherwise it waits in its
    /// log for the next handshake. A refusal by the hook marks it failed.
    fn transmit(&self, room: String, id: String, body: String) -> Result<(), String> {
        if !self.state.get_untracked().is_open() {
            return Ok(());
        }
        // Behind messages waiting out a rate limit: wait too, to keep the order.
        if self.pacer.holds(&room) {
            self.logs.update(|l| l.entry(room).or_default().hold(&id));
            self.pacer.kick();
            return Ok(());
        }
        match (self.try_send)(&ClientMsg::Post { room: room.clone(), id: id.clone(), body }) {
            Ok(()) => Ok(()),
            // The socket is going away under us: the post stays in the
            // outbox and the next handshake sends it.
            Err(WsError::NotOpen) => {
                self.logs.update(|l| l.entry(room).or_default().mark(&id, Status::Queued));
                Ok(())
            }
            Err(e) => {
                self.logs.update(|l| l.entry(room).or_default().fail(&id, e.to_string()));
                Err(e.to_string())
            }
        }
    }

    /// Post `body` to the current room. The message shows at once with its
    /// status; an invalid or unsendable one says why.
    pub fn post(&self, body: String) -> Result<(), String> {
        validate_body(&body).map_err(|e| e.to_string())?;
        let room = self.room.get_untracked();
        let id = new_id();
        let status = self.status_now();
        let now = js_sys::Date::now();
        self.logs.update(|l| {
            l.entry(room.clone()).or_default().add_own(id.clone(), self.nick.clone(), body.clone(), status, now)
        });
        self.transmit(room, id, body)
    }

    /// Send a failed message of the current room again, with the same id.
    pub fn retry(&self, id: &str) -> Result<(), String> {
        let room = self.room.get_untracked();
        let status = self.status_now();
        let body = self
            .logs
            .try_update(|l| l.get_mut(&room).and_then(|log| log.retry(id, status, js_sys::Date::now())))
            .flatten();
        let Some(body) = body else { return Err("nothing to retry".into()) };
        self.transmit(room, id.to_owned(), body)
    }

    /// Ask for the page before the oldest message of the current room, if
    /// the server has older ones and no request is on its way. Returns
    /// whether a request went out.
    pub fn load_older(&self) -> bool {
        if !self.state.get_untracked().is_open() {
            return false;
        }
        let room = self.room.get_untracked();
        let before = self.logs.try_update(|l| l.get_mut(&room).and_then(RoomLog::begin_older)).flatten();
        let Some(before) = before else { return false };
        if (self.send)(&ClientMsg::History { room: room.clone(), before }).is_err() {
            self.logs.update(|l| l.get_mut(&room).into_iter().for_each(RoomLog::cancel_older));
            return false;
        }
        true
    }

    /// Switch to (and create, if new) another room.
    pub fn switch_room(&self, name: &str) -> Result<(), String> {
        validate_room(name).map_err(|e| e.to_string())?;
        if self.room.get_untracked() == name {
            return Ok(());
        }
        let since = self.logs.with_untracked(|l| l.get(name).and_then(RoomLog::cursor));
        let watched = self.attention.with_untracked(|a| a.watched().any(|r| r == name));
        let gone = self.attention.try_update(|a| a.visit(name)).flatten();
        self.room.set(name.to_owned());
        self.rooms.update(|r| {
            if !r.iter().any(|x| x == name) {
                r.push(name.to_owned());
            }
        });
        // Watched rooms stay joined, for their unread counts. A shared
        // connection never leaves: another tab may show that room (the next
        // reconnection joins only the rooms the tabs show). While
        // disconnected none of this is needed: the handshake joins them all.
        if self.state.get_untracked().is_open() {
            if let Some(gone) = gone
                && self.metrics.with_untracked(|m| m.role == Role::Standalone)
            {
                let _ = (self.send)(&ClientMsg::Leave { room: gone });
            }
            if !watched {
                let _ = (self.send)(&ClientMsg::Join { room: name.to_owned(), since });
            }
        }
        Ok(())
    }
}
