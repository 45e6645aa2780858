//! Making SQLite commits durable apart from the commit itself.
//!
//! With `synchronous=FULL`, SQLite fsyncs its write-ahead log inside every
//! commit, so the one connection that writes sits idle for the whole fsync
//! and the next batch of posts cannot start until the disk answers. Here
//! the connection runs with `synchronous=NORMAL` (commits reach the WAL
//! file, not yet the disk) and [`WalSync::sync`] fsyncs that file itself:
//! one fsync covers every commit written before it started, and the group
//! committer runs it on another thread while the next batch is written.
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

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counts commits and what fsyncs have covered, for one database's log.
pub struct WalSync {
    /// `<database>-wal`; `None` when SQLite syncs inside its commits.
    path: Option<PathBuf>,
    /// The log as last opened, with its (device, inode).
    file: Mutex<Option<(File, (u64, u64))>>,
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
    pub fn new(database: &std::path::Path) -> Self {
        let mut path = database.as_os_str().to_owned();
        path.push("-wal");
        Self { path: Some(path.into()), ..Self::inside_commits() }
    }

    /// For a database without a log file (in memory): nothing to sync here.
    pub fn inside_commits() -> Self {
        Self {
            path: None,
            file: Mutex::new(None),
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
    /// the log, or nothing when an earlier sync already covered them.
    pub fn sync(&self) -> std::io::Result<()> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(Self::earlier_failure());
        }
        let target = self.committed.load(Ordering::SeqCst);
        let Some(path) = self.path.as_ref().filter(|_| self.synced.load(Ordering::SeqCst) < target) else {
            return Ok(());
        };
        let mut held = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another sync may have covered us (or failed) while we waited.
        if self.failed.load(Ordering::SeqCst) {
            return Err(Self::earlier_failure());
        }
        if self.synced.load(Ordering::SeqCst) >= target {
            return Ok(());
        }
        let result = Self::sync_file(path, &mut held);
        match &result {
            Ok(()) => {
                self.synced.fetch_max(target, Ordering::SeqCst);
            }
            Err(_) => self.failed.store(true, Ordering::SeqCst),
        }
        result
    }

    /// fdatasyncs the log at `path`, (re)opening it (and syncing its
    /// directory) when `held` is not the file the path names.
    fn sync_file(path: &std::path::Path, held: &mut Option<(File, (u64, u64))>) -> std::io::Result<()> {
        let now = std::fs::metadata(path)?;
        if held.as_ref().is_none_or(|(_, id)| *id != (now.dev(), now.ino())) {
            let file = File::open(path)?;
            let opened = file.metadata()?;
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            File::open(dir)?.sync_all()?;
            *held = Some((file, (opened.dev(), opened.ino())));
        }
        match held.as_ref() {
            Some((file, _)) => file.sync_data(),
            None => Ok(()),
        }
    }

    fn earlier_failure() -> std::io::Error {
        std::io::Error::other("an earlier fsync of the write-ahead log failed; restart the server")
    }
}
