//! One room's message list as the user sees it, as plain data.
//!
//! Messages the server has stored are ordered by `seq` and deduplicated by
//! it; one's own messages that are not stored yet follow, in the order they
//! were typed. An own message is matched to its stored copy by client id, so
//! the ack and the broadcast can arrive in either order (or twice, after a
//! resend) and the user still sees it once.
//!
//! Every operation costs O(log n) in the room's size (plus the own messages
//! still pending, a handful): stored messages are found by binary search on
//! `seq` and by an id index, never by a scan, so a burst of messages into a
//! long room stays cheap. The log also notes which rows changed in place
//! (for the view) and counts changes to what the outbox must persist.

use std::collections::{HashMap, HashSet};
use tether_protocol::{ChatMessage, Cursor};

/// Delivery status, as shown in `data-status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the connection.
    Queued,
    /// Handed to an open socket; not yet confirmed.
    Sent,
    /// Stored by the server.
    Acked,
    /// Refused; see `error`.
    Failed,
    /// Someone else's message.
    Delivered,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Acked => "acked",
            Status::Failed => "failed",
            Status::Delivered => "delivered",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: String,
    pub seq: Option<u64>,
    pub author: String,
    pub body: String,
    pub status: Status,
    pub own: bool,
    pub error: Option<String>,
    /// When the message was written (ms since the Unix epoch): typed, for
    /// an own message not yet stored (its outbox deadline counts from it);
    /// stored by the server, for the others.
    pub created_ms: f64,
}

impl Entry {
    /// A message as the server stored it: one's own (by nickname `me`) is
    /// acked, anyone else's delivered.
    pub fn stored(m: ChatMessage, me: &str) -> Self {
        let own = m.author == me;
        Self {
            id: m.id,
            seq: Some(m.seq),
            author: m.author,
            body: m.body,
            status: if own { Status::Acked } else { Status::Delivered },
            own,
            error: None,
            created_ms: m.ts_ms as f64,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoomLog {
    /// Stored messages (by seq), then pending own messages.
    entries: Vec<Entry>,
    /// How many of `entries` are stored (they come first).
    stored: usize,
    /// Stored messages' ids, with their seq.
    seq_of: HashMap<String, u64>,
    /// Ids whose row changed in place (seq, status or error) since the last
    /// [`RoomLog::take_changed`].
    changed: HashSet<String>,
    /// Bumped whenever an own message not yet stored changes: what the
    /// outbox persists.
    outbox_rev: u64,
    epoch: Option<String>,
    /// The server has messages older than the oldest we hold.
    has_older: bool,
    /// A request for an older page is on its way.
    loading_older: bool,
}

impl RoomLog {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The newest `n` entries (the view's window), oldest first.
    pub fn newest(&self, n: usize) -> &[Entry] {
        &self.entries[self.entries.len().saturating_sub(n)..]
    }

    /// Ids of rows changed in place since the last call.
    pub fn take_changed(&mut self) -> HashSet<String> {
        std::mem::take(&mut self.changed)
    }

    /// Changes whenever the unstored own messages change.
    pub fn outbox_rev(&self) -> u64 {
        self.outbox_rev
    }

    fn stored_at(&self, seq: u64) -> Result<usize, usize> {
        self.entries[..self.stored].binary_search_by_key(&seq, |e| e.seq.unwrap_or(u64::MAX))
    }

    fn pending_at(&self, id: &str) -> Option<usize> {
        self.entries[self.stored..].iter().position(|e| e.id == id).map(|i| i + self.stored)
    }

    fn position(&self, id: &str) -> Option<usize> {
        match self.seq_of.get(id) {
            Some(&seq) => self.stored_at(seq).ok(),
            None => self.pending_at(id),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.position(id).map(|i| &self.entries[i])
    }

    /// Where to resume from: the room's epoch and the highest seq we hold.
    pub fn cursor(&self) -> Option<Cursor> {
        let epoch = self.epoch.clone()?;
        let seq = self.stored.checked_sub(1).and_then(|i| self.entries[i].seq).unwrap_or(0);
        Some(Cursor { epoch, seq })
    }

    /// A message typed here (or restored after a reload), before the server
    /// has stored it. Ignored if the id is already present.
    pub fn add_own(&mut self, id: String, author: String, body: String, status: Status, created_ms: f64) {
        if self.position(&id).is_none() {
            self.entries.push(Entry { id, seq: None, author, body, status, own: true, error: None, created_ms });
            self.outbox_rev += 1;
        }
    }

    /// Own messages not yet stored and not given up on, in the order typed:
    /// what the next connection sends.
    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.unstored().filter(|e| e.status != Status::Failed)
    }

    /// Own messages the server has not stored, failed ones included: what
    /// must survive a reload so nothing typed ever silently disappears.
    pub fn unstored(&self) -> impl Iterator<Item = &Entry> {
        self.entries[self.stored..].iter()
    }

    /// Takes the entry at `i` out of the log (and its indexes).
    fn take(&mut self, i: usize) -> Entry {
        let e = self.entries.remove(i);
        if i < self.stored {
            self.stored -= 1;
            self.seq_of.remove(&e.id);
        } else {
            self.outbox_rev += 1;
        }
        e
    }

    /// The server stored our message as `seq`.
    pub fn ack(&mut self, id: &str, seq: u64) {
        if let Some(i) = self.position(id) {
            let mut e = self.take(i);
            e.seq = Some(seq);
            e.status = Status::Acked;
            e.error = None;
            self.changed.insert(e.id.clone());
            self.place(e);
        }
    }

    /// A stored message from the server (live or history). Returns whether
    /// anything changed.
    pub fn apply(&mut self, m: ChatMessage, me: &str) -> bool {
        if self.stored_at(m.seq).is_ok() {
            return false;
        }
        if let Some(i) = self.position(&m.id) {
            let mut e = self.take(i);
            e.seq = Some(m.seq);
            e.status = if e.own { Status::Acked } else { Status::Delivered };
            self.changed.insert(e.id.clone());
            self.place(e);
            return true;
        }
        self.place(Entry::stored(m, me));
        true
    }

    /// The answer to a join. `recovered` means `history` continues what we
    /// hold; otherwise it replaces it, keeping only own messages still on
    /// their way (they will be matched when stored).
    pub fn joined(&mut self, epoch: String, recovered: bool, history: Vec<ChatMessage>, me: &str) {
        if !recovered || self.epoch.as_deref() != Some(epoch.as_str()) {
            self.entries.drain(..self.stored);
            self.stored = 0;
            self.seq_of.clear();
        }
        self.epoch = Some(epoch);
        for m in history {
            self.apply(m, me);
        }
    }

    /// Insert a stored entry at its seq position, ahead of pending ones.
    fn place(&mut self, e: Entry) {
        let seq = e.seq.unwrap_or(u64::MAX);
        let at = match self.stored_at(seq) {
            Ok(i) | Err(i) => i,
        };
        self.seq_of.insert(e.id.clone(), seq);
        self.entries.insert(at, e);
        self.stored += 1;
    }
}

mod older;
mod pending;
#[cfg(test)]
mod tests;
