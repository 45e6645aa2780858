//! Paging back through a room's history: at most one request for an older
//! page on its way at a time, and a page that is simply older than what we
//! hold put in front in one go, since placing its messages one at a time
//! would shift every row after each of them.

use super::{Entry, RoomLog};
use tether_protocol::ChatMessage;

impl RoomLog {
    /// Whether the server said older messages exist (after a join or a page).
    pub fn set_has_older(&mut self, has_older: bool) {
        self.has_older = has_older;
        self.loading_older = false;
    }

    pub fn has_older(&self) -> bool {
        self.has_older
    }

    /// Starts loading the page before our oldest message: returns its seq,
    /// or None if there is nothing older or a request is already on its way.
    pub fn begin_older(&mut self) -> Option<u64> {
        if !self.has_older || self.loading_older {
            return None;
        }
        let oldest = self.entries[..self.stored].first()?.seq?;
        self.loading_older = true;
        Some(oldest)
    }

    /// A request for older messages could not be sent; allow another.
    pub fn cancel_older(&mut self) {
        self.loading_older = false;
    }

    /// An older page arrived: its messages go in at their seq positions
    /// (all at once in front when the page is simply older than what we hold).
    pub fn older(&mut self, messages: Vec<ChatMessage>, has_older: bool, me: &str) {
        let oldest = self.entries[..self.stored].first().and_then(|e| e.seq).unwrap_or(u64::MAX);
        let in_front = messages.windows(2).all(|w| w[0].seq < w[1].seq)
            && messages.last().is_none_or(|m| m.seq < oldest)
            && messages.iter().all(|m| self.position(&m.id).is_none());
        if in_front {
            let page: Vec<Entry> = messages
                .into_iter()
                .map(|m| {
                    self.seq_of.insert(m.id.clone(), m.seq);
                    Entry::stored(m, me)
                })
                .collect();
            self.stored += page.len();
            self.entries.splice(0..0, page);
        } else {
            for m in messages {
                self.apply(m, me);
            }
        }
        self.set_has_older(has_older);
    }
}
