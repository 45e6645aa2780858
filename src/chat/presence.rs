//! Who is in each room, from the server's `presence` snapshot (sent after
//! every join) and its `member_joined` / `member_left` changes. Pure: the
//! store feeds it frames, the member list reads it.

use std::collections::{BTreeSet, HashMap};
use tether_protocol::ServerMsg;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Presence {
    rooms: HashMap<String, Roster>,
}

/// One room's members: the listed nicknames, and how many there are in all
/// (the server lists at most `MAX_PRESENCE`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Roster {
    pub listed: BTreeSet<String>,
    pub total: usize,
}

impl Presence {
    /// Applies a presence frame; false for any other frame.
    pub fn apply(&mut self, msg: &ServerMsg) -> bool {
        match msg {
            ServerMsg::Presence { room, members, total } => {
                self.rooms.insert(room.clone(), Roster { listed: members.iter().cloned().collect(), total: *total });
            }
            ServerMsg::MemberJoined { room, nick } => {
                let r = self.rooms.entry(room.clone()).or_default();
                if r.listed.insert(nick.clone()) {
                    r.total += 1;
                }
            }
            ServerMsg::MemberLeft { room, nick } => {
                if let Some(r) = self.rooms.get_mut(room) {
                    r.listed.remove(nick);
                    r.total = r.total.saturating_sub(1);
                }
            }
            _ => return false,
        }
        true
    }

    pub fn roster(&self, room: &str) -> Option<&Roster> {
        self.rooms.get(room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_then_changes() {
        let mut p = Presence::default();
        let snap = ServerMsg::Presence { room: "r".into(), members: vec!["ann".into(), "bob".into()], total: 2 };
        assert!(p.apply(&snap));
        assert!(p.apply(&ServerMsg::MemberJoined { room: "r".into(), nick: "cy".into() }));
        assert!(p.apply(&ServerMsg::MemberJoined { room: "r".into(), nick: "cy".into() }), "repeated: no double count");
        assert!(p.apply(&ServerMsg::MemberLeft { room: "r".into(), nick: "ann".into() }));
        let r = p.roster("r").unwrap();
        assert_eq!(r.listed.iter().map(String::as_str).collect::<Vec<_>>(), ["bob", "cy"]);
        assert_eq!(r.total, 2);
        assert!(!p.apply(&ServerMsg::Pong { nonce: 1 }));
        assert!(p.apply(&snap), "a new snapshot (after a reconnect) replaces the roster");
        assert_eq!(p.roster("r").unwrap().total, 2);
    }
}
