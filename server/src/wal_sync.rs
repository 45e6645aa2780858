//! Making SQLite commits durable apart from the commit itself.
//!
//! With `synchronous=FULL`, SQLite fsyncs its write-ahead log inside every
//! commit, so the one connection that writes sits idle for the whole fsync
//! and the next batch of posts cannot start until the disk answers. Here
//! the connection runs with `synchronous=NORMAL` (commits reach the WAL
//! file, not yet the disk) and [`WalSync::sync`] fsyncs that file itself:
//! one fsync covers every commit written before it started, and the group
//! committer runs it on other threads while the next batch is written.
//! Several syncs may be in flight at once, each on a handle of its own,
//! and none reports success before those that started earlier have
//! finished (`pool`).
//! Nothing is acked, and no reader is shown a commit, before a sync covers
//! it (see `SqliteStore`).
//!
//! A fsync goes to a file, not a name: the log is opened by the path SQLite
//! itself resolved and reopened whenever that path names another file than
//! the one held (SQLite removes the log when its last connection closes), so
//! a sync never lands on a stale file; a newly opened log's directory is
//! synced too, so the log's name survives a power cut as well as its pages.
//!
//! A failed fsync is final: Linux may drop the pages it could not write and
//! report success on the next try, so a later "successful" sync proves
//! nothing about the commits before it. Every sync after a failure fails
//! (nothing more is acked, readers and `/healthz` report the error) until
//! the server is restarted and SQLite recovers from what the disk holds.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use pool::{Handles, Pool, Taken};

mod pool;
#[cfg(test)]
mod tests;

/// Counts commits and what fsyncs have covered, for one database's log.
pub struct WalSync {
    /// `<database>-wal`; `None` when SQLite syncs inside its commits.
    path: Option<PathBuf>,
    /// The log's free handles, and the order syncs took them in.
    pool: Mutex<Pool>,
    /// Signalled when a handle comes back, a sync finishes, or one fails.
    changed: Condvar,
    /// Commits written so far (bumped right after each, under the
    /// connection's lock).
    committed: AtomicU64,
    /// Commits known to be on disk.
    synced: AtomicU64,
    /// An fsync failed: no sync can vouch for anything any more.
    failed: AtomicBool,
}

impl WalSync {
    /// For a database in WAL mode whose connection runs `synchronous=NORMAL`;
    /// `database` as SQLite resolved it (`Connection::path`: through links).
    pub fn new(database: &Path) -> Self {
        let mut path = database.as_os_str().to_owned();
        path.push("-wal");
        Self { path: Some(path.into()), ..Self::inside_commits() }
    }

    /// For a database without a log file (in memory): nothing to sync here.
    pub fn inside_commits() -> Self {
        Self {
            path: None,
            pool: Mutex::new(Pool::default()),
            changed: Condvar::new(),
            committed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            failed: AtomicBool::new(false),
        }
    }

    /// Whether the fsync is ours (else SQLite's, inside each commit).
    pub fn is_ours(&self) -> bool {
        self.path.is_some()
    }

    /// Records one more commit that no sync has covered yet.
    pub fn committed(&self) {
        if self.is_ours() {
            self.committed.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Commits written but not yet known to be on disk.
    pub fn unsynced(&self) -> u64 {
        self.committed.load(Ordering::SeqCst).saturating_sub(self.synced.load(Ordering::SeqCst))
    }

    /// Puts every commit recorded before this call on disk: one fdatasync of
    /// the log, or nothing when an earlier sync already covered them. Up to
    /// [`pool::HANDLES`] syncs run at once, each on a handle of its own; each
    /// reports success only once every sync that started before it has
    /// finished without failing.
    pub fn sync(&self) -> std::io::Result<()> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(Self::earlier_failure());
        }
        let target = self.committed.load(Ordering::SeqCst);
        let Some(path) = self.path.as_ref().filter(|_| self.synced.load(Ordering::SeqCst) < target) else {
            return Ok(());
        };
        let Taken { file, log, ticket } = match self.take(path, target) {
            Ok(Some(taken)) => taken,
            Ok(None) => return Ok(()),
            Err(e) => {
                let _pool = self.lock();
                self.fail();
                return Err(e);
            }
        };
        let result = file.sync_data();
        let mut pool = self.lock();
        if result.is_err() {
            self.fail();
        }
        pool.give_back(file, log);
        pool.tickets.finish(ticket);
        self.changed.notify_all();
        while !pool.tickets.settled(ticket) {
            pool = self.changed.wait(pool).unwrap_or_else(PoisonError::into_inner);
        }
        result?;
        if self.failed.load(Ordering::SeqCst) {
            return Err(Self::earlier_failure());
        }
        self.synced.fetch_max(target, Ordering::SeqCst);
        // Those waiting for a handle may find their commits covered now.
        self.changed.notify_all();
        Ok(())
    }

    /// A free handle on the log at `path` and its ticket, waiting for one if
    /// all are in use, and (re)opening them all (and syncing the directory)
    /// when the path names another file than the one they are open on.
    /// `None` when another sync covered `target` meanwhile.
    fn take(&self, path: &Path, target: u64) -> std::io::Result<Option<Taken>> {
        let mut pool = self.lock();
        loop {
            // Another sync may have covered us (or failed) while we waited.
            if self.failed.load(Ordering::SeqCst) {
                return Err(Self::earlier_failure());
            }
            if self.synced.load(Ordering::SeqCst) >= target {
                return Ok(None);
            }
            let now = std::fs::metadata(path)?;
            let pool_now = &mut *pool;
            match pool_now.handles.as_mut() {
                Some(h) if h.log == (now.dev(), now.ino()) => match h.free.pop() {
                    Some(file) => return Ok(Some(Taken { file, log: h.log, ticket: pool_now.tickets.issue() })),
                    None => pool = self.changed.wait(pool).unwrap_or_else(PoisonError::into_inner),
                },
                _ => {
                    if let Some(opened) = Handles::open(path)? {
                        pool_now.handles = Some(opened);
                        self.changed.notify_all();
                    }
                }
            }
        }
    }

    /// Marks the log failed for good and wakes everyone waiting (to fail
    /// too); called with the pool's lock held, so no waiter misses it.
    fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn earlier_failure() -> std::io::Error {
        std::io::Error::other("an earlier fsync of the write-ahead log failed; restart the server")
    }
}
