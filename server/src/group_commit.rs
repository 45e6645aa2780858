//! Group commit across rooms: batches submitted at the same time (each
//! room's queued posts, see `Hub::post`) are written by one leader with a
//! single [`Store::append_batch`], so one transaction and one fsync cover
//! every post waiting for the disk, whatever its room.
//!
//! Runs on the blocking pool: the first submitter with no commit in flight
//! becomes the leader and commits everything queued; the others wait on a
//! condition variable for their own results. A batch that arrives during a
//! commit goes into the next one, so under load commits grow instead of
//! queueing up one fsync each.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

use prometheus_client::metrics::counter::Counter;

use crate::store::{Appended, NewPost, Store, StoreError};

/// One batch's outcome: per-post results, or why the whole commit failed.
pub type BatchResult = Result<Vec<Result<Appended, StoreError>>, String>;

pub struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
    /// Counts commits (`tether_store_commits_total`).
    commits: Counter,
}

#[derive(Default)]
struct State {
    queue: Vec<(u64, Vec<NewPost>)>,
    committing: bool,
    next_ticket: u64,
    results: HashMap<u64, BatchResult>,
}

impl GroupCommit {
    pub fn new(commits: Counter) -> Self {
        Self { state: Mutex::default(), done: Condvar::new(), commits }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain data: a panic elsewhere leaves it consistent enough to go on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a commit is in flight, and how many batches wait for the next.
    pub fn pending(&self) -> (bool, usize) {
        let st = self.lock();
        (st.committing, st.queue.len())
    }

    /// Stores `posts` in order, sharing the commit with every other batch
    /// submitted meanwhile; returns once that commit is durable (or failed).
    pub fn submit(&self, store: &dyn Store, posts: Vec<NewPost>) -> BatchResult {
        let mut st = self.lock();
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.queue.push((ticket, posts));
        loop {
            if let Some(r) = st.results.remove(&ticket) {
                return r;
            }
            if st.committing {
                st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st.committing = true;
            let batches = std::mem::take(&mut st.queue);
            drop(st);
            let tickets: Vec<u64> = batches.iter().map(|(t, _)| *t).collect();
            // A panic in the store must not leave `committing` set (every
            // later post would wait forever): its batches fail instead.
            let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(store, batches)))
                .unwrap_or_else(|_| tickets.into_iter().map(|t| (t, Err("storage panicked".to_owned()))).collect());
            self.commits.inc();
            st = self.lock();
            st.committing = false;
            st.results.extend(results);
            self.done.notify_all();
        }
    }
}

/// One `append_batch` for all `batches`, its results split back per ticket.
fn commit(store: &dyn Store, batches: Vec<(u64, Vec<NewPost>)>) -> Vec<(u64, BatchResult)> {
    let sizes: Vec<(u64, usize)> = batches.iter().map(|(t, p)| (*t, p.len())).collect();
    let all: Vec<NewPost> = batches.into_iter().flat_map(|(_, p)| p).collect();
    match store.append_batch(&all) {
        Ok(results) => {
            let mut results = results.into_iter();
            sizes.into_iter().map(|(t, n)| (t, Ok(results.by_ref().take(n).collect()))).collect()
        }
        Err(e) => {
            let e = e.to_string();
            sizes.into_iter().map(|(t, _)| (t, Err(e.clone()))).collect()
        }
    }
}
