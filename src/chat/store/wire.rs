//! The chat's side of the wire: the frames that open every connection, and
//! what each frame from the server does to the chat's state.

use crate::chat::attention::Attention;
use crate::chat::log::RoomLog;
use crate::chat::outbox::Logs;
use leptos::prelude::*;
use std::collections::HashMap;
use tether_protocol::{ChatMessage, ClientMsg, ErrorCode, ServerMsg};

/// The frames that open every connection.
pub(super) fn handshake(
    nick: &str,
    current: &str,
    watched: &Attention,
    logs: &HashMap<String, RoomLog>,
) -> Vec<ClientMsg> {
    let mut frames = vec![ClientMsg::Hello { nick: nick.to_owned() }];
    // The current room first, then the other watched rooms (for unread
    // counts), then any other room with posts to resend.
    let mut others: Vec<String> = watched.watched().filter(|r| *r != current).cloned().collect();
    let mut pending: Vec<String> = logs
        .iter()
        .filter(|(r, l)| *r != current && !others.contains(r) && l.pending().next().is_some())
        .map(|(r, _)| r.clone())
        .collect();
    pending.sort();
    others.extend(pending);
    for room in std::iter::once(current.to_owned()).chain(others) {
        let log = logs.get(&room);
        frames.push(ClientMsg::Join { room: room.clone(), since: log.and_then(RoomLog::cursor) });
        for e in log.into_iter().flat_map(RoomLog::pending) {
            frames.push(ClientMsg::Post { room: room.clone(), id: e.id.clone(), body: e.body.clone() });
        }
    }
    frames
}

/// Chat messages that arrived together: unread counts and the logs updated
/// once for all of them.
pub(super) fn arrive(
    run: &mut Vec<ChatMessage>,
    me: &str,
    room: RwSignal<String>,
    hidden: RwSignal<bool>,
    attention: RwSignal<Attention>,
    logs: Logs,
) {
    if run.is_empty() {
        return;
    }
    let hidden = hidden.get_untracked();
    room.with_untracked(|r| {
        if run.iter().any(|m| m.author != me && (m.room != *r || hidden)) {
            attention.update(|a| run.iter().filter(|m| m.author != me).for_each(|m| a.arrived(&m.room, r, hidden)));
        }
    });
    logs.update(|l| {
        for m in run.drain(..) {
            match l.get_mut(&m.room) {
                Some(log) => log.apply(m, me),
                None => l.entry(m.room.clone()).or_default().apply(m, me),
            };
        }
    });
}

pub(super) fn handle(
    msg: ServerMsg,
    me: &str,
    rooms: RwSignal<Vec<String>>,
    logs: Logs,
    notice: RwSignal<Option<String>>,
    room_error: RwSignal<Option<String>>,
) {
    match msg {
        // Keep rooms we are in even if a bounded list leaves them out.
        ServerMsg::Rooms { rooms: list, .. } => rooms.update(|r| {
            let mine: Vec<String> = r.drain(..).filter(|x| !list.contains(x)).collect();
            r.extend(list);
            r.extend(mine);
        }),
        ServerMsg::RoomAdded { room } => rooms.update(|r| {
            if !r.contains(&room) {
                r.push(room);
            }
        }),
        ServerMsg::Joined { room, epoch, recovered, history, has_older } => {
            room_error.set(None);
            logs.update(|l| {
                let log = l.entry(room).or_default();
                log.joined(epoch, recovered, history, me);
                if !recovered {
                    log.set_has_older(has_older);
                }
            });
        }
        ServerMsg::History { room, messages, has_older, .. } => {
            logs.update(|l| l.entry(room).or_default().older(messages, has_older, me));
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
        // Refusals of a join or a history request concern the room box.
        ServerMsg::Error {
            code: ErrorCode::BadRoom | ErrorCode::RoomLimit | ErrorCode::TooManyJoined | ErrorCode::RateLimited,
            message,
            ..
        } => {
            logs.update(|l| l.values_mut().for_each(RoomLog::cancel_older));
            room_error.set(Some(message));
        }
        ServerMsg::Error { message, .. } => notice.set(Some(format!("server: {message}"))),
        ServerMsg::Welcome { .. }
        | ServerMsg::Pong { .. }
        | ServerMsg::Left { .. }
        | ServerMsg::Presence { .. }
        | ServerMsg::MemberJoined { .. }
        | ServerMsg::MemberLeft { .. } => {}
    }
}
