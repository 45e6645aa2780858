//! Fan-out between server instances (`--bus redis://…`).
//!
//! Every instance publishes what its clients caused (stored messages, new
//! rooms) and hears everyone else's. The bus is only a fast path: the store
//! is the truth, so a lost event costs latency, not correctness — receivers
//! reorder by seq ([`order`]) and read gaps back from the store, and
//! resynchronise every live room after a reconnect and on a timer.

pub mod order;
pub mod peers;
pub mod redis;

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tether_protocol::ChatMessage;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The one pub/sub channel all instances share.
pub const CHANNEL: &str = "tether:events";
/// Events waiting to be published; past it they are dropped (and logged):
/// receivers read them back from the store.
const OUTBOX: usize = 65_536;

/// What one instance tells the others.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Committed in the store with this seq.
    Message {
        message: ChatMessage,
    },
    RoomAdded {
        room: String,
    },
    /// Who is in `room` through the sending instance (all of them: a
    /// snapshot, repeated as a heartbeat, so a crashed instance's members
    /// expire).
    Presence {
        room: String,
        nicks: Vec<String>,
    },
    /// Sent every [`BEAT`] by each instance and heard back by itself: a
    /// subscription that hears not even its own beats is stale (a hung
    /// Redis keeps the socket open and says nothing).
    Beat,
}

/// How often each instance publishes [`Event::Beat`].
pub const BEAT: std::time::Duration = std::time::Duration::from_secs(2);

/// An event with its sender, so an instance ignores its own.
#[derive(Serialize, Deserialize, Debug)]
pub struct Envelope {
    pub from: String,
    pub event: Event,
}

/// What the bus hands the hub.
#[derive(Debug)]
pub enum Incoming {
    Event {
        from: String,
        event: Event,
    },
    /// (Re)subscribed: anything published meanwhile was missed; resync.
    Resubscribed,
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bad bus URL (expected redis://host:port): {0}")]
    Url(#[from] ::redis::RedisError),
}

/// Why the bus is down (`None`: subscribed and listening).
#[derive(Debug, Default)]
pub struct Health(Mutex<Option<String>>);

impl Health {
    fn set(&self, down: Option<String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = down;
    }

    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Publishes [`Event::Beat`] every [`BEAT`] until `shutdown`.
async fn beat(out: mpsc::Sender<Event>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(BEAT);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                // Full outbox: the beat is dropped like any event, and the
                // missing beats say so on /healthz if it lasts.
                let _ = out.try_send(Event::Beat);
            }
        }
    }
}

/// The publishing side and health of a running bus; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    out: mpsc::Sender<Event>,
    health: Arc<Health>,
}

impl Bus {
    /// Starts the Redis publisher and subscriber (reconnecting with backoff
    /// until `shutdown`); what others publish arrives on the receiver.
    /// `instance` names this one on the bus (its [`peers::Peers::id`]).
    pub fn connect(
        url: &str,
        instance: String,
        shutdown: CancellationToken,
    ) -> Result<(Self, mpsc::Receiver<Incoming>), BusError> {
        let client = ::redis::Client::open(url)?;
        let health = Arc::new(Health(Mutex::new(Some("not yet subscribed to Redis".into()))));
        let (out, out_rx) = mpsc::channel(OUTBOX);
        let (in_tx, in_rx) = mpsc::channel(OUTBOX);
        tokio::spawn(redis::publisher(client.clone(), instance.clone(), out_rx, shutdown.clone()));
        tokio::spawn(beat(out.clone(), shutdown.clone()));
        tokio::spawn(redis::subscriber(client, instance, health.clone(), in_tx, shutdown));
        Ok((Self { out, health }, in_rx))
    }

    /// Queues `event` for the other instances; never waits.
    pub fn publish(&self, event: Event) {
        if let Err(e) = self.out.try_send(event) {
            tracing::warn!(error = %e, "bus outbox full: event dropped (other instances read it from the store)");
        }
    }

    /// `Err(why)` while this instance cannot hear the others.
    pub fn check(&self) -> Result<(), String> {
        self.health.get().map_or(Ok(()), Err)
    }
}
