//! One cross-tab connection as seen from this tab: the leader's socket when
//! this tab leads (an ordinary [`Conn`] whose [`Tap`] tells the others), or
//! the relay to the leader when it follows. Every decision comes from the
//! pure [`crate::tabs`] structs; this file only wires them to the channel,
//! the locks, the subscribers and a one-second ticker.

mod following;
mod leading;

use super::channel::Channel;
use super::locks::Locks;
use crate::browser::conn::{Conn, ConnSettings, now_ms};
use crate::browser::socket::js_error_text;
use crate::browser::sub::{Sub, Subscribers};
use crate::codec::Codec;
use crate::tabs::TabId;
use crate::tabs::election::{Election, ElectionCmd, ElectionConfig};
use crate::tabs::follower::{Follower, Outgoing};
use crate::tabs::leader::Leader;
use crate::tabs::wire::{Remote, Wire};
use crate::{ConnState, Metrics, WsError};
use gloo_timers::callback::Interval;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

pub(crate) struct TabNode<Tx: 'static, Rx: Send + Sync + 'static, C: 'static> {
    me: Weak<Self>,
    tab: TabId,
    url: Result<String, String>,
    settings: ConnSettings<Tx, Rx, C>,
    subs: Subscribers<Tx, Rx>,
    channel: RefCell<Option<Channel>>,
    locks: RefCell<Option<Rc<Locks>>>,
    election: RefCell<Election>,
    follower: RefCell<Follower>,
    leader: RefCell<Option<Leader>>,
    conn: RefCell<Option<Rc<Conn<Tx, Rx, C>>>>,
    /// What leaders acknowledged, as heard: a new leader skips those frames.
    taken: RefCell<HashMap<TabId, u64>>,
    /// The leader's state and metrics, as last heard.
    mirror: RefCell<(ConnState, Metrics)>,
    /// The state last told the other tabs (leader).
    told: RefCell<Option<ConnState>>,
    /// Open wanted (mount with `immediate`, or `open()`): a new leader opens.
    wanted: Cell<bool>,
    ticker: RefCell<Option<Interval>>,
    alive: Cell<bool>,
    on_dispose: RefCell<Option<Box<dyn FnOnce()>>>,
}

impl<Tx, Rx, C> TabNode<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone + 'static,
{
    /// Join the tabs sharing `base` (the connection's name). Errs when the
    /// channel or the locks cannot be used; the caller falls back.
    pub fn new(
        base: String,
        url: Result<String, String>,
        settings: ConnSettings<Tx, Rx, C>,
        wanted: bool,
    ) -> Result<Rc<Self>, String> {
        let tab = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let (capacity, ttl) = (settings.driver.queue_capacity, settings.driver.queue_ttl_ms);
        let initial = if wanted { ConnState::Connecting } else { ConnState::Idle };
        let node = Rc::new_cyclic(|me: &Weak<Self>| Self {
            me: me.clone(),
            tab,
            url,
            settings,
            subs: Subscribers::new(),
            channel: RefCell::new(None),
            locks: RefCell::new(None),
            election: RefCell::new(Election::new(tab, ElectionConfig::default())),
            follower: RefCell::new(Follower::new(capacity, ttl)),
            leader: RefCell::new(None),
            conn: RefCell::new(None),
            taken: RefCell::new(HashMap::new()),
            mirror: RefCell::new((initial, Metrics::default())),
            told: RefCell::new(None),
            wanted: Cell::new(wanted),
            ticker: RefCell::new(None),
            alive: Cell::new(true),
            on_dispose: RefCell::new(None),
        });
        let me = node.me.clone();
        let channel = Channel::open(&base, move |w| {
            if let Some(node) = me.upgrade() {
                node.on_wire(w);
            }
        })?;
        *node.channel.borrow_mut() = Some(channel);
        let me = node.me.clone();
        let locks = Locks::new(base, move |epoch| {
            if let Some(node) = me.upgrade() {
                node.election.borrow_mut().granted(epoch, now_ms());
                node.run_election();
            }
        })
        .map_err(|e| js_error_text(&e, "no Web Locks"))?;
        *node.locks.borrow_mut() = Some(locks.clone());
        node.post(&Wire::Hello { from: tab, epoch: 0 });
        let me = node.me.clone();
        locks.highest_epoch(move |highest| {
            if let Some(node) = me.upgrade().filter(|n| n.alive.get()) {
                node.election.borrow_mut().start(highest, now_ms());
                node.run_election();
            }
        });
        let me = node.me.clone();
        let beat = ElectionConfig::default().beat_ms as u32;
        *node.ticker.borrow_mut() = Some(Interval::new(beat, move || {
            if let Some(node) = me.upgrade() {
                node.tick();
            }
        }));
        Ok(node)
    }

    pub fn on_dispose(&self, f: impl FnOnce() + 'static) {
        *self.on_dispose.borrow_mut() = Some(Box::new(f));
    }

    fn conn(&self) -> Option<Rc<Conn<Tx, Rx, C>>> {
        self.conn.borrow().clone()
    }

    fn post(&self, w: &Wire) {
        if let Some(c) = self.channel.borrow().as_ref() {
            c.post(w);
        }
    }

