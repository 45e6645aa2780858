//! A hook instance under its own owner, as a component would hold it, with
//! every inbound frame recorded.

use super::{init, wait_for};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use tether_protocol::{ClientMsg, ServerMsg};
use tether_ws::{ConnState, Incoming, UseWebSocketOptions, UseWebSocketReturn, WsError, use_websocket_with_options};

pub type Opts = UseWebSocketOptions<ClientMsg, ServerMsg>;

pub type Ret = UseWebSocketReturn<ClientMsg, ServerMsg>;

/// A hook instance under its own owner, as a component would hold it.
pub struct Client {
    pub owner: Owner,
    pub ws: Ret,
    pub inbox: Rc<RefCell<Vec<ServerMsg>>>,
    pub calls: Rc<RefCell<u32>>,
}

pub fn client_with(url: Signal<String>, nick: &str, room: &str, tweak: impl FnOnce(Opts) -> Opts) -> Client {
    init();
    let owner = Owner::new();
    let inbox = Rc::new(RefCell::new(Vec::new()));
    let calls = Rc::new(RefCell::new(0));
    let (n, r, i, c) = (nick.to_owned(), room.to_owned(), inbox.clone(), calls.clone());
    let opts = UseWebSocketOptions::default()
        .handshake(move || vec![ClientMsg::Hello { nick: n.clone() }, ClientMsg::Join { room: r.clone(), since: None }])
        .on_message(move |m: &Incoming<ServerMsg>| {
            *c.borrow_mut() += 1;
            if let Incoming::Message(m) = m {
                i.borrow_mut().push(m.clone());
            }
        });
    let ws = owner.with(|| use_websocket_with_options(url, tweak(opts)));
    Client { owner, ws, inbox, calls }
}

pub fn client(url: &str, nick: &str, room: &str) -> Client {
    client_with(Signal::stored(url.to_owned()), nick, room, |o| o)
}

impl Client {
    pub fn state(&self) -> ConnState {
        self.ws.state.get_untracked()
    }
    pub async fn wait_open(&self) {
        assert!(wait_for(5_000, || self.state().is_open()).await, "never opened: {:?}", self.state());
    }
    pub fn post(&self, room: &str, id: &str, body: &str) -> Result<(), WsError> {
        (self.ws.send)(&ClientMsg::Post { room: room.into(), id: id.into(), body: body.into() })
    }
    pub fn acked(&self) -> Vec<(String, u64)> {
        self.inbox
            .borrow()
            .iter()
            .filter_map(|m| if let ServerMsg::Ack { id, seq, .. } = m { Some((id.clone(), *seq)) } else { None })
            .collect()
    }
    pub fn bodies(&self) -> Vec<String> {
        self.inbox
            .borrow()
            .iter()
            .filter_map(|m| if let ServerMsg::Message { message } = m { Some(message.body.clone()) } else { None })
            .collect()
    }
}
