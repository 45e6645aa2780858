//! Per-room delivery order: messages from the bus (and from local posts)
//! arrive in any order; members must see them by seq, each once.

use std::collections::BTreeMap;

use tether_protocol::ChatMessage;

/// Most out-of-order messages a room holds while a gap is filled; past it
/// the newest are dropped (they are in the store and are read back later).
pub const MAX_PENDING: usize = 4096;

/// The reorder buffer of one room.
#[derive(Debug, Default)]
pub struct Order {
    delivered: u64,
    pending: BTreeMap<u64, ChatMessage>,
}

impl Order {
    /// Everything up to `delivered` is already known to this room's members.
    pub fn new(delivered: u64) -> Self {
        Self { delivered, pending: BTreeMap::new() }
    }

    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Takes `m` and returns the messages now deliverable, in seq order:
    /// nothing if it is old or a gap remains before it.
    pub fn offer(&mut self, m: ChatMessage) -> Vec<ChatMessage> {
        if m.seq <= self.delivered {
            return Vec::new();
        }
        self.pending.insert(m.seq, m);
        if self.pending.len() > MAX_PENDING {
            self.pending.pop_last();
        }
        let mut ready = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.delivered + 1 {
                break;
            }
            self.delivered += 1;
            ready.push(entry.remove());
        }
        ready
    }

    /// The missing seqs before the first waiting message, as
    /// `(after, count)`: read `count` messages after seq `after` to fill it.
    pub fn gap(&self) -> Option<(u64, u64)> {
        let (&first, _) = self.pending.first_key_value()?;
        Some((self.delivered, first - self.delivered - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(seq: u64) -> ChatMessage {
        ChatMessage { room: "r".into(), seq, id: format!("i{seq}"), author: "a".into(), body: String::new(), ts_ms: 0 }
    }

    fn seqs(v: Vec<ChatMessage>) -> Vec<u64> {
        v.into_iter().map(|m| m.seq).collect()
    }

    #[test]
    fn in_order_messages_pass_straight_through() {
        let mut o = Order::new(3);
        assert_eq!(seqs(o.offer(m(4))), [4]);
        assert_eq!(seqs(o.offer(m(5))), [5]);
        assert_eq!(o.gap(), None);
    }

    #[test]
    fn a_gap_holds_later_messages_until_filled() {
        let mut o = Order::new(0);
        assert!(o.offer(m(3)).is_empty());
        assert!(o.offer(m(2)).is_empty());
        assert_eq!(o.gap(), Some((0, 1)));
        assert_eq!(seqs(o.offer(m(1))), [1, 2, 3]);
        assert_eq!(o.delivered(), 3);
    }

    #[test]
    fn duplicates_and_old_messages_are_dropped() {
        let mut o = Order::new(5);
        assert!(o.offer(m(5)).is_empty());
        assert!(o.offer(m(2)).is_empty());
        assert_eq!(seqs(o.offer(m(6))), [6]);
        assert!(o.offer(m(6)).is_empty());
    }

    #[test]
    fn the_buffer_is_bounded() {
        let mut o = Order::new(0);
        for s in 2..(MAX_PENDING as u64 + 100) {
            o.offer(m(s));
        }
        assert!(o.pending.len() <= MAX_PENDING);
        assert_eq!(seqs(o.offer(m(1))), (1..=MAX_PENDING as u64).collect::<Vec<_>>());
    }
}
