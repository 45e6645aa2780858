//! The post path: group commit of each room's queued posts, then the ack to
//! each poster and the broadcast to the room, in order.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tether_protocol::{ChatMessage, ServerMsg};

use super::{Hub, HubError, Members, Posted, Room, blocking, lock};
use crate::bus::Event;
use crate::outbox::Outbox;
use crate::store::{Appended, NewPost};

/// A post queued for the next commit of its room, with whom to answer.
pub(super) struct Waiting {
    post: NewPost,
    poster: Outbox,
    done: tokio::sync::oneshot::Sender<Result<Posted, HubError>>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}

impl Hub {
    /// Stores, then acks the poster, then broadcasts to the room (broadcasts
    /// first when lower seqs from another instance are still due). A retried
    /// id is acked with its original seq and not broadcast again; an id
    /// stored in another room is not acked at all (the caller refuses it).
    ///
    /// Group commit: the post joins the room's queue, and whoever next holds
    /// the room lock stores everything queued with one commit, then acks and
    /// broadcasts each in order. Posts that arrive while a commit is waiting
    /// for the disk thus share the next one, and no ack leaves before the
    /// commit that covers it.
    pub async fn post(
        &self,
        room: &Arc<Room>,
        poster: &Outbox,
        id: String,
        author: String,
        body: String,
    ) -> Result<Posted, HubError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let post = NewPost { room: room.name.clone(), id, author, body, ts_ms: now_ms() };
        lock(&room.waiting).push(Waiting { post, poster: poster.clone(), done });
        {
            let mut members = room.members.lock().await;
            let batch = std::mem::take(&mut *lock(&room.waiting));
            if !batch.is_empty() {
                self.commit(room, &mut members, batch).await;
            }
        }
        result.await.unwrap_or(Err(HubError::Dropped))
    }

    /// Stores `batch`, then answers each post in order: ack, then
    /// broadcast. Three ways to store: through the committer, sharing one
    /// commit with other rooms' batches (a store that commits a batch at
    /// once: SQLite); the room's batch on its own, rooms in parallel (a
    /// store that commits post by post: PostgreSQL); or, for `make bench`'s
    /// baseline (`--one-fsync-per-post`), one commit per post.
    async fn commit(&self, room: &Room, members: &mut Members, batch: Vec<Waiting>) {
        let (posts, batch): (Vec<NewPost>, Vec<_>) = batch.into_iter().map(|w| (w.post, (w.poster, w.done))).unzip();
        let results = if let Some(committer) = self.committer.as_ref().filter(|_| self.group_commit) {
            committer.submit(posts).await
        } else {
            let (store, commits, group) = (self.store.clone(), self.metrics.store_commits.clone(), self.group_commit);
            tokio::task::spawn_blocking(move || {
                if group {
                    commits.inc();
                    return store.append_batch(&posts).map_err(|e| e.to_string());
                }
                Ok(posts
                    .iter()
                    .map(|p| {
                        commits.inc();
                        store.append(&p.room, &p.id, &p.author, &p.body, p.ts_ms)
                    })
                    .collect())
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
        };
        let results = match results {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(room = room.name, posts = batch.len(), error = %e, "group commit failed");
                for (_, done) in batch {
                    let _ = done.send(Err(HubError::Batch(e.clone())));
                }
                return;
            }
        };
        for ((poster, done), appended) in batch.into_iter().zip(results) {
            let posted = match appended {
                Ok(a) => Ok(self.answer(room, members, &poster, a).await),
                Err(e) => Err(HubError::from(e)),
            };
            let _ = done.send(posted);
        }
    }

    async fn answer(&self, room: &Room, members: &mut Members, poster: &Outbox, appended: Appended) -> Posted {
        let ChatMessage { room: stored_room, seq, id, .. } = &appended.message;
        let seq = *seq;
        if appended.duplicate && *stored_room != room.name {
            return Posted::IdReused;
        }
        let ack = ServerMsg::Ack { id: id.clone(), room: stored_room.clone(), seq };
        if appended.duplicate {
            tracing::debug!(conn = poster.id, %id, "post already stored; acked again");
            poster.push(&ack);
            self.metrics.duplicate_posts.inc();
            return Posted::Duplicate;
        }
        self.metrics.messages_stored.inc();
        self.publish(|| Event::Message { message: appended.message.clone() });
        // A client resumes from the highest seq it holds, its own acked
        // messages included, so the ack must not overtake a lower seq: one
        // another instance stored and we have not delivered yet (a reconnect
        // in between would skip it for good). It is in the store already
        // (seq N commits before N+1 is assigned): deliver up to here first.
        // If the store cannot be read just now, the ack waits until the
        // room has caught up (a later event or the resync).
        if seq > members.order.delivered() + 1 {
            self.sequence(room, members, Some(appended.message)).await;
            members.ack_after_delivery(seq, poster, ack);
        } else {
            poster.push(&ack);
            self.sequence(room, members, Some(appended.message)).await;
        }
        Posted::Stored
    }

    /// Test burst: stores `(id, body)` items by `author` in one batch and
    /// delivers each as [`Hub::post`] does (other instances through the
    /// bus, members in seq order; nobody to ack).
    /// Returns how many were stored.
    pub async fn post_batch(
        &self,
        room: &Arc<Room>,
        author: String,
        items: Vec<(String, String)>,
    ) -> Result<usize, HubError> {
        let mut members = room.members.lock().await;
        let store = self.store.clone();
        let ts_ms = now_ms();
        let posts: Vec<NewPost> = items
            .into_iter()
            .map(|(id, body)| NewPost { room: room.name.clone(), id, author: author.clone(), body, ts_ms })
            .collect();
        let appended = blocking(move || store.append_batch(&posts)).await?;
        let mut stored = 0;
        let appended = appended
            .into_iter()
            .filter_map(|a| a.map_err(|e| tracing::warn!(room = room.name, error = %e, "batch post not stored")).ok());
        for a in appended.filter(|a| !a.duplicate) {
            stored += 1;
            self.metrics.messages_stored.inc();
            self.publish(|| Event::Message { message: a.message.clone() });
            self.sequence(room, &mut members, Some(a.message)).await;
        }
        Ok(stored)
    }

    /// The most bytes any member of `room` has queued and not yet written
    /// (the test burst paces itself by it rather than overflow a reader).
    pub async fn most_queued(&self, room: &Arc<Room>) -> usize {
        room.members.lock().await.conns.values().map(|(o, _)| o.queued_bytes()).max().unwrap_or(0)
    }
}
