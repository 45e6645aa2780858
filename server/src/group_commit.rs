//! Group commit across rooms: batches submitted at the same time (each
//! room's queued posts, see `Hub::post`) are written with a single
//! [`Store::append_batch_unsynced`], so one transaction and one fsync cover
//! every post waiting for the disk, whatever its room.
//!
//! One committer thread owns the writing: submitters hand it their batch
//! over a channel and await a oneshot, so a post waiting for the disk parks
//! no thread of its own. Whatever arrives during a commit goes into the
//! next one, so under load commits grow instead of queueing up one fsync
//! each. A second thread does the fsync ([`Store::sync`]) and answers the
//! posts only after it: the committer writes the next batch meanwhile
//! instead of waiting for the disk, and one sync may cover several
//! commits. (The first version ran on the blocking pool with a leader and
//! followers on a condition variable: every waiting room held a pool
//! thread, and each commit woke all of them.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use prometheus_client::metrics::counter::Counter;
use tokio::sync::oneshot;

use crate::store::{Appended, NewPost, Store, StoreError};

/// One batch's outcome: per-post results, or why the whole commit failed.
pub type BatchResult = Result<Vec<Result<Appended, StoreError>>, String>;

/// A batch handed to the committer, with where its results go.
struct Job {
    posts: Vec<NewPost>,
    done: oneshot::Sender<BatchResult>,
}

/// The committer's progress, readable from outside (tests wait on it).
#[derive(Default)]
struct Progress {
    committing: AtomicBool,
    queued: AtomicUsize,
}

/// Handle to the committer thread; the thread ends when the last handle is
/// dropped (after committing what was already submitted).
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    progress: Arc<Progress>,
}

impl GroupCommit {
    /// Starts the committer thread for `store`; `commits` counts commits
    /// (`tether_store_commits_total`).
    pub fn start(store: Arc<dyn Store>, commits: Counter) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        let (written, to_sync) = mpsc::channel();
        let progress = Arc::new(Progress::default());
        let p = progress.clone();
        let syncing = store.clone();
        std::thread::Builder::new()
            .name("tether-sync".into())
            .spawn(move || sync_and_answer(syncing.as_ref(), &to_sync))?;
        std::thread::Builder::new()
            .name("tether-commit".into())
            .spawn(move || run(store.as_ref(), &rx, &p, &commits, &written))?;
        Ok(Self { jobs, progress })
    }

    /// Whether a commit is in flight, and how many batches wait for the next.
    pub fn pending(&self) -> (bool, usize) {
        (self.progress.committing.load(Ordering::SeqCst), self.progress.queued.load(Ordering::SeqCst))
    }

    /// Stores `posts` in order, sharing the commit with every other batch
    /// submitted meanwhile; resolves once that commit is durable (or failed).
    pub async fn submit(&self, posts: Vec<NewPost>) -> BatchResult {
        let (done, result) = oneshot::channel();
        self.progress.queued.fetch_add(1, Ordering::SeqCst);
        if self.jobs.send(Job { posts, done }).is_err() {
            self.progress.queued.fetch_sub(1, Ordering::SeqCst);
            return Err("the committer has stopped".to_owned());
        }
        result.await.unwrap_or_else(|_| Err("the committer has stopped".to_owned()))
    }
}

/// A commit written but not yet on disk, with whom to answer once it is.
struct Written {
    /// Each batch's channel and how many posts it holds.
    answers: Vec<(oneshot::Sender<BatchResult>, usize)>,
    outcome: BatchResult,
}

/// The committer thread: waits for a batch, takes every other batch already
/// queued, writes them in one commit and hands that to the syncer, then
/// goes on with what arrived meanwhile, while the disk syncs.
fn run(
    store: &dyn Store,
    rx: &mpsc::Receiver<Job>,
    progress: &Progress,
    commits: &Counter,
    synced: &mpsc::Sender<Written>,
) {
    while let Ok(first) = rx.recv() {
        progress.committing.store(true, Ordering::SeqCst);
        let mut jobs = vec![first];
        jobs.extend(rx.try_iter());
        progress.queued.fetch_sub(jobs.len(), Ordering::SeqCst);
        let mut all = Vec::with_capacity(jobs.iter().map(|j| j.posts.len()).sum());
        let mut answers = Vec::with_capacity(jobs.len());
        for job in jobs {
            answers.push((job.done, job.posts.len()));
            all.extend(job.posts);
        }
        let outcome = guarded(|| store.append_batch_unsynced(&all));
        commits.inc();
        progress.committing.store(false, Ordering::SeqCst);
        if synced.send(Written { answers, outcome }).is_err() {
            return;
        }
    }
}

/// The syncer thread: takes every commit written so far, puts them on disk
/// with one sync, and only then answers their posts.
fn sync_and_answer(store: &dyn Store, rx: &mpsc::Receiver<Written>) {
    while let Ok(first) = rx.recv() {
        let mut written = vec![first];
        written.extend(rx.try_iter());
        let synced = guarded(|| store.sync());
        for Written { answers, outcome } in written {
            answer(answers, outcome.and_then(|r| synced.clone().map(|()| r)));
        }
    }
}

/// Runs a store call on one of the two threads. A panic in the store must
/// not end the thread (every later post would wait forever): the batches it
/// was for fail instead.
fn guarded<T>(call: impl FnOnce() -> Result<T, StoreError>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("storage panicked".to_owned()),
    }
}

/// Hands each batch its slice of `outcome`.
fn answer(answers: Vec<(oneshot::Sender<BatchResult>, usize)>, outcome: BatchResult) {
    match outcome {
        Ok(results) => {
            let mut results = results.into_iter();
            for (done, n) in answers {
                let _ = done.send(Ok(results.by_ref().take(n).collect()));
            }
        }
        Err(e) => {
            for (done, _) in answers {
                let _ = done.send(Err(e.clone()));
            }
        }
    }
}
