//! What a hook instance is attached to: a connection of this page (its own
//! or one shared in the page), or a cross-tab node. One interface for both,
//! so the hook's API is the same whatever the sharing.

use super::conn::Conn;
use super::sub::Sub;
#[cfg(feature = "tabs")]
use super::tabs::TabNode;
use crate::WsError;
use crate::codec::Codec;
use std::rc::Rc;

pub(crate) enum Link<Tx: 'static, Rx: Send + Sync + 'static, C: 'static> {
    Page(Rc<Conn<Tx, Rx, C>>),
    #[cfg(feature = "tabs")]
    Tabs(Rc<TabNode<Tx, Rx, C>>),
}

/// The app's commands on a connection: `open` (and `reconnect_now`), `close`.
/// With the `tabs` feature, the very commands a follower relays to its leader.
#[cfg(feature = "tabs")]
pub(crate) use crate::tabs::wire::Remote as Control;
#[cfg(not(feature = "tabs"))]
#[derive(Clone, Copy)]
pub(crate) enum Control {
    Open,
    Close,
}

impl<Tx, Rx: Send + Sync, C> Clone for Link<Tx, Rx, C> {
    fn clone(&self) -> Self {
        match self {
            Link::Page(c) => Link::Page(c.clone()),
            #[cfg(feature = "tabs")]
            Link::Tabs(n) => Link::Tabs(n.clone()),
        }
    }
}

impl<Tx, Rx, C> Link<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone + 'static,
{
    pub fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Link::Page(a), Link::Page(b)) => Rc::ptr_eq(a, b),
            #[cfg(feature = "tabs")]
            (Link::Tabs(a), Link::Tabs(b)) => Rc::ptr_eq(a, b),
            #[cfg(feature = "tabs")]
            _ => false,
        }
    }

    pub fn subscribe(&self, sub: Rc<Sub<Tx, Rx>>) {
        match self {
            Link::Page(c) => c.subscribe(sub),
            #[cfg(feature = "tabs")]
            Link::Tabs(n) => n.subscribe(sub),
        }
    }

    pub fn unsubscribe(&self, sub: &Rc<Sub<Tx, Rx>>) {
        match self {
            Link::Page(c) => c.unsubscribe(sub),
            #[cfg(feature = "tabs")]
            Link::Tabs(n) => n.unsubscribe(sub),
        }
    }

    pub fn command(&self, cmd: Control) {
        match (self, cmd) {
            (Link::Page(c), Control::Open) => c.step(|d, now| d.open(now)),
            (Link::Page(c), Control::Close) => c.step(|d, now| d.close(now)),
            #[cfg(feature = "tabs")]
            (Link::Tabs(n), cmd) => n.command(cmd),
        }
    }

    pub fn send(&self, tx: &Tx, from: &Sub<Tx, Rx>, direct: bool) -> Result<(), WsError> {
        match (self, direct) {
            (Link::Page(c), false) => c.send(tx, from),
            (Link::Page(c), true) => c.try_send(tx, from),
            #[cfg(feature = "tabs")]
            (Link::Tabs(n), false) => n.send(tx, from),
            #[cfg(feature = "tabs")]
            (Link::Tabs(n), true) => n.try_send(tx, from),
        }
    }
}
