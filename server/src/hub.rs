//! Rooms and who is in them: the ordering heart of the server.
//!
//! Each room has one async lock. Appending + broadcasting a post and
//! reading history + subscribing a joiner both happen under it, so a joiner
//! sees every message exactly once: either in its `joined` history or as a
//! live `message`, never both and never neither.
//!
//! Messages reach members through each room's [`Order`], by seq: with
//! several instances (`--bus`), others' messages arrive over the bus in any
//! order and gaps are read back from the store (see [`remote`]).

mod presence;
mod remote;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tether_protocol::{ChatMessage, Cursor, HISTORY_WINDOW, MAX_FRAME_BYTES, MAX_PRESENCE, MAX_ROOM_LIST, ServerMsg};

use crate::bus::order::Order;
use crate::bus::{Bus, Event};
use crate::group_commit::GroupCommit;
use crate::metrics::Metrics;
use crate::outbox::{ConnId, Ending, Outbox, encode};
use crate::paging::{all_fit, keep_newest};
use crate::store::{Appended, NewPost, Store, StoreError};
use axum::extract::ws::Utf8Bytes;

/// Largest gap a cursor may be behind and still get an exact replay; past
/// it the client gets the recent window instead (bounded work per join).
pub const MAX_REPLAY: u64 = 1000;

/// Why a hub operation failed; logged, clients only see `internal`.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storage task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The commit covering this post failed (the error is logged once).
    #[error("the group commit failed: {0}")]
    Batch(String),
    #[error("the post was dropped before its commit finished")]
    Dropped,
}

/// Why [`Hub::room`] did not give a room.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("the room does not exist and this connection may create no more rooms")]
    CreateLimit,
    #[error("the room does not exist and the server holds as many rooms as it may")]
    TotalLimit,
    #[error(transparent)]
    Hub(#[from] HubError),
}

/// What became of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Stored,
    /// A retry of an id stored in this room: acked with its original seq.
    Duplicate,
    /// The id is stored in another room: refused, nothing acked.
    IdReused,
}

pub struct Room {
    pub name: String,
    pub epoch: String,
    members: tokio::sync::Mutex<Members>,
    /// Posts waiting for the room lock (see [`Hub::post`]).
    waiting: Mutex<Vec<Waiting>>,
}

/// A post queued for the next commit of its room, with whom to answer.
struct Waiting {
    post: NewPost,
    poster: Outbox,
    done: tokio::sync::oneshot::Sender<Result<Posted, HubError>>,
}

/// Who is in a room: each connection's queue and nickname, and how many
/// connections each nickname has there (presence is per nickname).
#[derive(Default)]
struct Members {
    conns: HashMap<ConnId, (Outbox, String)>,
    nicks: BTreeMap<String, usize>,
    order: Order,
    /// Joiners whose history already reaches past `order.delivered()`:
    /// live messages up to that seq are not sent to them again.
    floors: HashMap<ConnId, u64>,
    /// Who is in the room on other instances, as each last said.
    remote: HashMap<String, presence::Remote>,
}

impl Members {
    /// Adds `conn` (a second join of the same connection changes nothing).
    fn add(&mut self, outbox: &Outbox, nick: &str, metrics: &Metrics) {
        if self.conns.insert(outbox.id, (outbox.clone(), nick.to_owned())).is_some() {
            return;
        }
        metrics.members.inc();
        *self.nicks.entry(nick.to_owned()).or_default() += 1;
    }

    /// Removes `conn`; its nickname if that was its last connection here.
    fn remove(&mut self, conn: ConnId, metrics: &Metrics) -> Option<String> {
        let (_, nick) = self.conns.remove(&conn)?;
        self.floors.remove(&conn);
        metrics.members.dec();
        let n = self.nicks.get_mut(&nick)?;
        *n -= 1;
        if *n > 0 {
            return None;
        }
        self.nicks.remove(&nick);
        // Still here through another instance: nobody left.
        if self.elsewhere(&nick) {
            return None;
        }
        Some(nick)
    }

    /// Queues `frame` for every member; a dead or too-slow one (already told
    /// to close) leaves, and the nicknames that left with them are returned.
    fn broadcast(&mut self, frame: &Utf8Bytes, metrics: &Metrics) -> Vec<String> {
        let dead: Vec<ConnId> =
            self.conns.iter().filter(|(_, (m, _))| !m.push_frame(frame.clone())).map(|(id, _)| *id).collect();
        dead.into_iter().filter_map(|id| self.remove(id, metrics)).collect()
    }

