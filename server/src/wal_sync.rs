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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// How many syncs may run at once (the group committer runs two; a reader
/// may add one). Each has a handle of its own.
const HANDLES: usize = 4;

/// Handles on one log file, all opened together.
///
/// Linux reports a writeback error once per open file description. Were
/// two syncs in flight on one handle, the error of pages the first wrote
/// could be reported to the second only, and the first would report
/// success for commits the disk dropped. With a handle each, every sync
/// sees every error since the handles were opened, and they are opened
/// together, before any sync of ours on that file, so none misses one
/// another handle saw first.
struct Handles {
    /// (device, inode) of the log they are open on.
    log: (u64, u64),
    free: Vec<File>,
}

impl Handles {
    /// `None` if the path came to name another file meanwhile.
    fn open(path: &Path) -> std::io::Result<Option<Self>> {
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

/// Counts commits and what fsyncs have covered, for one database's log.
pub struct WalSync {
    /// `<database>-wal`; `None` when SQLite syncs inside its commits.
    path: Option<PathBuf>,
    /// The log as last opened: its free handles.
    handles: Mutex<Option<Handles>>,
    /// Signalled when a handle is given back.
    freed: Condvar,
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
            handles: Mutex::new(None),
            freed: Condvar::new(),
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
    /// [`HANDLES`] syncs run at once, each on a handle of its own.
    pub fn sync(&self) -> std::io::Result<()> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(Self::earlier_failure());
        }
        let target = self.committed.load(Ordering::SeqCst);
        let Some(path) = self.path.as_ref().filter(|_| self.synced.load(Ordering::SeqCst) < target) else {
            return Ok(());
        };
        let (file, log) = match self.take(path, target) {
            Ok(Some(taken)) => taken,
            Ok(None) => return Ok(()),
            Err(e) => {
                self.failed.store(true, Ordering::SeqCst);
                return Err(e);
            }
        };
        let result = file.sync_data();
        match &result {
            Ok(()) => {
                self.synced.fetch_max(target, Ordering::SeqCst);
            }
            Err(_) => self.failed.store(true, Ordering::SeqCst),
        }
        self.give_back(file, log);
        result
    }

    /// A free handle on the log at `path`, waiting for one if all are in
    /// use, and (re)opening them all (and syncing the directory) when the
    /// path names another file than the one they are open on. `None` when
    /// another sync covered `target` meanwhile.
    fn take(&self, path: &Path, target: u64) -> std::io::Result<Option<(File, (u64, u64))>> {
        let mut held = self.handles.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            // Another sync may have covered us (or failed) while we waited.
            if self.failed.load(Ordering::SeqCst) {
                return Err(Self::earlier_failure());
            }
            if self.synced.load(Ordering::SeqCst) >= target {
                return Ok(None);
            }
            let now = std::fs::metadata(path)?;
            match held.as_mut() {
                Some(h) if h.log == (now.dev(), now.ino()) => match h.free.pop() {
                    Some(file) => return Ok(Some((file, h.log))),
                    None => held = self.freed.wait(held).unwrap_or_else(PoisonError::into_inner),
                },
                _ => {
                    if let Some(opened) = Handles::open(path)? {
                        *held = Some(opened);
                    }
                }
            }
        }
    }

    /// Returns a handle taken by [`Self::take`]; one on a replaced log is
    /// closed instead.
    fn give_back(&self, file: File, log: (u64, u64)) {
        let mut held = self.handles.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(h) = held.as_mut().filter(|h| h.log == log) {
            h.free.push(file);
        }
        self.freed.notify_one();
    }

    fn earlier_failure() -> std::io::Error {
        std::io::Error::other("an earlier fsync of the write-ahead log failed; restart the server")
    }
}
