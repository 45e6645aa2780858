//! The embedded default [`Store`]: one SQLite file, WAL mode.
//!
//! An `ack` promises the message survives a power cut, so every commit is
//! fsynced before anything reports it stored or shows it to a reader. The
//! fsync is ours, not SQLite's (`synchronous=NORMAL` plus [`WalSync`]), so
//! the group committer can write the next batch while the disk syncs the
//! last. A single connection behind a mutex is enough: the hub already
//! serialises writes per room, and SQLite serialises writers anyway.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior, params};
use tether_protocol::ChatMessage;

use crate::store::{Appended, NewPost, RoomInfo, Store, StoreError};
use crate::wal_sync::WalSync;
use append::{append_all, append_each, append_in};

mod append;

/// Pages the log may hold before a commit copies them into the database
/// (SQLite's default is 1,000). Under load, the same pages (each room's
/// newest) change in commit after commit: checkpointing less often copies
/// each of them once instead of many times. About 40 MB of log.
const CHECKPOINT_PAGES: i64 = 10_000;
/// What the log file is cut back to after a checkpoint, in bytes.
const LOG_SIZE_LIMIT: i64 = 64 << 20;

const SCHEMA: &str = "
-- A room's last seq is the highest of its messages (they are never
-- deleted). Databases made before this held it in a rooms.last_seq column
-- too, updated on every post; nothing reads or writes that column now.
CREATE TABLE IF NOT EXISTS rooms (
    name     TEXT PRIMARY KEY,
    epoch    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    room      TEXT NOT NULL REFERENCES rooms(name),
    seq       INTEGER NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    author    TEXT NOT NULL,
    body      TEXT NOT NULL,
    ts_ms     INTEGER NOT NULL,
    PRIMARY KEY (room, seq)
);
CREATE TABLE IF NOT EXISTS health (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    ts_ms INTEGER NOT NULL
);
";

pub struct SqliteStore {
    conn: Mutex<Connection>,
    wal: WalSync,
}

impl SqliteStore {
    /// Opens (or creates) the database, creating missing parent directories
    /// so a fresh checkout can just run.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        // With a log, commits are fsynced by `WalSync` (checkpoints still
        // sync both files). Without (an in-memory database), SQLite's own.
        let wal = match conn.path().filter(|p| !p.is_empty()) {
            // The name SQLite resolved (through links), so both mean one file.
            Some(resolved) if mode.eq_ignore_ascii_case("wal") => WalSync::new(Path::new(resolved)),
            _ => WalSync::inside_commits(),
        };
        conn.pragma_update(None, "synchronous", if wal.is_ours() { "NORMAL" } else { "FULL" })?;
        // The one statement that adds messages takes the room from `rooms`
        // (`append_in`), and nothing deletes a room: SQLite checking the
        // reference again cost one more lookup per post.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)?;
        conn.pragma_update(None, "journal_size_limit", LOG_SIZE_LIMIT)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn: Mutex::new(conn), wal })
    }

    /// Commits written but not yet fsynced: 0 whenever a post has been
    /// reported stored, so tests can check the durability an `ack` promises.
    pub fn unsynced_commits(&self) -> u64 {
        self.wal.unsynced()
    }

    /// Runs `f` on the connection, then returns what it read only once every
    /// commit made so far is on disk: a reader must not be shown a message a
    /// power cut could still take back. The sync runs after the connection
    /// is released, so a reader never holds up the committer for the disk.
    fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let out = f(&*self.writer()?)?;
        self.sync()?;
        Ok(out)
    }

    /// The connection, for a write that syncs (or reports) on its own.
    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
}

fn to_seq(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative seq {v}")))
}

fn to_sql(v: u64) -> i64 {
    // Seqs beyond i64::MAX cannot exist in the table, so clamping is exact.
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, String, String, String, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<(String, i64, String, String, String, i64)>>,
) -> Result<Vec<ChatMessage>, StoreError> {
    rows.map(|r| {
        let (room, seq, id, author, body, ts_ms) = r?;
        Ok(ChatMessage { room, seq: to_seq(seq)?, id, author, body, ts_ms })
    })
    .collect()
}

