//! A follower's side of the relay: its sends, numbered and kept until the
//! leader took them (the follower-side send queue while there is no leader
//! or no open socket), its handshake once per leader socket, and in-order,
//! once-only delivery of the frames the leader relays.

use super::ConnTag;
use crate::codec::Frame;
use crate::queue::QueueFull;
use std::collections::VecDeque;

/// A frame to hand to the leader now, for socket `conn`.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// The leader socket it is meant for.
    pub conn: ConnTag,
    /// This tab's number for it (from 1, never reused).
    pub seq: u64,
    /// The frame.
    pub frame: Frame,
}

/// The follower's relay state.
#[derive(Debug)]
pub struct Follower {
    capacity: usize,
    /// Kept frames older than this are dropped (and counted) while no
    /// leader socket is ready, instead of being sent late.
    ttl_ms: Option<f64>,
    next_seq: u64,
    /// (number, frame, when `send` took it)
    outbox: VecDeque<(u64, Frame, f64)>,
    /// The leader's socket while it is open.
    open: Option<ConnTag>,
    /// The socket this tab's handshake frames went to.
    handshaken: Option<ConnTag>,
    /// The last relayed frame delivered: (socket, number).
    delivered: Option<(ConnTag, u64)>,
    high_water: usize,
    rejected: u64,
    expired: u64,
}

impl Follower {
    /// At most `capacity` frames wait for the leader, each at most `ttl_ms`
    /// (`None`: as long as it takes), as in the hook's own queue.
    pub fn new(capacity: usize, ttl_ms: Option<f64>) -> Self {
        Self {
            capacity,
            ttl_ms,
            next_seq: 1,
            outbox: VecDeque::new(),
            open: None,
            handshaken: None,
            delivered: None,
            high_water: 0,
            rejected: 0,
            expired: 0,
        }
    }

    /// The socket sends can go to now: open and handshaken. A component
    /// mounted meanwhile sends its handshake frames there too, before its
    /// first send.
    pub fn ready(&self) -> Option<ConnTag> {
        self.open.filter(|c| self.handshaken == Some(*c))
    }

