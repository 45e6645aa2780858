//! One room's message list as the user sees it, as plain data.
//!
//! Messages the server has stored are ordered by `seq` and deduplicated by
//! it; one's own messages that are not stored yet follow, in the order they
//! were typed. An own message is matched to its stored copy by client id, so
//! the ack and the broadcast can arrive in either order (or twice, after a
//! resend) and the user still sees it once.

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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoomLog {
    /// Stored messages (by seq), then pending own messages.
    entries: Vec<Entry>,
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

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Where to resume from: the room's epoch and the highest seq we hold.
    pub fn cursor(&self) -> Option<Cursor> {
        let epoch = self.epoch.clone()?;
        let seq = self.entries.iter().filter_map(|e| e.seq).max().unwrap_or(0);
        Some(Cursor { epoch, seq })
    }

    /// A message typed here (or restored after a reload), before the server
    /// has stored it. Ignored if the id is already present.
    pub fn add_own(&mut self, id: String, author: String, body: String, status: Status, created_ms: f64) {
        if self.get(&id).is_none() {
            self.entries.push(Entry { id, seq: None, author, body, status, own: true, error: None, created_ms });
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
        self.entries.iter().filter(|e| e.own && e.seq.is_none())
    }

    /// Give up on own messages older than `deadline_ms` that are still not
    /// stored: better an honest "failed, retry?" than a message that may
    /// arrive hours later out of context. Returns how many expired.
    pub fn expire(&mut self, now_ms: f64, deadline_ms: f64) -> usize {
        let mut n = 0;
        for e in self.entries.iter_mut() {
            if e.own
                && e.seq.is_none()
                && matches!(e.status, Status::Queued | Status::Sent)
                && now_ms - e.created_ms >= deadline_ms
            {
                e.status = Status::Failed;
                e.error = Some("not delivered in time; retry to send it again".into());
                n += 1;
            }
        }
        n
    }

    /// The user asked to retry a failed message: it goes out again with the
    /// same id (so it can never be stored twice) and a fresh deadline.
    pub fn retry(&mut self, id: &str, status: Status, now_ms: f64) -> Option<String> {
        let e = self.entries.iter_mut().find(|e| e.id == id && e.status == Status::Failed)?;
        e.status = status;
        e.error = None;
        e.created_ms = now_ms;
        Some(e.body.clone())
    }

    pub fn mark_all(&mut self, from: Status, to: Status) {
        for e in self.entries.iter_mut().filter(|e| e.own && e.status == from) {
            e.status = to;
        }
    }

    /// Set the status of an own message not yet stored (a post the socket
    /// would not take after all goes back to `queued`).
    pub fn mark(&mut self, id: &str, to: Status) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id && e.own && e.seq.is_none()) {
            e.status = to;
        }
    }

    pub fn fail(&mut self, id: &str, why: String) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id && e.seq.is_none()) {
            e.status = Status::Failed;
            e.error = Some(why);
        }
    }

    /// Refused for now (rate limited): back to queued, saying why, until it
    /// is sent again.
    pub fn wait(&mut self, id: &str, why: String) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id && e.seq.is_none() && e.status != Status::Failed) {
            e.status = Status::Queued;
            e.error = Some(why);
        }
    }

    /// Not sent yet: it waits behind earlier messages (back to queued).
    pub fn hold(&mut self, id: &str) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id && e.seq.is_none() && e.status == Status::Sent) {
            e.status = Status::Queued;
        }
    }

    /// A waiting message went out again.
    pub fn mark_sent(&mut self, id: &str) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id && e.status == Status::Queued) {
            e.status = Status::Sent;
            e.error = None;
        }
    }

    /// The server stored our message as `seq`.
    pub fn ack(&mut self, id: &str, seq: u64) {
        if let Some(i) = self.entries.iter().position(|e| e.id == id) {
            let mut e = self.entries.remove(i);
            e.seq = Some(seq);
            e.status = Status::Acked;
            e.error = None;
            self.place(e);
        }
    }

    /// A stored message from the server (live or history). Returns whether
    /// anything changed.
    pub fn apply(&mut self, m: ChatMessage, me: &str) -> bool {
        if self.entries.iter().any(|e| e.seq == Some(m.seq)) {
            return false;
        }
        if let Some(i) = self.entries.iter().position(|e| e.id == m.id) {
            let mut e = self.entries.remove(i);
            e.seq = Some(m.seq);
            e.status = if e.own { Status::Acked } else { Status::Delivered };
            self.place(e);
            return true;
        }
        let own = m.author == me;
        let status = if own { Status::Acked } else { Status::Delivered };
        self.place(Entry {
            id: m.id,
            seq: Some(m.seq),
            author: m.author,
            body: m.body,
            status,
            own,
            error: None,
            created_ms: m.ts_ms as f64,
        });
        true
    }

    /// The answer to a join. `recovered` means `history` continues what we
    /// hold; otherwise it replaces it, keeping only own messages still on
    /// their way (they will be matched when stored).
    pub fn joined(&mut self, epoch: String, recovered: bool, history: Vec<ChatMessage>, me: &str) {
        if !recovered || self.epoch.as_deref() != Some(epoch.as_str()) {
            self.entries.retain(|e| e.seq.is_none());
        }
        self.epoch = Some(epoch);
        for m in history {
            self.apply(m, me);
        }
    }

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
        let oldest = self.entries.iter().filter_map(|e| e.seq).min()?;
        self.loading_older = true;
        Some(oldest)
    }

    /// A request for older messages could not be sent; allow another.
    pub fn cancel_older(&mut self) {
        self.loading_older = false;
    }

    /// An older page arrived: its messages go in at their seq positions.
    pub fn older(&mut self, messages: Vec<ChatMessage>, has_older: bool, me: &str) {
        for m in messages {
            self.apply(m, me);
        }
        self.set_has_older(has_older);
    }

    /// Insert a stored entry at its seq position, ahead of pending ones.
    fn place(&mut self, e: Entry) {
        let seq = e.seq.unwrap_or(u64::MAX);
        let at = self.entries.iter().position(|x| x.seq.is_none_or(|s| s > seq)).unwrap_or(self.entries.len());
        self.entries.insert(at, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64, id: &str, author: &str) -> ChatMessage {
        ChatMessage { room: "r".into(), seq, id: id.into(), author: author.into(), body: format!("b{seq}"), ts_ms: 0 }
    }

    fn view(l: &RoomLog) -> Vec<(String, Option<u64>, &'static str)> {
        l.entries().iter().map(|e| (e.id.clone(), e.seq, e.status.name())).collect()
    }

    #[test]
    fn orders_by_seq_and_drops_duplicates() {
        let mut l = RoomLog::default();
        l.joined("e".into(), false, vec![msg(1, "a", "bob"), msg(3, "c", "bob")], "me");
        assert!(l.apply(msg(2, "b", "bob"), "me"));
        assert!(!l.apply(msg(3, "c", "bob"), "me"), "same seq twice");
        let ids: Vec<_> = l.entries().iter().map(|e| e.seq.unwrap()).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(l.cursor(), Some(Cursor { epoch: "e".into(), seq: 3 }));
    }

    #[test]
    fn own_message_is_shown_once_whatever_the_order_of_ack_and_broadcast() {
        for ack_first in [true, false] {
            let mut l = RoomLog::default();
            l.joined("e".into(), false, vec![msg(1, "x", "bob")], "me");
            l.add_own("mine".into(), "me".into(), "hi".into(), Status::Queued, 0.0);
            l.mark_all(Status::Queued, Status::Sent);
            assert_eq!(l.pending().count(), 1);
            if ack_first {
                l.ack("mine", 2);
                l.apply(msg(2, "mine", "me"), "me");
            } else {
                l.apply(msg(2, "mine", "me"), "me");
                l.ack("mine", 2);
            }
            assert_eq!(view(&l), [("x".into(), Some(1), "delivered"), ("mine".into(), Some(2), "acked")]);
            assert_eq!(l.pending().count(), 0);
        }
    }

    #[test]
    fn pending_own_messages_stay_after_stored_ones() {
        let mut l = RoomLog::default();
        l.joined("e".into(), false, vec![], "me");
        l.add_own("p".into(), "me".into(), "pending".into(), Status::Sent, 0.0);
        l.apply(msg(1, "o", "bob"), "me");
        assert_eq!(view(&l), [("o".into(), Some(1), "delivered"), ("p".into(), None, "sent")]);
        l.fail("p", "too long".into());
        assert_eq!(l.get("p").unwrap().status, Status::Failed);
        assert_eq!(l.get("p").unwrap().error.as_deref(), Some("too long"));
    }

    #[test]
    fn an_unrecovered_join_replaces_the_view_but_keeps_pending_posts() {
        let mut l = RoomLog::default();
        l.joined("e1".into(), false, vec![msg(1, "a", "bob"), msg(2, "b", "bob")], "me");
        l.add_own("p".into(), "me".into(), "x".into(), Status::Sent, 0.0);
        l.joined("e2".into(), false, vec![msg(1, "z", "bob")], "me");
        assert_eq!(view(&l), [("z".into(), Some(1), "delivered"), ("p".into(), None, "sent")]);
        // A recovered join appends without losing anything.
        l.joined("e2".into(), true, vec![msg(2, "y", "bob")], "me");
        assert_eq!(l.entries().len(), 3);
    }

    #[test]
    fn older_pages_go_in_front_one_request_at_a_time() {
        let mut l = RoomLog::default();
        l.joined("e".into(), false, vec![msg(5, "e5", "bob"), msg(6, "e6", "bob")], "me");
        assert_eq!(l.begin_older(), None, "nothing older until the server says so");
        l.set_has_older(true);
        assert_eq!(l.begin_older(), Some(5));
        assert_eq!(l.begin_older(), None, "one request at a time");
        l.older(vec![msg(3, "e3", "bob"), msg(4, "e4", "bob")], false, "me");
        assert_eq!(l.entries().iter().map(|e| e.seq.unwrap()).collect::<Vec<_>>(), [3, 4, 5, 6]);
        assert!(!l.has_older());
        assert_eq!(l.begin_older(), None, "reached the start");
    }

    #[test]
    fn a_rate_limited_message_waits_with_its_reason_and_later_ones_wait_behind_it() {
        let mut l = RoomLog::default();
        l.add_own("a".into(), "me".into(), "1".into(), Status::Sent, 0.0);
        l.add_own("b".into(), "me".into(), "2".into(), Status::Sent, 0.0);
        l.wait("a", "sending too fast; retry in 0.2 s".into());
        l.hold("b");
        assert_eq!(view(&l), [("a".into(), None, "queued"), ("b".into(), None, "queued")]);
        assert_eq!(l.get("a").unwrap().error.as_deref(), Some("sending too fast; retry in 0.2 s"));
        assert_eq!(l.get("b").unwrap().error, None, "held, not refused");
        l.mark_sent("a");
        assert_eq!((l.get("a").unwrap().status, l.get("a").unwrap().error.clone()), (Status::Sent, None));
        l.ack("a", 1);
        l.fail("b", "x".into());
        l.wait("b", "y".into());
        assert_eq!(l.get("b").unwrap().status, Status::Failed, "a failed message stays failed");
    }

    #[test]
    fn old_pending_messages_expire_and_retry_keeps_the_id() {
        let mut l = RoomLog::default();
        l.add_own("old".into(), "me".into(), "x".into(), Status::Sent, 1_000.0);
        l.add_own("new".into(), "me".into(), "y".into(), Status::Queued, 9_000.0);
        l.add_own("old".into(), "me".into(), "dup".into(), Status::Queued, 9_000.0);
        assert_eq!(l.entries().len(), 2, "restoring an id twice adds nothing");
        assert_eq!(l.expire(10_000.0, 5_000.0), 1);
        assert_eq!(l.get("old").unwrap().status, Status::Failed);
        assert_eq!(l.get("new").unwrap().status, Status::Queued);
        assert_eq!(l.pending().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["new"], "failed ones are not resent");
        assert_eq!(l.unstored().count(), 2, "but they are kept, for a reload and a retry");
        assert_eq!(l.retry("old", Status::Sent, 10_000.0).as_deref(), Some("x"));
        assert_eq!(l.get("old").unwrap().status, Status::Sent);
        assert_eq!(l.retry("new", Status::Sent, 0.0), None, "only failed messages are retried");
        assert_eq!(l.expire(10_001.0, 5_000.0), 0, "fresh deadline");
    }
}
