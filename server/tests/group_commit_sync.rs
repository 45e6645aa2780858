//! The group committer against a real SQLite store whose sync the test
//! holds: what is answered, and what is written meanwhile, while the disk
//! is slow.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tether_protocol::ChatMessage;
use tether_server::group_commit::{BatchResult, GroupCommit};
use tether_server::{NewPost, SqliteStore, Store};

/// A real SQLite store whose [`Store::sync`] waits until the test opens a
/// gate: the disk is slow to sync, and the test sees what is answered
/// meanwhile.
struct SlowSync {
    inner: tether_server::SqliteStore,
    open: Mutex<bool>,
    opened: Condvar,
}

impl SlowSync {
    fn new(inner: tether_server::SqliteStore) -> Self {
        Self { inner, open: Mutex::new(false), opened: Condvar::new() }
    }

    fn open_gate(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl tether_server::Store for SlowSync {
    fn ensure_room(&self, room: &str) -> Result<tether_server::RoomInfo, tether_server::StoreError> {
        self.inner.ensure_room(room)
    }
    fn append(
        &self,
        room: &str,
        id: &str,
        author: &str,
        body: &str,
        ts_ms: i64,
    ) -> Result<tether_server::Appended, tether_server::StoreError> {
        self.inner.append(room, id, author, body, ts_ms)
    }
    fn append_batch_unsynced(
        &self,
        posts: &[tether_server::NewPost],
    ) -> Result<Vec<Result<tether_server::Appended, tether_server::StoreError>>, tether_server::StoreError> {
        self.inner.append_batch_unsynced(posts)
    }
    fn sync(&self) -> Result<(), tether_server::StoreError> {
        let open = self.open.lock().unwrap();
        drop(self.opened.wait_while(open, |open| !*open).unwrap());
        self.inner.sync()
    }
    fn commits_in_batches(&self) -> bool {
        true
    }
    fn after(&self, room: &str, seq: u64, limit: usize) -> Result<Vec<ChatMessage>, tether_server::StoreError> {
        self.inner.after(room, seq, limit)
    }
    fn recent(&self, room: &str, limit: usize) -> Result<Vec<ChatMessage>, tether_server::StoreError> {
        self.inner.recent(room, limit)
    }
    fn before(
        &self,
        room: &str,
        seq: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<ChatMessage>, tether_server::StoreError> {
        self.inner.before(room, seq, limit, max_bytes)
    }
    fn check_writable(&self) -> Result<(), tether_server::StoreError> {
        self.inner.check_writable()
    }
    fn set_read_only(&self, on: bool) -> Result<(), tether_server::StoreError> {
        self.inner.set_read_only(on)
    }
    fn rooms(&self) -> Result<Vec<String>, tether_server::StoreError> {
        self.inner.rooms()
    }
    fn last_seq(&self, room: &str) -> Result<u64, tether_server::StoreError> {
        self.inner.last_seq(room)
    }
    fn close(&self) -> Result<(), tether_server::StoreError> {
        self.inner.close()
    }
}

/// A committer on a [`SlowSync`] store with rooms `a` and `b`.
struct Held {
    _dir: tempfile::TempDir,
    store: Arc<SlowSync>,
    commits: prometheus_client::metrics::counter::Counter<u64>,
    gc: Arc<GroupCommit>,
}

impl Held {
    fn start() -> Self {
        let _dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SlowSync::new(SqliteStore::open(&_dir.path().join("t.db")).unwrap()));
        for room in ["a", "b"] {
            store.ensure_room(room).unwrap();
        }
        let commits = prometheus_client::metrics::counter::Counter::<u64>::default();
        let gc = Arc::new(GroupCommit::start(store.clone(), commits.clone()).unwrap());
        Self { _dir, store, commits, gc }
    }
}

/// Submits one post to `room` on a task of its own.
fn submit_one(gc: &Arc<GroupCommit>, room: &str) -> tokio::task::JoinHandle<BatchResult> {
    let gc = gc.clone();
    let post = NewPost { room: room.into(), id: format!("id-{room}"), author: "x".into(), body: "hi".into(), ts_ms: 0 };
    tokio::spawn(async move { gc.submit(vec![post]).await })
}

/// The committer writes the next batch while the disk syncs the last, but
/// answers no post before the sync that covers it: with the sync held, two
/// batches are committed and neither is answered; once it is let go, both
/// are, as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_post_is_answered_before_the_sync_that_covers_its_commit() {
    let Held { _dir, store, commits, gc } = Held::start();
    let submit = |room: &str| submit_one(&gc, room);
    let mut first = submit("a");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while commits.get() < 1 || gc.pending() != (false, 0) {
        assert!(std::time::Instant::now() < deadline, "the first batch was never committed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The committer is free while the disk syncs: the next batch goes in.
    let mut second = submit("b");
    while commits.get() < 2 || gc.pending() != (false, 0) {
        assert!(std::time::Instant::now() < deadline, "the second batch waited for the first one's sync");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(futures_util::poll!(&mut first).is_pending(), "a post was answered before its sync");
    assert!(futures_util::poll!(&mut second).is_pending(), "a post was answered before its sync");
    assert_eq!(store.inner.unsynced_commits(), 2);
    store.open_gate();
    for (t, room) in [(first, "a"), (second, "b")] {
        let results = t.await.unwrap().expect("commit");
        assert!(matches!(results.as_slice(), [Ok(a)] if a.message.room == room && a.message.seq == 1), "{results:?}");
    }
    assert_eq!(store.inner.unsynced_commits(), 0);
}