    /// Keep `frame` until the leader took it; returns it to post now when a
    /// leader socket is ready. Errs when `capacity` frames wait already.
    pub fn send(&mut self, frame: Frame, now: f64) -> Result<Option<Outgoing>, QueueFull> {
        if self.outbox.len() >= self.capacity {
            self.rejected += 1;
            return Err(QueueFull { capacity: self.capacity });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.outbox.push_back((seq, frame.clone(), now));
        self.high_water = self.high_water.max(self.outbox.len());
        Ok(self.ready().map(|conn| Outgoing { conn, seq, frame }))
    }

    /// `try_send`: only while a leader socket is ready; then kept like any
    /// send, so a leader change before the leader took it sends it again.
    pub fn try_send(&mut self, frame: Frame, now: f64) -> Option<Outgoing> {
        self.ready()?;
        self.send(frame, now).ok().flatten()
    }

    /// Drop the kept frames that waited longer than the time limit; only
    /// while no leader socket is ready (otherwise they may be on their way).
    /// Returns how many.
    pub fn expire(&mut self, now: f64) -> usize {
        let Some(ttl) = self.ttl_ms.filter(|_| self.ready().is_none()) else { return 0 };
        let before = self.outbox.len();
        while self.outbox.front().is_some_and(|(_, _, at)| now - at > ttl) {
            self.outbox.pop_front();
        }
        let n = before - self.outbox.len();
        self.expired += n as u64;
        n
    }

    /// The leader's socket is now `open` (`None`: not open). Returns the
    /// socket this tab must send its handshake frames to, if any.
    pub fn leader_socket(&mut self, open: Option<ConnTag>) -> Option<ConnTag> {
        self.open = open;
        open.filter(|c| self.handshaken != Some(*c))
    }

    /// The handshake frames went to `conn`: everything still kept goes
    /// after them, in order.
    pub fn handshaken(&mut self, conn: ConnTag) -> Vec<Outgoing> {
        self.handshaken = Some(conn);
        if self.open != Some(conn) {
            return Vec::new();
        }
        self.outbox.iter().map(|(seq, frame, _)| Outgoing { conn, seq: *seq, frame: frame.clone() }).collect()
    }

    /// The leader transmitted everything up to `upto`.
    pub fn took(&mut self, upto: u64) {
        while self.outbox.front().is_some_and(|(seq, _, _)| *seq <= upto) {
            self.outbox.pop_front();
        }
    }

    /// Whether a relayed frame is new (and in order): each is delivered once.
    pub fn accept(&mut self, conn: ConnTag, seq: u64) -> bool {
        match self.delivered {
            Some((c, last)) if c == conn && seq <= last => false,
            _ => {
                self.delivered = Some((conn, seq));
                true
            }
        }
    }

    /// This tab leads now: everything kept goes to its own socket instead.
    /// Numbering goes on, so earlier leaders' acknowledgements stay valid.
    pub fn drain(&mut self) -> Vec<Frame> {
        self.open = None;
        self.handshaken = None;
        self.outbox.drain(..).map(|(_, f, _)| f).collect()
    }

    /// Frames waiting for the leader.
    pub fn queued(&self) -> usize {
        self.outbox.len()
    }

    /// The most that ever waited.
    pub fn high_water(&self) -> usize {
        self.high_water
    }

    /// Sends refused because the queue was full.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Kept frames dropped for waiting too long.
    pub fn expired(&self) -> u64 {
        self.expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(n: u32) -> ConnTag {
        ConnTag { leader: 9, epoch: 0, n }
    }

    fn text(s: &str) -> Frame {
        Frame::Text(s.into())
    }

    #[test]
    fn sends_wait_while_there_is_no_leader_and_follow_the_handshake() {
        let mut f = Follower::new(8, None);
        assert_eq!(f.send(text("a"), 0.0), Ok(None));
        assert_eq!(f.send(text("b"), 0.0), Ok(None));
        assert_eq!(f.try_send(text("x"), 0.0), None, "try_send never queues");
        assert_eq!(f.leader_socket(Some(tag(1))), Some(tag(1)));
        let out = f.handshaken(tag(1));
        let seqs: Vec<_> = out.iter().map(|o| (o.seq, o.frame.clone())).collect();
        assert_eq!(seqs, vec![(1, text("a")), (2, text("b"))]);
        let c = f.send(text("c"), 0.0).unwrap().unwrap();
        assert_eq!((c.conn, c.seq), (tag(1), 3));
    }

    #[test]
    fn what_the_leader_did_not_take_goes_to_the_next_socket_in_order() {
        let mut f = Follower::new(8, None);
        f.leader_socket(Some(tag(1)));
        f.handshaken(tag(1));
        for s in ["a", "b", "c"] {
            f.send(text(s), 0.0).unwrap();
        }
        f.took(1);
        f.leader_socket(None);
        assert_eq!(f.send(text("d"), 0.0), Ok(None));
        assert_eq!(f.leader_socket(Some(tag(2))), Some(tag(2)));
        let out: Vec<_> = f.handshaken(tag(2)).into_iter().map(|o| o.seq).collect();
        assert_eq!(out, vec![2, 3, 4]);
        f.took(4);
        assert_eq!(f.queued(), 0);
    }

    #[test]
    fn a_full_queue_refuses_and_says_so() {
        let mut f = Follower::new(2, None);
        f.send(text("a"), 0.0).unwrap();
        f.send(text("b"), 0.0).unwrap();
        assert_eq!(f.send(text("c"), 0.0), Err(QueueFull { capacity: 2 }));
        assert_eq!((f.queued(), f.high_water(), f.rejected()), (2, 2, 1));
    }

    #[test]
    fn frames_that_waited_too_long_for_a_leader_are_dropped_and_counted() {
        let mut f = Follower::new(8, Some(1_000.0));
        f.send(text("old"), 0.0).unwrap();
        f.send(text("new"), 900.0).unwrap();
        assert_eq!(f.expire(1_500.0), 1);
        assert_eq!((f.queued(), f.expired()), (1, 1));
        f.leader_socket(Some(tag(1)));
        f.handshaken(tag(1));
        assert_eq!(f.expire(10_000.0), 0, "not while a socket is ready: they may be on their way");
    }

    #[test]
    fn the_same_socket_is_handshaken_once() {
        let mut f = Follower::new(8, None);
        assert_eq!(f.leader_socket(Some(tag(1))), Some(tag(1)));
        f.handshaken(tag(1));
        assert_eq!(f.leader_socket(Some(tag(1))), None);
    }

    #[test]
    fn relayed_frames_are_delivered_once_in_order() {
        let mut f = Follower::new(8, None);
        assert!(f.accept(tag(1), 1));
        assert!(f.accept(tag(1), 2));
        assert!(!f.accept(tag(1), 2));
        assert!(!f.accept(tag(1), 1));
        assert!(f.accept(tag(2), 1), "a new socket numbers afresh");
    }
}
