//! The leader's side of the relay: its socket's tag, which followers sent
//! their handshake frames to it, and which follower frames it already took.

use super::{ConnTag, TabId};
use std::collections::{HashMap, HashSet};

/// What to do with a frame a follower offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Transmit it, then [`Leader::took`] and acknowledge.
    Take,
    /// Already transmitted (by this or an earlier leader): acknowledge again.
    Duplicate,
    /// Not for this socket, or before the follower's handshake: ignore; the
    /// follower sends it again after its handshake for the current socket.
    Refuse,
}

/// The leader's relay state for one epoch.
#[derive(Debug)]
pub struct Leader {
    me: TabId,
    epoch: u64,
    sockets: u32,
    open: Option<ConnTag>,
    handshaken: HashSet<TabId>,
    taken: HashMap<TabId, u64>,
    relayed: u64,
}

impl Leader {
    /// A new leader; `taken` is what earlier leaders acknowledged, as heard.
    pub fn new(me: TabId, epoch: u64, taken: HashMap<TabId, u64>) -> Self {
        Self { me, epoch, sockets: 0, open: None, handshaken: HashSet::new(), taken, relayed: 0 }
    }

    /// The socket opened: a new tag, no follower handshaken yet.
    pub fn opened(&mut self) -> ConnTag {
        self.sockets += 1;
        self.handshaken.clear();
        self.relayed = 0;
        let tag = ConnTag { leader: self.me, epoch: self.epoch, n: self.sockets };
        self.open = Some(tag);
        tag
    }

    /// The socket is no longer open.
    pub fn closed(&mut self) {
        self.open = None;
        self.handshaken.clear();
    }

    /// The open socket, if any.
    pub fn open(&self) -> Option<ConnTag> {
        self.open
    }

    /// `from` sends handshake frames for `conn`: transmit them only if that
    /// is the open socket. A tab may send more for the same socket: a
    /// component it mounted since has its own, which must reach the server
    /// before that component's sends do. The leader's connection skips
    /// frames identical to ones already sent on the socket.
    pub fn handshake(&mut self, from: TabId, conn: ConnTag) -> bool {
        if self.open != Some(conn) {
            return false;
        }
        self.handshaken.insert(from);
        true
    }

    /// `from` offers its frame `seq` for `conn`.
    pub fn offer(&self, from: TabId, conn: ConnTag, seq: u64) -> Offer {
        if self.taken.get(&from).is_some_and(|t| seq <= *t) {
            return Offer::Duplicate;
        }
        if self.open != Some(conn) || !self.handshaken.contains(&from) {
            return Offer::Refuse;
        }
        Offer::Take
    }

    /// Frame `seq` of `from` was transmitted.
    pub fn took(&mut self, from: TabId, seq: u64) -> u64 {
        let t = self.taken.entry(from).or_default();
        *t = (*t).max(seq);
        *t
    }

    /// A frame the socket received is relayed under the next number.
    pub fn next_relay_seq(&mut self) -> u64 {
        self.relayed += 1;
        self.relayed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_taken_only_after_the_followers_handshake_on_the_open_socket() {
        let mut l = Leader::new(1, 0, HashMap::new());
        let old = ConnTag { leader: 1, epoch: 0, n: 0 };
        let c = l.opened();
        assert_eq!(l.offer(2, c, 1), Offer::Refuse, "before its handshake");
        assert!(!l.handshake(2, old));
        assert!(l.handshake(2, c));
        assert_eq!(l.offer(2, old, 1), Offer::Refuse);
        assert_eq!(l.offer(2, c, 1), Offer::Take);
        l.took(2, 1);
        assert_eq!(l.offer(2, c, 1), Offer::Duplicate);
        l.closed();
        assert_eq!(l.offer(2, c, 2), Offer::Refuse);
        let c2 = l.opened();
        assert_ne!(c, c2);
        assert_eq!(l.offer(2, c2, 2), Offer::Refuse, "a new socket needs a new handshake");
    }

    #[test]
    fn a_component_mounted_on_a_follower_later_has_its_handshake_taken() {
        let mut l = Leader::new(1, 0, HashMap::new());
        let c = l.opened();
        assert!(l.handshake(2, c));
        assert_eq!(l.offer(2, c, 1), Offer::Take);
        assert!(l.handshake(2, c), "a component the follower mounted since sends its own");
        l.closed();
        assert!(!l.handshake(2, c), "never for a socket that is gone");
    }

    #[test]
    fn what_an_earlier_leader_took_is_not_sent_twice() {
        let mut l = Leader::new(3, 1, HashMap::from([(2, 5)]));
        let c = l.opened();
        l.handshake(2, c);
        assert_eq!(l.offer(2, c, 5), Offer::Duplicate);
        assert_eq!(l.offer(2, c, 6), Offer::Take);
    }

    #[test]
    fn relayed_frames_are_numbered_per_socket() {
        let mut l = Leader::new(1, 0, HashMap::new());
        l.opened();
        assert_eq!((l.next_relay_seq(), l.next_relay_seq()), (1, 2));
        l.closed();
        l.opened();
        assert_eq!(l.next_relay_seq(), 1);
    }
}
