//! One cross-tab connection as seen from this tab: the leader's socket when
//! this tab leads (an ordinary [`Conn`] whose [`Tap`] tells the others), or
//! the relay to the leader when it follows. Every decision comes from the
//! pure [`crate::tabs`] structs; this file only wires them to the channel,
//! the locks, the subscribers and a one-second ticker.

use super::channel::Channel;
use super::locks::Locks;
use crate::browser::conn::{Conn, ConnSettings, Stamp, Tap, now_ms};
use crate::browser::sub::{Sub, Subscribers};
use crate::codec::{Codec, Frame, Incoming, decode};
use crate::metrics::Role;
use crate::tabs::election::{Election, ElectionCmd, ElectionConfig};
use crate::tabs::follower::{Follower, Outgoing};
use crate::tabs::leader::{Leader, Offer};
use crate::tabs::wire::{Remote, Wire, rebase};
use crate::tabs::{ConnTag, TabId};
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
        let capacity = settings.driver.queue_capacity;
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
            follower: RefCell::new(Follower::new(capacity)),
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
        .map_err(|e| format!("{e:?}"))?;
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
            None => self.publish(),
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
        let r = self.follower.borrow_mut().send(frame);
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
        let out = self.follower.borrow_mut().try_send(frame);
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
        }
        let gave_up = self.election.borrow_mut().tick(now_ms());
        if gave_up {
            web_sys::console::warn_1(&"use_websocket: the leader tab stopped responding; replacing it".into());
        }
        self.run_election();
    }

    fn beat(&self) {
        let (Some(conn), Some(epoch)) = (self.conn(), self.leader.borrow().as_ref().map(|_| self.epoch())) else {
            return;
        };
        let open = self.leader.borrow().as_ref().and_then(Leader::open);
        let state = conn.state();
        *self.told.borrow_mut() = Some(state.clone());
        let metrics = self.mirror.borrow().1.clone();
        self.post(&Wire::Beat { from: self.tab, epoch, open, state, at_ms: now_ms(), metrics });
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

    /// This tab leads `epoch`: its own socket, with whatever its follower
    /// side still held queued first.
    fn lead(&self, epoch: u64) {
        if !self.alive.get() {
            return;
        }
        *self.leader.borrow_mut() = Some(Leader::new(self.tab, epoch, self.taken.borrow().clone()));
        let conn = Conn::with_settings(self.settings.clone());
        let tap: Weak<dyn Tap> = self.me.clone();
        conn.set_tap(tap);
        conn.set_stamp(self.stamp(Role::Leader));
        for sub in self.subs.all() {
            conn.subscribe(sub);
        }
        *self.conn.borrow_mut() = Some(conn.clone());
        let held = self.follower.borrow_mut().drain();
        for frame in held {
            if let Err(e) = conn.send_frame(frame) {
                self.subs.report(&e);
            }
        }
        let (url, wanted) = (self.url.clone(), self.wanted.get());
        conn.step(|d, now| {
            d.set_url(url, now);
            if wanted {
                d.open(now);
            }
        });
        self.beat();
    }

    /// Another tab leads now: close our socket; what it still had queued
    /// goes to the follower side, to be relayed.
    fn step_down(&self) {
        self.leader.borrow_mut().take();
        let Some(conn) = self.conn.borrow_mut().take() else { return };
        let state = conn.state();
        for frame in conn.shutdown() {
            if let Err(e) = self.follower.borrow_mut().send(frame) {
                self.subs.report(&WsError::QueueFull(e));
            }
        }
        self.follower.borrow_mut().leader_socket(None);
        self.mirror.borrow_mut().0 = if state.is_open() { ConnState::Connecting } else { state };
    }

    fn stamp(&self, role: Role) -> Stamp {
        let e = self.election.borrow();
        Stamp { role, fallback: None, leader_changes: e.leader_changes(), epoch: e.epoch() }
    }

    /// Publish the follower view (the leader's Conn publishes its own).
    fn publish(&self) {
        if let Some(conn) = self.conn() {
            conn.set_stamp(self.stamp(Role::Leader));
            return;
        }
        let (state, mut metrics) = self.mirror.borrow().clone();
        self.stamp(Role::Follower).apply(&mut metrics);
        let f = self.follower.borrow();
        metrics.queued = f.queued();
        metrics.queue_high_water = f.high_water();
        metrics.queue_rejected = f.rejected();
        drop(f);
        self.subs.publish(&state, &metrics);
    }

    fn on_wire(&self, w: Wire) {
        if !self.alive.get() {
            return;
        }
        let now = now_ms();
        match w {
            Wire::Hello { epoch, .. } => {
                self.election.borrow_mut().epoch_seen(epoch, now);
                self.run_election();
                if self.conn().is_some() {
                    self.beat();
                }
            }
            Wire::Beat { from, epoch, open, state, at_ms, metrics } => {
                let current = self.election.borrow_mut().heard(from, epoch, now);
                self.run_election();
                if current {
                    *self.mirror.borrow_mut() = (rebase(state, at_ms, now), metrics);
                    let handshake = self.follower.borrow_mut().leader_socket(open);
                    if let Some(tag) = handshake {
                        self.handshake(tag);
                    }
                    self.publish();
                }
            }
            Wire::Frame { from, epoch, conn, seq, frame } => {
                let current = self.election.borrow_mut().heard(from, epoch, now);
                self.run_election();
                if current && self.follower.borrow_mut().accept(conn, seq) {
                    self.deliver(frame);
                }
            }
            Wire::Closed { from, epoch, code, reason, clean } => {
                let current = self.election.borrow_mut().heard(from, epoch, now);
                self.run_election();
                if current {
                    self.follower.borrow_mut().leader_socket(None);
                    self.subs.closed(code, &reason, clean);
                }
            }
            Wire::Took { to, upto, .. } => {
                let mut taken = self.taken.borrow_mut();
                let t = taken.entry(to).or_default();
                *t = (*t).max(upto);
                drop(taken);
                if to == self.tab {
                    self.follower.borrow_mut().took(upto);
                    self.publish();
                }
            }
            Wire::Handshake { from, conn: tag, frames } => {
                let Some(conn) = self.conn() else { return };
                let ok = self.leader.borrow_mut().as_mut().is_some_and(|l| l.handshake(from, tag));
                if ok {
                    frames.into_iter().for_each(|f| {
                        conn.try_send_frame(f);
                    });
                }
            }
            Wire::Send { from, conn: tag, seq, frame } => self.relay_send(from, tag, seq, frame),
            Wire::Command { cmd, .. } => {
                if let Some(conn) = self.conn() {
                    self.wanted.set(cmd == Remote::Open);
                    apply(&conn, cmd);
                }
            }
            Wire::Bye { from } => self.election.borrow_mut().leader_left(from),
        }
    }

    /// A follower's frame: transmit it once, in order, and say so.
    fn relay_send(&self, from: TabId, tag: ConnTag, seq: u64, frame: Frame) {
        let Some(conn) = self.conn() else { return };
        let offer = self.leader.borrow().as_ref().map(|l| l.offer(from, tag, seq));
        let upto = match offer {
            Some(Offer::Take) if conn.try_send_frame(frame) => {
                self.leader.borrow_mut().as_mut().map(|l| l.took(from, seq))
            }
            Some(Offer::Duplicate) => self.taken.borrow().get(&from).copied(),
            _ => None,
        };
        if let Some(upto) = upto {
            let mut taken = self.taken.borrow_mut();
            let t = taken.entry(from).or_default();
            *t = (*t).max(upto);
            drop(taken);
            self.post(&Wire::Took { from: self.tab, to: from, upto });
        }
    }

    /// The leader's socket `tag` is open: our handshake frames, then what
    /// we hold, then `on_open`.
    fn handshake(&self, tag: ConnTag) {
        let subs = self.subs.all();
        let mut frames = Vec::new();
        for sub in &subs {
            for tx in sub.handshake_frames() {
                match self.settings.codec.encode(&tx) {
                    Ok(f) => frames.push(f),
                    Err(e) => {
                        sub.report(WsError::Encode(e.to_string()));
                    }
                }
            }
        }
        self.post(&Wire::Handshake { from: self.tab, conn: tag, frames });
        let held = self.follower.borrow_mut().handshaken(tag);
        held.iter().for_each(|o| self.post_send(o));
        for sub in &subs {
            sub.opened();
        }
    }

    fn deliver(&self, frame: Frame) {
        let incoming = decode(&self.settings.codec, frame);
        if let Incoming::Undecodable { error, .. } = &incoming {
            self.subs.report(&WsError::Decode(error.clone()));
        }
        self.subs.deliver(&incoming);
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

fn apply<Tx, Rx, C>(conn: &Conn<Tx, Rx, C>, cmd: Remote)
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

impl<Tx, Rx, C> Tap for TabNode<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone + 'static,
{
    fn opened(&self) {
        if let Some(l) = self.leader.borrow_mut().as_mut() {
            l.opened();
        }
        self.beat();
    }

    fn frame(&self, frame: &Frame) {
        let relay = self.leader.borrow_mut().as_mut().and_then(|l| Some((l.open()?, l.next_relay_seq())));
        if let Some((conn, seq)) = relay {
            self.post(&Wire::Frame { from: self.tab, epoch: self.epoch(), conn, seq, frame: frame.clone() });
        }
    }

    fn published(&self, state: &ConnState, metrics: &Metrics) {
        self.mirror.borrow_mut().1 = metrics.clone();
        if !state.is_open()
            && let Some(l) = self.leader.borrow_mut().as_mut()
        {
            l.closed();
        }
        let changed = self.told.borrow().as_ref() != Some(state);
        if changed {
            self.beat();
        }
    }

    fn closed(&self, code: u16, reason: &str, was_clean: bool) {
        if self.leader.borrow().is_some() {
            let epoch = self.epoch();
            self.post(&Wire::Closed { from: self.tab, epoch, code, reason: reason.to_owned(), clean: was_clean });
        }
    }
}