    /// Tells everyone `msg`, then that whoever dropped meanwhile left.
    fn announce(&mut self, room: &str, msg: &ServerMsg, metrics: &Metrics) {
        let gone = encode(msg).map(|f| self.broadcast(&f, metrics)).unwrap_or_default();
        self.farewell(room, gone, metrics);
    }

    /// Tells everyone that `gone` left, and who dropped meanwhile.
    fn farewell(&mut self, room: &str, mut gone: Vec<String>, metrics: &Metrics) {
        while let Some(nick) = gone.pop() {
            if let Some(f) = encode(&ServerMsg::MemberLeft { room: room.to_owned(), nick }) {
                gone.extend(self.broadcast(&f, metrics));
            }
        }
    }

    fn presence(&self, room: &str) -> ServerMsg {
        let everyone = self.everyone();
        let members = everyone.iter().take(MAX_PRESENCE).cloned().collect();
        ServerMsg::Presence { room: room.to_owned(), members, total: everyone.len() }
    }
}

struct Connected {
    outbox: Outbox,
    greeted: bool,
}

/// Everything connections share: connected clients, room names, live rooms.
pub struct Hub {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    /// Guards connections and room names together, so a client saying hello
    /// and a room being created cannot miss each other's `rooms` update.
    registry: Mutex<(HashMap<ConnId, Connected>, BTreeSet<String>)>,
    rooms: tokio::sync::Mutex<HashMap<String, Arc<Room>>>,
    /// Held while a room is loaded from or created on disk (see [`Hub::room`]).
    loading: tokio::sync::Mutex<()>,
    next_id: std::sync::atomic::AtomicU64,
    max_rooms: usize,
    /// Set once at startup when running as one of several instances.
    bus: std::sync::OnceLock<Bus>,
    /// Off only for `make bench`'s side-by-side: one transaction (and fsync)
    /// per post instead of one per batch.
    group_commit: bool,
    /// Shares one commit between the batches of different rooms.
    committer: Arc<GroupCommit>,
}

/// Removes a connection from the registry when dropped.
pub struct Registration<'a> {
    hub: &'a Hub,
    id: ConnId,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Ok(mut reg) = self.hub.registry.lock() {
            reg.0.remove(&self.id);
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, HubError> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere leaves it usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}

