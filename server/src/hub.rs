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

mod join;
mod post;
mod presence;
mod remote;
mod room;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tether_protocol::{MAX_ROOM_LIST, ServerMsg};

use crate::bus::order::Order;
use crate::bus::{Bus, Event};
use crate::group_commit::GroupCommit;
use crate::metrics::Metrics;
use crate::outbox::{ConnId, Ending, Outbox, encode};
use crate::store::{Store, StoreError};
use crate::sync::lock;
pub use remote::DEFAULT_RESYNC_MS;
use room::Members;
pub use room::Room;

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
    /// Shares one commit between the batches of different rooms; only for
    /// a store that commits a batch at once.
    committer: Option<Arc<GroupCommit>>,
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

impl Hub {
    /// Loads the room list so `rooms` frames are correct from the start.
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, max_rooms: usize) -> Result<Self, StoreError> {
        let names: BTreeSet<String> = store.rooms()?.into_iter().collect();
        metrics.rooms.set(i64::try_from(names.len()).unwrap_or(i64::MAX));
        let committer = match store.commits_in_batches() {
            true => Some(Arc::new(
                GroupCommit::start(store.clone(), metrics.store_commits.clone()).map_err(StoreError::Committer)?,
            )),
            false => None,
        };
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

    /// Asks every connection to end with 1001 once the frame it is handling
    /// is done (shutdown: see [`crate::outbox::Closer::ask_shutdown`]).
    pub fn shut_down_all(&self) {
        for c in self.lock_registry().0.values() {
            c.outbox.closer.ask_shutdown();
        }
    }

    /// Ends every connection at once (test faults). Returns how many.
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
            self.publish(|| Event::RoomAdded { room: name.to_owned() });
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

    /// Looks up a live room without creating it.
    pub async fn existing_room(&self, name: &str) -> Option<Arc<Room>> {
        self.rooms.lock().await.get(name).cloned()
    }
}
