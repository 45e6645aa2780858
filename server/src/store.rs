//! The storage boundary: what the hub needs from durable history.
//!
//! The protocol and hub talk only to [`Store`], so another engine (Postgres,
//! an in-memory store for benchmarks) can be added without touching either.
//! Methods are blocking on purpose: implementations are simple synchronous
//! code, and the async side moves every call onto the blocking pool.

use tether_protocol::ChatMessage;

/// Why storage failed. Never shown to clients; the hub logs it and answers
/// with a generic `internal`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("creating the database directory {path}: {source}")]
    CreateDir { path: std::path::PathBuf, source: std::io::Error },
    #[error("room {0:?} does not exist")]
    NoSuchRoom(String),
    #[error("storage lock poisoned by an earlier panic")]
    Poisoned,
    #[error("stored value out of range: {0}")]
    Corrupt(String),
    #[error("postgres: {}", pg_detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres unavailable: {0}")]
    PostgresPool(String),
    #[error("starting the committer thread: {0}")]
    Committer(std::io::Error),
    #[error("putting the write-ahead log on disk: {0}")]
    Sync(std::io::Error),
}

/// The server's own message for a database error (tokio-postgres displays
/// only "db error"), else the error itself.
fn pg_detail(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned())
}

/// A room as storage knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInfo {
    /// Changes only when the room's history is lost, so clients know their
    /// cursor is meaningless.
    pub epoch: String,
    /// True when this call created the room (so the hub announces it).
    pub created: bool,
}

/// Result of [`Store::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The stored message; for a duplicate, the ORIGINAL one (its room and seq
    /// are what the retrying client must be acked with).
    pub message: ChatMessage,
    /// The client id was already stored; nothing was written.
    pub duplicate: bool,
}

/// One post for [`Store::append_batch`]: the arguments of [`Store::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    pub room: String,
    pub id: String,
    pub author: String,
    pub body: String,
    pub ts_ms: i64,
}

/// Durable, ordered, deduplicated chat history.
///
/// Callers serialise appends per room (the hub's room lock), but an
/// implementation must still be safe under concurrent calls.
pub trait Store: Send + Sync + 'static {
    /// Returns the room's epoch, creating the room with a fresh epoch if new.
    fn ensure_room(&self, room: &str) -> Result<RoomInfo, StoreError>;
    /// Stores a message durably (committed before returning) with the next
    /// seq, unless a message with the same client `id` exists anywhere.
    fn append(&self, room: &str, id: &str, author: &str, body: &str, ts_ms: i64) -> Result<Appended, StoreError>;
    /// Appends each post in order, as [`Store::append`] would one by one,
    /// with one result per post. An implementation that can should make the
    /// whole batch durable with one commit (group commit: one fsync for all
    /// the posts waiting for the disk); nothing is reported stored before
    /// that commit. `Err` means the batch as a whole failed: nothing stored.
    fn append_batch(&self, posts: &[NewPost]) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
        Ok(posts.iter().map(|p| self.append(&p.room, &p.id, &p.author, &p.body, p.ts_ms)).collect())
    }
    /// [`Store::append_batch`] without waiting for the disk: the commit may
    /// not be durable yet when this returns, and none of it may be reported
    /// stored before a later [`Store::sync`] returns `Ok`. It lets the
    /// committer write the next batch while the disk syncs this one. The
    /// default is `append_batch`, durable already.
    fn append_batch_unsynced(&self, posts: &[NewPost]) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
        self.append_batch(posts)
    }
    /// Puts every commit that [`Store::append_batch_unsynced`] returned
    /// before this call on disk (nothing to do for stores whose commits are
    /// durable when they return).
    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Whether [`Store::append_batch`] commits a batch at once. Only then
    /// do the rooms' batches go through the one committer thread; a store
    /// that commits post by post (PostgreSQL here) is better served by
    /// committing each room's posts on its own, rooms in parallel.
    fn commits_in_batches(&self) -> bool {
        false
    }
    /// Messages with seq > `seq`, oldest first, at most `limit`.
    fn after(&self, room: &str, seq: u64, limit: usize) -> Result<Vec<ChatMessage>, StoreError>;
    /// The last `limit` messages, oldest first.
    fn recent(&self, room: &str, limit: usize) -> Result<Vec<ChatMessage>, StoreError>;
    /// The last messages with seq < `seq`, oldest first: at most `limit`,
    /// and no more once their text passes `max_bytes` (so a page of huge
    /// messages costs a frame's worth of reading, not `limit` of them).
    fn before(&self, room: &str, seq: u64, limit: usize, max_bytes: usize) -> Result<Vec<ChatMessage>, StoreError>;
    /// Proves the store can still commit a write (for `/healthz`).
    fn check_writable(&self) -> Result<(), StoreError>;
    /// Test fault: make every write fail as on a read-only database.
    fn set_read_only(&self, on: bool) -> Result<(), StoreError>;
    /// Every room name, sorted.
    fn rooms(&self) -> Result<Vec<String>, StoreError>;
    /// Highest seq in the room (0 when empty).
    fn last_seq(&self, room: &str) -> Result<u64, StoreError>;
    /// Flushes everything to the main database file; called on shutdown.
    /// The store stays usable afterwards.
    fn close(&self) -> Result<(), StoreError>;
}
