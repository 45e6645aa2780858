//! Own messages not yet stored: their status changes (sent, queued, failed,
//! retried, expired). Each touches only the pending tail of the log.

use super::{Entry, RoomLog, Status};

impl RoomLog {
    /// Changes the unstored entry `id` if `pick` accepts it; notes the change.
    fn change_pending(&mut self, id: &str, pick: impl Fn(&Entry) -> bool, f: impl FnOnce(&mut Entry)) {
        if let Some(e) = self.entries[self.stored..].iter_mut().find(|e| e.id == id && pick(e)) {
            f(e);
            self.changed.insert(e.id.clone());
            self.outbox_rev += 1;
        }
    }

    /// Give up on own messages older than `deadline_ms` that are still not
    /// stored: better an honest "failed, retry?" than a message that may
    /// arrive hours later out of context. Returns how many expired.
    pub fn expire(&mut self, now_ms: f64, deadline_ms: f64) -> usize {
        let mut n = 0;
        for e in self.entries[self.stored..].iter_mut() {
            if matches!(e.status, Status::Queued | Status::Sent) && now_ms - e.created_ms >= deadline_ms {
                e.status = Status::Failed;
                e.error = Some("not delivered in time; retry to send it again".into());
                self.changed.insert(e.id.clone());
                n += 1;
            }
        }
        if n > 0 {
            self.outbox_rev += 1;
        }
        n
    }

    /// The user asked to retry a failed message: it goes out again with the
    /// same id (so it can never be stored twice) and a fresh deadline.
    pub fn retry(&mut self, id: &str, status: Status, now_ms: f64) -> Option<String> {
        let mut body = None;
        self.change_pending(
            id,
            |e| e.status == Status::Failed,
            |e| {
                e.status = status;
                e.error = None;
                e.created_ms = now_ms;
                body = Some(e.body.clone());
            },
        );
        body
    }

    pub fn mark_all(&mut self, from: Status, to: Status) {
        for e in self.entries[self.stored..].iter_mut().filter(|e| e.status == from) {
            e.status = to;
            self.changed.insert(e.id.clone());
            self.outbox_rev += 1;
        }
    }

    /// Set the status of an own message not yet stored (a post the socket
    /// would not take after all goes back to `queued`).
    pub fn mark(&mut self, id: &str, to: Status) {
        self.change_pending(id, |_| true, |e| e.status = to);
    }

    pub fn fail(&mut self, id: &str, why: String) {
        self.change_pending(
            id,
            |_| true,
            |e| {
                e.status = Status::Failed;
                e.error = Some(why);
            },
        );
    }

    /// Refused for now (rate limited): back to queued, saying why, until it
    /// is sent again.
    pub fn wait(&mut self, id: &str, why: String) {
        self.change_pending(
            id,
            |e| e.status != Status::Failed,
            |e| {
                e.status = Status::Queued;
                e.error = Some(why);
            },
        );
    }

    /// Not sent yet: it waits behind earlier messages (back to queued).
    pub fn hold(&mut self, id: &str) {
        self.change_pending(id, |e| e.status == Status::Sent, |e| e.status = Status::Queued);
    }

    /// A waiting message went out again.
    pub fn mark_sent(&mut self, id: &str) {
        self.change_pending(
            id,
            |e| e.status == Status::Queued,
            |e| {
                e.status = Status::Sent;
                e.error = None;
            },
        );
    }
}
