//! What deserves the user's attention: unread messages per room, and the
//! rooms the chat stays joined to so that it can count them.
//!
//! Pure bookkeeping (no signals, no browser): the store feeds it arrivals,
//! room switches and visibility, and the UI reads counts from it.

use std::collections::{HashMap, VecDeque};

/// How many recently visited rooms stay joined (and counted). Bounded so a
/// user who wanders through many rooms does not pin them all on the server.
pub const MAX_WATCHED: usize = 8;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attention {
    /// Recently visited rooms, most recent last.
    watched: VecDeque<String>,
    unread: HashMap<String, u32>,
}

impl Attention {
    /// Start in `room`.
    pub fn new(room: &str) -> Self {
        Self { watched: VecDeque::from([room.to_owned()]), unread: HashMap::new() }
    }

    /// The user opened `room`: it is read now and stays watched. Returns the
    /// room that falls out of the watched set, to leave on the server.
    pub fn visit(&mut self, room: &str) -> Option<String> {
        self.unread.remove(room);
        self.watched.retain(|r| r != room);
        self.watched.push_back(room.to_owned());
        if self.watched.len() > MAX_WATCHED {
            let gone = self.watched.pop_front()?;
            self.unread.remove(&gone);
            return Some(gone);
        }
        None
    }

    /// Someone else's message arrived in `room` while the user was looking at
    /// `current` (or at nothing, `hidden`).
    pub fn arrived(&mut self, room: &str, current: &str, hidden: bool) {
        if room != current || hidden {
            *self.unread.entry(room.to_owned()).or_default() += 1;
        }
    }

    /// The user is looking at `room` again (the tab became visible).
    pub fn seen(&mut self, room: &str) {
        self.unread.remove(room);
    }

    pub fn unread(&self, room: &str) -> u32 {
        self.unread.get(room).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u32 {
        self.unread.values().sum()
    }

    /// Rooms to join on every connection, oldest visit first.
    pub fn watched(&self) -> impl Iterator<Item = &String> {
        self.watched.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_arrives_elsewhere_or_while_hidden_and_clears_on_visit() {
        let mut a = Attention::new("general");
        a.visit("dev");
        a.arrived("general", "dev", false);
        a.arrived("general", "dev", false);
        a.arrived("dev", "dev", false);
        assert_eq!((a.unread("general"), a.unread("dev")), (2, 0), "the room on screen is read");
        a.arrived("dev", "dev", true);
        assert_eq!((a.unread("dev"), a.total()), (1, 3), "hidden: counted for the title");
        a.seen("dev");
        assert_eq!(a.unread("dev"), 0);
        a.visit("general");
        assert_eq!(a.total(), 0);
    }

    #[test]
    fn watches_a_bounded_set_of_recent_rooms() {
        let mut a = Attention::new("r0");
        let mut left = Vec::new();
        for i in 1..=MAX_WATCHED + 2 {
            left.extend(a.visit(&format!("r{i}")));
        }
        assert_eq!(left, ["r0", "r1", "r2"]);
        assert_eq!(a.watched().count(), MAX_WATCHED);
        assert_eq!(a.visit("r5"), None, "revisiting moves it to the front, nothing leaves");
        assert_eq!(a.watched().last().map(String::as_str), Some("r5"));
    }
}
