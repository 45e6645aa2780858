//! What concurrent syncs share: the log's file handles, and the order they
//! were taken in, so that no sync reports success before every sync that
//! started before it has finished (and could still report a failure).

use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// How many syncs may run at once, each on a handle of its own: the group
/// committer runs two; readers (any number, on the blocking pool) take one
/// each, or wait for one to come back.
pub(super) const HANDLES: usize = 4;

/// The handles and tickets, behind `WalSync`'s one mutex.
#[derive(Default)]
pub(super) struct Pool {
    pub(super) handles: Option<Handles>,
    pub(super) tickets: Tickets,
}

/// Handles on one log file, all opened together.
///
/// Linux reports a page's writeback error once per open file description.
/// Were two syncs in flight on one handle, the error of pages the first
/// wrote could be reported to the second only, and the first would report
/// success for commits the disk dropped. With a handle each, every sync
/// sees every such error since the handles were opened, and they are opened
/// together, before any sync of ours on that file, so none misses one
/// another handle saw first. (Errors returned to one call only, such as a
/// failed cache flush, are what [`Tickets`] is for.)
pub(super) struct Handles {
    /// (device, inode) of the log they are open on.
    pub(super) log: (u64, u64),
    pub(super) free: Vec<File>,
}

impl Handles {
    /// `None` if the path came to name another file meanwhile.
    pub(super) fn open(path: &Path) -> std::io::Result<Option<Self>> {
        let free = (0..HANDLES).map(|_| File::open(path)).collect::<std::io::Result<Vec<_>>>()?;
        let mut logs = free.iter().map(|f| f.metadata().map(|m| (m.dev(), m.ino())));
        let log = logs.next().unwrap_or_else(|| Err(std::io::Error::other("no handle opened")))?;
        for other in logs {
            if other? != log {
                return Ok(None);
            }
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()?;
        Ok(Some(Self { log, free }))
    }
}

/// A handle taken for one sync, with its log and its place in line.
pub(super) struct Taken {
    pub(super) file: File,
    pub(super) log: (u64, u64),
    pub(super) ticket: u64,
}

impl Pool {
    /// Returns a handle; one on a replaced log is closed instead.
    pub(super) fn give_back(&mut self, file: File, log: (u64, u64)) {
        if let Some(h) = self.handles.as_mut().filter(|h| h.log == log) {
            h.free.push(file);
        }
    }
}

/// Syncs in the order they took their handles.
///
/// Some fsync errors reach only the call they happened in (a failed flush
/// of the disk's cache, on ext4): a sync that started later and succeeded
/// proves nothing about the pages the failed one was flushing. So a sync
/// reports success only once every sync taken before it has finished, and
/// none failed (the store's sticky flag, set before a ticket finishes).
#[derive(Default)]
pub(super) struct Tickets {
    next: u64,
    /// Every ticket below this one has finished.
    settled: u64,
    /// Finished tickets at or above `settled`.
    finished: BTreeSet<u64>,
}

impl Tickets {
    pub(super) fn issue(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    pub(super) fn finish(&mut self, ticket: u64) {
        self.finished.insert(ticket);
        while self.finished.remove(&self.settled) {
            self.settled += 1;
        }
    }

    /// Whether `ticket` and every ticket issued before it have finished.
    pub(super) fn settled(&self, ticket: u64) -> bool {
        self.settled > ticket
    }
}

#[cfg(test)]
mod tests {
    use super::Tickets;

    #[test]
    fn a_ticket_settles_only_once_every_earlier_one_has_finished() {
        let mut t = Tickets::default();
        let (a, b, c) = (t.issue(), t.issue(), t.issue());
        t.finish(b);
        assert!(!t.settled(b), "b finished before a");
        t.finish(c);
        assert!(!t.settled(c));
        t.finish(a);
        assert!(t.settled(a) && t.settled(b) && t.settled(c));
        let d = t.issue();
        assert!(!t.settled(d));
        t.finish(d);
        assert!(t.settled(d));
    }
}
