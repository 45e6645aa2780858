//! The Redis side of the bus: one connection publishes, one subscribes;
//! each reconnects with backoff for as long as the server runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{CHANNEL, Envelope, Event, Health, Incoming};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// A subscription that has heard nothing, not even this instance's own
/// beats, for this long is given up and made again.
const SILENT: Duration = Duration::from_secs(3 * super::BEAT.as_secs());

pub(super) fn config() -> redis::AsyncConnectionConfig {
    redis::AsyncConnectionConfig::new().set_connection_timeout(CONNECT_TIMEOUT).set_response_timeout(CONNECT_TIMEOUT)
}

/// Publishes queued events. An event that cannot be published (Redis down)
/// is dropped: it is already in the store, and the other instances read it
/// back when their subscription returns. While Redis is down, connecting is
/// retried with backoff, not once per event (each try can take the connect
/// timeout, and a warning per event would flood the log); the events in
/// between are dropped at once and counted in one line when it is back.
pub async fn publisher(
    client: redis::Client,
    instance: String,
    mut events: mpsc::Receiver<Event>,
    shutdown: CancellationToken,
) {
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    let mut backoff = FIRST_BACKOFF;
    let mut retry_at: Option<Instant> = None;
    let mut dropped = 0u64;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return,
            e = events.recv() => match e { Some(e) => e, None => return },
        };
        let Ok(payload) = serde_json::to_string(&Envelope { from: instance.clone(), event }) else { continue };
        let mut sent = false;
        for _attempt in 0..2 {
            if conn.is_none() {
                if retry_at.is_some_and(|at| Instant::now() < at) {
                    break;
                }
                match client.get_multiplexed_async_connection_with_config(&config()).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        if retry_at.is_none() {
                            tracing::warn!(error = %e, "bus: cannot connect to Redis to publish; retrying with backoff");
                        }
                        retry_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        break;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { break };
            match c.publish::<_, _, ()>(CHANNEL, &payload).await {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "bus: publish failed");
                    conn = None;
                }
            }
        }
        if sent {
            if dropped > 0 {
                tracing::info!(dropped, "bus: publishing to Redis again (events in between are in the store)");
            }
            (dropped, backoff, retry_at) = (0, FIRST_BACKOFF, None);
        } else {
            dropped += 1;
        }
    }
}

/// Subscribes and forwards others' events; on every (re)subscription sends
/// [`Incoming::Resubscribed`] so the hub reads back what it missed.
pub async fn subscriber(
    client: redis::Client,
    instance: String,
    health: Arc<Health>,
    incoming: mpsc::Sender<Incoming>,
    shutdown: CancellationToken,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(Ok(pubsub)) => {
                tracing::info!("bus: subscribed to Redis");
                health.set(None);
                backoff = FIRST_BACKOFF;
                if incoming.send(Incoming::Resubscribed).await.is_err() {
                    return;
                }
                let mut stream = pubsub.into_on_message();
                let mut heard = tokio::time::Instant::now();
                let why = loop {
                    // Biased: a message already waiting beats a deadline
                    // that passed while this task was busy handing the
                    // last one to the hub.
                    let msg = tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => return,
                        m = stream.next() => m,
                        _ = tokio::time::sleep_until(heard + SILENT) => {
                            break format!("no event from Redis for {} s, not even this instance's own beat; resubscribing", SILENT.as_secs());
                        }
                    };
                    let Some(msg) = msg else { break "lost the Redis subscription; reconnecting".to_owned() };
                    heard = tokio::time::Instant::now();
                    let Ok(payload) = msg.get_payload::<String>() else { continue };
                    match serde_json::from_str::<Envelope>(&payload) {
                        Ok(env) if env.from == instance || env.event == Event::Beat => {}
                        Ok(env) => {
                            if incoming.send(Incoming::Event { from: env.from, event: env.event }).await.is_err() {
                                return;
                            }
                            // A busy hub is no sign of a silent Redis.
                            heard = tokio::time::Instant::now();
                        }
                        Err(e) => tracing::warn!(error = %e, "bus: unreadable event ignored"),
                    }
                };
                tracing::warn!("bus: {why}");
                health.set(Some(why));
            }
            Ok(Err(e)) => health.set(Some(format!("cannot subscribe to Redis: {e}"))),
            Err(_) => health.set(Some("cannot subscribe to Redis: timed out".into())),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Event;

    /// A "Redis" that accepts and hangs up at once, counting the tries.
    async fn refusing_redis() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let tries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let t = tries.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                t.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                drop(s);
            }
        });
        (url, tries)
    }

    #[tokio::test]
    async fn while_redis_is_down_connecting_backs_off_instead_of_trying_per_event() {
        let (url, tries) = refusing_redis().await;
        let (tx, rx) = mpsc::channel(1024);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(publisher(redis::Client::open(url).unwrap(), "a".into(), rx, shutdown.clone()));
        // 200 events over about half a second: one try per event would be
        // hundreds of connections; with backoff from 100 ms, a handful.
        for i in 0..200 {
            tx.send(Event::RoomAdded { room: format!("r{i}") }).await.unwrap();
            if i % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let n = tries.load(std::sync::atomic::Ordering::Relaxed);
        assert!((1..=8).contains(&n), "{n} connection tries for 200 events");
        shutdown.cancel();
        task.await.unwrap();
    }
}