const COLUMNS: &str = "room, seq, client_id, author, body, ts_ms";

impl Store for SqliteStore {
    fn ensure_room(&self, room: &str) -> Result<RoomInfo, StoreError> {
        // A room's epoch is handed out only once it cannot be lost (`read`).
        self.read(|conn| {
            let fresh = uuid::Uuid::new_v4().to_string();
            let inserted = conn.execute(
                "INSERT INTO rooms (name, epoch) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![room, fresh],
            )?;
            if inserted == 1 {
                self.wal.committed();
            }
            let epoch: String = conn.query_row("SELECT epoch FROM rooms WHERE name = ?1", [room], |r| r.get(0))?;
            Ok(RoomInfo { epoch, created: inserted == 1 })
        })
    }

    fn append(&self, room: &str, id: &str, author: &str, body: &str, ts_ms: i64) -> Result<Appended, StoreError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let appended = append_in(&tx, room, id, author, body, ts_ms)?;
        if !appended.duplicate {
            tx.commit()?;
            self.wal.committed();
            // Still holding the connection: one fsync per post, as promised.
            self.wal.sync().map_err(StoreError::Sync)?;
        }
        Ok(appended)
    }

    /// Group commit: one transaction, so one fsync, for the whole batch.
    /// A post that fails (a missing room) takes nothing else with it and
    /// leaves no gap in the seqs (see `append_each`).
    fn commits_in_batches(&self) -> bool {
        true
    }

    fn append_batch(&self, posts: &[NewPost]) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
        let out = self.append_batch_unsynced(posts)?;
        self.sync()?;
        Ok(out)
    }

    fn append_batch_unsynced(&self, posts: &[NewPost]) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
        // Not `conn()`: a reader waits for the disk, the next batch need not.
        let mut conn = self.writer()?;
        // A savepoint per post costs about as much CPU as the post itself,
        // and almost no batch needs one: try without, and only if a post
        // fails in a way that may have left part of it written, roll the
        // whole (uncommitted) batch back and store it again post by post.
        match append_all(&mut conn, &self.wal, posts)? {
            Some(out) => Ok(out),
            None => append_each(&mut conn, &self.wal, posts),
        }
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.wal.sync().map_err(StoreError::Sync)
    }

    fn after(&self, room: &str, seq: u64, limit: usize) -> Result<Vec<ChatMessage>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE room = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![room, to_sql(seq), limit], row_to_message)?;
            collect(rows)
        })
    }

    fn recent(&self, room: &str, limit: usize) -> Result<Vec<ChatMessage>, StoreError> {
        self.before(room, u64::MAX, limit, usize::MAX)
    }

    fn before(&self, room: &str, seq: u64, limit: usize, max_bytes: usize) -> Result<Vec<ChatMessage>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE room = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut bytes = 0usize;
            let rows = stmt.query_map(params![room, to_sql(seq), limit], row_to_message)?.take_while(|r| {
                let within = bytes <= max_bytes;
                if let Ok((_, _, id, author, body, _)) = r {
                    bytes = bytes.saturating_add(id.len() + author.len() + body.len());
                }
                within
            });
            let mut out = collect(rows)?;
            out.reverse();
            Ok(out)
        })
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        // The disk must take an fsync too (`read`), or no post could be acked.
        self.read(|conn| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
            let now = i64::try_from(now).unwrap_or(i64::MAX);
            conn.execute(
                "INSERT INTO health (id, ts_ms) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET ts_ms = ?1",
                [now],
            )?;
            self.wal.committed();
            Ok(())
        })
    }

    fn set_read_only(&self, on: bool) -> Result<(), StoreError> {
        self.writer()?.pragma_update(None, "query_only", on)?;
        Ok(())
    }

    fn rooms(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT name FROM rooms ORDER BY name")?;
            let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(names)
        })
    }

    fn last_seq(&self, room: &str) -> Result<u64, StoreError> {
        self.read(|conn| {
            let seq: i64 =
                conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room = ?1", [room], |r| r.get(0))?;
            to_seq(seq)
        })
    }

    fn close(&self) -> Result<(), StoreError> {
        let conn = self.writer()?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}