    pub fn subscribe(&self, sub: Rc<Sub<Tx, Rx>>) {
        self.subs.add(sub.clone());
        match self.conn() {
            Some(conn) => conn.subscribe(sub),
            None => {
                // As on a leader's open socket: a component mounted while
                // this tab follows a ready socket is handshaken at once.
                let ready = self.follower.borrow().ready();
                if let Some(conn) = ready {
                    let frames = self.encoded_handshakes(std::slice::from_ref(&sub));
                    self.post(&Wire::Handshake { from: self.tab, conn, frames });
                }
                self.publish()
            }
        }
    }

    /// Remove `sub`; the last one out leaves the tabs.
    pub fn unsubscribe(&self, sub: &Rc<Sub<Tx, Rx>>) {
        if self.subs.remove(sub) {
            self.dispose();
        } else if let Some(conn) = self.conn() {
            conn.unsubscribe(sub);
        }
    }

    /// `open`, `close`, `reconnect_now`: carried out by the leader.
    pub fn command(&self, cmd: Remote) {
        self.wanted.set(cmd == Remote::Open);
        match self.conn() {
            Some(conn) => apply(&conn, cmd),
            None => self.post(&Wire::Command { from: self.tab, cmd }),
        }
    }

    pub fn send(&self, tx: &Tx, from: &Sub<Tx, Rx>) -> Result<(), WsError> {
        if let Some(conn) = self.conn() {
            return conn.send(tx, from);
        }
        let frame = self.settings.codec.encode(tx).map_err(|e| from.report(WsError::Encode(e.to_string())))?;
        let r = self.follower.borrow_mut().send(frame, now_ms());
        let r = match r {
            Ok(out) => {
                out.iter().for_each(|o| self.post_send(o));
                Ok(())
            }
            Err(e) => Err(from.report(WsError::QueueFull(e))),
        };
        self.publish();
        r
    }

    pub fn try_send(&self, tx: &Tx, from: &Sub<Tx, Rx>) -> Result<(), WsError> {
        if let Some(conn) = self.conn() {
            return conn.try_send(tx, from);
        }
        let frame = self.settings.codec.encode(tx).map_err(|e| from.report(WsError::Encode(e.to_string())))?;
        let out = self.follower.borrow_mut().try_send(frame, now_ms());
        self.publish();
        let out = out.ok_or(WsError::NotOpen)?;
        self.post_send(&out);
        Ok(())
    }

    fn post_send(&self, o: &Outgoing) {
        self.post(&Wire::Send { from: self.tab, conn: o.conn, seq: o.seq, frame: o.frame.clone() });
    }

    fn tick(&self) {
        if !self.alive.get() {
            return;
        }
        if self.conn().is_some() {
            self.beat();
        } else {
            self.expire();
        }
        let gave_up = self.election.borrow_mut().tick(now_ms());
        if gave_up {
            web_sys::console::warn_1(&"use_websocket: the leader tab stopped responding; replacing it".into());
        }
        self.run_election();
    }

    /// Drop (and report) kept frames that waited longer than the time limit.
    fn expire(&self) {
        let n = self.follower.borrow_mut().expire(now_ms());
        if n > 0 {
            self.subs.report(&WsError::Expired(n));
            self.publish();
        }
    }

    fn epoch(&self) -> u64 {
        self.election.borrow().epoch()
    }

    fn run_election(&self) {
        loop {
            let cmds = self.election.borrow_mut().take_commands();
            if cmds.is_empty() {
                break;
            }
            let locks = self.locks.borrow().clone();
            for cmd in cmds {
                match cmd {
                    ElectionCmd::Request(e) => locks.iter().for_each(|l| l.request(e)),
                    ElectionCmd::Abort(e) => locks.iter().for_each(|l| l.abort(e)),
                    ElectionCmd::Release(e) => locks.iter().for_each(|l| l.release(e)),
                    ElectionCmd::Lead(e) => self.lead(e),
                    ElectionCmd::StepDown => self.step_down(),
                    ElectionCmd::Probe => self.post(&Wire::Hello { from: self.tab, epoch: self.epoch() }),
                }
            }
        }
        self.publish();
    }

    /// The last local subscriber left: give up the lock (or our place in its
    /// queue), close the socket if we lead, stop listening.
    fn dispose(&self) {
        if !self.alive.get() {
            return;
        }
        let leading = self.conn().is_some();
        self.election.borrow_mut().stop();
        self.run_election();
        self.alive.set(false);
        if leading {
            self.post(&Wire::Bye { from: self.tab });
        }
        self.ticker.borrow_mut().take();
        self.channel.borrow_mut().take();
        self.locks.borrow_mut().take();
        let f = self.on_dispose.borrow_mut().take();
        if let Some(f) = f {
            f();
        }
    }
}

pub(super) fn apply<Tx, Rx, C>(conn: &Conn<Tx, Rx, C>, cmd: Remote)
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx>,
{
    match cmd {
        Remote::Open => conn.step(|d, now| d.open(now)),
        Remote::Close => conn.step(|d, now| d.close(now)),
    }
}
