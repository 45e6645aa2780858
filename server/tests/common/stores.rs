//! A SQLite store that misbehaves on cue, for faults SQLite itself never
//! shows: a commit held at the disk, a hole in a room's seqs.

use std::path::Path;

use tether_protocol::ChatMessage;
use tether_server::{Appended, NewPost, RoomInfo, SqliteStore, Store, StoreError};

pub struct Wrapped {
    inner: SqliteStore,
    /// Runs (on the blocking pool) before each batch is committed.
    before_batch: Box<dyn Fn() + Send + Sync>,
    /// Reads skip this seq, as a store with a hole there would.
    hole: Option<u64>,
}

impl Wrapped {
    pub fn open(db: &Path) -> Self {
        Self { inner: SqliteStore::open(db).expect("open db"), before_batch: Box::new(|| {}), hole: None }
    }

    pub fn before_batch(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.before_batch = Box::new(f);
        self
    }

    pub fn hole_at(mut self, seq: u64) -> Self {
        self.hole = Some(seq);
        self
    }
}

impl Store for Wrapped {
    fn ensure_room(&self, room: &str) -> Result<RoomInfo, StoreError> {
        self.inner.ensure_room(room)
    }
    fn append(&self, room: &str, id: &str, author: &str, body: &str, ts_ms: i64) -> Result<Appended, StoreError> {
        self.inner.append(room, id, author, body, ts_ms)
    }
    fn commits_in_batches(&self) -> bool {
        self.inner.commits_in_batches()
    }
    fn append_batch(&self, posts: &[NewPost]) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
        (self.before_batch)();
        self.inner.append_batch(posts)
    }
    fn after(&self, room: &str, seq: u64, limit: usize) -> Result<Vec<ChatMessage>, StoreError> {
        let mut found = self.inner.after(room, seq, limit + 1)?;
        found.retain(|m| Some(m.seq) != self.hole);
        found.truncate(limit);
        Ok(found)
    }
    fn recent(&self, room: &str, limit: usize) -> Result<Vec<ChatMessage>, StoreError> {
        self.inner.recent(room, limit)
    }
    fn before(&self, room: &str, seq: u64, limit: usize, max_bytes: usize) -> Result<Vec<ChatMessage>, StoreError> {
        self.inner.before(room, seq, limit, max_bytes)
    }
    fn check_writable(&self) -> Result<(), StoreError> {
        self.inner.check_writable()
    }
    fn set_read_only(&self, on: bool) -> Result<(), StoreError> {
        self.inner.set_read_only(on)
    }
    fn rooms(&self) -> Result<Vec<String>, StoreError> {
        self.inner.rooms()
    }
    fn last_seq(&self, room: &str) -> Result<u64, StoreError> {
        self.inner.last_seq(room)
    }
    fn close(&self) -> Result<(), StoreError> {
        self.inner.close()
    }
}