impl Hub {
    /// Loads the room list so `rooms` frames are correct from the start.
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, max_rooms: usize) -> Result<Self, StoreError> {
        let names: BTreeSet<String> = store.rooms()?.into_iter().collect();
        metrics.rooms.set(i64::try_from(names.len()).unwrap_or(i64::MAX));
        let committer = Arc::new(GroupCommit::new(metrics.store_commits.clone()));
        Ok(Self {
            store,
            metrics,
            registry: Mutex::new((HashMap::new(), names)),
            rooms: tokio::sync::Mutex::new(HashMap::new()),
            loading: tokio::sync::Mutex::new(()),
            next_id: std::sync::atomic::AtomicU64::new(1),
            max_rooms,
            bus: std::sync::OnceLock::new(),
            group_commit: true,
            committer,
        })
    }

    /// `false`: every post gets its own transaction and fsync (the baseline
    /// `make bench` compares group commit against).
    pub fn with_group_commit(mut self, on: bool) -> Self {
        self.group_commit = on;
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn lock_registry(&self) -> std::sync::MutexGuard<'_, (HashMap<ConnId, Connected>, BTreeSet<String>)> {
        // A panic while holding this lock leaves plain maps behind; keep going.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(&self, outbox: Outbox) -> Registration<'_> {
        let id = outbox.id;
        self.lock_registry().0.insert(id, Connected { outbox, greeted: false });
        Registration { hub: self, id }
    }

    /// Sends `welcome` then (at most [`MAX_ROOM_LIST`] of) the room list,
    /// and from now on each new room as `room_added`.
    pub fn greet(&self, outbox: &Outbox, welcome: &ServerMsg) {
        let mut reg = self.lock_registry();
        let (conns, names) = &mut *reg;
        if let Some(c) = conns.get_mut(&outbox.id) {
            c.greeted = true;
        }
        outbox.push(welcome);
        let rooms = names.iter().take(MAX_ROOM_LIST).cloned().collect();
        outbox.push(&ServerMsg::Rooms { rooms, truncated: names.len() > MAX_ROOM_LIST });
    }

    /// Ends every connection (test faults, shutdown). Returns how many.
    pub fn end_all(&self, ending: Ending) -> usize {
        let reg = self.lock_registry();
        for c in reg.0.values() {
            c.outbox.closer.end(ending.clone());
        }
        reg.0.len()
    }

    /// The live room, creating it (and announcing it to everyone) if new and
    /// `may_create` and the server is below its room cap. Also says whether
    /// this call created it.
    ///
    /// Loading or creating a room waits on the disk (an fsync for a new
    /// one), so it happens under its own lock, one at a time: the map of
    /// live rooms, which every post and join reads, is never held meanwhile.
    pub async fn room(&self, name: &str, may_create: bool) -> Result<(Arc<Room>, bool), RoomError> {
        if let Some(room) = self.existing_room(name).await {
            return Ok((room, false));
        }
        let _one_at_a_time = self.loading.lock().await;
        if let Some(room) = self.existing_room(name).await {
            return Ok((room, false)); // loaded by another connection meanwhile
        }
        let (exists, count) = {
            let reg = self.lock_registry();
            (reg.1.contains(name), reg.1.len())
        };
        if !exists && !may_create {
            return Err(RoomError::CreateLimit);
        }
        if !exists && count >= self.max_rooms {
            return Err(RoomError::TotalLimit);
        }
        let store = self.store.clone();
        let owned = name.to_owned();
        let (info, last) = blocking(move || Ok((store.ensure_room(&owned)?, store.last_seq(&owned)?))).await?;
        let members = Members { order: Order::new(last), ..Members::default() };
        let room = Arc::new(Room {
            name: name.to_owned(),
            epoch: info.epoch,
            members: tokio::sync::Mutex::new(members),
            waiting: Mutex::new(Vec::new()),
        });
        self.rooms.lock().await.insert(name.to_owned(), room.clone());
        if info.created {
            self.publish(Event::RoomAdded { room: name.to_owned() });
        }
        Ok((room, self.add_name(name, info.created)))
    }

    /// Adds a room to the list (announcing it to everyone greeted) and says
    /// whether it is new to this instance or was just `created`.
    fn add_name(&self, name: &str, created: bool) -> bool {
        let mut reg = self.lock_registry();
        let (conns, names) = &mut *reg;
        let created = names.insert(name.to_owned()) || created;
        self.metrics.rooms.set(i64::try_from(names.len()).unwrap_or(i64::MAX));
        let announce = if created { encode(&ServerMsg::RoomAdded { room: name.to_owned() }) } else { None };
        if let Some(frame) = announce {
            for c in conns.values().filter(|c| c.greeted) {
                c.outbox.push_frame(frame.clone());
            }
        }
        created
    }

    /// Replies `joined` and subscribes, atomically with respect to posts.
    /// A cursor's gap is replayed only if it fits in one frame; otherwise the
    /// newest page that fits replaces the client's view (`has_older` says
    /// older pages can be fetched with `history`).
    /// Then tells the joiner who is there (`presence`) and the others that
    /// `nick` came, if it is new in the room.
    pub async fn join(
        &self,
        room: &Arc<Room>,
        outbox: &Outbox,
        nick: &str,
        since: Option<Cursor>,
    ) -> Result<(), HubError> {
        let mut members = room.members.lock().await;
        let store = self.store.clone();
        let name = room.name.clone();
        let resuming = since.is_some();
        let usable = since.filter(|c| c.epoch == room.epoch).map(|c| c.seq);
        let envelope = |recovered| {
            let frame = ServerMsg::Joined {
                room: room.name.clone(),
                epoch: room.epoch.clone(),
                recovered,
                history: vec![],
                has_older: true,
            };
            encode(&frame).map_or(0, |f| f.len())
        };
        let (replay_env, fresh_env) = (envelope(true), envelope(false));
        let (recovered, history, has_older, last) = blocking(move || {
            let last = store.last_seq(&name)?;
            if let Some(seq) = usable.filter(|&seq| seq <= last && last - seq <= MAX_REPLAY) {
                // The gap bounds the count, so no message is cut off.
                let replay = store.after(&name, seq, MAX_REPLAY as usize)?;
                if all_fit(&replay, replay_env) {
                    return Ok((true, replay, false, last));
                }
            }
            let (page, _) = keep_newest(store.before(&name, u64::MAX, HISTORY_WINDOW, MAX_FRAME_BYTES)?, fresh_env);
            let has_older = page.first().is_some_and(|m| m.seq > 1);
            Ok((false, page, has_older, last))
        })
        .await?;
        // Everything up to here is in the history (or before the client's
        // cursor); another instance may have stored more than we delivered yet.
        let floor = history.last().map_or(last, |m| m.seq.max(last));
        if resuming {
            self.metrics.resumed(recovered);
        }
        let joined =
            ServerMsg::Joined { room: room.name.clone(), epoch: room.epoch.clone(), recovered, history, has_older };
        outbox.push(&joined);
        // The others hear of a new nickname; the joiner gets the whole list.
        let new_here = !members.nicks.contains_key(nick) && !members.conns.contains_key(&outbox.id);
        if new_here && !members.elsewhere(nick) {
            let came = ServerMsg::MemberJoined { room: room.name.clone(), nick: nick.to_owned() };
            members.announce(&room.name, &came, &self.metrics);
        }
        members.add(outbox, nick, &self.metrics);
        if new_here {
            self.share_presence(&room.name, &members);
        }
        if floor > members.order.delivered() {
            members.floors.insert(outbox.id, floor);
        }
        outbox.push(&members.presence(&room.name));
        Ok(())
    }

    /// Replies `history`: the newest page before seq `before` that fits in one frame.
    pub async fn history(&self, room: &str, before: u64, outbox: &Outbox) -> Result<(), HubError> {
        let store = self.store.clone();
        let name = room.to_owned();
        let frame = |messages, has_older| ServerMsg::History { room: room.to_owned(), before, messages, has_older };
        let envelope = encode(&frame(vec![], true)).map_or(0, |f| f.len());
        let (page, has_older) = blocking(move || {
            let (page, _) = keep_newest(store.before(&name, before, HISTORY_WINDOW, MAX_FRAME_BYTES)?, envelope);
            let has_older = page.first().is_some_and(|m| m.seq > 1);
            Ok((page, has_older))
        })
        .await?;
        outbox.push(&frame(page, has_older));
        Ok(())
    }

    /// Stops broadcasts from `room` to `conn`; once this returns no further
    /// message of the room is queued for it.
    pub async fn leave(&self, room: &str, conn: ConnId) {
        let room = self.rooms.lock().await.get(room).cloned();
        if let Some(room) = room {
            let mut members = room.members.lock().await;
            let before = members.nicks.len();
            if let Some(nick) = members.remove(conn, &self.metrics) {
                members.announce(&room.name, &ServerMsg::MemberLeft { room: room.name.clone(), nick }, &self.metrics);
            }
            if members.nicks.len() != before {
                self.share_presence(&room.name, &members);
            }
        }
    }

    /// Stores, then acks the poster, then broadcasts to the room. A retried
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

    /// Stores `batch` (one commit, or one per post without group commit),
    /// then answers each post in order: ack, then broadcast.
    async fn commit(&self, room: &Room, members: &mut Members, batch: Vec<Waiting>) {
        let store = self.store.clone();
        let posts: Vec<NewPost> = batch.iter().map(|w| w.post.clone()).collect();
        let (group, committer) = (self.group_commit, self.committer.clone());
        let commits = self.metrics.store_commits.clone();
        let results = tokio::task::spawn_blocking(move || match group {
            true => committer.submit(store.as_ref(), posts),
            false => Ok(posts
                .iter()
                .map(|p| {
                    commits.inc();
                    store.append(&p.room, &p.id, &p.author, &p.body, p.ts_ms)
                })
                .collect()),
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let results = match results {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(room = room.name, posts = batch.len(), error = %e, "group commit failed");
                for w in batch {
                    let _ = w.done.send(Err(HubError::Batch(e.clone())));
                }
                return;
            }
        };
        for (w, appended) in batch.into_iter().zip(results) {
            let posted = match appended {
                Ok(a) => Ok(self.answer(room, members, &w.poster, a).await),
                Err(e) => Err(HubError::from(e)),
            };
            let _ = w.done.send(posted);
        }
    }

    async fn answer(&self, room: &Room, members: &mut Members, poster: &Outbox, appended: Appended) -> Posted {
        let ChatMessage { room: stored_room, seq, id, .. } = appended.message.clone();
        if appended.duplicate && stored_room != room.name {
            return Posted::IdReused;
        }
        poster.push(&ServerMsg::Ack { id, room: stored_room, seq });
        if appended.duplicate {
            self.metrics.duplicate_posts.inc();
            return Posted::Duplicate;
        }
        self.metrics.messages_stored.inc();
        self.publish(Event::Message { message: appended.message.clone() });
        self.sequence(room, members, Some(appended.message)).await;
        Posted::Stored
    }

    /// Looks up a live room without creating it.
    pub async fn existing_room(&self, name: &str) -> Option<Arc<Room>> {
        self.rooms.lock().await.get(name).cloned()
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
            self.publish(Event::Message { message: a.message.clone() });
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
